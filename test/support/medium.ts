import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Type } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource, EntityManager, EntityTarget, FindOptionsWhere, ObjectLiteral, Repository } from 'typeorm';
import { AuthModule } from '../../src/auth/auth.module';
import { AutomationsModule } from '../../src/automations/automations.module';
import { HeraldLogger } from '../../src/common/logging/herald-logger';
import { SecretRedactor } from '../../src/common/logging/redactor';
import { newId } from '../../src/common/ids';
import { loadConfig } from '../../src/config/config';
import { CoreModule } from '../../src/config/core.module';
import { DatabaseModule } from '../../src/database/database.module';
import { TransactionRunner } from '../../src/database/transaction-runner';
import { DeliverySender } from '../../src/delivery/delivery-sender';
import { DeliveryWorker } from '../../src/delivery/delivery-worker';
import { DeliveryEntity } from '../../src/delivery/delivery.entity';
import { DeliveryDispatcher, type DueDelivery } from '../../src/delivery/dispatcher';
import { EventsModule } from '../../src/events/events.module';
import { MetricsModule } from '../../src/metrics/metrics.module';
import { SecretsModule } from '../../src/secrets/secrets.module';
import { WebhooksModule } from '../../src/webhooks/webhooks.module';
import { FakeClock } from './clock';
import { Fixtures, type HasId, type TeamFixture, serviceTransport } from './fixtures';
import { createSchema, newSchema, onPostgres, requirePostgres, TEST_MASTER_KEY } from './services';

/** Takes the place of the delivery worker: records what would have been sent, sends nothing. */
export class RecordingDispatcher extends DeliveryDispatcher {
  readonly dispatched: DueDelivery[] = [];
  wakes = 0;

  dispatch(due: DueDelivery[]): void {
    this.dispatched.push(...due);
  }

  wake(): void {
    this.wakes++;
  }
}

export interface MediumOptions {
  /** Extra environment for loadConfig (HERALD_DISABLE_AFTER, …). */
  env?: Record<string, string>;
  /** Replaces the DeliverySender (an AttemptRunner spec scripts its outcomes). */
  sender?: Pick<DeliverySender, 'send'>;
}

/**
 * The medium tier (docs/architecture.md › Tests): Herald's real modules, repositories and
 * stores on a fresh database after migrations — a temporary SQLite file, or in the `medium-pg`
 * project a PostgreSQL schema of its own — with no HTTP and no delivery worker (a
 * RecordingDispatcher stands in). The clock is a FakeClock; the fixture factories work through
 * the services.
 *
 *   const ctx = await MediumContext.start();
 *   const team = await ctx.newTeam();
 *   const store = ctx.get(DeliveryStore);
 *   await ctx.tx((em) => store.due(em, ctx.clock.now(), 10));
 */
export class MediumContext extends Fixtures {
  readonly db: DataSource;

  private constructor(
    readonly module: TestingModule,
    readonly clock: FakeClock,
    readonly dispatcher: RecordingDispatcher,
    readonly logs: string[],
    /** The data directory: the SQLite file lives there. */
    readonly dataDirectory: string,
  ) {
    super(module, serviceTransport(module));
    this.db = module.get<DataSource>(getDataSourceToken());
  }

  static async start(options: MediumOptions = {}): Promise<MediumContext> {
    const dataDir = mkdtempSync(join(tmpdir(), 'herald-medium-'));
    const env: Record<string, string> = { HERALD_DATA_DIR: dataDir, HERALD_MASTER_KEY: TEST_MASTER_KEY, ...options.env };
    if (onPostgres) {
      const schema = newSchema('medium');
      await createSchema(schema);
      Object.assign(env, { DATABASE_URL: requirePostgres(), DATABASE_SCHEMA: schema });
    }
    const config = loadConfig(env);
    const clock = new FakeClock();
    const dispatcher = new RecordingDispatcher();
    const logs: string[] = [];
    const redactor = new SecretRedactor();
    let builder = Test.createTestingModule({
      imports: [
        CoreModule.register({ config, redactor, clock, output: { print: (text: string) => logs.push(text) } }),
        DatabaseModule,
        MetricsModule,
        AuthModule,
        SecretsModule,
        WebhooksModule,
        AutomationsModule,
        EventsModule,
      ],
    })
      .overrideProvider(DeliveryDispatcher)
      .useValue(dispatcher)
      .overrideProvider(DeliveryWorker)
      .useValue(dispatcher)
      .setLogger(new HeraldLogger({ level: 'debug', format: 'json' }, redactor, (line) => logs.push(line)));
    if (options.sender) builder = builder.overrideProvider(DeliverySender).useValue(options.sender);
    const module = await builder.compile();
    await module.init();
    return new MediumContext(module, clock, dispatcher, logs, dataDir);
  }

