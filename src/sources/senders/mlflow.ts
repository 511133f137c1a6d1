import type { PostedEvent } from '../../events/event-validation';
import type { EventType } from '../../events/event.types';
import { hmacSha256, sameBytes } from '../../delivery/signature-schemes';
import {
  type Authentication,
  type InboundRequest,
  type MapContext,
  type Mapping,
  type Sender,
  claimedIdOf,
  copyStrings,
  headerOf,
  idText,
  isObject,
  isoTime,
  lookup,
  senderEventId,
  text,
  timestampProblem,
} from './sender';

/**
 * MLflow model-registry webhooks (MLflow ≥ 3.3, `mlflow/webhooks/delivery.py`):
 * - body `{"entity", "action", "timestamp" (ISO-8601 UTC), "data", "workspace"?}`;
 * - headers `X-MLflow-Delivery-Id` (a uuid4 per delivery, repeated by urllib3's retries),
 *   `X-MLflow-Timestamp` (unix seconds) and, when the webhook has a secret,
 *   `X-MLflow-Signature: v1,<base64 HMAC-SHA256(secret as UTF-8, id + "." + ts + "." + body)>`.
 * Payload fields per event: `mlflow/webhooks/types.py`; entity and action names:
 * `mlflow/entities/webhook.py`.
 */
export const MLFLOW_HEADERS = {
  signature: 'X-MLflow-Signature',
  timestamp: 'X-MLflow-Timestamp',
  deliveryId: 'X-MLflow-Delivery-Id',
} as const;

/** What each model-registry or prompt-registry event becomes; the rest is ignored. */
const MAPPED: Record<string, { type: EventType; artifactType: 'model' | 'prompt' }> = {
  'model_version.created': { type: 'CREATE_ARTIFACT', artifactType: 'model' },
  'model_version_alias.created': { type: 'ADD_ARTIFACT_ALIAS', artifactType: 'model' },
  'model_version_alias.deleted': { type: 'REMOVE_ARTIFACT_ALIAS', artifactType: 'model' },
  'model_version_tag.set': { type: 'ADD_ARTIFACT_TAG', artifactType: 'model' },
  'model_version_tag.deleted': { type: 'REMOVE_ARTIFACT_TAG', artifactType: 'model' },
  'prompt_version.created': { type: 'CREATE_ARTIFACT', artifactType: 'prompt' },
  'prompt_alias.created': { type: 'ADD_ARTIFACT_ALIAS', artifactType: 'prompt' },
  'prompt_alias.deleted': { type: 'REMOVE_ARTIFACT_ALIAS', artifactType: 'prompt' },
  'prompt_version_tag.set': { type: 'ADD_ARTIFACT_TAG', artifactType: 'prompt' },
  'prompt_version_tag.deleted': { type: 'REMOVE_ARTIFACT_TAG', artifactType: 'prompt' },
};

/** Why the events MLflow sends that have no Herald equivalent are ignored. */
const IGNORED: Record<string, string> = {
  'registered_model.created': 'a new registered model has no version yet; Herald artifact events are about versions (model_version.created follows)',
  'prompt.created': 'a new prompt has no version yet; Herald artifact events are about versions (prompt_version.created follows)',
  'prompt_tag.set': 'a tag on a whole prompt, not on one of its versions, has no Herald equivalent',
  'prompt_tag.deleted': 'a tag on a whole prompt, not on one of its versions, has no Herald equivalent',
  'budget_policy.exceeded': 'MLflow budget policies have no Herald equivalent',
};

