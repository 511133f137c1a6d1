import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';

export type SqlDialect = 'sqlite' | 'postgres';

/**
 * Hot-path SQL (ingestion, claims, attempt records), written once with `?` placeholders. The
 * text of each statement is constant, so the drivers prepare it once per connection and reuse
 * it (better-sqlite3 statements kept here; on PostgreSQL a named prepared statement, which the
 * server parses and plans once per connection instead of for every call as it does an unnamed
 * one), where TypeORM's query builder writes new SQL with inlined values for every call.
 * Everything else keeps using repositories.
 *
 * Lists are ONE parameter (a JSON array read with `json_each` on SQLite, a `text[]` on
 * PostgreSQL), so a statement's text does not depend on how many ids it is given; multi-row
 * VALUES lists depend on their row count only, and callers chunk them to a fixed size.
 */
export class SqlText {
  private readonly texts = new Map<string, string>();
  private readonly valueLists = new Map<string, string>();
  /** SQLite: prepared statements by text, on the one connection TypeORM's driver also uses. */
  private readonly statements = new Map<string, SqliteStatement>();
  /** PostgreSQL: each statement's name and text, by its `?` text. */
  private readonly prepared = new Map<string, { name: string; text: string }>();

  /**
   * `sqlite`, when given, is that connection: statements then run on it directly (prepared
   * once, bound synchronously), skipping TypeORM's query runner, which costs several awaits
   * and objects per call. It is the same connection, so a statement runs inside whatever
   * transaction is open on it, TypeORM's or `TransactionRunner.runHot`'s.
   */
  constructor(
    readonly dialect: SqlDialect,
    private readonly sqlite: (() => SqliteDatabase) | null = null,
    /** PostgreSQL: the pool a statement outside a transaction runs on (TypeORM's driver's). */
    private readonly postgres: (() => PgQueryable) | null = null,
  ) {}

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

  /** A condition "(`a`, `b`) is one of the pairs" (its parameters: `...pairs(list)`). */
  inPairs(a: string, b: string): string {
    return this.dialect === 'postgres'
      ? `(${a}, ${b}) IN (SELECT * FROM unnest(?::text[], ?::text[]))`
      : `(${a}, ${b}) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))`;
  }

  /** Pairs of strings as the parameters of `inPairs`: the firsts and the seconds on PostgreSQL, one JSON array on SQLite. */
  pairs(pairs: readonly (readonly [string, string])[]): unknown[] {
    return this.dialect === 'postgres' ? [pairs.map((p) => p[0]), pairs.map((p) => p[1])] : [JSON.stringify(pairs)];
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
   * rows (those of RETURNING for UPDATE and DELETE), the same shape on both engines.
   */
  async query<T = Record<string, unknown>>(em: EntityManager, statement: string, parameters: unknown[] = []): Promise<T[]> {
    if (this.sqlite) return this.querySqlite<T>(statement, parameters);
    return this.queryPostgres<T>(em, statement, parameters);
  }

  /**
   * Runs a statement as a named prepared statement on the transaction's connection (the
   * manager's query runner) or, outside one, on a connection of the pool. The name is a hash
   * of the text, so any SqlText on the same pool names a statement alike.
   */
  private async queryPostgres<T>(em: EntityManager, statement: string, parameters: unknown[]): Promise<T[]> {
    let prepared = this.prepared.get(statement);
    if (prepared === undefined) {
      const text = this.text(statement);
      prepared = { name: `herald_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`, text };
      this.prepared.set(statement, prepared);
    }
    const config = { name: prepared.name, text: prepared.text, values: parameters };
    const runner = em.queryRunner as (QueryRunner & { connect(): Promise<PgQueryable> }) | undefined;
    // As TypeORM's runner refuses: its connection is back in the pool, maybe in another's transaction.
    if (runner?.isReleased) throw new Error('Query on a released query runner (its transaction has ended)');
    const result = runner ? await (await runner.connect()).query(config) : await this.postgres!().query(config);
    return result.rows as T[];
  }

  /** Whether the SQLite connection has a transaction open. */
  inSqliteTransaction(): boolean {
    return this.sqlite!().inTransaction;
  }

  /** Runs a statement on the SQLite connection at once: rows for readers (RETURNING included), [] otherwise. */
  querySqlite<T = Record<string, unknown>>(statement: string, parameters: readonly unknown[] = []): T[] {
    let prepared = this.statements.get(statement);
    if (prepared === undefined) {
      prepared = this.sqlite!().prepare(statement);
      this.statements.set(statement, prepared);
    }
    // better-sqlite3 binds no booleans: 0/1, as SQLite stores them (and TypeORM writes them).
    let bound = parameters as unknown[];
    for (let i = 0; i < parameters.length; i++) {
      if (typeof parameters[i] === 'boolean') {
        bound = parameters.map((p) => (typeof p === 'boolean' ? Number(p) : p));
        break;
      }
    }
    if (prepared.reader) return prepared.all(...bound) as T[];
    prepared.run(...bound);
    return [];
  }
}

/** What Herald uses of a better-sqlite3 statement and database. */
export interface SqliteStatement {
  readonly reader: boolean;
  all(...parameters: unknown[]): unknown[];
  run(...parameters: unknown[]): unknown;
}
export interface SqliteDatabase {
  readonly inTransaction: boolean;
  prepare(sql: string): SqliteStatement;
}

/** What Herald uses of a node-postgres client or pool. */
export interface PgQueryable {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/** The better-sqlite3 connection of an initialized SQLite DataSource (TypeORM's driver holds exactly one). */
export function sqliteConnection(dataSource: DataSource): SqliteDatabase {
  return (dataSource.driver as unknown as { databaseConnection: SqliteDatabase }).databaseConnection;
}

/** The `SqlText` of the app's database, as a provider. */
@Injectable()
export class Sql extends SqlText {
  constructor(@InjectDataSource() dataSource: DataSource) {
    const sqlite = dataSource.options.type === 'better-sqlite3';
    super(
      sqlite ? 'sqlite' : 'postgres',
      sqlite ? () => sqliteConnection(dataSource) : null,
      sqlite ? null : () => (dataSource.driver as unknown as { master: PgQueryable }).master,
    );
  }
}


/** Rewrites `?` placeholders to `$1`, `$2` …; Herald's statements have no `?` inside literals. */
function numberPlaceholders(statement: string): string {
  let n = 0;
  return statement.replace(/\?/g, () => `$${++n}`);
}

/** A boolean column as read by either driver (SQLite answers 0/1). */
export function readBool(value: unknown): boolean {
  return value === true || value === 1 || value === '1';
}
