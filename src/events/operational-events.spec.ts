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

function attempt(status: RecordedAttempt['fate'], change: Partial<RecordedAttempt> = {}): RecordedAttempt {
  return { delivery, outcome: outcome(), fate: status, ...change };
}

describe('attemptFate', () => {
  it('tells the attempt that disabled its webhook from one whose webhook was already disabled', () => {
    expect(attemptFate('failed', true, { enabled: false, disabledReason: 'gone' })).toEqual({ status: 'failed', disabled: 'gone' });
    expect(attemptFate('held', true, { enabled: false, disabledReason: 'failing' })).toEqual({ status: 'held', disabled: 'failing' });
    expect(attemptFate('failed', false, { enabled: false, disabledReason: 'gone' })).toEqual({ status: 'failed', disabled: null });
    expect(attemptFate('retrying', true, { enabled: true, disabledReason: null })).toEqual({ status: 'retrying', disabled: null });
    expect(attemptFate('failed', false, null)).toEqual({ status: 'failed', disabled: null });
  });
});

describe('failureOf', () => {
  it('reports a failed delivery and a disabled webhook with the last status and error', () => {
    expect(failureOf(attempt({ status: 'failed', disabled: 'gone' }), webhook)).toEqual({
      teamId: 'team_1',
      webhook: { id: 'wh_1', name: 'deploy' },
      delivery,
      attempts: 4,
      statusCode: 410,
      error: 'HTTP 410',
      failed: true,
      disabled: 'gone',
    });
    const timeout = failureOf(attempt({ status: 'held', disabled: 'failing' }, { outcome: outcome({ kind: 'retryable', statusCode: null, errorMessage: 'timed out after 15000 ms', gone: false }) }), webhook);
    expect(timeout).toMatchObject({ failed: false, disabled: 'failing', statusCode: null, error: 'timed out after 15000 ms' });
  });

  it('reports nothing when nothing failed, when the record did not commit, or for a delivery of an operational event (no loops)', () => {
    expect(failureOf(attempt({ status: 'retrying', disabled: null }), webhook)).toBeNull();
    expect(failureOf(attempt({ status: 'succeeded', disabled: null }, { outcome: outcome({ kind: 'success', statusCode: 200, gone: false }) }), webhook)).toBeNull();
    expect(failureOf(attempt(undefined), webhook)).toBeNull();
    for (const eventType of ['DELIVERY_FAILED', 'WEBHOOK_DISABLED']) {
      expect(failureOf(attempt({ status: 'failed', disabled: 'gone' }, { delivery: { ...delivery, eventType } as DeliveryEntity }), webhook)).toBeNull();
    }
  });
});

describe('operationalEvents', () => {
  const at = '2026-11-22T08:00:00.000Z';

  it('makes WEBHOOK_DISABLED (project herald) and DELIVERY_FAILED (the delivered event\'s project) with deterministic ids', () => {
    const failure = failureOf(attempt({ status: 'failed', disabled: 'gone' }), webhook)!;
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
    const failure = failureOf(attempt({ status: 'failed', disabled: null }, { delivery: bare, outcome: outcome({ statusCode: null, errorMessage: 'x'.repeat(5000), gone: false }) }), webhook)!;
    const [event] = operationalEvents(failure, HERALD_PROJECT, at);
    expect(event.type).toBe('DELIVERY_FAILED');
    expect(event.delivery).toEqual({ id: 'msg_1', series: 2, attempts: 4, eventType: 'ADD_ARTIFACT_ALIAS' });
    expect(event).not.toHaveProperty('statusCode');
    expect(event.error).toHaveLength(2048);
    expect(validateEventBatch(event, { operational: true }).ok).toBe(true);
  });
});