export const mlflowSender: Sender = {
  credential: 'secret',

  authenticate(request: InboundRequest, secret: string, nowSeconds: number): Authentication {
    const id = headerOf(request.headers, MLFLOW_HEADERS.deliveryId);
    const timestamp = headerOf(request.headers, MLFLOW_HEADERS.timestamp);
    const signatures = headerOf(request.headers, MLFLOW_HEADERS.signature);
    if (!signatures) {
      return { ok: false, reason: `the ${MLFLOW_HEADERS.signature} header is missing: give the MLflow webhook the secret this source names` };
    }
    if (!id) return { ok: false, reason: `the ${MLFLOW_HEADERS.deliveryId} header is missing` };
    const stale = timestampProblem(MLFLOW_HEADERS.timestamp, timestamp, nowSeconds);
    if (stale) return { ok: false, reason: stale };
    const expected = hmacSha256(Buffer.from(secret, 'utf8'), `${id}.${timestamp}.${request.body}`).toString('base64');
    let matched = false;
    // "v1,<sig>" entries, space-separated (one today); every entry is compared, no early exit.
    for (const entry of signatures.split(' ')) {
      const comma = entry.indexOf(',');
      if (comma > 0 && entry.slice(0, comma) === 'v1' && sameBytes(expected, entry.slice(comma + 1))) matched = true;
    }
    if (!matched) {
      return { ok: false, reason: `the ${MLFLOW_HEADERS.signature} header does not match the body: the MLflow webhook's secret differs from this source's secret, or the body was altered` };
    }
    return { ok: true };
  },

  claimedId(request: InboundRequest): string | null {
    return claimedIdOf(headerOf(request.headers, MLFLOW_HEADERS.deliveryId));
  },

  map(payload: unknown, request: InboundRequest, context: MapContext): Mapping {
    const deliveryId = headerOf(request.headers, MLFLOW_HEADERS.deliveryId);
    const senderId = claimedIdOf(deliveryId);
    if (!deliveryId) {
      return { outcome: 'invalid', senderId, senderEvent: null, reason: `the ${MLFLOW_HEADERS.deliveryId} header is missing` };
    }
    if (!isObject(payload)) {
      return { outcome: 'invalid', senderId, senderEvent: null, reason: 'the body is not an MLflow webhook payload: expected a JSON object with entity, action and data' };
    }
    const entity = text(payload.entity);
    const action = text(payload.action);
    const missing = [entity ? null : 'entity', action ? null : 'action', isObject(payload.data) ? null : 'data'].filter((f) => f !== null);
    if (missing.length > 0) {
      return { outcome: 'invalid', senderId, senderEvent: null, reason: `the body is not an MLflow webhook payload: ${missing.join(', ')} missing` };
    }
    const senderEvent = `${entity}.${action}`;
    const data = payload.data as Record<string, unknown>;
    const mapped = lookup(MAPPED, senderEvent);
    if (!mapped) {
      return { outcome: 'ignored', senderId, senderEvent, reason: lookup(IGNORED, senderEvent) ?? `MLflow event ${senderEvent} has no Herald equivalent` };
    }

    const name = text(data.name);
    const alias = text(data.alias);
    const key = text(data.key);
    // alias.deleted does not say which version lost the alias: the alias stands for it.
    const version = idText(data.version) ?? (mapped.type === 'REMOVE_ARTIFACT_ALIAS' ? alias : undefined);
    const needs: [string, unknown][] = [['data.name', name], ['data.version', version]];
    if (mapped.type.endsWith('_ALIAS')) needs.push(['data.alias', alias]);
    if (mapped.type.endsWith('_TAG')) needs.push(['data.key', key]);
    const absent = needs.filter(([, value]) => value === undefined).map(([field]) => field);
    if (absent.length > 0) {
      return { outcome: 'invalid', senderId, senderEvent, reason: `MLflow ${senderEvent} payload without ${absent.join(', ')}` };
    }

    const metadata: Record<string, unknown> = {};
    if (mapped.type === 'CREATE_ARTIFACT') {
      copyStrings(data.tags, metadata);
      for (const field of ['source', 'run_id', 'description', 'template']) {
        if (typeof data[field] === 'string') metadata[field] = data[field];
      }
    } else if (senderEvent.endsWith('_tag.set') && typeof data.value === 'string' && key !== '__proto__') {
      metadata[key!] = data.value;
    }
    const event: PostedEvent = {
      id: senderEventId('mlflow', deliveryId),
      type: mapped.type,
      project: context.project,
      registry: true,
      artifact: {
        name: name!,
        collection: name!,
        version: version!,
        type: mapped.artifactType,
        ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
      },
      ...(mapped.type.endsWith('_ALIAS') ? { alias } : {}),
      ...(mapped.type.endsWith('_TAG') ? { tag: key } : {}),
    };
    const occurredAt = isoTime(payload.timestamp);
    if (occurredAt) event.occurredAt = occurredAt;
    return { outcome: 'events', senderId, senderEvent, events: [event] };
  },
};
