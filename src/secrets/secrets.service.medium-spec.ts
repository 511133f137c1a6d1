import type { TeamFixture } from '../../test/support/fixtures';
import { MediumContext } from '../../test/support/medium';
import { Sql } from '../database/sql';
import { SecretsService } from './secrets.service';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('SecretsService at send time (medium: real database)', () => {
  let ctx: MediumContext;
  let secrets: SecretsService;
  let team: TeamFixture;

  beforeAll(async () => {
    ctx = await MediumContext.start();
    secrets = ctx.get(SecretsService);
  });
  afterAll(() => ctx.close());
  beforeEach(async () => {
    team = await ctx.newTeam();
  });

  /** PostgreSQL groups a turn's reads into one round trip; SQLite reads each at once, in process. */
  const grouped = () => ctx.db.options.type === 'postgres';

  const readsDuring = async (work: () => Promise<unknown>): Promise<number> => {
    const sql = ctx.get(Sql);
    const query = jest.spyOn(sql, 'query');
    try {
      await work();
      return query.mock.calls.filter(([, statement]) => statement.includes('FROM secrets')).length;
    } finally {
      query.mockRestore();
    }
  };

  it('reads a secret once for the sends that start in one turn, and again in the next', async () => {
    await secrets.create(team.auth, 'TOKEN', 'tok-one');
    await secrets.generate(team.auth, 'SIGNING', 'whsec');
    await nextTurn();
    const reads = await readsDuring(async () => {
      const values = await Promise.all([
        secrets.resolve(team.id, 'TOKEN'),
        secrets.resolve(team.id, 'TOKEN'),
        secrets.resolveSigning(team.id, 'SIGNING'),
        secrets.resolveSigning(team.id, 'SIGNING'),
      ]);
      expect(values[0]).toBe('tok-one');
      expect(values[1]).toBe('tok-one');
    });
    expect(reads).toBe(grouped() ? 1 : 2);
    await nextTurn();
    expect(await readsDuring(() => secrets.resolve(team.id, 'TOKEN'))).toBe(1);
  });

  it('reads the secrets of a turn\'s sends in one statement on PostgreSQL, whatever their teams, each answering its own', async () => {
    const other = await ctx.newTeam();
    await secrets.create(team.auth, 'SIGNING', 'ours');
    await secrets.create(other.auth, 'SIGNING', 'theirs');
    await secrets.create(other.auth, 'TOKEN', 'their-token');
    await nextTurn();
    const reads = await readsDuring(async () => {
      const answers = await Promise.allSettled([
        secrets.resolveSigning(team.id, 'SIGNING'),
        secrets.resolveSigning(other.id, 'SIGNING'),
        secrets.resolve(other.id, 'TOKEN'),
        // Another team's name in this team: not found, though the pair's parts each exist.
        secrets.resolve(team.id, 'TOKEN'),
      ]);
      expect(answers.slice(0, 3)).toEqual([
        { status: 'fulfilled', value: { value: 'ours', previous: [] } },
        { status: 'fulfilled', value: { value: 'theirs', previous: [] } },
        { status: 'fulfilled', value: 'their-token' },
      ]);
      expect(answers[3]).toMatchObject({ status: 'rejected', reason: { message: expect.stringContaining('does not exist in this team') } });
    });
    expect(reads).toBe(grouped() ? 1 : 4);
  });

  it('serves what this process wrote from the next resolve on: created, rotated, overlap ended, deleted', async () => {
    await expect(secrets.resolve(team.id, 'LATER')).rejects.toThrow('does not exist');
    await secrets.create(team.auth, 'LATER', 'first');
    expect(await secrets.resolve(team.id, 'LATER')).toBe('first');
    await secrets.rotate(team.auth, 'LATER', 'second', 60);
    expect(await secrets.resolveSigning(team.id, 'LATER')).toEqual({ value: 'second', previous: ['first'] });
    await secrets.endOverlap(team.auth, 'LATER');
    expect(await secrets.resolveSigning(team.id, 'LATER')).toEqual({ value: 'second', previous: [] });
    await secrets.delete(team.auth, 'LATER');
    await expect(secrets.resolve(team.id, 'LATER')).rejects.toThrow('does not exist');
  });
});
