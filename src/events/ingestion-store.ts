import { compositeKey } from '../common/identifiers';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { DeliveryStatus } from '../delivery/delivery-status';
import type { DeliveryEntity } from '../delivery/delivery.entity';
import type { GroupCounts } from '../automations/triggers';
import { readNumber } from '../database/columns';
import { Sql, readBool } from '../database/sql';
import { OPERATIONAL_ID_PREFIX } from './event-validation';
import { OutcomeTexts, type StoredOutcome } from './event-outcome';
import type { HeraldEvent, RunContext, RunState } from './event.types';
import type { StoredWindows } from './stored-windows';

/** A run's stored state, windows and context. */
export interface StoredRun {
  state: RunState | null;
  windows: StoredWindows;
  context: RunContext;
}

/** A run of a team: its project and id. */
export interface RunRef {
  project: string;
  runId: string;
}

/** A run to store, with what is stored of it. */
export interface SavedRun extends RunRef {
  run: StoredRun;
}

/** Edge and cooldown state of one (automation, subject). */
export interface StoredState {
  automationId: string;
  subject: string;
  triggerVersion: number;
  matching: boolean;
  lastFiredAt: number | null;
  updatedAt: number;
}

/** Automations and the subjects whose states are read for each of them (see IngestionStore.states). */
export interface StateBlock {
  automationIds: readonly string[];
  subjects: readonly string[];
}

export interface NewEvent {
  teamId: string;
  event: HeraldEvent;
  receivedAt: number;
  /** The event's position in its request. */
  batchIndex: number;
  outcome: StoredOutcome;
}

/**
 * The SQL of one ingestion transaction, each statement constant text (see `Sql`): events read
 * and inserted in bulk, the batch's edge states read in a statement per candidate list and upserted in bulk,
 * runs read (locked on PostgreSQL) and upserted in bulk.
 */
@Injectable()
export class IngestionStore {
  constructor(private readonly sql: Sql) {}

  /**
   * The stored outcome of each of these events the team already has, by eventKey (ids are
   * unique per team and project). Read by team and id (the primary key's prefix), matched on
   * project here. `keys`: the events' eventKeys, when the caller has them.
   */
  async knownOutcomes(
    em: EntityManager,
    teamId: string,
    events: readonly { id: string; project: string }[],
    keys: readonly string[] = events.map(eventKey),
  ): Promise<Map<string, StoredOutcome>> {
    const known = new Map<string, StoredOutcome>();
    if (events.length === 0) return known;
    const wanted = new Set(keys);
    const rows = await this.sql.query<{ id: string; project: string; outcome: string }>(
      em,
      `SELECT id, project, outcome FROM events WHERE team_id = ? AND ${this.sql.inList('id')}`,
      [teamId, this.sql.list([...new Set(events.map((e) => e.id))])],
    );
    for (const row of rows) {
      const key = eventKey(row);
      if (wanted.has(key)) known.set(key, JSON.parse(row.outcome) as StoredOutcome);
    }
    return known;
  }

  /**
   * The stored rows of these runs, by runKey; a run Herald has none of yet is absent. One
   * statement, through the primary key. On PostgreSQL the rows are locked until the transaction
   * ends, and only those asked for (their pairs). SQLite locks no row: there the team's rows
   * whose project and run id are each in two lists are read (a list of pairs costs two JSON
   * extractions per pair), and those asked for kept.
   */
  async runs(em: EntityManager, teamId: string, wanted: readonly RunRef[]): Promise<Map<string, StoredRun>> {
    const found = new Map<string, StoredRun>();
    if (wanted.length === 0) return found;
    const keys = new Set(wanted.map(runKey));
    const postgres = this.sql.dialect === 'postgres';
    const rows = await this.sql.query<{ project: string; run_id: string; state: RunState | null; windows: string; run_group: string | null; tags: string | null; config: string | null }>(
      em,
      `SELECT project, run_id, state, windows, run_group, tags, config FROM runs WHERE team_id = ? AND ${
        postgres ? `${this.sql.inPairs('project', 'run_id')} FOR UPDATE` : `${this.sql.inList('project')} AND ${this.sql.inList('run_id')}`
      }`,
      postgres
        ? [teamId, ...this.sql.pairs(wanted.map((r) => [r.project, r.runId] as const))]
        : [teamId, this.sql.list([...new Set(wanted.map((r) => r.project))]), this.sql.list([...new Set(wanted.map((r) => r.runId))])],
    );
    for (const row of rows) {
      const key = runKey({ project: row.project, runId: row.run_id });
      if (!keys.has(key)) continue;
      const context: RunContext = {
        group: row.run_group,
        tags: row.tags === null ? null : (JSON.parse(row.tags) as string[]),
        config: row.config === null ? null : (JSON.parse(row.config) as Record<string, unknown>),
      };
      found.set(key, { state: row.state, windows: JSON.parse(row.windows) as StoredWindows, context });
    }
    return found;
  }

