import { Injectable, Logger } from '@nestjs/common';
import { type EntityManager, In } from 'typeorm';
import type { AuthContext } from '../auth/auth-context';
import { renderDeliveryBody } from '../automations/action-renderer';
import { AutomationCatalog, type TeamCatalog } from '../automations/automation-catalog';
import { AutomationStateEntity } from '../automations/automation-state.entity';
import { AutomationEntity } from '../automations/automation.entity';
import { Clock } from '../common/clock';
import { ApiError } from '../common/errors/api-error';
import { newId } from '../common/ids';
import { asRow } from '../database/columns';
import { TransactionRunner } from '../database/transaction-runner';
import type { DeliveryStatus } from '../delivery/delivery-status';
import { DeliveryEntity } from '../delivery/delivery.entity';
import { DeliveryDispatcher } from '../delivery/dispatcher';
import { evaluate, subjectOf } from '../matching/matcher';
import { appendMetrics } from '../matching/metric-windows';
import { MetricsService } from '../metrics/metrics.service';
import { PresetLibrary } from '../rendering/presets';
import { WebhookEntity } from '../webhooks/webhook.entity';
import { type EventOutcome } from './event-outcome';
import { validateEventBatch } from './event-validation';
import { EventEntity } from './event.entity';
import type { HeraldEvent } from './event.types';
import { RunEntity } from './run.entity';
import { decodeWindows, encodeWindows } from './stored-windows';

export interface IngestResult {
  index: number;
  id: string;
  duplicate: boolean;
  /** How many automations fired for the event. */
  matched: number;
  deliveries: string[];
}

/** Rows one ingestion transaction reads once and writes back at its end. */
class UnitOfWork {
  readonly runs = new Map<string, { row: RunEntity; dirty: boolean }>();
  readonly states = new Map<string, { row: AutomationStateEntity; dirty: boolean; known: boolean }>();
  readonly webhooks = new Map<string, WebhookEntity | null>();
  readonly deliveries: DeliveryEntity[] = [];
  readonly fired = new Map<string, number>();
}

/**
 * POST /v1/events: validates a batch, then in ONE transaction stores the events, updates run
 * windows and edge/cooldown state, and inserts a delivery per match; the worker is woken
 * after the commit. No HTTP request happens here.
 */
@Injectable()
export class IngestionService {
  private readonly logger = new Logger('Ingestion');

  constructor(
    private readonly catalog: AutomationCatalog,
    private readonly presets: PresetLibrary,
    private readonly dispatcher: DeliveryDispatcher,
    private readonly metrics: MetricsService,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
  ) {}

  async ingest(auth: AuthContext, body: unknown): Promise<{ results: IngestResult[] }> {
    const validation = validateEventBatch(body);
    if (!validation.ok) {
      throw ApiError.invalid(validation.problems);
    }
    const now = this.clock.now();
    const events: HeraldEvent[] = validation.events.map((posted) => ({
      ...posted,
      id: posted.id ?? newId('evt'),
      occurredAt: posted.occurredAt ?? new Date(now).toISOString(),
    }));
    this.checkProjects(auth, events, Array.isArray(body));

    const catalog = await this.catalog.forTeam(auth.teamId);
    const { out: results, due } = await this.tx.run(async (em) => {
      // Processes ingesting the same run (or collection, or project) serialize here, so
      // windows, edges and cooldowns are read and written by one transaction at a time.
      await this.tx.lockKeys(em, stateKeys(auth.teamId, events));
      const work = new UnitOfWork();
      const known = await this.knownEvents(em, auth.teamId, events);
      const firstInBatch = new Map<string, IngestResult>();
      const out: IngestResult[] = [];
      for (const [index, event] of events.entries()) {
        const earlier = firstInBatch.get(event.id);
        const stored = known.get(event.id);
        if (earlier || stored) {
          const first = earlier ?? resultOf(stored!, index);
          out.push({ ...first, index, duplicate: true });
          continue;
        }
        const outcome = await this.process(em, work, auth, catalog, event, now);
        await em.insert(EventEntity, asRow<EventEntity>({
          teamId: auth.teamId,
          id: event.id,
          type: event.type,
          project: event.project,
          runId: event.run?.id ?? null,
          occurredAt: Date.parse(event.occurredAt),
          receivedAt: now,
          body: event,
          outcome,
        }));
        const result: IngestResult = {
          index,
          id: event.id,
          duplicate: false,
          matched: outcome.matched.length,
          deliveries: outcome.matched.map((m) => m.deliveryId),
        };
        firstInBatch.set(event.id, result);
        out.push(result);
      }
      await this.flush(em, work, now);
      const due = work.deliveries.filter((d) => d.status === 'pending').map((d) => ({ id: d.id, series: 1, attempt: 1, dueAt: now }));
      return { out, due };
    });
    const fresh = results.filter((r) => !r.duplicate);
    this.metrics.eventsIngested(fresh.length);
    this.metrics.matches(fresh.reduce((sum, r) => sum + r.matched, 0));
    this.dispatcher.dispatch(due);
    return { results };
  }

