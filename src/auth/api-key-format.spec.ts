import { createHash } from 'node:crypto';
import { API_KEY_PATTERN } from '../config/config';
import { bearerToken, describeApiKey, generateApiKey, hashApiKey, roleAllows } from './api-key-format';

describe('API key format', () => {
  it('generates hrd_ keys with 256 bits of randomness that pass the config pattern', () => {
    const { key, prefix, hash } = generateApiKey(Buffer.alloc(32, 7));
    expect(key).toBe('hrd_' + Buffer.alloc(32, 7).toString('base64url'));
    expect(key).toMatch(API_KEY_PATTERN);
    expect(prefix).toBe(key.slice(0, 12));
    expect(hash).toBe(createHash('sha256').update(key).digest('hex'));
  });

  it('never generates the same key twice', () => {
    expect(generateApiKey().key).not.toBe(generateApiKey().key);
  });

  it('describes a given key the same way it would generate it', () => {
    const key = 'hrd_' + 'b'.repeat(40);
    expect(describeApiKey(key)).toEqual({ key, prefix: 'hrd_bbbbbbbb', hash: hashApiKey(key) });
  });

  it.each([
    [undefined, null],
    ['', null],
    ['Basic abc', null],
    ['Bearer', null],
    ['Bearer hrd_abc', 'hrd_abc'],
    ['bearer   hrd_abc  ', 'hrd_abc'],
    ['Bearer a b', null],
  ])('reads the bearer token from %p', (header, expected) => {
    expect(bearerToken(header)).toBe(expected);
  });

  it('lets admin do everything and others only what is listed', () => {
    expect(roleAllows('admin', ['member'])).toBe(true);
    expect(roleAllows('member', ['member'])).toBe(true);
    expect(roleAllows('ingest', ['member'])).toBe(false);
    expect(roleAllows('member', ['admin'])).toBe(false);
  });
});