  /**
   * Arms (or re-arms) a run's RUN_STALE timers: due `staleSeconds` after `now`, one per length.
   * Re-arming clears a claim, so a report landing while a process posts the event is never lost.
   */
  async armStaleTimers(em: EntityManager, teamId: string, project: string, runId: string, runName: string, lengths: readonly number[], now: number): Promise<void> {
    await this.sql.insertMany(
      em,
      'run_stale_timers (team_id, project, run_id, stale_seconds, run_name, last_seen_at, due_at, claimed_until)',
      8,
      lengths,
      (s) => [teamId, project, runId, s, runName, now, now + s * 1000, null],
      ` ON CONFLICT (team_id, project, run_id, stale_seconds) DO UPDATE SET run_name = excluded.run_name,
        last_seen_at = excluded.last_seen_at, due_at = excluded.due_at, claimed_until = NULL`,
    );
  }

  /** A run in a final state (or no longer RUNNING) is never stale: its timers stop. */
  async stopStaleTimers(em: EntityManager, teamId: string, project: string, runId: string): Promise<void> {
    await this.sql.query(em, 'UPDATE run_stale_timers SET due_at = NULL, claimed_until = NULL WHERE team_id = ? AND project = ? AND run_id = ? AND due_at IS NOT NULL', [
      teamId,
      project,
      runId,
    ]);
  }

  /** A run group's counts in a project (RUN_GROUP_FINISHED); served by idx_runs_group. */
  async groupCounts(em: EntityManager, teamId: string, project: string, group: string): Promise<GroupCounts> {
    const [row] = await this.sql.query<Record<string, unknown>>(
      em,
      `SELECT COUNT(*) AS total,
         SUM(CASE WHEN state = 'RUNNING' THEN 1 ELSE 0 END) AS running,
         SUM(CASE WHEN state IN ('FINISHED', 'FAILED', 'CRASHED', 'KILLED') THEN 1 ELSE 0 END) AS finished,
         SUM(CASE WHEN state IN ('FAILED', 'CRASHED') THEN 1 ELSE 0 END) AS failed
       FROM runs WHERE team_id = ? AND project = ? AND run_group = ?`,
      [teamId, project, group],
    );
    return { total: Number(row?.total ?? 0), running: Number(row?.running ?? 0), finished: Number(row?.finished ?? 0), failed: Number(row?.failed ?? 0) };
  }

  /**
   * The stored states of each block's automations on each of its subjects (every pair of the
   * two lists), each handed to `found` as read: one statement per block, each pair found through
   * the primary key (a list of pairs cost two JSON extractions per pair on SQLite, ~3× the time).
   */
  async states(
    em: EntityManager,
    blocks: readonly StateBlock[],
    found: (automationId: string, subject: string, triggerVersion: number, matching: boolean, lastFiredAt: number | null) => void,
  ): Promise<void> {
    for (const { automationIds, subjects } of blocks) {
      if (automationIds.length === 0 || subjects.length === 0) continue;
      const rows = await this.sql.query(
        em,
        `SELECT automation_id, subject, trigger_version, matching, last_fired_at FROM automation_states
         WHERE ${this.sql.inList('automation_id')} AND ${this.sql.inList('subject')}`,
        [this.sql.list(automationIds), this.sql.list(subjects)],
      );
      for (const row of rows) {
        found(row.automation_id as string, row.subject as string, Number(row.trigger_version), readBool(row.matching), readNumber(row.last_fired_at));
      }
    }
  }

