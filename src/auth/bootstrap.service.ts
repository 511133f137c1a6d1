import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { HeraldConfig } from '../config/config';
import { ConsoleOutput } from '../common/console-output';
import { SettingsStore } from '../database/settings.store';
import { TransactionRunner } from '../database/transaction-runner';
import { describeApiKey, type GeneratedApiKey, generateApiKey } from './api-key-format';
import { ApiKeyEntity } from './api-key.entity';
import { TeamEntity } from './team.entity';
import { TeamsService } from './teams.service';

export const DEFAULT_TEAM = 'default';
const BOOTSTRAP_TOKEN_SETTING = 'bootstrap_token_sha256';

/**
 * A fresh instance (no API key at all) gets team `default` and an admin key: the one in
 * HERALD_BOOTSTRAP_TOKEN, or a generated one printed once to stdout.
 */
@Injectable()
export class BootstrapService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Bootstrap');

  constructor(
    private readonly config: HeraldConfig,
    private readonly teams: TeamsService,
    private readonly settings: SettingsStore,
    private readonly tx: TransactionRunner,
    private readonly output: ConsoleOutput,
    @InjectRepository(ApiKeyEntity) private readonly keys: Repository<ApiKeyEntity>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const token = this.config.bootstrapToken;
    if ((await this.keys.count()) > 0) {
      if (token && (await this.settings.get(BOOTSTRAP_TOKEN_SETTING)) !== describeApiKey(token).hash) {
        this.logger.warn(
          'HERALD_BOOTSTRAP_TOKEN differs from the token this instance was bootstrapped with and is ignored; manage keys with /v1/api-keys',
        );
      }
      return;
    }
    const key: GeneratedApiKey = token ? describeApiKey(token) : generateApiKey();
    await this.createDefaultAdmin(key);
    if (token) {
      await this.settings.set(BOOTSTRAP_TOKEN_SETTING, key.hash);
      this.logger.log(`Created team "${DEFAULT_TEAM}" with the admin key from HERALD_BOOTSTRAP_TOKEN`);
    } else {
      this.logger.log(`Created team "${DEFAULT_TEAM}" and its first admin key (printed once to stdout)`);
      this.output.print(
        `\nHerald created team "${DEFAULT_TEAM}" and its first admin API key. It is shown only this once:\n\n    ${key.key}\n\n`,
      );
    }
  }

  private async createDefaultAdmin(key: GeneratedApiKey): Promise<void> {
    const existing = await this.tx.run((em) => em.findOneBy(TeamEntity, { name: DEFAULT_TEAM }));
    if (!existing) {
      await this.teams.createWithAdminKey(DEFAULT_TEAM, key);
      return;
    }
    await this.tx.run((em) => this.teams.insertAdminKey(em, existing.id, 'bootstrap admin', key));
  }
}
