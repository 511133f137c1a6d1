import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SignatureSchemeName } from '../webhooks/webhook-kinds';
import { ED25519_KEY_RULE, ed25519Sign, ed25519Verify, isEd25519Secret, parseEd25519Secret, parsePublicKey } from './ed25519-keys';

/**
 * Signature schemes (docs/design.md › Delivery; docs/signatures.md). Pure functions: no Nest, no I/O.
 *
 * - standard:   webhook-id / webhook-timestamp / webhook-signature "v1,<base64>" over
 *               "id.ts.body", keyed by the base64-decoded secret (Standard Webhooks); with an
 *               Ed25519 key (`whsk_…`), "v1a,<base64 Ed25519 signature>" over the same bytes.
 *               During a rotation's overlap every value still valid signs too, space-separated.
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

/** The headers each scheme sets (signatureHeaders below), for showing a request without signing it. */
export const SIGNATURE_HEADERS_BY_SCHEME: Readonly<Record<SignatureSchemeName, readonly string[]>> = {
  standard: ['webhook-id', 'webhook-timestamp', 'webhook-signature'],
  wandb: ['X-Wandb-Signature'],
  determined: ['X-Determined-AI-Signature-Timestamp', 'X-Determined-AI-Signature'],
  github: ['X-Hub-Signature-256'],
};

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

/**
 * null when `secret` is usable with `scheme`; otherwise a reason phrase for a 400. An Ed25519
 * key (`whsk_…`) signs the standard scheme only: the other schemes are HMACs, and keying one
 * with the private key's text would hand receivers the very key the pair exists to keep.
 */
export function signingSecretProblem(scheme: SignatureSchemeName, secret: string): string | null {
  if (secret.length === 0) return `must not be empty for the ${scheme} scheme`;
  if (isEd25519Secret(secret)) {
    if (scheme !== 'standard') {
      return `is an Ed25519 key (whsk_…), which only the standard scheme signs with (v1a); the ${scheme} scheme needs a shared secret`;
    }
    return parseEd25519Secret(secret) === null ? ED25519_KEY_RULE : null;
  }
  if (scheme === 'standard' && standardKey(secret) === null) {
    return `must be base64 of at least ${STANDARD_MIN_KEY_BYTES} bytes (optionally prefixed ${STANDARD_SECRET_PREFIX}) for the standard scheme`;
  }
  return null;
}

function standardSignature(key: Buffer, message: SignedMessage): string {
  return hmacSha256(key, standardContent(message)).toString('base64');
}

function standardContent(message: SignedMessage): string {
  return `${message.id}.${message.timestampSeconds}.${message.body}`;
}

/** One `webhook-signature` entry: `v1a,<Ed25519>` for a `whsk_` key, else `v1,<HMAC>`; null when the secret cannot sign. */
function standardEntry(secret: string, message: SignedMessage): string | null {
  if (isEd25519Secret(secret)) {
    const key = parseEd25519Secret(secret);
    return key ? 'v1a,' + ed25519Sign(key, standardContent(message)) : null;
  }
  const key = standardKey(secret);
  return key ? 'v1,' + standardSignature(key, message) : null;
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
 *
 * `previous`: the secret's earlier values still inside their rotation overlap, newest first.
 * The standard scheme adds one signature per value after the current one (`v1,<new> v1,<old>`),
 * as the Standard Webhooks spec prescribes for rotation, so a receiver holding either value
 * verifies; a previous value the scheme cannot use (it was never a standard key) is left out.
 * The single-signature schemes sign with the current value only.
 */
export function signatureHeaders(
  schemes: readonly SignatureSchemeName[],
  secret: string,
  message: SignedMessage,
  previous: readonly string[] = [],
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
        headers['webhook-signature'] = standardSignatureHeader(secret, previous, message);
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

/** The current value's entry, then one per distinct previous value that can sign the scheme. */
function standardSignatureHeader(secret: string, previous: readonly string[], message: SignedMessage): string {
  const entries = [standardEntry(secret, message)!];
  const seen = new Set([secret]);
  for (const value of previous) {
    if (seen.has(value)) continue;
    seen.add(value);
    const entry = standardEntry(value, message);
    if (entry !== null) entries.push(entry);
  }
  return entries.join(' ');
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

/** The signed message and the `webhook-signature` entries of a standard request, when its headers are well formed and its timestamp fresh. */
function standardRequest(
  headers: Record<string, string>,
  body: string,
  nowSeconds: number,
  toleranceSeconds: number,
): { message: SignedMessage; entries: { version: string; signature: string }[] } | null {
  const id = headerValue(headers, 'webhook-id');
  const timestamp = headerValue(headers, 'webhook-timestamp');
  const signatures = headerValue(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures || !UNIX_SECONDS.test(timestamp)) return null;
  const timestampSeconds = Number(timestamp);
  if (Math.abs(nowSeconds - timestampSeconds) > toleranceSeconds) return null;
  const entries = signatures.split(' ').flatMap((entry) => {
    const comma = entry.indexOf(',');
    return comma < 0 ? [] : [{ version: entry.slice(0, comma), signature: entry.slice(comma + 1) }];
  });
  return { message: { id, timestampSeconds, body }, entries };
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
  const request = standardRequest(headers, body, nowSeconds, toleranceSeconds);
  if (key === null || request === null) return false;
  const expected = standardSignature(key, request.message);
  let matched = false;
  for (const { version, signature } of request.entries) {
    // No early exit: every candidate is compared.
    if (version === 'v1' && sameBytes(expected, signature)) matched = true;
  }
  return matched;
}

/**
 * Verifies a standard-scheme request signed with an Ed25519 key, as a receiver holding only the
 * public key (`whpk_…`) would: a fresh timestamp and one `v1a,` signature valid for that key.
 */
export function verifyStandardEd25519(
  publicKey: string,
  headers: Record<string, string>,
  body: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  const key = parsePublicKey(publicKey);
  const request = standardRequest(headers, body, nowSeconds, toleranceSeconds);
  if (key === null || request === null) return false;
  const content = standardContent(request.message);
  return request.entries.some(({ version, signature }) => version === 'v1a' && ed25519Verify(key, content, signature));
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
