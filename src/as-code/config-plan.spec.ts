import {
  type AutomationConfig,
  type AutomationView,
  type WebhookConfig,
  type WebhookView,
  automationConfigOf,
  canonicalAutomation,
  canonicalWebhook,
  minimalDelivery,
  webhookConfigOf,
} from './config-document';
import { type StoredObject, type TeamState, createBody, diffFields, patchBody, planChanges, referencedSecrets } from './config-plan';
import { renderPlan } from './plan-render';

const hook = (over: Partial<WebhookConfig> = {}): WebhookConfig => ({ name: 'alerts', kind: 'generic', url: 'https://example.com/h', ...over });
const automation = (over: Partial<AutomationConfig> = {}): AutomationConfig => ({
  name: 'loss',
  scope: { type: 'project', name: 'llm' },
  trigger: { event: 'RUN_METRIC_THRESHOLD', metric: 'val/loss', agg: 'LAST', window: 1, op: '<', threshold: 0.2 },
  action: { webhook: 'alerts' },
  ...over,
});
const stored = <T>(config: T, id = 'id_1', etag = 'etag_1') => ({ id, etag, config }) as unknown as StoredObject<never>;
const state = (over: Partial<TeamState> = {}): TeamState => ({ webhooks: [], sources: [], automations: [], secrets: [], ...over });

describe('canonical forms: defaults written out or left out are the same file', () => {
  it('webhooks drop default schemes, empty lists and maps, kind-default delivery settings and enabled: true', () => {
    expect(
      canonicalWebhook(
        hook({
          accessTokenSecret: null,
          signingSecret: 'SIGN',
          signatureSchemes: ['standard'],
          payloadSecrets: [],
          headers: {},
          delivery: { maxAttempts: 8, scheduleSeconds: [0, 5, 30, 120, 600, 1800, 3600, 10800] },
          enabled: true,
        }),
      ),
    ).toEqual({ name: 'alerts', kind: 'generic', url: 'https://example.com/h', signingSecret: 'SIGN' });
    expect(canonicalWebhook(hook({ signingSecret: 'SIGN', signatureSchemes: ['wandb'] })).signatureSchemes).toEqual(['wandb']);
    expect(canonicalWebhook(hook({ enabled: false })).enabled).toBe(false);
  });

  it('delivery settings: only what differs from the kind; a burst the rate implies is left out', () => {
    expect(minimalDelivery('slack', { ratePerSecond: 1, burst: 1 })).toEqual({});
    expect(minimalDelivery('slack', { ratePerSecond: null })).toEqual({ ratePerSecond: null });
    expect(minimalDelivery('generic', { ratePerSecond: 2 })).toEqual({ ratePerSecond: 2 });
    expect(minimalDelivery('generic', { ratePerSecond: 2, burst: 5 })).toEqual({ ratePerSecond: 2, burst: 5 });
    // What the API answers (every setting filled in) reduces to the same.
    expect(minimalDelivery('generic', { ratePerSecond: 2, burst: 2, maxConcurrency: null, maxAttempts: 8, scheduleSeconds: [0, 5, 30, 120, 600, 1800, 3600, 10800] })).toEqual({ ratePerSecond: 2 });
  });

  it('a webhook as the API answers it: enabled false only when a person disabled it', () => {
    const view: WebhookView = {
      id: 'wh_1',
      name: 'alerts',
      kind: 'slack',
      url: 'https://hooks.slack.com/services/x',
      accessTokenSecret: null,
      signingSecret: null,
      signatureSchemes: [],
      payloadSecrets: [],
      headers: {},
      delivery: { ratePerSecond: 1, burst: 1, maxConcurrency: null, maxAttempts: 8, scheduleSeconds: [0, 5, 30, 120, 600, 1800, 3600, 10800] },
      enabled: false,
      disabledReason: 'failing',
      etag: 'e',
    };
    expect(webhookConfigOf(view)).toEqual({ name: 'alerts', kind: 'slack', url: 'https://hooks.slack.com/services/x' });
    expect(webhookConfigOf({ ...view, disabledReason: 'user' }).enabled).toBe(false);
  });

  it('automations drop the trigger\'s default cooldown, an empty description and run filter; the webhook is named', () => {
    expect(canonicalAutomation(automation({ cooldownSeconds: 86400, description: '', runFilter: {}, enabled: true }))).toEqual(automation());
    expect(canonicalAutomation(automation({ cooldownSeconds: 0 })).cooldownSeconds).toBe(0);
    const view: AutomationView = {
      id: 'aut_1',
      name: 'loss',
      description: '',
      enabled: true,
      scope: { type: 'project', name: 'llm' },
      trigger: automation().trigger,
      runFilter: null,
      filter: null,
      action: { webhookId: 'wh_1', template: 'slack' },
      cooldownSeconds: 86400,
      etag: 'e',
    };
    expect(automationConfigOf(view, new Map([['wh_1', 'alerts']]))).toEqual(automation({ action: { webhook: 'alerts', template: 'slack' } }));
    const filter = { 'run.config.lr': { $lt: 0.01 } };
    expect(automationConfigOf({ ...view, filter }, new Map([['wh_1', 'alerts']]))).toEqual(automation({ filter, action: { webhook: 'alerts', template: 'slack' } }));
    // The field order of the file, whatever the order given.
    expect(Object.keys(canonicalAutomation({ action: { webhook: 'a' }, cooldownSeconds: 5, trigger: automation().trigger, scope: { type: 'team' }, name: 'x', description: 'd' } as AutomationConfig))).toEqual([
      'name',
      'description',
      'scope',
      'trigger',
      'action',
      'cooldownSeconds',
    ]);
  });
});

