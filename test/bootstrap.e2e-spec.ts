import { generateApiKey } from '../src/auth/api-key-format';
import { runCli } from '../src/cli/main';
import type { CliIo } from '../src/cli/io';
import { TestHerald, bearer } from './support/herald';

describe('bootstrap of a fresh instance (e2e)', () => {
  it('generates an admin key for team default, prints it once outside the log, and never again', async () => {
    const first = await TestHerald.start({ env: { HERALD_BOOTSTRAP_TOKEN: null } });
    expect(first.printed).toHaveLength(1);
    const key = /(hrd_[A-Za-z0-9_-]+)/.exec(first.printed[0])![1];
    expect(first.printed[0]).toContain('team "default"');
    // framed, with the operator's way to issue another
    expect(first.printed[0]).toMatch(/^\n={78}\n[\s\S]*\n    hrd_[\s\S]*herald keys create --team default --role admin\n={78}\n/);
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

  it('herald keys create issues a new admin key from the machine that holds the database; wrong command lines exit 64', async () => {
    const herald = await TestHerald.start({ env: { HERALD_BOOTSTRAP_TOKEN: null } });
    const key$ = async (argv: string[]) => {
      let out = '';
      let err = '';
      const io: CliIo = {
        out: (text) => void (out += text),
        err: (text) => void (err += text),
        // The server's database settings, and no URL or API key: the command needs neither.
        env: { ...herald.env, HERALD_URL: undefined, HERALD_API_KEY: undefined },
        stdinIsTTY: false,
        readStdin: async () => '',
        ask: async () => '',
        readFile: () => '',
        writeFile: () => undefined,
      };
      return { code: await runCli(argv, io), out, err };
    };
    try {
      const created = await key$(['keys', 'create', '--team', 'default', '--role', 'admin', '--name', 'recovered']);
      expect(created.err).toBe('');
      expect(created.code).toBe(0);
      const key = /^ {4}(hrd_[A-Za-z0-9_-]{43})$/m.exec(created.out)![1];
      expect(created.out).toContain('team "default"');
      // the running server takes it at once: an admin key of team default
      const list = await herald.http().get('/v1/api-keys').set(bearer(key)).expect(200);
      expect(list.body.items).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'recovered', role: 'admin', prefix: key.slice(0, 12) })]));
      await herald.http().post('/v1/secrets').set(bearer(key)).send({ name: 'AFTER_RECOVERY', value: 'v-0123456789' }).expect(201);

      const member = await key$(['keys', 'create', '--team', 'default', '--role', 'member']);
      expect(member.code).toBe(0);
      const memberKey = /^ {4}(hrd_[A-Za-z0-9_-]{43})$/m.exec(member.out)![1];
      await herald.http().post('/v1/secrets').set(bearer(memberKey)).send({ name: 'NOPE', value: 'v-0123456789' }).expect(403);

      const noTeam = await key$(['keys', 'create', '--team', 'nobody', '--role', 'admin']);
      expect(noTeam.code).toBe(1);
      expect(noTeam.err).toMatch(/Team "nobody" not found/);
      for (const argv of [['keys', 'create', '--role', 'admin'], ['keys', 'create', '--team', 'default'], ['keys', 'create', '--team', 'default', '--role', 'root'], ['keys', 'drop']]) {
        const wrong = await key$(argv);
        expect(wrong.code).toBe(64);
        expect(wrong.out).toBe('');
      }
    } finally {
      await herald.destroy();
    }
  });
});
