import type { FieldProblem } from '../common/errors/api-error';
import { reservedHeaderReason } from '../delivery/delivery-request';
import { isHeaderValue } from '../delivery/http-fields';
import { CONTROL_CHARACTER_REASON, hasControlCharacter } from '../common/identifiers';
import { signingSecretProblem } from '../delivery/signature-schemes';
import { headerTemplateSecrets } from '../rendering/header-template';
import { ACCESS_TOKEN } from '../rendering/variables';
import {
  type DeliverySettings,
  type DisabledReason,
  type SignatureSchemeName,
  type WebhookKind,
  defaultBurst,
  defaultDeliverySettings,
} from './webhook-kinds';

/** A webhook's fields after defaults, as stored (delivery holds only what the admin set). */
export interface WebhookSpec {
  name: string;
  url: string;
  kind: WebhookKind;
  accessTokenSecret: string | null;
  signingSecret: string | null;
  signatureSchemes: SignatureSchemeName[];
  payloadSecrets: string[];
  headers: Record<string, string>;
  delivery: Partial<DeliverySettings>;
  enabled: boolean;
  disabledReason: DisabledReason | null;
}

export const MAX_HEADERS = 50;
export const MAX_HEADER_VALUE_LENGTH = 8192;

/** No control characters, http or https, a host, no credentials in the URL (they belong in secrets). */
export function urlProblem(url: string): string | null {
  // The URL parser drops tabs and line breaks silently: the URL stored would not be the one sent.
  if (hasControlCharacter(url)) return CONTROL_CHARACTER_REASON;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute http or https URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return `must use http or https, not ${parsed.protocol.slice(0, -1)}`;
  }
  if (parsed.hostname === '') return 'must name a host';
  if (parsed.username !== '' || parsed.password !== '') {
    return 'must not carry credentials (user:password@); store them as a secret and use accessTokenSecret or headers';
  }
  if (parsed.hash !== '') return 'must not have a #fragment (it is never sent)';
  return null;
}

/** Settings already worked out, by the overrides object of the webhook row they were read with. */
const settingsByRow = new WeakMap<object, Readonly<DeliverySettings>>();

/**
 * `effectiveDeliverySettings` of a webhook row as the delivery path reads it, worked out once
 * per row read (every delivery of a claim or a record shares its webhook's row), read-only.
 */
export function deliverySettingsOf(webhook: { kind: WebhookKind; delivery: Partial<DeliverySettings> }): Readonly<DeliverySettings> {
  let settings = settingsByRow.get(webhook.delivery);
  if (settings === undefined) {
    settings = Object.freeze(effectiveDeliverySettings(webhook.kind, webhook.delivery));
    settingsByRow.set(webhook.delivery, settings);
  }
  return settings;
}

/** The settings a delivery uses: the kind's defaults overlaid with the ones the admin set. */
export function effectiveDeliverySettings(kind: WebhookKind, overrides: Partial<DeliverySettings>): DeliverySettings {
  const settings = { ...defaultDeliverySettings(kind) };
  for (const [key, value] of Object.entries(overrides) as [keyof DeliverySettings, never][]) {
    if (value !== undefined) settings[key] = value;
  }
  // Without a rate there is no bucket, so a burst means nothing.
  if (settings.ratePerSecond === null) settings.burst = null;
  else settings.burst ??= defaultBurst(settings.ratePerSecond);
  return settings;
}

/** Signature schemes default to ["standard"] when a signing secret is set, else none. */
export function defaultSchemes(signingSecret: string | null): SignatureSchemeName[] {
  return signingSecret === null ? [] : ['standard'];
}

/**
 * The secrets a payload or header of this webhook may use: its payloadSecrets, its signing
 * secret, and ACCESS_TOKEN when it has an access token.
 */
export function boundSecretNames(spec: Pick<WebhookSpec, 'accessTokenSecret' | 'signingSecret' | 'payloadSecrets'>): string[] {
  const names = new Set(spec.payloadSecrets);
  if (spec.signingSecret !== null) names.add(spec.signingSecret);
  if (spec.accessTokenSecret !== null) names.add(ACCESS_TOKEN);
  return [...names];
}

