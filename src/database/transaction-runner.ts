import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { NameTakenError } from '../common/errors/domain-errors';
import { isUniqueViolation } from './errors';
import { Sql } from './sql';

/**
 * Runs a unit of work in one transaction. Every write in Herald goes through it.
 *
 * TypeORM's better-sqlite3 driver shares a single connection and query runner, so two
 * concurrent `dataSource.transaction()` calls would nest as savepoints and interleave.
 * In embedded mode units of work are therefore queued one after another (SQLite serializes
 * writers anyway); PostgreSQL runs them concurrently on pooled connections.
 */
@Injectable()
export class TransactionRunner {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly serialize: boolean;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly sql: Sql,
  ) {
    this.serialize = dataSource.options.type === 'better-sqlite3';
  }

  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (!this.serialize) return this.dataSource.transaction(work);
    return this.enqueue(() => this.dataSource.transaction(work));
  }

  /**
   * A unit of work of the hot path (ingestion, claims, attempt records) whose statements all go
   * through `Sql`. On SQLite it is queued like `run`, then BEGIN and COMMIT are issued directly
   * on the connection (`Sql` runs its statements there too), without TypeORM's query runner:
   * `work` must not use the manager's entity methods, which would open a transaction of their
   * own. On PostgreSQL it is `run`.
   */
  runHot<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (!this.serialize) return this.dataSource.transaction(work);
    return this.enqueue(async () => {
      // IMMEDIATE: the write lock is taken now (waiting up to the busy timeout for another
      // process, the CLI say), so the transaction never fails later for want of it.
      this.sql.querySqlite('BEGIN IMMEDIATE');
      try {
        const result = await work(this.dataSource.manager);
        this.sql.querySqlite('COMMIT');
        return result;
      } catch (error) {
        // Some errors end the transaction themselves; a ROLLBACK then has nothing to undo.
        if (this.sql.inSqliteTransaction()) this.sql.querySqlite('ROLLBACK');
        throw error;
      }
    });
  }

  private enqueue<T>(unit: () => Promise<T>): Promise<T> {
    const result = this.tail.then(unit);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /**
   * Saves a named resource of a team: one transaction holding the team's lock (so checks of
   * other team rows cannot race on PostgreSQL); a unique-name violation throws NameTakenError.
   */
  async saveNamed<T>(teamId: string, what: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await this.run(async (em) => {
        await this.lockTeam(em, teamId);
        return work(em);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new NameTakenError(what);
      throw error;
    }
  }

  /** Whether row locks are needed (PostgreSQL) or units of work are already serialized (SQLite). */
  get locksRows(): boolean {
    return !this.serialize;
  }

  /**
   * Takes transaction-scoped advisory locks on these keys (PostgreSQL), in one statement and a
   * fixed order, so two transactions locking overlapping sets cannot deadlock. Used where the
   * rows to protect may not exist yet (a run's first metrics, an edge's first state), which a
   * `FOR UPDATE` cannot lock. A hash collision only serializes two unrelated keys.
   */
  async lockKeys(manager: EntityManager, keys: string[]): Promise<void> {
    if (this.serialize || keys.length === 0) return;
    await manager.query(
      'SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest($1::text[]) AS k ORDER BY h) AS ordered',
      [keys],
    );
  }

  /**
   * Locks a team row until the transaction ends, so checks such as "is this the last admin
   * key?" cannot race. SQLite needs no lock: its units of work are already serialized.
   */
  async lockTeam(manager: EntityManager, teamId: string): Promise<void> {
    if (this.serialize) return;
    await manager.query('SELECT id FROM teams WHERE id = $1 FOR UPDATE', [teamId]);
  }
}
