import { isPlainObject } from '../common/plain-object';
import type { DisabledReason } from '../webhooks/webhook-kinds';
import {
  type AutomationConfig,
  type ConfigDocument,
  type ConfigKind,
  type ObjectConfig,
  SECTION,
  type SourceConfig,
  type WebhookConfig,
  canonicalDocument,
  sameValue,
} from './config-document';

/**
 * What `herald apply` would do to make a team match a file (pure): create, update (PATCH,
 * field by field, so an automation keeps its id, edge state and history), replace (a source
 * whose kind changed: delete, then create) or delete (only with prune). Both sides are compared
 * in canonical form (config-document.ts).
 */

/** A stored object as the plan knows it: its id and etag (for If-Match) and its canonical configuration. */
export interface StoredObject<K extends ConfigKind = ConfigKind> {
  id: string;
  etag: string;
  config: ObjectConfig<K>;
  /** Webhooks only: Herald disabled it for its receiver's health; apply leaves `enabled` alone. */
  disabledBy?: Exclude<DisabledReason, 'user'> | null;
}

export interface TeamState {
  webhooks: StoredObject<'webhook'>[];
  sources: StoredObject<'source'>[];
  automations: StoredObject<'automation'>[];
  /** Names of the team's secrets. */
  secrets: string[];
}

export type ChangeAction = 'create' | 'update' | 'replace' | 'delete';

/** One field's change; `undefined` means not set (its default). Paths as in the file: `trigger.threshold`. */
export interface FieldChange {
  path: string;
  before: unknown;
  after: unknown;
}

export interface Change {
  action: ChangeAction;
  kind: ConfigKind;
  name: string;
  /** The stored object (update, replace, delete). */
  stored?: StoredObject;
  /** The file's object (create, update, replace). */
  desired?: WebhookConfig | SourceConfig | AutomationConfig;
  fields: FieldChange[];
}

export interface Plan {
  changes: Change[];
  /** Stored objects of a managed section that the file leaves out and that stay (no prune). */
  kept: { kind: ConfigKind; name: string }[];
  /** Things apply will not change, said once. */
  notes: string[];
}

/** Creates and updates go webhooks → sources → automations (automations name webhooks); deletes the other way. */
const CREATE_ORDER: readonly ConfigKind[] = ['webhook', 'source', 'automation'];
const DELETE_ORDER: readonly ConfigKind[] = ['automation', 'source', 'webhook'];

export function planChanges(state: TeamState, file: ConfigDocument, options: { prune: boolean }): Plan {
  const desiredDocument = canonicalDocument(file);
  const plan: Plan = { changes: [], kept: [], notes: [] };
  const deletes: Change[] = [];
  for (const kind of CREATE_ORDER) {
    const desired = desiredDocument[SECTION[kind]] as ObjectConfig<typeof kind>[] | undefined;
    // A section left out of the file is not managed by it.
    if (desired === undefined) continue;
    const stored = new Map((state[SECTION[kind]] as StoredObject[]).map((object) => [object.config.name, object]));
    for (const object of desired) {
      const current = stored.get(object.name);
      stored.delete(object.name);
      if (!current) {
        plan.changes.push({ action: 'create', kind, name: object.name, desired: object, fields: fieldsOf(object) });
        continue;
      }
      let before = current.config as unknown as Record<string, unknown>;
      let after = object as unknown as Record<string, unknown>;
      if (kind === 'webhook' && current.disabledBy) {
        // Delivery health is not configuration: apply neither re-enables nor disables it.
        before = withoutField(before, 'enabled');
        after = withoutField(after, 'enabled');
        plan.notes.push(
          `webhook "${object.name}" was disabled by Herald (${current.disabledBy}); apply leaves it so: enable it with POST /v1/webhooks/${current.id}/enable`,
        );
      }
      if (kind === 'source' && (current.config as SourceConfig).kind !== (object as SourceConfig).kind) {
        plan.changes.push({ action: 'replace', kind, name: object.name, stored: current, desired: object, fields: diffFields(before, after) });
        continue;
      }
      const fields = diffFields(before, after);
      if (fields.length > 0) plan.changes.push({ action: 'update', kind, name: object.name, stored: current, desired: object, fields });
    }
    for (const [name, current] of stored) {
      if (options.prune) deletes.push({ action: 'delete', kind, name, stored: current, fields: [] });
      else plan.kept.push({ kind, name });
    }
  }
  deletes.sort((a, b) => DELETE_ORDER.indexOf(a.kind) - DELETE_ORDER.indexOf(b.kind));
  plan.changes.push(...deletes);
  return plan;
}
function withoutField(object: Record<string, unknown>, field: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([key]) => key !== field));
}

