import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** Thrown when a stored value cannot be decrypted: wrong master key, or the ciphertext was altered. */
export class SecretDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretDecryptionError';
  }
}

/**
 * AES-256-GCM with a fresh random 96-bit nonce per value. The additional authenticated data
 * binds each ciphertext to its team and name, so a row copied onto another secret fails to
 * decrypt instead of leaking under the wrong name.
 *
 * Stored form: `v1.<base64(nonce ‖ tag ‖ ciphertext)>`.
 */
export class SecretCipher {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('the master key must be 32 bytes');
  }

  encrypt(plaintext: string, context: string, nonce: Buffer = randomBytes(NONCE_BYTES)): string {
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${VERSION}.${Buffer.concat([nonce, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  decrypt(stored: string, context: string): string {
    const [version, payload] = stored.split('.', 2);
    if (version !== VERSION || !payload) {
      throw new SecretDecryptionError('stored value is not in a format this version of Herald can read');
    }
    const raw = Buffer.from(payload, 'base64');
    if (raw.length < NONCE_BYTES + TAG_BYTES) throw new SecretDecryptionError('stored value is truncated');
    const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, NONCE_BYTES));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(raw.subarray(NONCE_BYTES, NONCE_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(raw.subarray(NONCE_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretDecryptionError(
        'authentication failed: the master key differs from the one this value was encrypted with, or the stored value was altered',
      );
    }
  }

  /** A value that identifies the key without revealing it, stored to detect a key change at start. */
  fingerprint(): string {
    return createHmac('sha256', this.key).update('herald master key check v1').digest('hex').slice(0, 32);
  }
}
