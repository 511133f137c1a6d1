import type { SignatureSchemeName, WebhookKind } from '../webhooks/webhook-kinds';
import { EXECUTOR_HEADERS, type OutboundRequest } from './http-executor';
import { headerProblem, isHeaderName } from './http-fields';
import { SIGNATURE_HEADER_NAMES, SIGNATURE_HEADERS_BY_SCHEME, signatureHeaders } from './signature-schemes';

/**
 * The HTTP request of one delivery attempt (docs/design.md › Delivery, Request). Pure: every
 * value (secrets included) is resolved by the caller, and the clock is passed in, so an
 * attempt's signatures are computed afresh with a current timestamp and the same id.
 */
export interface DeliveryRequestInput {
  url: string;
  kind: WebhookKind;
  body: string;
  deliveryId: string;
  eventType: string;
  version: string;
  accessToken: string | null;
  signingSecret: string | null;
  /** The signing secret's earlier values still in their rotation overlap, newest first (standard scheme only). */
  previousSigningSecrets?: readonly string[];
  schemes: readonly SignatureSchemeName[];
  /** The webhook's extra headers, values already resolved. */
  extraHeaders: Record<string, string>;
  nowMs: number;
}

/** A request that cannot be built: a reserved or malformed header, an unusable secret. */
export class DeliveryRequestError extends Error {
  override readonly name = 'DeliveryRequestError';
}

const GITHUB_HEADERS: Record<string, string> = {
  Accept: 'application/vnd.github+json',
  'X-GitHub-Api-Version': '2022-11-28',
};

const RESERVED_REASONS = new Map<string, string>([
  ['host', 'is set from the webhook URL'],
  ['content-type', 'is always application/json'],
  ['content-length', 'is computed from the body'],
  ['transfer-encoding', 'is managed by the HTTP client'],
  ['connection', 'is managed by the HTTP client'],
  ['keep-alive', 'is managed by the HTTP client'],
  ['proxy-connection', 'is managed by the HTTP client'],
  ['upgrade', 'is managed by the HTTP client'],
  ['te', 'is managed by the HTTP client'],
  ['trailer', 'is managed by the HTTP client'],
  ['expect', 'is managed by the HTTP client'],
  ['content-encoding', 'must describe the body Herald sends, which is not encoded'],
  ['authorization', "is set from the webhook's access token"],
  ['proxy-authorization', 'is never sent: Herald does not use a proxy'],
  ['user-agent', 'is always Herald/<version>'],
  ...SIGNATURE_HEADER_NAMES.map((name): [string, string] => [name, 'is a signature header']),
]);

/** null when a user may set a header with this name, else why not. */
export function reservedHeaderReason(name: string): string | null {
  if (!isHeaderName(name)) return 'is not a valid HTTP header name';
  const lower = name.toLowerCase();
  if (lower.startsWith('x-herald-')) return 'is reserved for Herald (X-Herald-*)';
  return RESERVED_REASONS.get(lower) ?? null;
}

/** Sets a header, replacing one of the same name in any letter case. */
function setHeader(headers: Record<string, string>, name: string, value: string): void {
  const lower = name.toLowerCase();
  for (const existing of Object.keys(headers)) {
    if (existing.toLowerCase() === lower) delete headers[existing];
  }
  headers[name] = value;
}

export function buildDeliveryRequest(input: DeliveryRequestInput): OutboundRequest {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'User-Agent': `Herald/${input.version}`,
    'X-Herald-Event': input.eventType,
    'X-Herald-Delivery': input.deliveryId,
  };
  if (input.accessToken !== null) headers.Authorization = `Bearer ${input.accessToken}`;
  if (input.kind === 'github') Object.assign(headers, GITHUB_HEADERS);

  if (input.schemes.length > 0) {
    if (input.signingSecret === null) {
      throw new DeliveryRequestError(`Signature schemes ${input.schemes.join(', ')} are set but no signing secret is bound`);
    }
    const message = { id: input.deliveryId, timestampSeconds: Math.floor(input.nowMs / 1000), body: input.body };
    try {
      Object.assign(headers, signatureHeaders(input.schemes, input.signingSecret, message, input.previousSigningSecrets));
    } catch (error) {
      throw new DeliveryRequestError((error as Error).message);
    }
  }

  for (const [name, value] of Object.entries(input.extraHeaders)) {
    const reason = reservedHeaderReason(name);
    if (reason !== null) throw new DeliveryRequestError(`Header ${name} cannot be set: it ${reason}`);
    setHeader(headers, name, value);
  }

  const problem = headerProblem(headers);
  if (problem !== null) throw new DeliveryRequestError(problem);
  return { url: input.url, headers, body: input.body };
}

/** What `describeDeliveryRequest` needs of the webhook: its configuration, never a secret value. */
export interface DescribedWebhook {
  url: string;
  kind: WebhookKind;
  accessTokenSecret: string | null;
  signatureSchemes: readonly SignatureSchemeName[];
  headers: Record<string, string>;
}

/** The value shown for a signature header: computed at each attempt from the signing secret. */
export const SIGNED_AT_EACH_ATTEMPT = '(computed at each attempt)';

/**
 * The request an attempt of this delivery sends, for people to read (GET /v1/deliveries/:id):
 * the same headers buildDeliveryRequest sets, with no secret resolved — the access token and
 * header values stay `${NAME}` placeholders and signature headers are not computed.
 */
export function describeDeliveryRequest(
  webhook: DescribedWebhook,
  delivery: { id: string; eventType: string; body: string },
  version: string,
): { url: string; headers: Record<string, string> } {
  const headers: Record<string, string> = {
    ...EXECUTOR_HEADERS,
    'Content-Type': 'application/json',
    'User-Agent': `Herald/${version}`,
    'X-Herald-Event': delivery.eventType,
    'X-Herald-Delivery': delivery.id,
  };
  if (webhook.accessTokenSecret !== null) headers.Authorization = `Bearer \${${webhook.accessTokenSecret}}`;
  if (webhook.kind === 'github') Object.assign(headers, GITHUB_HEADERS);
  for (const scheme of webhook.signatureSchemes) {
    for (const name of SIGNATURE_HEADERS_BY_SCHEME[scheme]) headers[name] = name === 'webhook-id' ? delivery.id : SIGNED_AT_EACH_ATTEMPT;
  }
  for (const [name, value] of Object.entries(webhook.headers)) {
    if (reservedHeaderReason(name) === null) setHeader(headers, name, value);
  }
  return { url: webhook.url, headers };
}
