import { createHash, randomBytes } from 'node:crypto';

export const API_KEY_ROLES = ['admin', 'member', 'ingest'] as const;
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

/** Characters of the key shown in listings so an admin can tell keys apart. */
const PREFIX_LENGTH = 12;

export interface GeneratedApiKey {
  key: string;
  prefix: string;
  hash: string;
}

/** A new key: `hrd_` and 32 random bytes in base64url (256 bits). */
export function generateApiKey(random: Buffer = randomBytes(32)): GeneratedApiKey {
  return describeApiKey(`hrd_${random.toString('base64url')}`);
}

/** Hash and visible prefix of a key given in full (generated, or from HERALD_BOOTSTRAP_TOKEN). */
export function describeApiKey(key: string): GeneratedApiKey {
  return { key, prefix: key.slice(0, PREFIX_LENGTH), hash: hashApiKey(key) };
}

/** SHA-256 is enough here: keys are long random strings, so there is nothing to brute-force. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Reads `Authorization: Bearer <key>`; null when absent or not a bearer credential. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : null;
}

/** Whether a role may call an endpoint that allows `allowed`. Admin may do everything in its team. */
export function roleAllows(role: ApiKeyRole, allowed: readonly ApiKeyRole[]): boolean {
  return role === 'admin' || allowed.includes(role);
}
