import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadMasterKey, MASTER_KEY_FILE } from './master-key';

describe('loadMasterKey', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'herald-key-'));

  it('prefers the key from the environment and writes no file', () => {
    const key = randomBytes(32);
    const d = dir();
    expect(loadMasterKey(key, d)).toEqual({ key, source: 'HERALD_MASTER_KEY' });
    expect(() => statSync(join(d, MASTER_KEY_FILE))).toThrow();
  });

  it('creates a 0600 key file once and reuses it', () => {
    const d = join(dir(), 'nested', 'data');
    const first = loadMasterKey(null, d);
    expect(first.source).toBe('created key file');
    expect(first.key).toHaveLength(32);
    expect(statSync(join(d, MASTER_KEY_FILE)).mode & 0o777).toBe(0o600);
    const second = loadMasterKey(null, d);
    expect(second.source).toBe('key file');
    expect(second.key).toEqual(first.key);
    expect(second.warning).toBeUndefined();
  });

  it('warns about a key file others can read', () => {
    const d = dir();
    loadMasterKey(null, d);
    chmodSync(join(d, MASTER_KEY_FILE), 0o644);
    expect(loadMasterKey(null, d).warning).toMatch(/readable by other users/);
  });

  it('refuses a corrupt key file with a message naming it', () => {
    const d = dir();
    writeFileSync(join(d, MASTER_KEY_FILE), 'garbage', { mode: 0o600 });
    expect(() => loadMasterKey(null, d)).toThrow(new RegExp(`${MASTER_KEY_FILE} is not a valid key`));
    expect(readFileSync(join(d, MASTER_KEY_FILE), 'utf8')).toBe('garbage');
  });
});
