import { verifyDetermined } from '../../delivery/signature-schemes';
import { MAX_ALERT_TITLE_CHARS, MAX_LOG_LINE_BYTES, type PostedEvent } from '../../events/event-validation';
import type { AlertLevel, RunState } from '../../events/event.types';
import { truncateText } from '../../rendering/preset-helpers';
import {
  type Authentication,
  type InboundRequest,
  type MapContext,
  type Mapping,
  type Sender,
  headerOf,
  idText,
  isObject,
  lookup,
  senderEventId,
  text,
  timestampProblem,
  truncateUtf8,
  unixTime,
} from './sender';

/**
 * Determined "Default" webhooks (`master/internal/webhooks/`):
 * - body `{"event_id" (uuid), "event_type", "timestamp" (unix s), "condition", "event_data"}`
 *   (`webhook.go` EventPayload); `event_data.experiment` is ExperimentPayload `{id, state, name,
 *   duration, resource_pool, slots_per_trial, workspace, project, trial_id?}`, `task_log` is
 *   `{task_id, node_name, triggering_log}`, `custom_data` is `{title, description, level}`
 *   (`postgres_webhook.go`), the Test button sends `event_data: {"data": "test"}` (the Determined webhook docs);
 * - headers `X-Determined-AI-Signature-Timestamp` and `X-Determined-AI-Signature: <hex
 *   HMAC-SHA256(webhook_signing_key, ts + "," + body)>` (`shipper.go` generateSignedPayload,
 *   the Determined webhook docs).
 */
export const DETERMINED_HEADERS = {
  signature: 'X-Determined-AI-Signature',
  timestamp: 'X-Determined-AI-Signature-Timestamp',
} as const;

/** Experiment states (`master/pkg/model/experiment.go`) → Herald run states; the rest is ignored. */
const STATES: Record<string, RunState> = {
  ACTIVE: 'RUNNING',
  RUNNING: 'RUNNING',
  COMPLETED: 'FINISHED',
  ERROR: 'FAILED',
  // The word the Determined webhook docs use for the error condition.
  ERRORED: 'FAILED',
  CANCELED: 'KILLED',
  STOPPED: 'KILLED',
};

/** Task log levels (`master/pkg/tasklog/log_levels.go`, as `TaskLogLevelFromProto` writes them) → alert levels. */
const LEVELS: Record<string, AlertLevel> = {
  TRACE: 'INFO',
  DEBUG: 'INFO',
  INFO: 'INFO',
  UNSPECIFIED: 'INFO',
  WARNING: 'WARN',
  WARN: 'WARN',
  ERROR: 'ERROR',
  CRITICAL: 'ERROR',
};