  get<T>(type: Type<T>): T {
    return this.module.get(type);
  }

  repo<T extends ObjectLiteral>(entity: EntityTarget<T>): Repository<T> {
    return this.db.getRepository(entity);
  }

  /** Runs `work` in one transaction, as the services do (TransactionRunner). */
  tx<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.get(TransactionRunner).run(work);
  }

  /**
   * A delivery row written directly (the medium tier sets up states ingestion and the worker
   * reach only over time): pending and due now unless `overrides` say otherwise.
   */
  async newDelivery(team: TeamFixture, webhook: HasId, overrides: Partial<DeliveryEntity> = {}): Promise<DeliveryEntity> {
    const now = this.clock.now();
    const row: DeliveryEntity = {
      id: newId('msg'),
      teamId: team.id,
      automationId: null,
      automationName: null,
      webhookId: webhook.id,
      eventId: null,
      eventType: 'ALERT',
      status: 'pending',
      body: '{"fixture":true}',
      bodyForm: 'final',
      series: 1,
      attemptCount: 0,
      nextAttemptAt: now,
      leaseUntil: null,
      lastStatusCode: null,
      lastError: null,
      firstAttempt: null,
      createdAt: now,
      updatedAt: now,
      ...overrides,
    };
    await this.repo(DeliveryEntity).insert(row);
    return row;
  }

  /** A delivery as the database holds it now. */
  async delivery(id: string): Promise<DeliveryEntity> {
    return this.repo(DeliveryEntity).findOneByOrFail({ id });
  }

  /**
   * Asserts that `row` is what the database holds for its primary key, read by the entity's
   * repository: every column of the entity present, each with the repository's value. The
   * check a hand-written column list and row mapper (or a hand-written INSERT) must pass.
   */
  async expectAsStored<T extends ObjectLiteral>(entity: EntityTarget<T>, row: T): Promise<void> {
    const metadata = this.db.getMetadata(entity);
    const stored = await this.repo(entity).findOneByOrFail(metadata.getEntityIdMap(row) as FindOptionsWhere<T>);
    expect(Object.keys(row).sort()).toEqual(metadata.columns.map((c) => c.propertyName).sort());
    expect({ ...row }).toEqual({ ...stored });
  }

  /**
   * The entity's columns a fixture row leaves null: a round trip proves a column only when it
   * carries a value, so those fixtures expect none.
   */
  nullColumns<T extends ObjectLiteral>(entity: EntityTarget<T>, row: T): string[] {
    return this.db.getMetadata(entity).columns.filter((c) => row[c.propertyName] === null || row[c.propertyName] === undefined).map((c) => c.propertyName);
  }

  /**
   * Empties every table of Herald's but `settings`, children before parents (for specs of
   * queries that span teams: due deliveries, lease sweeps).
   */
  async clear(): Promise<void> {
    const left = this.db.entityMetadatas.filter((m) => m.tableName !== 'settings');
    while (left.length > 0) {
      // A table nothing left references can go now.
      const index = left.findIndex((m) => !left.some((other) => other !== m && other.foreignKeys.some((fk) => fk.referencedEntityMetadata === m)));
      const [table] = left.splice(index === -1 ? 0 : index, 1);
      await this.db.query(`DELETE FROM ${table.tableName}`);
    }
  }

  async close(): Promise<void> {
    await this.module.close();
    rmSync(this.dataDirectory, { recursive: true, force: true });
  }
}