/** A created object's fields, top level (its name is on the change itself). */
function fieldsOf(object: object): FieldChange[] {
  return Object.entries(object)
    .filter(([path]) => path !== 'name')
    .map(([path, after]) => ({ path, before: undefined, after }));
}

/**
 * The fields that differ, as paths: objects are walked (`delivery.ratePerSecond`,
 * `action.payload.text`), arrays and scalars compared whole.
 */
export function diffFields(before: unknown, after: unknown, prefix = ''): FieldChange[] {
  if (sameValue(before, after)) return [];
  if (!isPlainObject(before) || !isPlainObject(after)) return [{ path: prefix || '(value)', before, after }];
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return keys.flatMap((key) => diffFields(before[key], after[key], prefix ? `${prefix}.${key}` : key));
}

/** True when applying would change nothing. */
export function isEmpty(plan: Plan): boolean {
  return plan.changes.length === 0;
}

export function countByAction(plan: Plan): Record<ChangeAction, number> {
  const counts: Record<ChangeAction, number> = { create: 0, update: 0, replace: 0, delete: 0 };
  for (const change of plan.changes) counts[change.action]++;
  return counts;
}

// Request bodies --------------------------------------------------------------------------------

/**
 * What a field left out of the file is set to by PATCH: `null` clears an optional field (the
 * default comes back); `enabled` cannot be null and defaults to true.
 */
function cleared(field: string): unknown {
  return field === 'enabled' ? true : null;
}

/**
 * Fields whose stored value another field's default depends on: they are sent together, so
 * one PATCH leaves nothing for a second one (a new kind brings its delivery defaults, a new
 * signing secret its default schemes, a new trigger its default cooldown).
 */
const SENT_WITH: Readonly<Record<ConfigKind, Readonly<Record<string, readonly string[]>>>> = {
  webhook: { kind: ['delivery'], signingSecret: ['signatureSchemes'] },
  source: {},
  automation: { trigger: ['cooldownSeconds'] },
};

/** The PATCH body of an update: the changed top-level fields (and those sent with them). */
export function patchBody(change: Change, webhookId: (name: string) => string): Record<string, unknown> {
  const desired = change.desired as unknown as Record<string, unknown>;
  const fields = new Set(change.fields.map((f) => f.path.split('.')[0]));
  for (const field of [...fields]) for (const also of SENT_WITH[change.kind][field] ?? []) fields.add(also);
  const body: Record<string, unknown> = {};
  for (const field of fields) body[field] = desired[field] ?? cleared(field);
  if (change.kind === 'automation' && body.action !== undefined) body.action = apiAction(desired as unknown as AutomationConfig, webhookId);
  return body;
}

/** The POST body of a create (or of a replace's new object). */
export function createBody(change: Change, webhookId: (name: string) => string): Record<string, unknown> {
  const desired = change.desired as unknown as Record<string, unknown>;
  if (change.kind !== 'automation') return { ...desired };
  return { ...desired, action: apiAction(desired as unknown as AutomationConfig, webhookId) };
}

function apiAction(automation: AutomationConfig, webhookId: (name: string) => string): Record<string, unknown> {
  const { webhook, ...rest } = automation.action;
  return { webhookId: webhookId(webhook), ...rest };
}

/** The secrets the file's objects name (they must exist, or be set from the environment). */
export function referencedSecrets(file: ConfigDocument): string[] {
  const names = new Set<string>();
  for (const webhook of file.webhooks ?? []) {
    for (const name of [webhook.accessTokenSecret, webhook.signingSecret, ...(webhook.payloadSecrets ?? [])]) if (name) names.add(name);
  }
  for (const source of file.sources ?? []) if (source.secret) names.add(source.secret);
  return [...names].sort();
}

