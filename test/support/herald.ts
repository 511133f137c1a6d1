import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { createHeraldApp } from '../../src/app.factory';
import { generateApiKey } from '../../src/auth/api-key-format';
import { Clock } from '../../src/common/clock';
import { loadConfig } from '../../src/config/config';
import { DeliveryWorker } from '../../src/delivery/delivery-worker';
import { Fixtures, type TeamFixture, httpTransport } from './fixtures';
import { createSchema, onPostgres, requirePostgres, schemaFor, TEST_MASTER_KEY } from './services';

export { FakeClock } from './clock';

export interface StartOptions {
  /** Reuse a data directory (restarts); a fresh temporary one by default. */
  dataDir?: string;
  /** Extra environment; HERALD_BOOTSTRAP_TOKEN: null leaves it unset. */
  env?: Record<string, string | null>;
  /** The server clock (a FakeClock moves time for cooldowns). */
  clock?: Clock;
}

/**
 * A running Herald on 127.0.0.1 with a temporary SQLite file (or, in the e2e-pg project, a
 * PostgreSQL schema of its own): the real AppModule, real HTTP, captured log lines and
 * captured operator output.
 */
export class TestHerald {
  readonly logs: string[] = [];
  readonly printed: string[] = [];
  /** Fixture factories over the HTTP API (test/support/fixtures.ts): `herald.fixtures.newWebhook(team, …)`. */
  readonly fixtures: Fixtures;
  private constructor(
    readonly app: NestExpressApplication,
    readonly url: string,
    readonly dataDir: string,
    /** The default team's admin key (from HERALD_BOOTSTRAP_TOKEN), or null when generated. */
    readonly adminKey: string,
    sinks: { logs: string[]; printed: string[] },
    /** The environment it was configured from (the operator commands' database settings). */
    readonly env: Readonly<Record<string, string>>,
  ) {
    this.logs = sinks.logs;
    this.printed = sinks.printed;
    this.fixtures = new Fixtures(app, httpTransport(() => this.http()));
  }

  static async start(options: StartOptions = {}): Promise<TestHerald> {
    const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'herald-e2e-'));
    const bootstrap = generateApiKey().key;
    const env: Record<string, string> = {
      HERALD_DATA_DIR: dataDir,
      HERALD_LOG_FORMAT: 'json',
      HERALD_LOG_LEVEL: 'debug',
      HERALD_BOOTSTRAP_TOKEN: bootstrap,
    };
    if (onPostgres) {
      // The e2e-pg project: the same data directory (a restart) maps to the same schema.
      const schema = schemaFor(dataDir);
      await createSchema(schema);
      Object.assign(env, { DATABASE_URL: requirePostgres(), DATABASE_SCHEMA: schema, HERALD_MASTER_KEY: TEST_MASTER_KEY });
    }
    for (const [name, value] of Object.entries(options.env ?? {})) {
      if (value === null) delete env[name];
      else env[name] = value;
    }
    const sinks = { logs: [] as string[], printed: [] as string[] };
    const app = await createHeraldApp({
      config: loadConfig(env),
      logSink: (line) => sinks.logs.push(line),
      output: { print: (text: string) => sinks.printed.push(text) },
      clock: options.clock,
    });
    await app.listen(0, '127.0.0.1');
    // The generated first key is printed the turn after the server listens (BootstrapService).
    await new Promise((resolve) => setImmediate(resolve));
    const { port } = app.getHttpServer().address() as AddressInfo;
    return new TestHerald(app, `http://127.0.0.1:${port}`, dataDir, env.HERALD_BOOTSTRAP_TOKEN ?? '', sinks, env);
  }

  /** Resolves once the delivery worker has nothing left to do right now. */
  async settle(): Promise<void> {
    await this.app.get(DeliveryWorker).idle();
  }

  http() {
    return request(this.app.getHttpServer());
  }

  /** Creates a team with the operator's path (as `npm run cli -- teams:create`), with its admin key. */
  newTeam(name?: string): Promise<TeamFixture> {
    return this.fixtures.newTeam(name);
  }

  /** The team of the bootstrap admin key, as a fixture. */
  team(): Promise<TeamFixture> {
    return this.fixtures.teamOf(this.adminKey);
  }

  /** Creates a key of the given role through the API. */
  async newKey(adminKey: string, role: 'admin' | 'member' | 'ingest', projects?: string[]): Promise<{ id: string; key: string }> {
    const res = await this.http()
      .post('/v1/api-keys')
      .set('Authorization', `Bearer ${adminKey}`)
      .send({ name: `${role} key`, role, ...(projects ? { projects } : {}) })
      .expect(201);
    return { id: res.body.id, key: res.body.key };
  }

  async close(): Promise<void> {
    await this.app.close();
  }

  /** Closes the app and removes its data directory. */
  async destroy(): Promise<void> {
    await this.close();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export const bearer = (key: string) => ({ Authorization: `Bearer ${key}` });
