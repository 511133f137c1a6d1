import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SignatureSchemeName } from '../webhooks/webhook-kinds';

/**
 * Signature schemes (docs/design.md › Delivery; docs/signatures.md). Pure functions: no Nest, no I/O.
 *
 * - standard:   webhook-id / webhook-timestamp / webhook-signature "v1,<base64>" over
 *               "id.ts.body", keyed by the base64-decoded secret (Standard Webhooks).
 * - wandb:      X-Wandb-Signature, hex HMAC of the body keyed by the secret's UTF-8 bytes.
 * - determined: X-Determined-AI-Signature(-Timestamp), hex HMAC of "ts,body".
 * - github:     X-Hub-Signature-256 "sha256=<hex>" of the body.
 */

/** What one attempt signs: the delivery id, the attempt's clock and the exact body bytes. */
export interface SignedMessage {
  id: string;
  timestampSeconds: number;
  body: string;
}

export const STANDARD_SECRET_PREFIX = 'whsec_';
/** Standard Webhooks asks for 24 to 64 bytes of key; fewer is refused. */
export const STANDARD_MIN_KEY_BYTES = 24;

/** Every header any scheme sets, lower-cased (users may not override them). */
export const SIGNATURE_HEADER_NAMES: readonly string[] = [
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'x-wandb-signature',
  'x-determined-ai-signature',
  'x-determined-ai-signature-timestamp',
  'x-hub-signature-256',
  'x-hub-signature',
];

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const HEX_SHA256 = /^[0-9a-f]{64}$/i;
const UNIX_SECONDS = /^\d{1,12}$/;

export function hmacSha256(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/**
 * The standard scheme's key bytes, or null when the secret is not strict base64 (optionally
 * prefixed `whsec_`) of at least 24 bytes. Strict means the canonical encoding with padding:
 * Buffer.from(…, 'base64') silently skips junk, which would turn a typo into a weak key.
 */
function standardKey(secret: string): Buffer | null {
  const encoded = secret.startsWith(STANDARD_SECRET_PREFIX) ? secret.slice(STANDARD_SECRET_PREFIX.length) : secret;
  if (encoded.length === 0 || !STRICT_BASE64.test(encoded)) return null;
  const key = Buffer.from(encoded, 'base64');
  // Reject non-zero unused bits in the last character (non-canonical encodings).
  if (key.toString('base64') !== encoded) return null;
  return key.length >= STANDARD_MIN_KEY_BYTES ? key : null;
}

/** null when `secret` is usable with `scheme`; otherwise a reason phrase for a 400. */
export function signingSecretProblem(scheme: SignatureSchemeName, secret: string): string | null {
  if (secret.length === 0) return `must not be empty for the ${scheme} scheme`;
  if (scheme === 'standard' && standardKey(secret) === null) {
    return `must be base64 of at least ${STANDARD_MIN_KEY_BYTES} bytes (optionally prefixed ${STANDARD_SECRET_PREFIX}) for the standard scheme`;
  }
  return null;
}

function standardSignature(key: Buffer, message: SignedMessage): string {
  return hmacSha256(key, `${message.id}.${message.timestampSeconds}.${message.body}`).toString('base64');
}

function wandbSignature(secret: string, body: string): string {
  return hmacSha256(Buffer.from(secret, 'utf8'), body).toString('hex');
}

function determinedSignature(secret: string, timestamp: string, body: string): string {
  return hmacSha256(Buffer.from(secret, 'utf8'), `${timestamp},${body}`).toString('hex');
}

function githubSignature(secret: string, body: string): string {
  return 'sha256=' + hmacSha256(Buffer.from(secret, 'utf8'), body).toString('hex');
}

/**
 * The signature headers of every scheme in `schemes`, for one attempt. Throws when the secret
 * is unusable with a scheme (secrets are checked with signingSecretProblem when saved, so this
 * only happens if a secret changed underneath a webhook).
 */
export function signatureHeaders(
  schemes: readonly SignatureSchemeName[],
  secret: string,
  message: SignedMessage,
): Record<string, string> {
  if (!Number.isSafeInteger(message.timestampSeconds) || message.timestampSeconds < 0) {
    throw new Error(`timestampSeconds must be a non-negative integer, got ${message.timestampSeconds}`);
  }
  const headers: Record<string, string> = {};
  const timestamp = String(message.timestampSeconds);
  for (const scheme of schemes) {
    const problem = signingSecretProblem(scheme, secret);
    if (problem !== null) throw new Error(`The signing secret ${problem}`);
    switch (scheme) {
      case 'standard':
        headers['webhook-id'] = message.id;
        headers['webhook-timestamp'] = timestamp;
        headers['webhook-signature'] = 'v1,' + standardSignature(standardKey(secret)!, message);
        break;
      case 'wandb':
        headers['X-Wandb-Signature'] = wandbSignature(secret, message.body);
        break;
      case 'determined':
        headers['X-Determined-AI-Signature-Timestamp'] = timestamp;
        headers['X-Determined-AI-Signature'] = determinedSignature(secret, timestamp, message.body);
        break;
      case 'github':
        headers['X-Hub-Signature-256'] = githubSignature(secret, message.body);
        break;
      default: {
        const unknown: never = scheme;
        throw new Error(`Unknown signature scheme ${String(unknown)}`);
      }
    }
  }
  return headers;
}

/** Constant-time comparison of two strings of possibly different lengths. */
export function sameBytes(expected: string, actual: string): boolean {
  const a = Buffer.from(expected, 'utf8');
  const b = Buffer.from(actual, 'utf8');
  // Compare against itself when lengths differ, so the time spent does not depend on `actual`.
  return timingSafeEqual(a, a.length === b.length ? b : a) && a.length === b.length;
}

function headerValue(headers: Record<string, string>, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return value;
  }
  return undefined;
}

/**
 * Verifies a standard-scheme request as a receiver would: the timestamp within
 * `toleranceSeconds` of `nowSeconds`, and one of the space-separated `v1,` signatures matching.
 */
export function verifyStandard(
  secret: string,
  headers: Record<string, string>,
  body: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  const key = standardKey(secret);
  const id = headerValue(headers, 'webhook-id');
  const timestamp = headerValue(headers, 'webhook-timestamp');
  const signatures = headerValue(headers, 'webhook-signature');
  if (key === null || !id || !timestamp || !signatures || !UNIX_SECONDS.test(timestamp)) return false;
  const timestampSeconds = Number(timestamp);
  if (Math.abs(nowSeconds - timestampSeconds) > toleranceSeconds) return false;
  const expected = standardSignature(key, { id, timestampSeconds, body });
  let matched = false;
  for (const entry of signatures.split(' ')) {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') continue;
    // No early exit: every candidate is compared.
    if (sameBytes(expected, entry.slice(comma + 1))) matched = true;
  }
  return matched;
}

export function verifyWandb(secret: string, body: string, signature: string): boolean {
  if (!HEX_SHA256.test(signature)) return false;
  return sameBytes(wandbSignature(secret, body), signature.toLowerCase());
}

export function verifyDetermined(secret: string, body: string, timestamp: string, signature: string): boolean {
  if (!UNIX_SECONDS.test(timestamp) || !HEX_SHA256.test(signature)) return false;
  return sameBytes(determinedSignature(secret, timestamp, body), signature.toLowerCase());
}

export function verifyGithub(secret: string, body: string, signature: string): boolean {
  if (!signature.startsWith('sha256=') || !HEX_SHA256.test(signature.slice('sha256='.length))) return false;
  return sameBytes(githubSignature(secret, body), 'sha256=' + signature.slice('sha256='.length).toLowerCase());
}