describe('planChanges', () => {
  it('nothing to change when the file matches, whatever defaults it spells out', () => {
    const plan = planChanges(state({ webhooks: [stored(hook())], automations: [stored(automation())] }), {
      version: 1,
      webhooks: [hook({ payloadSecrets: [], enabled: true })],
      automations: [automation({ cooldownSeconds: 86400 })],
    }, { prune: false });
    expect(plan.changes).toEqual([]);
    expect(renderPlan(plan)).toBe('No changes: the team matches the file.\n');
  });

  it('one threshold edited: one update, that field only, and a PATCH of the trigger (with the cooldown, whose default depends on it)', () => {
    const edited = automation({ trigger: { ...automation().trigger, threshold: 0.25 } as AutomationConfig['trigger'] });
    const plan = planChanges(state({ webhooks: [stored(hook())], automations: [stored(automation(), 'aut_1', 'e1')] }), { version: 1, automations: [edited] }, { prune: false });
    expect(plan.changes).toHaveLength(1);
    expect(plan.changes[0]).toMatchObject({ action: 'update', kind: 'automation', name: 'loss', fields: [{ path: 'trigger.threshold', before: 0.2, after: 0.25 }] });
    expect(patchBody(plan.changes[0], () => 'wh_1')).toEqual({ trigger: edited.trigger, cooldownSeconds: null });
    expect(renderPlan(plan)).toBe('~ update automation "loss"\n    trigger.threshold: 0.2 → 0.25\n\nPlan: 0 to create, 1 to update, 0 to delete.\n');
  });

  it('fields left out are cleared (null), enabled goes back to true; dependent fields travel together', () => {
    const before = hook({ kind: 'slack', signingSecret: 'S', signatureSchemes: ['wandb'], headers: { 'X-A': '1' }, enabled: false });
    const plan = planChanges(state({ webhooks: [stored(canonicalWebhook(before))] }), { version: 1, webhooks: [hook()] }, { prune: false });
    const body = patchBody(plan.changes[0], () => 'x');
    expect(body).toEqual({ kind: 'generic', delivery: null, signingSecret: null, signatureSchemes: null, headers: null, enabled: true });
  });

  it('creates in dependency order, deletes in reverse, and only with prune; the section left out is not managed', () => {
    const team = state({
      webhooks: [stored(hook({ name: 'old' }), 'wh_old')],
      automations: [stored(automation({ name: 'gone', action: { webhook: 'old' } }), 'aut_gone')],
      sources: [stored({ name: 'mlflow', kind: 'mlflow', project: 'p', secret: 'S' }, 'src_1')],
    });
    const file = { version: 1 as const, webhooks: [hook()], automations: [automation()] };
    const kept = planChanges(team, file, { prune: false });
    expect(kept.changes.map((c) => `${c.action} ${c.kind} ${c.name}`)).toEqual(['create webhook alerts', 'create automation loss']);
    expect(kept.kept).toEqual([{ kind: 'webhook', name: 'old' }, { kind: 'automation', name: 'gone' }]);
    const pruned = planChanges(team, file, { prune: true });
    expect(pruned.changes.map((c) => `${c.action} ${c.kind} ${c.name}`)).toEqual([
      'create webhook alerts',
      'create automation loss',
      'delete automation gone',
      'delete webhook old',
    ]);
    expect(createBody(pruned.changes[1], (name) => `id-of-${name}`)).toMatchObject({ name: 'loss', action: { webhookId: 'id-of-alerts' } });
  });

  it('a source whose kind changed is replaced; a webhook Herald disabled is left disabled, and said so', () => {
    const team = state({
      sources: [stored({ name: 's', kind: 'mlflow', project: 'p', secret: 'S' })],
      webhooks: [{ ...stored(hook()), disabledBy: 'gone' } as StoredObject<'webhook'>],
    });
    const plan = planChanges(team, { version: 1, sources: [{ name: 's', kind: 'valohai', project: 'p' }], webhooks: [hook()] }, { prune: false });
    expect(plan.changes.map((c) => c.action)).toEqual(['replace']);
    expect(plan.notes[0]).toMatch(/webhook "alerts" was disabled by Herald \(gone\)/);
  });

  it('plans show credential URLs masked', () => {
    const plan = planChanges(state(), { version: 1, webhooks: [hook({ kind: 'slack', url: 'https://hooks.slack.com/services/T/B/secretpart' })] }, { prune: false });
    const text = renderPlan(plan);
    expect(text).toContain('url: "https://hooks.slack.com/••••••"');
    expect(text).not.toContain('secretpart');
  });
});

describe('diffFields and referencedSecrets', () => {
  it('walks objects, compares arrays whole, ignores key order', () => {
    expect(diffFields({ a: { b: 1, c: [1, 2] }, d: 1 }, { d: 1, a: { c: [2, 1], b: 1 } })).toEqual([{ path: 'a.c', before: [1, 2], after: [2, 1] }]);
    expect(diffFields({ a: 1 }, { a: 1, b: { c: 2 } })).toEqual([{ path: 'b', before: undefined, after: { c: 2 } }]);
    expect(diffFields({ x: { y: 1 } }, { x: { y: 1 } })).toEqual([]);
  });

  it('lists the secrets the file names, once each', () => {
    const file = {
      version: 1 as const,
      webhooks: [hook({ accessTokenSecret: 'A', signingSecret: 'B', payloadSecrets: ['C', 'A'] })],
      sources: [{ name: 's', kind: 'mlflow' as const, project: 'p', secret: 'D' }],
    };
    expect(referencedSecrets(file)).toEqual(['A', 'B', 'C', 'D']);
  });
});
