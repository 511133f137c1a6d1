import { type KeyObject, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';

/**
 * Ed25519 signing keys in the Standard Webhooks encodings (docs/signatures.md › Ed25519). Pure:
 * Node's `crypto` only, no Nest, no I/O.
 *
 * - `whsk_` + base64 of the secret key: 64 bytes, the 32-byte seed followed by the 32-byte
 *   public key (the layout of libsodium's `crypto_sign_keypair` and of Svix), which is what
 *   Herald generates. A bare 32-byte seed is accepted too.
 * - `whpk_` + base64 of the 32-byte public key: what receivers hold.
 * - A signature is `v1a,` + base64 of the 64-byte Ed25519 signature over `id.timestamp.body`.
 */

export const ED25519_SECRET_PREFIX = 'whsk_';
export const ED25519_PUBLIC_PREFIX = 'whpk_';

const SEED_BYTES = 32;
const PUBLIC_BYTES = 32;
const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// DER wrappers of a raw key (RFC 8410): PKCS#8 for the seed, SPKI for the public key.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export const ED25519_KEY_RULE = `must be ${ED25519_SECRET_PREFIX} followed by base64 of a 64-byte Ed25519 secret key (seed and public key) or a 32-byte seed`;

/** A secret value meant as an Ed25519 key (it may still be malformed: see parseEd25519Secret). */
export function isEd25519Secret(secret: string): boolean {
  return secret.startsWith(ED25519_SECRET_PREFIX);
}

/** Strict, canonical base64 (Buffer.from silently skips junk), or null. */
function strictBase64(text: string): Buffer | null {
  if (text.length === 0 || !STRICT_BASE64.test(text)) return null;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : null;
}

export interface Ed25519Key {
  privateKey: KeyObject;
  /** The raw 32-byte public key. */
  publicKey: Buffer;
}

/**
 * The key of a `whsk_` secret, or null when it is not one: wrong prefix, not strict base64,
 * not 32 or 64 bytes, or (64 bytes) a public half that does not belong to the seed.
 */
export function parseEd25519Secret(secret: string): Ed25519Key | null {
  if (!isEd25519Secret(secret)) return null;
  const bytes = strictBase64(secret.slice(ED25519_SECRET_PREFIX.length));
  if (bytes === null || (bytes.length !== SEED_BYTES && bytes.length !== SEED_BYTES + PUBLIC_BYTES)) return null;
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, bytes.subarray(0, SEED_BYTES)]), format: 'der', type: 'pkcs8' });
  const publicKey = rawPublicKey(createPublicKey(privateKey));
  if (bytes.length > SEED_BYTES && !publicKey.equals(bytes.subarray(SEED_BYTES))) return null;
  return { privateKey, publicKey };
}

function rawPublicKey(key: KeyObject): Buffer {
  return Buffer.from(key.export({ format: 'jwk' }).x!, 'base64url');
}

/** A new key pair: the `whsk_` secret (seed ‖ public key) and the `whpk_` public key. */
export function generateEd25519Secret(): { secret: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
  const raw = rawPublicKey(publicKey);
  return { secret: ED25519_SECRET_PREFIX + Buffer.concat([seed, raw]).toString('base64'), publicKey: encodePublicKey(raw) };
}

export function encodePublicKey(raw: Buffer): string {
  return ED25519_PUBLIC_PREFIX + raw.toString('base64');
}

/** The `whpk_` public key of a `whsk_` secret, or null when the secret is not a valid key. */
export function publicKeyOf(secret: string): string | null {
  const key = parseEd25519Secret(secret);
  return key ? encodePublicKey(key.publicKey) : null;
}

/** The base64 Ed25519 signature of `data`. */
export function ed25519Sign(key: Ed25519Key, data: string): string {
  return sign(null, Buffer.from(data, 'utf8'), key.privateKey).toString('base64');
}

/** The raw public key of a `whpk_` value (or of bare base64), or null. */
export function parsePublicKey(publicKey: string): KeyObject | null {
  const encoded = publicKey.startsWith(ED25519_PUBLIC_PREFIX) ? publicKey.slice(ED25519_PUBLIC_PREFIX.length) : publicKey;
  const raw = strictBase64(encoded);
  if (raw === null || raw.length !== PUBLIC_BYTES) return null;
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** Whether `signature` (base64) is an Ed25519 signature of `data` by the holder of `publicKey`. */
export function ed25519Verify(publicKey: KeyObject, data: string, signature: string): boolean {
  const bytes = strictBase64(signature);
  if (bytes === null || bytes.length !== 64) return false;
  return verify(null, Buffer.from(data, 'utf8'), publicKey, bytes);
}
