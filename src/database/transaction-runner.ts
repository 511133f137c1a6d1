import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource, EntityManager } from 'typeorm';
import { NameTakenError } from '../common/errors/domain-errors';
import { isUniqueViolation } from './errors';
import { SharedTransactionLost } from './group-commit';
import { Sql } from './sql';

interface HotUnit {
  work: (manager: EntityManager) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

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
  /** Hot units waiting for the next shared transaction, and whether one is queued for them. */
  private readonly hot: HotUnit[] = [];
  private hotQueued = false;
  private hotCount = 0;
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
   * through `Sql`. On PostgreSQL it is `run`. On SQLite the units submitted before the next
   * microtask (and those submitted while earlier work held the connection) share ONE
   * transaction: BEGIN IMMEDIATE, each unit in its own savepoint, one COMMIT, issued directly on
   * the connection (`Sql` runs its statements there too), without TypeORM's query runner:
   * `work` must not use the manager's entity methods, which would open a transaction of their
   * own. GroupCommit batches that become ready in one turn submit together, so a turn's
   * ingestion and attempt records commit once.
   *
   * Each unit is answered after the COMMIT (its writes are durable then). A unit that throws is
   * rolled back to its savepoint and gets its own error; the others commit. Should an error end
   * the whole transaction, the units that did not fail get SharedTransactionLost (nothing of
   * theirs was written; GroupCommit writes them again).
   */
  runHot<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    if (!this.serialize) return this.dataSource.transaction(work);
    return new Promise<T>((resolve, reject) => {
      this.hot.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.hotQueued) {
        this.hotQueued = true;
        void this.enqueue(() => this.runHotBatch());
      }
    });
  }

  /** BEGIN IMMEDIATE … COMMIT issued on the SQLite connection since start: what hot units share. */
  get hotTransactions(): number {
    return this.hotCount;
  }

  private async runHotBatch(): Promise<void> {
    this.hotQueued = false;
    const units = this.hot.splice(0);
    // Alone, a unit needs no savepoint: its failure rolls the transaction back, as before sharing.
    const shared = units.length > 1;
    const done: { unit: HotUnit; ok: boolean; value: unknown }[] = [];
    try {
      // IMMEDIATE: the write lock is taken now (waiting up to the busy timeout for another
      // process, the CLI say), so the transaction never fails later for want of it.
      this.sql.querySqlite('BEGIN IMMEDIATE');
    } catch (error) {
      for (const unit of units) unit.reject(error);
      return;
    }
    this.hotCount++;
    /** The error that ended the whole transaction, if one did. */
    let lost: unknown = null;
    for (const unit of units) {
      if (lost !== null) {
        done.push({ unit, ok: false, value: new SharedTransactionLost(lost) });
        continue;
      }
      if (shared) this.sql.querySqlite('SAVEPOINT hot_unit');
      try {
        const value = await unit.work(this.dataSource.manager);
        if (shared) this.sql.querySqlite('RELEASE hot_unit');
        done.push({ unit, ok: true, value });
      } catch (error) {
        done.push({ unit, ok: false, value: error });
        // Some errors end the transaction themselves (and the earlier units' writes with it).
        if (shared && this.sql.inSqliteTransaction()) {
          this.sql.querySqlite('ROLLBACK TO hot_unit');
          this.sql.querySqlite('RELEASE hot_unit');
        } else {
          lost = error;
        }
      }
    }
    try {
      if (lost === null) this.sql.querySqlite('COMMIT');
      else if (this.sql.inSqliteTransaction()) this.sql.querySqlite('ROLLBACK');
    } catch (error) {
      if (this.sql.inSqliteTransaction()) this.sql.querySqlite('ROLLBACK');
      for (const { unit } of done) unit.reject(error);
      return;
    }
    for (const { unit, ok, value } of done) {
      if (!ok) unit.reject(value);
      else if (lost !== null) unit.reject(new SharedTransactionLost(lost));
      else unit.resolve(value);
    }
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