/** Every team secret the webhook refers to (ACCESS_TOKEN resolved to the secret it stands for). */
export function referencedSecretNames(spec: WebhookSpec): string[] {
  const names = new Set(spec.payloadSecrets);
  if (spec.accessTokenSecret !== null) names.add(spec.accessTokenSecret);
  if (spec.signingSecret !== null) names.add(spec.signingSecret);
  return [...names];
}

/**
 * Checks what can be checked without the database: URL, schemes vs signing secret, header
 * names and the secrets header values use, delivery settings. Secret existence and values
 * are checked by the service.
 */
export function specProblems(spec: WebhookSpec): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const url = urlProblem(spec.url);
  if (url) problems.push({ field: 'url', reason: url });
  if (spec.signatureSchemes.length > 0 && spec.signingSecret === null) {
    problems.push({ field: 'signatureSchemes', reason: 'need a signingSecret to sign with' });
  }
  if (spec.accessTokenSecret === ACCESS_TOKEN || spec.payloadSecrets.includes(ACCESS_TOKEN)) {
    const field = spec.accessTokenSecret === ACCESS_TOKEN ? 'accessTokenSecret' : 'payloadSecrets';
    problems.push({ field, reason: 'ACCESS_TOKEN is reserved for the access token; name the secret that holds it' });
  }
  problems.push(...headerProblems(spec.headers, boundSecretNames(spec)));
  return problems;
}

export function headerProblems(headers: Record<string, unknown>, bound: readonly string[]): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const entries = Object.entries(headers);
  if (entries.length > MAX_HEADERS) problems.push({ field: 'headers', reason: `must have at most ${MAX_HEADERS} headers` });
  const seen = new Set<string>();
  for (const [name, value] of entries) {
    const field = `headers.${name}`;
    const reserved = reservedHeaderReason(name);
    if (reserved) {
      problems.push({ field, reason: reserved });
      continue;
    }
    if (seen.has(name.toLowerCase())) problems.push({ field, reason: 'is given twice (header names are case-insensitive)' });
    seen.add(name.toLowerCase());
    if (typeof value !== 'string') {
      problems.push({ field, reason: 'must be a string' });
      continue;
    }
    if (value.length > MAX_HEADER_VALUE_LENGTH) {
      problems.push({ field, reason: `must be at most ${MAX_HEADER_VALUE_LENGTH} characters` });
    }
    if (/[\r\n\0]/.test(value)) problems.push({ field, reason: 'must not contain CR, LF or NUL' });
    else if (!isHeaderValue(value)) problems.push({ field, reason: headerValueReason(value) });
    const { secrets, problems: syntax } = headerTemplateSecrets(value);
    for (const reason of syntax) problems.push({ field, reason });
    for (const secret of secrets) {
      if (!bound.includes(secret)) {
        const list = bound.length > 0 ? `bound secrets: ${bound.join(', ')}` : 'no secret is bound';
        problems.push({ field, reason: `uses secret ${secret}, which is not bound to this webhook (add it to payloadSecrets; ${list})` });
      }
    }
  }
  return problems;
}

/** Problems of a signing secret's value for each scheme that uses it (the value never appears). */
export function signingSecretValueProblems(schemes: readonly SignatureSchemeName[], value: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const scheme of schemes) {
    const problem = signingSecretProblem(scheme, value);
    if (problem) problems.push({ field: 'signingSecret', reason: problem });
  }
  return problems;
}

/**
 * Why a header value cannot be sent (HTTP carries Latin-1 in headers: RFC 9110 § 5.5, as
 * src/delivery/http-fields.ts checks at send), naming the first character at fault.
 */
function headerValueReason(value: string): string {
  const bad = [...value].find((c) => !isHeaderValue(c)) ?? '';
  const code = `U+${(bad.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
  return `must hold only Latin-1 text (tab, U+0020–U+007E, U+0080–U+00FF): ${code} cannot be sent in an HTTP header`;
}
