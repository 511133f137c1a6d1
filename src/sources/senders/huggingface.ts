import { sameBytes } from '../../delivery/signature-schemes';
import type { PostedEvent } from '../../events/event-validation';
import type { EventType } from '../../events/event.types';
import {
  type Authentication,
  type InboundRequest,
  type MapContext,
  type Mapping,
  type Sender,
  derivedEventId,
  headerOf,
  isObject,
  text,
} from './sender';

/**
 * Hugging Face Hub webhooks, payload version 3 (hub-docs `docs/hub/webhooks.md`;
 * huggingface_hub `src/huggingface_hub/_webhooks_payload.py`):
 * - body `{"event": {"action", "scope"}, "repo": {"type", "name", "id", "private", "url": {"web",
 *   "api"}, "headSha", "owner"}, "updatedRefs"?: [{"ref", "oldSha", "newSha"}], "discussion"?,
 *   "comment"?, "webhook": {"id", "version"}}`; `repo.headSha` is the latest commit on `main`,
 *   sent for `repo*` scopes; a new ref has `oldSha: null`, a deleted one `newSha: null`;
 * - the webhook's secret is sent verbatim as `X-Webhook-Secret` (no signature, no timestamp);
 * - no delivery id: the activity tab's "Replay" resends the same payload.
 */
export const HUGGINGFACE_SECRET_HEADER = 'X-Webhook-Secret';

const MAIN = 'refs/heads/main';
const TAG_PREFIX = 'refs/tags/';

interface Ref {
  ref: string;
  oldSha: string | null;
  newSha: string | null;
}

export const huggingfaceSender: Sender = {
  credential: 'secret',

  authenticate(request: InboundRequest, secret: string): Authentication {
    const given = headerOf(request.headers, HUGGINGFACE_SECRET_HEADER);
    if (!given) return { ok: false, reason: `the ${HUGGINGFACE_SECRET_HEADER} header is missing: set the Hugging Face webhook's secret` };
    if (!sameBytes(secret, given)) {
      return { ok: false, reason: `the ${HUGGINGFACE_SECRET_HEADER} header differs from this source's secret` };
    }
    return { ok: true };
  },

  claimedId(): string | null {
    return null;
  },

  map(payload: unknown, _request: InboundRequest, context: MapContext): Mapping {
    const event = isObject(payload) && isObject(payload.event) ? payload.event : null;
    const repo = isObject(payload) && isObject(payload.repo) ? payload.repo : null;
    const scope = event ? text(event.scope) : undefined;
    const action = event ? text(event.action) : undefined;
    const repoName = repo ? text(repo.name) : undefined;
    if (!scope || !action || !repoName) {
      return {
        outcome: 'invalid',
        senderId: null,
        senderEvent: null,
        reason: 'the body is not a Hugging Face webhook payload: expected event.scope, event.action and repo.name',
      };
    }
    const body = payload as Record<string, unknown>;
    const senderEvent = `${scope}.${action}`;
    const refs = readRefs(body.updatedRefs);
    const headSha = text(repo!.headSha);
    const repoKey = text(repo!.id) ?? repoName;
    // No delivery id: this delivery is identified by what it reports (a Replay reports the same).
    const senderId = derivedEventId('hf', [context.sourceId, senderEvent, repoKey, headSha ?? null, refs ?? null]);
    if (scope !== 'repo.content') {
      return { outcome: 'ignored', senderId, senderEvent, reason: `Hugging Face ${senderEvent} (${describeScope(scope)}) has no Herald equivalent; only repo.content updates are mapped` };
    }
    if (refs === 'invalid') {
      return { outcome: 'invalid', senderId, senderEvent, reason: 'updatedRefs must be a list of {ref, oldSha, newSha}' };
    }

    const repoType = text(repo!.type);
    const webUrl = isObject(repo!.url) ? text(repo!.url.web) : undefined;
    const artifact = (version: string) => ({
      name: repoName,
      collection: repoName,
      version,
      ...(repoType ? { type: repoType } : {}),
      ...(text(repo!.id) ? { id: text(repo!.id) } : {}),
      ...(webUrl ? { metadata: { url: webUrl } } : {}),
    });
    const make = (type: EventType, version: string, tag?: string): PostedEvent => ({
      id: derivedEventId('hf', [context.sourceId, type, repoKey, version, tag ?? null]),
      type,
      project: context.project,
      artifact: artifact(version),
      ...(tag !== undefined ? { tag } : {}),
    });

    const events: PostedEvent[] = [];
    // A new commit on main is a new version; without updatedRefs (older payloads) the update is one too.
    const main = refs?.find((r) => r.ref === MAIN && r.newSha !== null);
    if (refs === null || main) {
      const version = headSha ?? main?.newSha;
      if (!version) return { outcome: 'invalid', senderId, senderEvent, reason: 'repo.content update without repo.headSha' };
      events.push(make('CREATE_ARTIFACT', version));
    }
    for (const ref of refs ?? []) {
      if (!ref.ref.startsWith(TAG_PREFIX) || ref.ref.length === TAG_PREFIX.length) continue;
      const tag = ref.ref.slice(TAG_PREFIX.length);
      // Created or moved: the tag now names newSha. Deleted: it named oldSha.
      if (ref.newSha !== null) events.push(make('ADD_ARTIFACT_TAG', ref.newSha, tag));
      else if (ref.oldSha !== null) events.push(make('REMOVE_ARTIFACT_TAG', ref.oldSha, tag));
    }
    if (events.length === 0) {
      const which = (refs ?? []).map((r) => r.ref).join(', ');
      return { outcome: 'ignored', senderId, senderEvent, reason: `no new commit on main and no tag change (updated: ${which || 'nothing'})` };
    }
    return { outcome: 'events', senderId, senderEvent, events };
  },
};

/** `updatedRefs` as refs; null when absent; 'invalid' when malformed. */
function readRefs(value: unknown): Ref[] | null | 'invalid' {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value)) return 'invalid';
  const refs: Ref[] = [];
  for (const item of value) {
    if (!isObject(item) || !text(item.ref)) return 'invalid';
    const sha = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
    refs.push({ ref: item.ref as string, oldSha: sha(item.oldSha), newSha: sha(item.newSha) });
  }
  return refs;
}

function describeScope(scope: string): string {
  if (scope.startsWith('discussion')) return 'discussions, Pull Requests and comments';
  if (scope.startsWith('repo.config')) return 'repository settings';
  if (scope === 'repo') return 'repository created, deleted or moved';
  return 'an event scope Herald does not map';
}
