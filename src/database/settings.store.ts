import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { Clock } from '../common/clock';
import { SettingEntity } from './setting.entity';
import { TransactionRunner } from './transaction-runner';

/** Instance-wide key/value facts kept in the database. */
@Injectable()
export class SettingsStore {
  constructor(
    @InjectRepository(SettingEntity) private readonly settings: Repository<SettingEntity>,
    private readonly clock: Clock,
    private readonly tx: TransactionRunner,
  ) {}

  async get(key: string): Promise<string | null> {
    const row = await this.settings.findOneBy({ key });
    return row?.value ?? null;
  }

  async set(key: string, value: string): Promise<void> {
    await this.tx.run((em) => em.save(SettingEntity, { key, value, updatedAt: this.clock.now() }));
  }
}
