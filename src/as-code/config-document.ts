import type { RunFilter, Scope, Trigger } from '../automations/automation.types';
import type { AutomationView as StoredAutomation } from '../automations/automations.service';
import { effectiveCooldownSeconds } from '../automations/triggers';
import type { FieldProblem } from '../common/errors/api-error';
import { isPlainObject } from '../common/plain-object';
import type { SourceDto } from '../sources/dto/source.dto';
import type { SourceKind } from '../sources/source-kinds';
import type { WebhookDto } from '../webhooks/dto/webhook.dto';
import type { DeliverySettings, SignatureSchemeName, WebhookKind } from '../webhooks/webhook-kinds';
import { defaultSchemes, effectiveDeliverySettings } from '../webhooks/webhook-rules';

/**
 * A team's configuration as a file (docs/as-code.md): webhooks, sources and automations,
 * each identified by its name and referring to the others and to secrets by name — never by
 * id, never with a secret value. Pure: the command (src/cli/) and the server's check
 * (config.service.ts) share it.
 *
 * Every object has one canonical form: the fields a person set, with defaults left out
 * (`signatureSchemes` equal to the default, an empty `headers`, delivery settings equal to the
 * kind's, the trigger's default cooldown…). The file an export writes is canonical, and plans
 * compare canonical forms, so writing a default out or leaving it out is the same file.
 */

export const CONFIG_VERSION = 1;

export interface WebhookConfig {
  name: string;
  kind: WebhookKind;
  url: string;
  accessTokenSecret?: string | null;
  signingSecret?: string | null;
  signatureSchemes?: SignatureSchemeName[];
  payloadSecrets?: string[];
  headers?: Record<string, string>;
  delivery?: Partial<DeliverySettings>;
  enabled?: boolean;
}

export interface SourceConfig {
  name: string;
  kind: SourceKind;
  project: string;
  secret?: string | null;
}

/** An automation's action names its webhook (`webhook`), where the API takes its id. */
export interface ActionConfig {
  webhook: string;
  payload?: unknown;
  template?: string;
}

export interface AutomationConfig {
  name: string;
  description?: string | null;
  enabled?: boolean;
  scope: Scope;
  trigger: Trigger;
  runFilter?: RunFilter | null;
  /** The attribute filter (docs/automations.md › Attribute filters). */
  filter?: Record<string, unknown> | null;
  action: ActionConfig;
  cooldownSeconds?: number | null;
}

/** A section left out of a file is not managed by it: nothing of that kind is created, changed or deleted. */
export interface ConfigDocument {
  version: typeof CONFIG_VERSION;
  webhooks?: WebhookConfig[];
  sources?: SourceConfig[];
  automations?: AutomationConfig[];
}

export type ConfigKind = 'webhook' | 'source' | 'automation';
export const CONFIG_KINDS: readonly ConfigKind[] = ['webhook', 'source', 'automation'];
export const SECTION: Readonly<Record<ConfigKind, 'webhooks' | 'sources' | 'automations'>> = {
  webhook: 'webhooks',
  source: 'sources',
  automation: 'automations',
};
export type ObjectConfig<K extends ConfigKind> = K extends 'webhook' ? WebhookConfig : K extends 'source' ? SourceConfig : AutomationConfig;

// What the API answers (the fields the file is made of): the server's own answer types --------

export type WebhookView = Pick<
  WebhookDto,
  'id' | 'name' | 'kind' | 'url' | 'accessTokenSecret' | 'signingSecret' | 'signatureSchemes' | 'payloadSecrets' | 'headers' | 'delivery' | 'enabled' | 'disabledReason' | 'etag'
>;
export type SourceView = Pick<SourceDto, 'id' | 'name' | 'kind' | 'project' | 'secret' | 'etag'>;
/** `cooldownSeconds` is the effective one (the trigger's default applied). */
export type AutomationView = Pick<
  StoredAutomation,
  'id' | 'name' | 'description' | 'enabled' | 'scope' | 'trigger' | 'runFilter' | 'filter' | 'action' | 'cooldownSeconds' | 'etag'
>;

// Canonical forms -----------------------------------------------------------------------------

export function canonicalWebhook(webhook: WebhookConfig): WebhookConfig {
  const signingSecret = webhook.signingSecret ?? null;
  const out: WebhookConfig = { name: webhook.name, kind: webhook.kind, url: webhook.url };
  if (webhook.accessTokenSecret) out.accessTokenSecret = webhook.accessTokenSecret;
  if (signingSecret) out.signingSecret = signingSecret;
  if (webhook.signatureSchemes && !sameValue(webhook.signatureSchemes, defaultSchemes(signingSecret))) {
    out.signatureSchemes = [...webhook.signatureSchemes];
  }
  if (webhook.payloadSecrets && webhook.payloadSecrets.length > 0) out.payloadSecrets = [...webhook.payloadSecrets];
  if (webhook.headers && Object.keys(webhook.headers).length > 0) out.headers = { ...webhook.headers };
  const delivery = minimalDelivery(webhook.kind, webhook.delivery ?? {});
  if (Object.keys(delivery).length > 0) out.delivery = delivery;
  if (webhook.enabled === false) out.enabled = false;
  return out;
}

/**
 * The delivery settings that differ from the kind's defaults, in the API's field order. A
 * burst equal to the one the rate implies is left out, as the API fills it in.
 */
