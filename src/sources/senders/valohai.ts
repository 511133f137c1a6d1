import { hashApiKey } from '../../auth/api-key-format';
import { sameBytes } from '../../delivery/signature-schemes';
import type { PostedEvent } from '../../events/event-validation';
import type { RunState } from '../../events/event.types';
import {
  type Authentication,
  type InboundRequest,
  type MapContext,
  type Mapping,
  type Sender,
  derivedEventId,
  idText,
  isObject,
  lookup,
  text,
} from './sender';

/**
 * Valohai notification webhooks (the Valohai notification docs): body `{"project", "title", "type", "body", "url",
 * "data": {"valohai.execution-id", "valohai.execution-status", "valohai.execution-counter",
 * "valohai.execution-title", "valohai.project-name", "valohai.creator-name", …}}` with `type`
 * `execution_completed` (the seed's example, status `complete`). Valohai documents no sender
 * authentication, so the receive URL carries a random token, shown once; only its SHA-256 is
 * stored. No delivery id either.
 */
export const VALOHAI_APP_ORIGIN = 'https://app.valohai.com';

/** `valohai.execution-status` words (the Valohai notification docs show "complete"; Herald's own valohai preset writes the others). */
const STATUSES: Record<string, RunState> = {
  complete: 'FINISHED',
  error: 'FAILED',
  crashed: 'CRASHED',
  stopped: 'KILLED',
};

const EXECUTION_TYPES = new Set(['execution_completed', 'execution_failed']);

export const valohaiSender: Sender = {
  credential: 'token',

  authenticate(request: InboundRequest, tokenHash: string): Authentication {
    if (!request.token) return { ok: false, reason: 'the receive URL\'s token is missing: use the whole receive URL shown when the source was created' };
    if (!sameBytes(tokenHash, hashApiKey(request.token))) return { ok: false, reason: 'the receive URL\'s token is wrong' };
    return { ok: true };
  },

  claimedId(request: InboundRequest): string | null {
    try {
      const body: unknown = JSON.parse(request.body);
      const data = isObject(body) && isObject(body.data) ? body.data : null;
      return data ? (text(data['valohai.execution-id'])?.slice(0, 128) ?? null) : null;
    } catch {
      return null;
    }
  },

  map(payload: unknown, _request: InboundRequest, context: MapContext): Mapping {
    const type = isObject(payload) ? text(payload.type) : undefined;
    if (!type || !isObject((payload as Record<string, unknown>).data)) {
      return { outcome: 'invalid', senderId: null, senderEvent: type ?? null, reason: 'the body is not a Valohai notification: expected a JSON object with type and data' };
    }
    const body = payload as Record<string, unknown>;
    const data = body.data as Record<string, unknown>;
    const executionId = text(data['valohai.execution-id']);
    const senderId = executionId ?? null;
    if (!EXECUTION_TYPES.has(type)) {
      return { outcome: 'ignored', senderId, senderEvent: type, reason: `Valohai ${type} has no Herald equivalent; only execution_completed and execution_failed are mapped` };
    }
    if (!executionId) return { outcome: 'invalid', senderId, senderEvent: type, reason: `${type} without data["valohai.execution-id"]` };

    const status = text(data['valohai.execution-status']);
    const state: RunState = type === 'execution_failed' ? 'FAILED' : (lookup(STATUSES, status) ?? 'FINISHED');
    const projectName = text(data['valohai.project-name']);
    const counter = idText(data['valohai.execution-counter']);
    const name = text(data['valohai.execution-title']) ?? (projectName && counter ? `${projectName}/#${counter}` : executionId);
    const url = executionUrl(text(body.url), text(body.body));
    const author = text(data['valohai.creator-name']);
    const event: PostedEvent = {
      id: derivedEventId('valohai', [context.sourceId, type, executionId, status ?? null]),
      type: 'RUN_STATE',
      project: context.project,
      ...(author ? { author } : {}),
      run: { id: executionId, name, state, ...(url ? { url } : {}) },
    };
    return { outcome: 'events', senderId, senderEvent: type, events: [event] };
  },
};

/**
 * The execution's URL. Valohai sends a path (`/p/<owner>/<project>/execution/<id>/`); it is
 * resolved against the installation the message's body links to, else Valohai's app.
 */
export function executionUrl(url: string | undefined, body: string | undefined): string | undefined {
  if (!url) return undefined;
  if (/^https?:\/\//i.test(url)) return url;
  if (!url.startsWith('/')) return undefined;
  const linked = body ? /\]\((https?:\/\/[^/)\s]+)/i.exec(body) : null;
  try {
    return new URL(url, linked ? linked[1] : VALOHAI_APP_ORIGIN).toString();
  } catch {
    return undefined;
  }
}
