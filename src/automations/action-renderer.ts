import type { GroupCounts, MatchedMetric } from './triggers';
import { buildVariables } from '../rendering/build-variables';
import { BodyTooLargeError, type CompiledTemplate, maskedSecrets } from '../rendering/payload-template';
import { type PresetLibrary, type PresetName, defaultPresetForKind } from '../rendering/presets';
import type { HeraldEvent, RunContext } from '../events/event.types';
import type { BodyForm } from '../delivery/delivery-status';
import { type WebhookKind, bodyLimitBytes } from '../webhooks/webhook-kinds';
import type { AutomationAction } from './automation.types';

export interface ActionRenderInput {
  action: AutomationAction;
  /** The compiled custom payload, or null when the action uses a preset. */
  payload: CompiledTemplate | null;
  webhookKind: WebhookKind;
  event: HeraldEvent;
  team: { id: string; name: string };
  automation: { id: string; name: string };
  deliveryId: string;
  metric?: MatchedMetric;
  logLine?: string;
  /** The run's group, tags and config as Herald keeps them (null: the event's own, or none). */
  runContext?: RunContext | null;
  /** RUN_GROUP_FINISHED: the group's counts. */
  group?: GroupCounts | null;
}

export interface RenderedBody {
  body: string;
  form: BodyForm;
}

/** The preset an action renders with: the one it names, or its webhook kind's default. */
export function presetOf(action: AutomationAction, kind: WebhookKind): PresetName {
  return (action.template as PresetName | undefined) ?? defaultPresetForKind(kind);
}

/**
 * Renders the body stored with a delivery. Custom payloads keep their secret references as
 * `${NAME}` (resolved in memory at send time, so no secret is ever stored); presets use no
 * secret and are stored as sent.
 */
export function renderDeliveryBody(input: ActionRenderInput, presets: PresetLibrary): RenderedBody {
  const variables = variablesOf(input);
  const limit = bodyLimitBytes(input.webhookKind);
  // Sized before it is joined (renderProgram): an oversize body throws BodyTooLargeError at the cost of its distinct values.
  if (input.payload) return { body: input.payload.renderDeferringSecrets(variables, limit), form: 'deferred' };
  const preset = presetOf(input.action, input.webhookKind);
  const body = presets.render(preset, {
    variables,
    event: input.event,
    team: input.team,
    automation: input.automation,
    deliveryId: input.deliveryId,
  });
  // Presets cut every field they show (preset-helpers), so this only guards the kind's limit.
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > limit) throw new BodyTooLargeError(bytes, limit);
  return { body, form: 'final' };
}

/** The body a preview shows: every secret as `••••••`. */
export function renderPreviewBody(input: ActionRenderInput, presets: PresetLibrary): string {
  if (!input.payload) return renderDeliveryBody(input, presets).body;
  const variables = variablesOf(input);
  return input.payload.render(variables, maskedSecrets, bodyLimitBytes(input.webhookKind));
}

function variablesOf(input: ActionRenderInput) {
  return buildVariables({
    event: input.event,
    team: input.team,
    automation: input.automation,
    deliveryId: input.deliveryId,
    metric: input.metric,
    logLine: input.logLine ?? null,
    runContext: input.runContext ?? null,
    group: input.group ?? null,
  });
}