export const determinedSender: Sender = {
  credential: 'secret',

  authenticate(request: InboundRequest, key: string, nowSeconds: number): Authentication {
    const signature = headerOf(request.headers, DETERMINED_HEADERS.signature);
    const timestamp = headerOf(request.headers, DETERMINED_HEADERS.timestamp);
    if (!signature) return { ok: false, reason: `the ${DETERMINED_HEADERS.signature} header is missing` };
    const stale = timestampProblem(DETERMINED_HEADERS.timestamp, timestamp, nowSeconds);
    if (stale) return { ok: false, reason: stale };
    if (!verifyDetermined(key, request.body, timestamp!, signature)) {
      return {
        ok: false,
        reason: `the ${DETERMINED_HEADERS.signature} header does not match the body: the master's webhook_signing_key differs from this source's secret, or the body was altered`,
      };
    }
    return { ok: true };
  },

  /** Determined's event id is in the body; a refused request's receipt shows it when the body says. */
  claimedId(request: InboundRequest): string | null {
    try {
      const body: unknown = JSON.parse(request.body);
      return isObject(body) ? (text(body.event_id)?.slice(0, 128) ?? null) : null;
    } catch {
      return null;
    }
  },

  map(payload: unknown, _request: InboundRequest, context: MapContext): Mapping {
    if (!isObject(payload)) {
      return { outcome: 'invalid', senderId: null, senderEvent: null, reason: 'the body is not a Determined webhook payload: expected a JSON object with event_id, event_type and event_data' };
    }
    const eventId = text(payload.event_id);
    const senderEvent = text(payload.event_type) ?? null;
    const senderId = eventId ?? null;
    const missing = [eventId ? null : 'event_id', senderEvent ? null : 'event_type', isObject(payload.event_data) ? null : 'event_data'].filter((f) => f !== null);
    if (missing.length > 0) {
      return { outcome: 'invalid', senderId, senderEvent, reason: `the body is not a Determined webhook payload: ${missing.join(', ')} missing` };
    }
    const data = payload.event_data as Record<string, unknown>;
    if (data.data === 'test' && data.experiment === undefined) {
      return { outcome: 'ignored', senderId, senderEvent, reason: 'a test event from Determined\'s "Test Webhook" action: it names no experiment' };
    }
    const base = { id: senderEventId('determined', eventId!), ...optional('occurredAt', unixTime(payload.timestamp)) };
    const experiment = isObject(data.experiment) ? data.experiment : null;
    const run = experiment ? experimentRun(experiment) : null;
    // Determined's experiment names its project: that project is the Herald project.
    const project = (experiment && text(experiment.project)) ?? context.project;

    switch (senderEvent) {
      case 'EXPERIMENT_STATE_CHANGE': {
        if (!run) {
          return { outcome: 'invalid', senderId, senderEvent, reason: 'EXPERIMENT_STATE_CHANGE without event_data.experiment.id' };
        }
        const condition = isObject(payload.condition) ? payload.condition : {};
        const determinedState = text(experiment!.state) ?? text(condition.state);
        const state = lookup(STATES, determinedState);
        if (!state) {
          return { outcome: 'ignored', senderId, senderEvent, reason: `experiment state ${determinedState ?? '(none)'} has no Herald run state` };
        }
        const event: PostedEvent = { ...base, type: 'RUN_STATE', project, run: { ...run, state } };
        return { outcome: 'events', senderId, senderEvent, events: [event] };
      }
      case 'TASK_LOG': {
        const log = isObject(data.task_log) ? data.task_log : null;
        const taskId = log ? text(log.task_id) : undefined;
        if (!log || !taskId || typeof log.triggering_log !== 'string') {
          return { outcome: 'invalid', senderId, senderEvent, reason: 'TASK_LOG without event_data.task_log.task_id and triggering_log' };
        }
        // A task log names no experiment, hence no project: the source's project.
        const event: PostedEvent = {
          ...base,
          type: 'RUN_LOG',
          project: context.project,
          run: { id: taskId, name: taskId },
          lines: [truncateUtf8(log.triggering_log, MAX_LOG_LINE_BYTES)],
        };
        return { outcome: 'events', senderId, senderEvent, events: [event] };
      }
      case 'CUSTOM': {
        const custom = isObject(data.custom_data) ? data.custom_data : null;
        if (!custom) return { outcome: 'invalid', senderId, senderEvent, reason: 'CUSTOM without event_data.custom_data' };
        // core_context.alert() sends "" for a missing title: name the experiment instead.
        const title = text(custom.title) ?? (run ? `Alert from experiment ${run.name}` : 'Alert from Determined');
        const level = lookup(LEVELS, text(custom.level)?.toUpperCase()) ?? 'INFO';
        const event: PostedEvent = {
          ...base,
          type: 'ALERT',
          project,
          title: truncateText(title, MAX_ALERT_TITLE_CHARS),
          level,
          ...optional('text', text(custom.description)),
          ...(run ? { run } : {}),
        };
        return { outcome: 'events', senderId, senderEvent, events: [event] };
      }
      default:
        return { outcome: 'ignored', senderId, senderEvent, reason: `Determined event type ${senderEvent} has no Herald equivalent` };
    }
  },
};

/** The experiment as a Herald run: its id as the run id. */
function experimentRun(experiment: Record<string, unknown>): { id: string; name: string } | null {
  const id = idText(experiment.id);
  if (!id) return null;
  return { id, name: text(experiment.name) ?? `experiment ${id}` };
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}
