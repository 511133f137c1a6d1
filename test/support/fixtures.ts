import type { INestApplicationContext } from '@nestjs/common';
import type { Test } from 'supertest';
import type { AuthContext } from '../../src/auth/auth-context';
import { ApiKeysService } from '../../src/auth/api-keys.service';
import { TeamsService } from '../../src/auth/teams.service';
import type { AutomationView } from '../../src/automations/automations.service';
import { AutomationsService } from '../../src/automations/automations.service';
import type { IngestResult } from '../../src/events/ingestion.service';
import { IngestionService } from '../../src/events/ingestion.service';
import type { CreateWebhookDto, WebhookDto } from '../../src/webhooks/dto/webhook.dto';
import { WebhooksService } from '../../src/webhooks/webhooks.service';

/** A team with its first admin key, and the auth context that key resolves to. */
export interface TeamFixture {
  id: string;
  name: string;
  adminKey: string;
  auth: AuthContext;
}

/** Anything with an id: a webhook or automation fixture, or an API answer. */
export interface HasId {
  id: string;
}

/** A request body: what the API takes, overrides merged into a fixture's defaults. */
export type Body = Record<string, unknown>;

/**
 * How fixtures reach Herald: its services directly (the medium tier, no HTTP) or its HTTP API
 * with the team's admin key (the e2e tier, through validation, guards and filters). Both
 * answer what the API answers.
 */
export interface FixtureTransport {
  createWebhook(team: TeamFixture, body: Body): Promise<WebhookDto>;
  createAutomation(team: TeamFixture, body: Body): Promise<AutomationView>;
  postEvents(team: TeamFixture, body: Body | Body[]): Promise<IngestResult[]>;
}

let counter = 0;
/** A name unique in this test process (`prefix-7-k3x9`): suites sharing a database never collide. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${++counter}-${Math.random().toString(36).slice(2, 6)}`;
}

/** The alert every default automation fires on (`ALERT` at level ERROR). */
export function alertEvent(overrides: Body = {}): Body {
  return { type: 'ALERT', project: 'fixtures', level: 'ERROR', title: 'fixture alert', ...overrides };
}

/**
 * Fixture factories shared by the medium and e2e tiers (docs/architecture.md › Tests): each
 * creates what a test needs with short defaults, overridden field by field, through Herald's
 * own code (its services, or its whole HTTP API) rather than by writing rows, so what they
 * make is what Herald makes.
 *
 *   const team = await ctx.newTeam();
 *   const hook = await ctx.newWebhook(team, { url: receiver.url('/a') });
 *   await ctx.newAutomation(team, hook, { trigger: { event: 'RUN_STATE', states: ['FAILED'] } });
 *   const [result] = await ctx.newEvents(team, [alertEvent()]);
 */
export class Fixtures {
  constructor(
    protected readonly app: Pick<INestApplicationContext, 'get'>,
    private readonly transport: FixtureTransport,
  ) {}

  /** A new team and its admin key, created as an operator does (`teams:create`). */
  async newTeam(name = uniqueName('team')): Promise<TeamFixture> {
    const { adminKey } = await this.app.get(TeamsService).createWithAdminKey(name);
    return this.teamOf(adminKey.key);
  }

  /** The team of an existing admin key (an e2e suite's bootstrap team). */
  async teamOf(adminKey: string): Promise<TeamFixture> {
    const auth = await this.app.get(ApiKeysService).authenticate(adminKey);
    if (!auth) throw new Error('fixtures: the admin key is unknown or revoked');
    return { id: auth.teamId, name: auth.teamName, adminKey, auth };
  }

  /** A generic webhook to a discard address on 127.0.0.1 unless `overrides` say otherwise. */
  newWebhook(team: TeamFixture, overrides: Body = {}): Promise<WebhookDto> {
    return this.transport.createWebhook(team, { name: uniqueName('wh'), url: 'http://127.0.0.1:9/fixture', kind: 'generic', ...overrides });
  }

  /**
   * An automation on `webhook` firing on ERROR alerts of the whole team unless `overrides` say
   * otherwise; an `action` override keeps the webhook unless it names another.
   */
  newAutomation(team: TeamFixture, webhook: HasId, overrides: Body = {}): Promise<AutomationView> {
    const action = { webhookId: webhook.id, ...(overrides.action as Body | undefined) };
    return this.transport.createAutomation(team, {
      name: uniqueName('auto'),
      scope: { type: 'team' },
      trigger: { event: 'ALERT', levels: ['ERROR'] },
      ...overrides,
      action,
    });
  }

  /** Posts events as one batch (POST /v1/events) and answers the per-event results. */
  newEvents(team: TeamFixture, events: Body[]): Promise<IngestResult[]> {
    return this.transport.postEvents(team, events);
  }

  /** Posts one event (an ERROR alert unless `overrides` say otherwise) and answers its result. */
  async newEvent(team: TeamFixture, overrides: Body = {}): Promise<IngestResult> {
    const [result] = await this.transport.postEvents(team, alertEvent(overrides));
    return result;
  }
}

/** The medium tier's transport: the services themselves, with the team's admin auth context. */
export function serviceTransport(app: Pick<INestApplicationContext, 'get'>): FixtureTransport {
  return {
    createWebhook: (team, body) => app.get(WebhooksService).create(team.auth, body as unknown as CreateWebhookDto),
    createAutomation: (team, body) => app.get(AutomationsService).create(team.auth, body),
    postEvents: async (team, body) => (await app.get(IngestionService).ingest(team.auth, body)).results,
  };
}

/** The e2e tier's transport: Herald's HTTP API with the team's admin key; a refusal throws with the answer. */
export function httpTransport(http: () => { post(url: string): Test }): FixtureTransport {
  const post = async (team: TeamFixture, url: string, body: unknown, expected: number) => {
    const res = await http().post(url).set('Authorization', `Bearer ${team.adminKey}`).send(body as object);
    if (res.status !== expected) throw new Error(`fixtures: POST ${url} answered ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };
  return {
    createWebhook: (team, body) => post(team, '/v1/webhooks', body, 201),
    createAutomation: (team, body) => post(team, '/v1/automations', body, 201),
    postEvents: async (team, body) => (await post(team, '/v1/events', body, 200)).results,
  };
}