  async insertEvents(em: EntityManager, events: NewEvent[]): Promise<void> {
    const outcomes = new OutcomeTexts();
    // The events of a request mostly share one time (the request's, when they gave none): parsed once.
    let at = '';
    let atMs = 0;
    await this.sql.insertMany(em, 'events (team_id, id, type, project, run_id, occurred_at, received_at, batch_index, body, outcome)', 10, events, (e) => {
      if (e.event.occurredAt !== at) atMs = Date.parse((at = e.event.occurredAt));
      return [e.teamId, e.event.id, e.event.type, e.event.project, e.event.run?.id ?? null, atMs, e.receivedAt, e.batchIndex, JSON.stringify(e.event), outcomes.of(e.outcome)];
    });
  }

  /** Upserts runs (each once: a multi-row upsert may not touch a row twice). */
  async saveRuns(em: EntityManager, teamId: string, runs: readonly SavedRun[], now: number): Promise<void> {
    await this.sql.insertMany(
      em,
      'runs (team_id, project, run_id, state, windows, run_group, tags, config, updated_at)',
      9,
      runs,
      ({ project, runId, run }) => [
        teamId, project, runId, run.state, JSON.stringify(run.windows),
        run.context.group, run.context.tags === null ? null : JSON.stringify(run.context.tags),
        run.context.config === null ? null : JSON.stringify(run.context.config), now,
      ],
      ` ON CONFLICT (team_id, project, run_id) DO UPDATE SET state = excluded.state, windows = excluded.windows,
        run_group = excluded.run_group, tags = excluded.tags, config = excluded.config, updated_at = excluded.updated_at`,
    );
  }

  async saveStates(em: EntityManager, states: StoredState[]): Promise<void> {
    await this.sql.insertMany(
      em,
      'automation_states (automation_id, subject, trigger_version, matching, last_fired_at, updated_at)',
      6,
      states,
      (s) => [s.automationId, s.subject, s.triggerVersion, s.matching, s.lastFiredAt, s.updatedAt],
      ` ON CONFLICT (automation_id, subject) DO UPDATE SET trigger_version = excluded.trigger_version,
        matching = excluded.matching, last_fired_at = excluded.last_fired_at, updated_at = excluded.updated_at`,
    );
  }

  async insertDeliveries(em: EntityManager, deliveries: DeliveryEntity[]): Promise<void> {
    await this.sql.insertMany(
      em,
      `deliveries (id, team_id, automation_id, automation_name, webhook_id, event_id, event_type, status, body, body_form,
        series, attempt_count, next_attempt_at, lease_until, last_status_code, last_error, created_at, updated_at)`,
      18,
      deliveries,
      (d) => [
        d.id, d.teamId, d.automationId, d.automationName, d.webhookId, d.eventId, d.eventType, d.status satisfies DeliveryStatus, d.body, d.bodyForm,
        d.series, d.attemptCount, d.nextAttemptAt, d.leaseUntil, d.lastStatusCode, d.lastError, d.createdAt, d.updatedAt,
      ],
    );
  }

  async countFires(em: EntityManager, automationId: string, count: number, now: number): Promise<void> {
    await this.sql.query(em, 'UPDATE automations SET fire_count = fire_count + ?, last_fired_at = ? WHERE id = ?', [count, now, automationId]);
  }
}

/**
 * An event's identity within its team: its project and id (no two distinct pairs share a
 * key). Herald's own events (`herald:…`, which no key may post) stay unique per team: the
 * project a DELIVERY_FAILED is filed under comes from a lookup that may change (the event it
 * reports pruned), and the same failure must still be stored once.
 */
export function eventKey(event: { id: string; project: string }): string {
  return event.id.startsWith(OPERATIONAL_ID_PREFIX) ? compositeKey(event.id) : compositeKey(event.project, event.id);
}

/** A run's identity within its team. */
export function runKey(run: RunRef): string {
  return compositeKey(run.project, run.runId);
}
