import { readNumber } from './columns';
import { SqlText, readBool } from './sql';

describe('SqlText', () => {
  const sqlite = new SqlText('sqlite');
  const postgres = new SqlText('postgres');

  it('numbers placeholders for PostgreSQL and leaves them for SQLite', () => {
    const statement = 'UPDATE deliveries SET status = ?, lease_until = ? WHERE id = ?';
    expect(sqlite.text(statement)).toBe(statement);
    expect(postgres.text(statement)).toBe('UPDATE deliveries SET status = $1, lease_until = $2 WHERE id = $3');
    // Memoized: the same text object comes back, the drivers' statement-cache key.
    expect(postgres.text(statement)).toBe(postgres.text(statement));
  });

  it('writes VALUES lists of rows × columns', () => {
    expect(sqlite.values(2, 3)).toBe('(?, ?, ?), (?, ?, ?)');
    expect(postgres.text(`INSERT INTO t (a, b) VALUES ${postgres.values(2, 2)}`)).toBe('INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)');
  });

  it('passes a list as one parameter whatever its length', () => {
    expect(sqlite.inList('id')).toBe('id IN (SELECT value FROM json_each(?))');
    expect(sqlite.list(['a', 'b"c'])).toBe('["a","b\\"c"]');
    expect(postgres.text(`SELECT 1 FROM t WHERE ${postgres.inList('id')}`)).toBe('SELECT 1 FROM t WHERE id = ANY($1::text[])');
    expect(postgres.list(['a', 'b'])).toEqual(['a', 'b']);
  });

  it('passes a list of pairs as one parameter on SQLite, two on PostgreSQL', () => {
    expect(sqlite.inPairs('team_id', 'name')).toBe("(team_id, name) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))");
    expect(sqlite.pairs([['t1', 'A'], ['t2', 'B']])).toEqual(['[["t1","A"],["t2","B"]]']);
    expect(postgres.text(`SELECT 1 FROM t WHERE ${postgres.inPairs('a', 'b')}`)).toBe('SELECT 1 FROM t WHERE (a, b) IN (SELECT * FROM unnest($1::text[], $2::text[]))');
    expect(postgres.pairs([['t1', 'A'], ['t2', 'B']])).toEqual([['t1', 't2'], ['A', 'B']]);
  });

  it('reads booleans and numbers as either driver answers them', () => {
    expect([true, 1, '1', false, 0, null].map(readBool)).toEqual([true, true, true, false, false, false]);
    expect(['1764028800000', 5, null, undefined].map(readNumber)).toEqual([1764028800000, 5, null, null]);
  });
});
