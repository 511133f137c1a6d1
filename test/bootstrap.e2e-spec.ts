import { generateApiKey } from '../src/auth/api-key-format';
import { TestHerald, bearer } from './support/herald';

describe('bootstrap of a fresh instance (e2e)', () => {
  it('generates an admin key for team default, prints it once outside the log, and never again', async () => {
    const first = await TestHerald.start({ env: { HERALD_BOOTSTRAP_TOKEN: null } });
    expect(first.printed).toHaveLength(1);
    const key = /(hrd_[A-Za-z0-9_-]+)/.exec(first.printed[0])![1];
    expect(first.printed[0]).toContain('team "default"');
    for (const line of first.logs) expect(line).not.toContain(key);
    const list = await first.http().get('/v1/api-keys').set(bearer(key)).expect(200);
    expect(list.body.items).toEqual([expect.objectContaining({ role: 'admin', prefix: key.slice(0, 12) })]);
    await first.close();

    const second = await TestHerald.start({ dataDir: first.dataDir, env: { HERALD_BOOTSTRAP_TOKEN: null } });
    expect(second.printed).toEqual([]);
    await second.http().get('/v1/secrets').set(bearer(key)).expect(200);
    await second.destroy();
  });

  it('uses HERALD_BOOTSTRAP_TOKEN without printing or logging it, and ignores later changes with a warning', async () => {
    const token = generateApiKey().key;
    const first = await TestHerald.start({ env: { HERALD_BOOTSTRAP_TOKEN: token } });
    expect(first.printed).toEqual([]);
    await first.http().get('/v1/secrets').set(bearer(token)).expect(200);
    for (const line of first.logs) expect(line).not.toContain(token);
    await first.close();

    const same = await TestHerald.start({ dataDir: first.dataDir, env: { HERALD_BOOTSTRAP_TOKEN: token } });
    expect(same.logs.some((l) => l.includes('HERALD_BOOTSTRAP_TOKEN differs'))).toBe(false);
    await same.close();

    const changed = generateApiKey().key;
    const later = await TestHerald.start({ dataDir: first.dataDir, env: { HERALD_BOOTSTRAP_TOKEN: changed } });
    expect(later.logs.some((l) => /"level":"warn".*HERALD_BOOTSTRAP_TOKEN differs/.test(l))).toBe(true);
    await later.http().get('/v1/secrets').set(bearer(changed)).expect(401);
    await later.http().get('/v1/secrets').set(bearer(token)).expect(200);
    for (const line of later.logs) expect(line).not.toContain(changed);
    await later.destroy();
  });
});
