import type { Server } from 'node:net';
import { Injectable, Logger, type OnApplicationBootstrap, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
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
 * HERALD_BOOTSTRAP_TOKEN, or a generated one printed once to stdout — framed, and once the
 * server listens, so the start-up log lines do not bury it.
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
    @Optional() private readonly adapterHost?: HttpAdapterHost,
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
      this.logger.log(`Created team "${DEFAULT_TEAM}" and its first admin key (printed once to stdout when the server listens)`);
      this.whenListening(() => this.output.print(firstKeyBanner(key.key)));
    }
  }

  /**
   * Runs `print` once the HTTP server listens and the start-up lines (main.ts's "listening on")
   * are written: the 'listening' event, then the turn after it. Without a server, at once.
   */
  private whenListening(print: () => void): void {
    const server = this.adapterHost?.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server || typeof server.once !== 'function') return print();
    if (server.listening) return void setImmediate(print);
    server.once('listening', () => setImmediate(print));
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

const RULE = '='.repeat(78);

/** The first admin key in a frame that stands out from the log lines around it. */
export function firstKeyBanner(key: string): string {
  return [
    '',
    RULE,
    `  Herald created team "${DEFAULT_TEAM}" and its first admin API key.`,
    '  It is shown only this once. Store it now (e.g. export HERALD_KEY=...):',
    '',
    `    ${key}`,
    '',
    '  Lost it? On the machine that holds the database, issue a new one with:',
    `    herald keys create --team ${DEFAULT_TEAM} --role admin`,
    RULE,
    '',
    '',
  ].join('\n');
}
