import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';

export type SqlDialect = 'sqlite' | 'postgres';

/**
 * Hot-path SQL (ingestion, claims, attempt records), written once with `?` placeholders and
 * run through `EntityManager.query`. The text of each statement is constant, so the drivers
 * prepare it once and reuse it (better-sqlite3 through TypeORM's statement cache, PostgreSQL
 * through its plan cache), where TypeORM's query builder writes new SQL with inlined values
 * for every call. Everything else keeps using repositories.
 *
 * Lists are ONE parameter (a JSON array read with `json_each` on SQLite, a `text[]` on
 * PostgreSQL), so a statement's text does not depend on how many ids it is given; multi-row
 * VALUES lists depend on their row count only, and callers chunk them to a fixed size.
 */
export class SqlText {
  private readonly texts = new Map<string, string>();
  private readonly valueLists = new Map<string, string>();

  constructor(readonly dialect: SqlDialect) {}

  /** The statement in this dialect (`?` becomes `$1`, `$2` … on PostgreSQL); memoized. */
  text(statement: string): string {
    let out = this.texts.get(statement);
    if (out === undefined) {
      out = this.dialect === 'postgres' ? numberPlaceholders(statement) : statement;
      this.texts.set(statement, out);
    }
    return out;
  }

  /** `(?, ?), (?, ?)`: the VALUES list of `rows` rows of `columns` parameters. */
  values(rows: number, columns: number): string {
    const key = `${rows}x${columns}`;
    let out = this.valueLists.get(key);
    if (out === undefined) {
      const row = `(${new Array<string>(columns).fill('?').join(', ')})`;
      out = new Array<string>(rows).fill(row).join(', ');
      this.valueLists.set(key, out);
    }
    return out;
  }

  /** A condition "`column` is one of the list parameter" (see `list`). */
  inList(column: string): string {
    return this.dialect === 'postgres' ? `${column} = ANY(?::text[])` : `${column} IN (SELECT value FROM json_each(?))`;
  }

  /** A list of strings as one parameter, for `inList`. */
  list(values: readonly string[]): unknown {
    return this.dialect === 'postgres' ? values : JSON.stringify(values);
  }

  /**
   * Inserts rows with multi-row INSERTs of at most `chunk` rows each (few statement texts, well
   * under both engines' parameter limits). `into` is `table (columns…)`; `tail` may add an
   * ON CONFLICT clause.
   */
  async insertMany<T>(em: EntityManager, into: string, columns: number, rows: readonly T[], values: (row: T) => unknown[], tail = '', chunk = 100): Promise<void> {
    for (let i = 0; i < rows.length; i += chunk) {
      const part = rows.slice(i, i + chunk);
      const parameters: unknown[] = [];
      for (const row of part) parameters.push(...values(row));
      await this.query(em, `INSERT INTO ${into} VALUES ${this.values(part.length, columns)}${tail}`, parameters);
    }
  }

  /**
   * Runs a statement written with `?` placeholders in the transaction's manager and answers its
   * rows (those of RETURNING for UPDATE and DELETE: TypeORM's PostgreSQL runner answers
   * `[rows, rowCount]` for those, unwrapped here so callers see one shape on both engines).
   */
  async query<T = Record<string, unknown>>(em: EntityManager, statement: string, parameters: unknown[] = []): Promise<T[]> {
    const result: unknown = await em.query(this.text(statement), parameters);
    if (this.dialect === 'postgres' && UPDATE_OR_DELETE.test(statement)) return (result as [T[], number])[0];
    return result as T[];
  }
}

/** The `SqlText` of the app's database, as a provider. */
@Injectable()
export class Sql extends SqlText {
  constructor(@InjectDataSource() dataSource: DataSource) {
    super(dataSource.options.type === 'postgres' ? 'postgres' : 'sqlite');
  }
}

const UPDATE_OR_DELETE = /^\s*(UPDATE|DELETE)\b/i;

/** Rewrites `?` placeholders to `$1`, `$2` …; Herald's statements have no `?` inside literals. */
function numberPlaceholders(statement: string): string {
  let n = 0;
  return statement.replace(/\?/g, () => `$${++n}`);
}

/** A boolean column as read by either driver (SQLite answers 0/1). */
export function readBool(value: unknown): boolean {
  return value === true || value === 1 || value === '1';
}
