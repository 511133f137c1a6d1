import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseMasterKey } from '../config/config';

export const MASTER_KEY_FILE = 'master.key';

export interface LoadedMasterKey {
  key: Buffer;
  /** Where the key came from, for the start-up log (never the key itself). */
  source: 'HERALD_MASTER_KEY' | 'created key file' | 'key file';
  path?: string;
  /** Set when the key file can be read by others than its owner. */
  warning?: string;
}

/**
 * The master key from the environment, or from `<dataDir>/master.key`, created once (mode
 * 0600, exclusive create so two starting processes cannot write different keys) and reused
 * on every start. Never a per-process random key: secrets must survive restarts.
 */
export function loadMasterKey(fromEnv: Buffer | null, dataDir: string): LoadedMasterKey {
  if (fromEnv) return { key: fromEnv, source: 'HERALD_MASTER_KEY' };
  const path = join(dataDir, MASTER_KEY_FILE);
  mkdirSync(dataDir, { recursive: true });
  let source: LoadedMasterKey['source'] = 'key file';
  try {
    writeFileSync(path, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    source = 'created key file';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const parsed = parseMasterKey(readFileSync(path, 'utf8'));
  if (typeof parsed === 'string') throw new Error(`The master key file ${path} is not a valid key: it ${parsed}`);
  const mode = statSync(path).mode & 0o777;
  const warning =
    mode & 0o077 ? `The master key file ${path} is readable by other users (mode ${mode.toString(8)}); chmod 600 it` : undefined;
  return { key: parsed, source, path, warning };
}