export function minimalDelivery(kind: WebhookKind, overrides: Partial<DeliverySettings>): Partial<DeliverySettings> {
  const effective = effectiveDeliverySettings(kind, overrides);
  const defaults = effectiveDeliverySettings(kind, {});
  const implied = effectiveDeliverySettings(kind, { ratePerSecond: effective.ratePerSecond });
  const out: Partial<DeliverySettings> = {};
  for (const key of ['ratePerSecond', 'burst', 'maxConcurrency', 'maxAttempts', 'scheduleSeconds'] as const) {
    const base = key === 'burst' ? implied.burst : defaults[key];
    if (!sameValue(effective[key], base)) (out as Record<string, unknown>)[key] = effective[key];
  }
  return out;
}

export function canonicalSource(source: SourceConfig): SourceConfig {
  const out: SourceConfig = { name: source.name, kind: source.kind, project: source.project };
  if (source.secret) out.secret = source.secret;
  return out;
}

export function canonicalAutomation(automation: AutomationConfig): AutomationConfig {
  // Field order of the file: name, description, enabled, scope, trigger, runFilter, filter, action, cooldownSeconds.
  const ordered = { name: automation.name } as AutomationConfig;
  if (automation.description) ordered.description = automation.description;
  if (automation.enabled === false) ordered.enabled = false;
  ordered.scope = automation.scope;
  ordered.trigger = automation.trigger;
  const filter = automation.runFilter;
  if (filter && (filter.nameRegex !== undefined || filter.user !== undefined)) ordered.runFilter = filter;
  if (automation.filter) ordered.filter = automation.filter;
  const action: ActionConfig = { webhook: automation.action.webhook };
  if (automation.action.template !== undefined && automation.action.template !== null) action.template = automation.action.template;
  if (automation.action.payload !== undefined && automation.action.payload !== null) action.payload = automation.action.payload;
  ordered.action = action;
  const cooldown = automation.cooldownSeconds ?? null;
  if (cooldown !== null && cooldown !== effectiveCooldownSeconds(automation.trigger, null)) ordered.cooldownSeconds = cooldown;
  return ordered;
}

/** The canonical document: every object canonical, each section sorted by name. */
export function canonicalDocument(document: ConfigDocument): ConfigDocument {
  const out: ConfigDocument = { version: CONFIG_VERSION };
  if (document.webhooks) out.webhooks = sortByName(document.webhooks.map(canonicalWebhook));
  if (document.sources) out.sources = sortByName(document.sources.map(canonicalSource));
  if (document.automations) out.automations = sortByName(document.automations.map(canonicalAutomation));
  return out;
}

// From the API's answers to the file ------------------------------------------------------------

/**
 * A stored webhook as the file writes it. `enabled: false` only when a person disabled it:
 * one Herald disabled for its receiver's health (`gone`, `failing`) is still enabled by intent.
 */
export function webhookConfigOf(view: WebhookView): WebhookConfig {
  return canonicalWebhook({
    name: view.name,
    kind: view.kind,
    url: view.url,
    accessTokenSecret: view.accessTokenSecret,
    signingSecret: view.signingSecret,
    signatureSchemes: view.signatureSchemes,
    payloadSecrets: view.payloadSecrets,
    headers: view.headers,
    delivery: view.delivery,
    enabled: view.enabled || view.disabledReason !== 'user',
  });
}

export function sourceConfigOf(view: SourceView): SourceConfig {
  return canonicalSource({ name: view.name, kind: view.kind, project: view.project, secret: view.secret });
}

/** A stored automation as the file writes it; its webhook by name (`webhookNames`: id → name). */
export function automationConfigOf(view: AutomationView, webhookNames: ReadonlyMap<string, string>): AutomationConfig {
  const { webhookId, ...rest } = view.action;
  return canonicalAutomation({
    name: view.name,
    description: view.description,
    enabled: view.enabled,
    scope: view.scope,
    trigger: view.trigger,
    runFilter: view.runFilter,
    filter: view.filter,
    action: { webhook: webhookNames.get(webhookId) ?? webhookId, ...rest },
    cooldownSeconds: view.cooldownSeconds,
  });
}

// Checks the schema cannot express --------------------------------------------------------------

/** Names given twice in a section (each later one names the first). */
export function duplicateNameProblems(document: unknown): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (!isPlainObject(document)) return problems;
  for (const kind of CONFIG_KINDS) {
    const list = document[SECTION[kind]];
    if (!Array.isArray(list)) continue;
    const first = new Map<string, number>();
    list.forEach((item: unknown, index) => {
      const name = isPlainObject(item) ? item.name : undefined;
      if (typeof name !== 'string') return;
      const seen = first.get(name);
      if (seen === undefined) first.set(name, index);
      else problems.push({ field: `${SECTION[kind]}[${index}].name`, reason: `is given twice: ${SECTION[kind]}[${seen}] is also "${name}"` });
    });
  }
  return problems;
}

// Small helpers -------------------------------------------------------------------------------

/** Deep equality of JSON values; object key order does not matter, array order does. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a).filter((k) => a[k] !== undefined);
    const other = Object.keys(b).filter((k) => b[k] !== undefined);
    return keys.length === other.length && keys.every((k) => Object.hasOwn(b, k) && sameValue(a[k], b[k]));
  }
  return false;
}

/** By name, in code-unit order (the same on every database and locale). */
export function sortByName<T extends { name: string }>(items: T[]): T[] {
  return [...items].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
