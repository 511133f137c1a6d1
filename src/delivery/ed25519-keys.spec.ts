import { generateKeyPairSync, verify } from 'node:crypto';
import {
  ed25519Sign,
  ed25519Verify,
  generateEd25519Secret,
  isEd25519Secret,
  parseEd25519Secret,
  parsePublicKey,
  publicKeyOf,
} from './ed25519-keys';

describe('Ed25519 keys (Standard Webhooks whsk_ / whpk_)', () => {
  it('generates whsk_ + 64 bytes (seed, public key) and whpk_ + the 32-byte public key', () => {
    const { secret, publicKey } = generateEd25519Secret();
    expect(secret).toMatch(/^whsk_[A-Za-z0-9+/]{86}==$/);
    expect(publicKey).toMatch(/^whpk_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(5), 'base64').subarray(32).toString('base64')).toBe(publicKey.slice(5));
    expect(publicKeyOf(secret)).toBe(publicKey);
    expect(generateEd25519Secret().secret).not.toBe(secret);
  });

  it('accepts a bare 32-byte seed, deriving the same public key', () => {
    const { secret, publicKey } = generateEd25519Secret();
    const seedOnly = 'whsk_' + Buffer.from(secret.slice(5), 'base64').subarray(0, 32).toString('base64');
    expect(publicKeyOf(seedOnly)).toBe(publicKey);
  });

  it.each([
    ['another prefix', 'whsec_' + Buffer.alloc(64, 1).toString('base64')],
    ['the prefix alone', 'whsk_'],
    ['not base64', 'whsk_not base64!'],
    ['31 bytes', 'whsk_' + Buffer.alloc(31, 1).toString('base64')],
    ['48 bytes', 'whsk_' + Buffer.alloc(48, 1).toString('base64')],
  ])('refuses %s', (_label, secret) => {
    expect(parseEd25519Secret(secret)).toBeNull();
    expect(publicKeyOf(secret)).toBeNull();
  });

  it('refuses 64 bytes whose public half is not the seed\'s', () => {
    const a = Buffer.from(generateEd25519Secret().secret.slice(5), 'base64');
    const b = Buffer.from(generateEd25519Secret().secret.slice(5), 'base64');
    expect(parseEd25519Secret('whsk_' + Buffer.concat([a.subarray(0, 32), b.subarray(32)]).toString('base64'))).toBeNull();
  });

  it('tells a key by its prefix', () => {
    expect(isEd25519Secret('whsk_x')).toBe(true);
    expect(isEd25519Secret('whsec_x')).toBe(false);
  });

  it('signs and verifies; Node verifies the signature with the public key from the whpk_ value', () => {
    const { secret, publicKey } = generateEd25519Secret();
    const key = parseEd25519Secret(secret)!;
    const signature = ed25519Sign(key, 'msg_1.1700000000.{"a":"ü"}');
    expect(Buffer.from(signature, 'base64')).toHaveLength(64);
    const publicKeyObject = parsePublicKey(publicKey)!;
    expect(ed25519Verify(publicKeyObject, 'msg_1.1700000000.{"a":"ü"}', signature)).toBe(true);
    expect(ed25519Verify(publicKeyObject, 'msg_1.1700000000.{"a":"u"}', signature)).toBe(false);
    expect(ed25519Verify(parsePublicKey(generateEd25519Secret().publicKey)!, 'msg_1.1700000000.{"a":"ü"}', signature)).toBe(false);
    expect(ed25519Verify(publicKeyObject, 'msg_1.1700000000.{"a":"ü"}', 'not base64')).toBe(false);
    expect(verify(null, Buffer.from('msg_1.1700000000.{"a":"ü"}'), publicKeyObject, Buffer.from(signature, 'base64'))).toBe(true);
  });

  it('verifies what a key generated elsewhere signs (Node\'s own key pair, seed taken from its JWK)', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const jwk = privateKey.export({ format: 'jwk' });
    const secret = 'whsk_' + Buffer.concat([Buffer.from(jwk.d!, 'base64url'), Buffer.from(jwk.x!, 'base64url')]).toString('base64');
    expect(publicKeyOf(secret)).toBe('whpk_' + Buffer.from(jwk.x!, 'base64url').toString('base64'));
    const signature = ed25519Sign(parseEd25519Secret(secret)!, 'data');
    expect(verify(null, Buffer.from('data'), publicKey, Buffer.from(signature, 'base64'))).toBe(true);
  });

  it('refuses malformed public keys', () => {
    expect(parsePublicKey('whpk_' + Buffer.alloc(31).toString('base64'))).toBeNull();
    expect(parsePublicKey('whpk_%%%')).toBeNull();
  });
});
