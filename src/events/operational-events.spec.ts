import { type RecordedAttempt, attemptFate, failureOf } from '../delivery/delivery-failures';
import type { DeliveryEntity } from '../delivery/delivery.entity';
import type { SendOutcome } from '../delivery/http-executor';
import { validateEventBatch } from './event-validation';
import { HERALD_PROJECT, operationalEvents } from './operational-events';

const webhook = { id: 'wh_1', name: 'deploy', teamId: 'team_1' };
const delivery = {
  id: 'msg_1',
  teamId: 'team_1',
  automationId: 'aut_1',
  automationName: 'deploy-on-prod',
  webhookId: 'wh_1',
  eventId: 'evt_1',
  eventType: 'ADD_ARTIFACT_ALIAS',
  series: 2,
  attemptCount: 3,
} as DeliveryEntity;

function outcome(change: Partial<SendOutcome> = {}): SendOutcome {
  return { kind: 'final', statusCode: 410, durationMs: 5, responseExcerpt: '', errorClass: null, errorMessage: null, retryAfterMs: null, gone: true, ...change };
}

type Fate = Omit<NonNullable<RecordedAttempt['fate']>, 'webhook'>;

/** An attempt recorded with this status and disabling, its webhook as the record read it (`undefined` fate: not recorded). */
function attempt(fate: Fate | undefined, change: Partial<RecordedAttempt> = {}): RecordedAttempt {
  return { delivery, outcome: outcome(), fate: fate && { ...fate, webhook }, ...change };
}

describe('attemptFate', () => {
  it('tells the attempt that disabled its webhook from one whose webhook was already disabled', () => {
    const state = (enabled: boolean, disabledReason: 'gone' | 'failing' | null) => ({ ...webhook, url: 'x', enabled, disabledReason });
    expect(attemptFate('failed', true, state(false, 'gone'))).toEqual({ status: 'failed', disabled: 'gone', webhook });
    expect(attemptFate('held', true, state(false, 'failing'))).toEqual({ status: 'held', disabled: 'failing', webhook });
    expect(attemptFate('failed', false, state(false, 'gone'))).toEqual({ status: 'failed', disabled: null, webhook });
    expect(attemptFate('retrying', true, state(true, null))).toEqual({ status: 'retrying', disabled: null, webhook });
    expect(attemptFate('failed', false, null)).toEqual({ status: 'failed', disabled: null, webhook: null });
  });
});

describe('failureOf', () => {
  it('reports a failed delivery and a disabled webhook with the last status and error', () => {
    expect(failureOf(attempt({ status: 'failed', disabled: 'gone' }))).toEqual({
      teamId: 'team_1',
      webhook: { id: 'wh_1', name: 'deploy' },
      delivery,
      attempts: 4,
      statusCode: 410,
      error: 'HTTP 410',
      failed: true,
      disabled: 'gone',
    });
    const timeout = failureOf(attempt({ status: 'held', disabled: 'failing' }, { outcome: outcome({ kind: 'retryable', statusCode: null, errorMessage: 'timed out after 15000 ms', gone: false }) }));
    expect(timeout).toMatchObject({ failed: false, disabled: 'failing', statusCode: null, error: 'timed out after 15000 ms' });
  });

  it('reports nothing when nothing failed, the record did not commit, the webhook was deleted, or for a delivery of an operational event (no loops)', () => {
    expect(failureOf({ delivery, outcome: outcome(), fate: { status: 'failed', disabled: null, webhook: null } })).toBeNull();
    expect(failureOf(attempt({ status: 'retrying', disabled: null }))).toBeNull();
    expect(failureOf(attempt({ status: 'succeeded', disabled: null }, { outcome: outcome({ kind: 'success', statusCode: 200, gone: false }) }))).toBeNull();
    expect(failureOf(attempt(undefined))).toBeNull();
    for (const eventType of ['DELIVERY_FAILED', 'WEBHOOK_DISABLED']) {
      expect(failureOf(attempt({ status: 'failed', disabled: 'gone' }, { delivery: { ...delivery, eventType } as DeliveryEntity }))).toBeNull();
    }
  });
});

describe('operationalEvents', () => {
  const at = '2026-11-22T08:00:00.000Z';

  it('makes WEBHOOK_DISABLED (project herald) and DELIVERY_FAILED (the delivered event\'s project) with deterministic ids', () => {
    const failure = failureOf(attempt({ status: 'failed', disabled: 'gone' }))!;
    const events = operationalEvents(failure, 'model-registry', at);
    const common = {
      occurredAt: at,
      author: 'herald',
      webhook: { id: 'wh_1', name: 'deploy' },
      delivery: { id: 'msg_1', series: 2, attempts: 4, automationId: 'aut_1', automationName: 'deploy-on-prod', eventId: 'evt_1', eventType: 'ADD_ARTIFACT_ALIAS' },
      statusCode: 410,
      error: 'HTTP 410',
    };
    expect(events).toEqual([
      { id: 'herald:webhook-disabled:wh_1:msg_1.2.4', type: 'WEBHOOK_DISABLED', project: HERALD_PROJECT, reason: 'gone', ...common },
      { id: 'herald:delivery-failed:msg_1.2', type: 'DELIVERY_FAILED', project: 'model-registry', ...common },
    ]);
    expect(operationalEvents(failure, 'model-registry', '2027-01-01T00:00:00.000Z').map((e) => e.id)).toEqual(events.map((e) => e.id));
    // What Herald emits passes its own validation, and only with the operational option.
    expect(validateEventBatch(events, { operational: true })).toEqual({ ok: true, events });
    expect(validateEventBatch(events).ok).toBe(false);
  });

  it('leaves out what is unknown (no status, no automation, no event) and cuts a long error', () => {
    const bare = { ...delivery, automationId: null, automationName: null, eventId: null } as DeliveryEntity;
    const failure = failureOf(attempt({ status: 'failed', disabled: null }, { delivery: bare, outcome: outcome({ statusCode: null, errorMessage: 'x'.repeat(5000), gone: false }) }))!;
    const [event] = operationalEvents(failure, HERALD_PROJECT, at);
    expect(event.type).toBe('DELIVERY_FAILED');
    expect(event.delivery).toEqual({ id: 'msg_1', series: 2, attempts: 4, eventType: 'ADD_ARTIFACT_ALIAS' });
    expect(event).not.toHaveProperty('statusCode');
    expect(event.error).toHaveLength(2048);
    expect(validateEventBatch(event, { operational: true }).ok).toBe(true);
  });
});