  /** An ingest key limited to projects may post only to those (403 naming the first event outside them). */
  private checkProjects(auth: AuthContext, events: HeraldEvent[], batch: boolean): void {
    if (auth.projects === null) return;
    const index = events.findIndex((e) => !auth.projects!.includes(e.project));
    if (index === -1) return;
    const field = batch ? `events[${index}].project` : 'project';
    throw new ApiError(403, `This key may post events only to projects ${auth.projects.join(', ')}`, [
      { field, reason: `${events[index].project} is not one of this key's projects` },
    ]);
  }

  private async knownEvents(em: EntityManager, teamId: string, events: HeraldEvent[]): Promise<Map<string, EventEntity>> {
    const ids = [...new Set(events.map((e) => e.id))];
    const known = new Map<string, EventEntity>();
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await em.find(EventEntity, { where: { teamId, id: In(ids.slice(i, i + 500)) } });
      for (const row of rows) known.set(row.id, row);
    }
    return known;
  }

  /** Matches one event against its candidate automations, updating run and edge state. */
  private async process(
    em: EntityManager,
    work: UnitOfWork,
    auth: AuthContext,
    catalog: TeamCatalog,
    event: HeraldEvent,
    now: number,
  ): Promise<EventOutcome> {
    // The catalog read before the transaction: no other connection is needed while it holds locks.
    const { entries } = catalog;
    const candidates = catalog.index.candidates(event);
    const outcome: EventOutcome = { matched: [], suppressed: [], failed: [] };
    const run = event.run ? await this.run(em, work, auth.teamId, event.project, event.run.id) : null;
    const previousRunState = run?.row.state ?? null;
    if (run) {
      const sizes = catalog.index.windowSizesFor(event.project);
      if (event.metrics && sizes.size > 0) {
        const appended = appendMetrics(decodeWindows(run.row.windows), event.metrics, sizes);
        if (appended.changed) {
          run.row.windows = encodeWindows(appended.windows);
          run.dirty = true;
        }
      }
      // A run's state changes with RUN_STATE events only: the state other events carry is
      // informational (it renders as ${run_state}), so RUN_STATE triggers never miss an entry.
      if (event.type === 'RUN_STATE' && event.run?.state && event.run.state !== run.row.state) {
        run.row.state = event.run.state;
        run.dirty = true;
      }
    }
    const windows = run ? decodeWindows(run.row.windows) : {};

    for (const candidate of candidates) {
      const entry = entries.get(candidate.automation.id);
      if (!entry) continue;
      const automation = entry.entity;
      const subject = subjectOf(entry.compiled.automation, event);
      const state = await this.state(em, work, automation.id, subject);
      const evaluation = evaluate(entry.compiled, event, {
        windows,
        previousRunState,
        // The matcher ignores a state of another trigger version (a changed trigger resets it).
        state: state.known ? { matching: state.row.matching, lastFiredAt: state.row.lastFiredAt, triggerVersion: state.row.triggerVersion } : null,
        nowMs: now,
      });
      if (evaluation.nextState) {
        Object.assign(state.row, evaluation.nextState, { updatedAt: now });
        state.dirty = true;
        state.known = true;
      }
      const names = { automationId: automation.id, automationName: automation.name };
      if (!evaluation.fires) {
        if (evaluation.suppressedBy) outcome.suppressed.push({ ...names, reason: evaluation.suppressedBy });
        continue;
      }
      const webhook = await this.webhook(em, work, auth.teamId, automation.webhookId);
      if (!webhook) {
        outcome.failed.push({ ...names, error: `webhook ${automation.webhookId} no longer exists` });
        continue;
      }
      const deliveryId = newId('msg');
      let rendered;
      try {
        rendered = renderDeliveryBody(
          {
            action: automation.action,
            payload: entry.payload,
            webhookKind: webhook.kind,
            event,
            team: { id: auth.teamId, name: auth.teamName },
            automation: { id: automation.id, name: automation.name },
            deliveryId,
            metric: evaluation.metric,
            logLine: evaluation.logLine,
          },
          this.presets,
        );
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        this.logger.warn(`Automation ${automation.id} matched event ${event.id} but could not render: ${message}`);
        outcome.failed.push({ ...names, error: message });
        continue;
      }
      const status: DeliveryStatus = webhook.enabled ? 'pending' : webhook.disabledReason === 'user' ? 'cancelled' : 'held';
      work.deliveries.push({
        id: deliveryId,
        teamId: auth.teamId,
        automationId: automation.id,
        automationName: automation.name,
        webhookId: webhook.id,
        eventId: event.id,
        eventType: event.type,
        status,
        body: rendered.body,
        bodyForm: rendered.form,
        series: 1,
        attemptCount: 0,
        nextAttemptAt: status === 'pending' ? now : null,
        leaseUntil: null,
        lastStatusCode: null,
        lastError: null,
        createdAt: now,
        updatedAt: now,
      });
      work.fired.set(automation.id, (work.fired.get(automation.id) ?? 0) + 1);
      if (status === 'cancelled') outcome.suppressed.push({ ...names, reason: 'webhook_disabled', deliveryId });
      else outcome.matched.push({ ...names, deliveryId });
    }
    return outcome;
  }

  private async run(em: EntityManager, work: UnitOfWork, teamId: string, project: string, runId: string) {
    const key = `${project}\u0000${runId}`;
    let entry = work.runs.get(key);
    if (!entry) {
      const row = await em.findOne(RunEntity, {
        where: { teamId, project, runId },
        // Processes ingesting the same run serialize on its row (PostgreSQL).
        ...(this.tx.locksRows ? { lock: { mode: 'pessimistic_write' as const } } : {}),
      });
      entry = row
        ? { row, dirty: false }
        : { row: { teamId, project, runId, state: null, windows: {}, updatedAt: 0 }, dirty: false };
      work.runs.set(key, entry);
    }
    return entry;
  }

  private async state(em: EntityManager, work: UnitOfWork, automationId: string, subject: string) {
    const key = `${automationId}\u0000${subject}`;
    let entry = work.states.get(key);
    if (!entry) {
      const row = await em.findOneBy(AutomationStateEntity, { automationId, subject });
      entry = row
        ? { row, dirty: false, known: true }
        : { row: { automationId, subject, triggerVersion: 0, matching: false, lastFiredAt: null, updatedAt: 0 }, dirty: false, known: false };
      work.states.set(key, entry);
    }
    return entry;
  }

  private async webhook(em: EntityManager, work: UnitOfWork, teamId: string, id: string): Promise<WebhookEntity | null> {
    if (!work.webhooks.has(id)) work.webhooks.set(id, await em.findOneBy(WebhookEntity, { teamId, id }));
    return work.webhooks.get(id)!;
  }

  private async flush(em: EntityManager, work: UnitOfWork, now: number): Promise<void> {
    for (const { row, dirty } of work.runs.values()) {
      if (dirty) await em.save(RunEntity, { ...row, updatedAt: now });
    }
    for (const { row, dirty } of work.states.values()) {
      if (dirty) await em.save(AutomationStateEntity, row);
    }
    for (let i = 0; i < work.deliveries.length; i += 100) await em.insert(DeliveryEntity, work.deliveries.slice(i, i + 100));
    for (const [automationId, count] of work.fired) {
      await em.increment(AutomationEntity, { id: automationId }, 'fireCount', count);
      await em.update(AutomationEntity, { id: automationId }, { lastFiredAt: now });
    }
  }
}

/** Every edge/cooldown subject an event can touch, whatever automation matches it (see subjectOf). */
function stateKeys(teamId: string, events: HeraldEvent[]): string[] {
  const keys = new Set<string>();
  for (const event of events) {
    keys.add(JSON.stringify([teamId, 'project', event.project]));
    if (event.run) keys.add(JSON.stringify([teamId, 'run', event.project, event.run.id]));
    if (event.artifact) keys.add(JSON.stringify([teamId, 'collection', event.project, event.artifact.collection]));
  }
  return [...keys];
}

function resultOf(row: EventEntity, index: number): IngestResult {
  const deliveries = row.outcome.matched.map((m) => m.deliveryId);
  return { index, id: row.id, duplicate: true, matched: row.outcome.matched.length, deliveries };
}
