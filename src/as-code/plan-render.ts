import { maskedUrl, urlIsCredential, type WebhookKind } from '../webhooks/webhook-kinds';
import type { WebhookConfig } from './config-document';
import { type Change, type FieldChange, type Plan, countByAction } from './config-plan';

const SIGN = { create: '+', update: '~', replace: '-/+', delete: '-' } as const;
const VERB = { create: 'create', update: 'update', replace: 'replace', delete: 'delete' } as const;

/**
 * The plan as people read it, one line per object and one per field:
 *
 *     ~ update automation "val-loss-good"
 *         trigger.threshold: 0.2 → 0.25
 *
 * The URL of a Slack, Teams or Discord webhook is itself a credential: it is shown masked
 * (plans end up in CI logs), as the API shows it to members.
 */
export function renderPlan(plan: Plan): string {
  const changes: string[] = [];
  for (const change of plan.changes) {
    const why = change.action === 'replace' ? ' (a source\'s kind cannot change: deleted and created again, with a new receive URL)' : '';
    changes.push(`${SIGN[change.action]} ${VERB[change.action]} ${change.kind} "${change.name}"${why}`);
    for (const field of change.fields) changes.push(`    ${renderField(change, field)}`);
  }
  const blocks = changes.length > 0 ? [changes.join('\n')] : [];
  if (plan.kept.length > 0) {
    blocks.push(`Not in the file and kept (apply --prune would delete them): ${plan.kept.map((k) => `${k.kind} "${k.name}"`).join(', ')}`);
  }
  for (const note of plan.notes) blocks.push(`Note: ${note}`);
  blocks.push(summary(plan));
  return blocks.join('\n\n') + '\n';
}

export function summary(plan: Plan): string {
  if (plan.changes.length === 0) return 'No changes: the team matches the file.';
  const counts = countByAction(plan);
  const parts = [`${counts.create} to create`, `${counts.update} to update`];
  if (counts.replace > 0) parts.push(`${counts.replace} to replace`);
  parts.push(`${counts.delete} to delete`);
  return `Plan: ${parts.join(', ')}.`;
}

function renderField(change: Change, field: FieldChange): string {
  const mask = change.kind === 'webhook' && field.path === 'url' && (credentialKind(change.desired) || credentialKind(change.stored?.config));
  const show = (value: unknown) => renderValue(mask && typeof value === 'string' ? maskedUrl(value) : value);
  if (change.action === 'create') return `${field.path}: ${show(field.after)}`;
  return `${field.path}: ${show(field.before)} → ${show(field.after)}`;
}

function credentialKind(config: unknown): boolean {
  const kind = (config as WebhookConfig | undefined)?.kind;
  return kind !== undefined && urlIsCredential(kind as WebhookKind);
}

/** Compact JSON, so strings are quoted and `"1"` and `1` read differently; unset fields say so. */
export function renderValue(value: unknown): string {
  if (value === undefined) return '(not set)';
  const text = JSON.stringify(value);
  return text.length > 200 ? `${text.slice(0, 197)}…` : text;
}
