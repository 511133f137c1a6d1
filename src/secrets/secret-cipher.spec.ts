import { randomBytes } from 'node:crypto';
import { SecretCipher, SecretDecryptionError } from './secret-cipher';

describe('SecretCipher', () => {
  const key = randomBytes(32);
  const cipher = new SecretCipher(key);

  it.each(['x', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'ünïcødé ✓ 🚀', 'a'.repeat(65536)])(
    'round-trips %#',
    (plaintext) => {
      const stored = cipher.encrypt(plaintext, 'team_1:NAME');
      expect(stored.startsWith('v1.')).toBe(true);
      if (plaintext.length >= 8) expect(stored).not.toContain(plaintext);
      expect(cipher.decrypt(stored, 'team_1:NAME')).toBe(plaintext);
    },
  );

  it('uses a fresh nonce for every value', () => {
    expect(cipher.encrypt('same', 'c')).not.toBe(cipher.encrypt('same', 'c'));
  });

  it('detects a flipped bit anywhere in the stored value', () => {
    const stored = cipher.encrypt('value-to-protect', 'ctx');
    const raw = Buffer.from(stored.slice(3), 'base64');
    for (const index of [0, 12, 20, raw.length - 1]) {
      const tampered = Buffer.from(raw);
      tampered[index] ^= 0x01;
      expect(() => cipher.decrypt('v1.' + tampered.toString('base64'), 'ctx')).toThrow(SecretDecryptionError);
    }
  });

  it('refuses a value moved to another team or name', () => {
    const stored = cipher.encrypt('value', 'team_1:A');
    expect(() => cipher.decrypt(stored, 'team_2:A')).toThrow(/authentication failed/);
  });

  it('refuses to decrypt under another key with a clear message', () => {
    const stored = cipher.encrypt('value', 'ctx');
    const other = new SecretCipher(randomBytes(32));
    expect(() => other.decrypt(stored, 'ctx')).toThrow(/master key differs/);
    expect(other.fingerprint()).not.toBe(cipher.fingerprint());
  });

  it('rejects unknown formats and truncated values', () => {
    expect(() => cipher.decrypt('v0.abc', 'ctx')).toThrow(/format/);
    expect(() => cipher.decrypt('v1.' + Buffer.alloc(10).toString('base64'), 'ctx')).toThrow(/truncated/);
  });

  it('requires a 32-byte key', () => {
    expect(() => new SecretCipher(Buffer.alloc(16))).toThrow(/32 bytes/);
  });
});
