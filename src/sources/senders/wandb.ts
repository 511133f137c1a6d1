import { bearerToken } from '../../auth/api-key-format';
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
  lookup,
  text,
} from './sender';

/**
 * Weights & Biases webhook automations (the W&B automations docs): W&B POSTs the payload template the automation
 * was given, with `${variable}`s rendered (blank when one does not apply to the event), and
 * `Authorization: Bearer <the webhook's access token>`. Herald gives a W&B source the template
 * below to paste; its keys are what this sender reads. W&B sends no delivery id and no time.
 */
export const WANDB_SENDER_TEMPLATE: Readonly<Record<string, string>> = {
  herald_source: 'wandb',
  event_type: '${event_type}',
  event_author: '${event_author}',
  project_name: '${project_name}',
  entity_name: '${entity_name}',
  artifact_collection_name: '${artifact_collection_name}',
  artifact_version_string: '${artifact_version_string}',
  artifact_version: '${artifact_version}',
  alias: '${alias}',
  tag: '${tag}',
};

/**
 * W&B event types (the wandb SDK's `wandb/automations/events.py` EventType; the W&B automations docs show
 * `${event_type}` rendering as LINK_ARTIFACT or ADD_ARTIFACT_ALIAS) → Herald event types.
 */
const TYPES: Record<string, EventType> = {
  CREATE_ARTIFACT: 'CREATE_ARTIFACT',
  LINK_ARTIFACT: 'LINK_ARTIFACT',
  // The backend's (legacy) name of LINK_ARTIFACT.
  LINK_MODEL: 'LINK_ARTIFACT',
  ADD_ARTIFACT_ALIAS: 'ADD_ARTIFACT_ALIAS',
  // The legacy alias event: an alias was applied to a version.
  UPDATE_ARTIFACT_ALIAS: 'ADD_ARTIFACT_ALIAS',
  ADD_ARTIFACT_TAG: 'ADD_ARTIFACT_TAG',
};

export const wandbSender: Sender = {
  credential: 'secret',

  authenticate(request: InboundRequest, token: string): Authentication {
    const header = headerOf(request.headers, 'authorization');
    const given = bearerToken(header);
    if (!given) {
      return { ok: false, reason: 'the Authorization: Bearer header is missing: set the W&B webhook\'s access token to the value of this source\'s secret' };
    }
    if (!sameBytes(token, given)) return { ok: false, reason: 'the Bearer token differs from this source\'s secret' };
    return { ok: true };
  },

  claimedId(): string | null {
    return null;
  },

  map(payload: unknown, _request: InboundRequest, context: MapContext): Mapping {
    const wandbType = isObject(payload) ? text(payload.event_type) : undefined;
    if (!wandbType) {
      return {
        outcome: 'invalid',
        senderId: null,
        senderEvent: null,
        reason: 'the body is not the W&B payload of this source\'s senderTemplate: event_type missing',
      };
    }
    const body = payload as Record<string, unknown>;
    const field = (name: string) => text(body[name]);
    const identity = ['event_type', 'artifact_version_string', 'artifact_version', 'alias', 'tag'].map(field);
    const senderId = derivedEventId('wandb', [context.sourceId, ...identity.map((v) => v ?? null)]);
    const type = lookup(TYPES, wandbType);
    if (!type) {
      const reason =
        // RUN_METRIC, RUN_METRIC_CHANGE, RUN_METRIC_ZSCORE, RUN_STATE
        wandbType.startsWith('RUN_')
          ? `W&B run events carry no run id, name or state in a webhook payload (the payload variables W&B documents are artifact and project facts), so ${wandbType} cannot become a Herald run event`
          : wandbType.includes('${')
            ? 'the payload came unrendered (a W&B "Test" with the template pasted as is?)'
            : `W&B event type ${wandbType} has no Herald equivalent`;
      return { outcome: 'ignored', senderId, senderEvent: wandbType, reason };
    }

    // `<entity>/<project>/<collection>:<version or alias>` (the W&B automations docs).
    const versionString = field('artifact_version_string');
    const colon = versionString ? versionString.lastIndexOf(':') : -1;
    const path = versionString && colon > 0 ? versionString.slice(0, colon) : undefined;
    const collection = field('artifact_collection_name') ?? path?.split('/').pop();
    const version = versionString && colon > 0 ? versionString.slice(colon + 1) || undefined : undefined;
    const alias = field('alias');
    const tag = field('tag');
    const absent = [
      collection ? null : 'artifact_collection_name',
      version ? null : 'artifact_version_string (as <entity>/<project>/<collection>:<version>)',
      type.endsWith('_ALIAS') && !alias ? 'alias' : null,
      type.endsWith('_TAG') && !tag ? 'tag' : null,
    ].filter((f) => f !== null);
    if (absent.length > 0) {
      return { outcome: 'invalid', senderId, senderEvent: wandbType, reason: `W&B ${wandbType} payload without ${absent.join(', ')}` };
    }

    const wandbProject = field('project_name');
    const metadata: Record<string, string> = { artifact_version_string: versionString! };
    if (field('entity_name')) metadata.wandb_entity = field('entity_name')!;
    if (wandbProject) metadata.wandb_project = wandbProject;
    const artifactId = field('artifact_version');
    const event: PostedEvent = {
      id: senderId,
      type,
      project: context.project,
      ...(field('event_author') ? { author: field('event_author') } : {}),
      // Registry events come from W&B's registry projects.
      ...(wandbProject && (wandbProject === 'model-registry' || wandbProject.startsWith('wandb-registry-')) ? { registry: true } : {}),
      artifact: { name: collection!, collection: collection!, version: version!, ...(artifactId ? { id: artifactId } : {}), metadata },
      ...(type.endsWith('_ALIAS') ? { alias } : {}),
      ...(type.endsWith('_TAG') ? { tag } : {}),
    };
    return { outcome: 'events', senderId, senderEvent: wandbType, events: [event] };
  },
};

/** The template to paste into the W&B automation's payload field, as text. */
export function wandbSenderTemplate(): string {
  return JSON.stringify(WANDB_SENDER_TEMPLATE, null, 2);
}
