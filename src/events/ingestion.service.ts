import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { AuthContext } from '../auth/auth-context';
import { renderDeliveryBody } from '../automations/action-renderer';
import { AutomationCatalog, type CatalogEntry, type TeamCatalog } from '../automations/automation-catalog';
import { Clock } from '../common/clock';
import { ApiError } from '../common/errors/api-error';
import { newId } from '../common/ids';
import { GroupCommit } from '../database/group-commit';
import { TransactionRunner } from '../database/transaction-runner';
import { statusAtMatch } from '../delivery/delivery-lifecycle';
import type { DeliveryEntity } from '../delivery/delivery.entity';
import { DeliveryStore } from '../delivery/delivery-store';
import { DeliveryDispatcher, type DueDelivery, type HandOver } from '../delivery/dispatcher';
import type { WebhookEntity } from '../webhooks/webhook.entity';
import { type AutomationIndex, type CompiledAutomation, type Decision, type EvaluationContext, decide, groupOf, groupSubject, subjectFor } from '../matching/matcher';
import { SubjectStates } from '../matching/subject-states';
import type { GroupCounts } from '../automations/triggers';
import { type MetricWindows, appendMetricsInPlace } from '../matching/metric-windows';
import { MetricsService } from '../metrics/metrics.service';
import { PresetLibrary } from '../rendering/presets';
import { NotFiredList, type StoredOutcome } from './event-outcome';
import { completeEvent, validateEventBatch } from './event-validation';
import { type HeraldEvent, type RunContext, type RunState, mergeRunContext } from './event.types';
import { IngestionStore, type NewEvent, type StateBlock, type StoredState, eventKey } from './ingestion-store';
import { decodeWindows, encodeWindows } from './stored-windows';

export interface IngestResult {
  index: number;
  id: string;
  duplicate: boolean;
  /** How many automations fired for the event. */
  matched: number;
  deliveries: string[];
}

/** A run as one ingestion transaction sees it: read once, windows decoded once, written back at its end. */
interface RunWork {
  project: string;
  runId: string;
  /** Its edge/cooldown subject (subjectFor an event of the run, not an artifact trigger's), and that subject's states. */
  subject: string;
  states: SubjectStates;
  state: RunState | null;
  windows: MetricWindows;
  /** The run's group, tags and config: the stored ones, replaced by those this transaction's events give. */
  context: RunContext;
  dirty: boolean;
  /** The run's name at its latest report in this transaction; null until a client event of the run (not Herald's RUN_STALE) is processed. */
  reportedName: string | null;
}

/** Rows one ingestion transaction reads once and writes back at its end. */
class UnitOfWork {
  /** The runs, by project then run id (no key built per event), and in the order first seen. */
  readonly runs = new Map<string, Map<string, RunWork>>();
  readonly runList: RunWork[] = [];
  /**
   * Edge/cooldown states of the batch's subjects, each in columns by the request's catalog's
   * slots (the stored ones read by load, those decided since marked to store); rows are read
   * and written by automation id, so a catalog numbered otherwise reads the same states.
   */
  readonly states = new Map<string, SubjectStates>();
  readonly events: NewEvent[] = [];
  readonly deliveries: DeliveryEntity[] = [];

  /**
   * `handOvers`: the request's deliveries leased here, each with the send slot it goes to after
   * the commit; `webhooks`: those read in this transaction, by team and id (shared by the
   * requests that share it: nothing in it changes a webhook); `fired`: how many times each
   * automation fired in this transaction, counted once at its end (nothing in it reads them).
   */
  constructor(
    readonly index: AutomationIndex,
    readonly handOvers: HandOvers,
    readonly webhooks: Map<string, WebhookEntity | null>,
    readonly fired: Map<string, number>,
  ) {}

  /** The states of a subject of `project` (every subject names its project). */
  statesOf(subject: string, project: string): SubjectStates {
    let states = this.states.get(subject);
    if (!states) this.states.set(subject, (states = new SubjectStates(this.index.stateLayout(project))));
    return states;
  }
}

/** One POST /v1/events, validated, waiting for its transaction. */
interface IngestRequest {
  auth: AuthContext;
  events: HeraldEvent[];
  /**
   * The events whose id the client chose: only they can repeat a stored event. An id Herald
   * assigns (`evt_`, time-ordered with 80 random bits) is new, so its event needs no lookup.
   */
  clientIdentified: HeraldEvent[];
  catalog: TeamCatalog;
  now: number;
}

type HandOvers = { handOver: HandOver; delivery: DeliveryEntity }[];

interface Written {
  out: IngestResult[];
  due: DueDelivery[];
  /** The request's deliveries to hand over once the transaction has committed. */
  handOvers: HandOvers;
}

/** One new event with the automations it is evaluated against (the index's, shared between events). */
interface Planned {
  event: HeraldEvent;
  /** Its position in the request. */
  index: number;
  candidates: readonly CompiledAutomation[];
  /** Its answer, completed once it is processed. */
  result: IngestResult;
  /** Its run in the unit of work (set by load); null for an event of no run. */
  run: RunWork | null;
  /** subjectFor(false, event) (set by load): the run's, for an event of a run. */
  subject: string;
}

/** A decision that is not quiet, with what ingestion needs to act on it. */
interface Decided {
  entry: CatalogEntry;
  decision: Decision;
}

/**
 * POST /v1/events: validates a batch, then in ONE transaction stores the events, updates run
 * windows and edge/cooldown state, and inserts a delivery per match; the worker is woken
 * after the commit. Requests arriving together share that transaction (group commit). No
 * HTTP request happens here.
 */
@Injectable()
export class IngestionService {
  private readonly logger = new Logger('Ingestion');
  /** Requests that arrive while a transaction runs share the next one (group commit). */
  private readonly group = new GroupCommit<IngestRequest, Written>((requests) => this.write(requests));

  constructor(
    private readonly catalog: AutomationCatalog,
    private readonly presets: PresetLibrary,
    private readonly dispatcher: DeliveryDispatcher,
    private readonly metrics: MetricsService,
    private readonly tx: TransactionRunner,
    private readonly store: IngestionStore,
    private readonly deliveries: DeliveryStore,
    private readonly clock: Clock,
  ) {}

  /** `origin` 'herald': Herald's own operational events (OperationalEvents), which clients may not post. */
  async ingest(auth: AuthContext, body: unknown, origin: 'client' | 'herald' = 'client'): Promise<{ results: IngestResult[] }> {
    const validation = validateEventBatch(body, { operational: origin === 'herald' });
    if (!validation.ok) {
      throw ApiError.invalid(validation.problems);
    }
    const now = this.clock.now();
    // Completed in place (completeEvent), so these are the same objects as `events`' with an id from the client.
    const clientIdentified = validation.events.filter((posted) => posted.id !== undefined) as HeraldEvent[];
    const events = validation.events.map((posted) => completeEvent(posted, now, () => newId('evt')));
    this.checkProjects(auth, events, Array.isArray(body));

    const catalog = await this.catalog.forTeam(auth.teamId);
    const { out: results, due, handOvers } = await this.group.submit({ auth, events, clientIdentified, catalog, now });
    for (const { handOver, delivery } of handOvers) handOver.send(delivery);
    this.dispatcher.dispatch(due);
    const fresh = results.filter((r) => !r.duplicate);
    this.metrics.eventsIngested(fresh.length);
    this.metrics.matches(fresh.reduce((sum, r) => sum + r.matched, 0));
    return { results };
  }

  /**
   * Writes the requests that arrived together in ONE transaction, one after another (each sees
   * what the earlier ones wrote: duplicates, windows, edges). Processes ingesting the same run
   * (or collection, or project) serialize on the locks taken first, in one statement.
   */
  private async write(requests: IngestRequest[]): Promise<Written[]> {
    // Every request's hand-overs, registered before its writing starts, so a failure part-way cancels them too.
    const leased: HandOvers[] = [];
    try {
      return await this.tx.runHot(async (em) => {
        // Only where rows are locked (PostgreSQL): SQLite's transactions are already serialized.
        if (this.tx.locksRows) await this.tx.lockKeys(em, requests.flatMap((r) => stateKeys(r.auth.teamId, r.events)));
        const written: Written[] = [];
        const webhooks = new Map<string, WebhookEntity | null>();
        const fired = new Map<string, number>();
        for (const request of requests) {
          const handOvers: HandOvers = [];
          leased.push(handOvers);
          written.push(await this.writeOne(em, request, new UnitOfWork(request.catalog.index, handOvers, webhooks, fired)));
        }
        const now = requests.reduce((latest, r) => Math.max(latest, r.now), 0);
        for (const [automationId, count] of fired) await this.store.countFires(em, automationId, count, now);
        return written;
      });
    } catch (error) {
      // Nothing was written: the slots taken for deliveries leased in it go back.
      for (const handOvers of leased) for (const { handOver } of handOvers) handOver.cancel();
      throw error;
    }
  }

  private async writeOne(em: EntityManager, { auth, events, clientIdentified, catalog, now }: IngestRequest, work: UnitOfWork): Promise<Written> {
    // Ids are unique per team and project: a key limited to p1 neither shadows nor sees p2's.
    const keys = events.map(eventKey);
    const known = await this.store.knownOutcomes(em, auth.teamId, clientIdentified, clientIdentified.length === events.length ? keys : undefined);
    // The first occurrence of each event not stored yet is processed; the others repeat an answer.
    const results = new Array<IngestResult | undefined>(events.length);
    const first = new Map<string, IngestResult>();
    const planned: Planned[] = [];
    for (let index = 0; index < events.length; index++) {
      const key = keys[index];
      if (known.has(key) || first.has(key)) continue;
      const event = events[index];
      const result: IngestResult = { index, id: event.id, duplicate: false, matched: 0, deliveries: [] };
      first.set(key, result);
      results[index] = result;
      planned.push({ event, index, candidates: catalog.index.candidates(event), result, run: null, subject: '' });
    }
    await this.load(em, work, auth.teamId, planned);
    for (const plan of planned) {
      const { event, index, result } = plan;
      const outcome = await this.process(em, work, auth, catalog, plan, now);
      work.events.push({ teamId: auth.teamId, event, receivedAt: now, batchIndex: index, outcome });
      const matched = outcome.matched;
      result.matched = matched.length;
      if (matched.length > 0) result.deliveries = matched.map((m) => m.deliveryId);
    }
    const out = results as IngestResult[];
    for (let index = 0; index < events.length; index++) {
      if (results[index] !== undefined) continue;
      const stored = known.get(keys[index]);
      out[index] = stored
        ? { index, id: events[index].id, duplicate: true, matched: stored.matched.length, deliveries: stored.matched.map((m) => m.deliveryId) }
        : { ...first.get(keys[index])!, index, duplicate: true };
    }
    await this.flush(em, work, auth.teamId, catalog, now);
    const due = work.deliveries.filter((d) => d.status === 'pending').map((d) => ({ id: d.id, series: 1, attempt: 1, dueAt: now, delivery: d }));
    return { out, due, handOvers: work.handOvers };
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

  /** Reads the batch's runs (locking them on PostgreSQL) and every edge/cooldown state it can touch. */
  private async load(em: EntityManager, work: UnitOfWork, teamId: string, planned: Planned[]): Promise<void> {
    for (const plan of planned) {
      const event = plan.event;
      if (!event.run) {
        plan.subject = subjectFor(false, event);
        continue;
      }
      let runs = work.runs.get(event.project);
      if (!runs) work.runs.set(event.project, (runs = new Map()));
      let run = runs.get(event.run.id);
      if (!run) {
        const stored = await this.store.run(em, teamId, event.project, event.run.id);
        const subject = subjectFor(false, event);
        run = {
          project: event.project,
          runId: event.run.id,
          subject,
          states: work.statesOf(subject, event.project),
          state: stored?.state ?? null,
          windows: stored ? decodeWindows(stored.windows) : {},
          context: stored?.context ?? mergeRunContext(null, undefined),
          dirty: false,
          reportedName: null,
        };
        runs.set(event.run.id, run);
        work.runList.push(run);
      }
      plan.run = run;
      plan.subject = run.subject;
    }
    // The (automation, subject) pairs the batch can touch, read as blocks: each candidate list's
    // automations of a kind on the subjects of that kind its events have. Events of one run share
    // their subjects and, mostly, their candidate list (the index's arrays): each such
    // combination is listed once. An event has two subjects at most: one for artifact triggers,
    // one for the others. Kinds: `a` artifact triggers, `g` RUN_GROUP_FINISHED (keyed by the
    // run's group), `p` the others.
    const combos = { a: new Map<readonly CompiledAutomation[], Set<string>>(), g: new Map<readonly CompiledAutomation[], Set<string>>(), p: new Map<readonly CompiledAutomation[], Set<string>>() };
    const combine = (kind: 'a' | 'g' | 'p', subject: string, project: string, list: readonly CompiledAutomation[]) => {
      let subjects = combos[kind].get(list);
      if (!subjects) combos[kind].set(list, (subjects = new Set()));
      subjects.add(subject);
      work.statesOf(subject, project);
    };
    // Each list's automation ids by kind, sorted out once.
    const kindsOf = new Map<readonly CompiledAutomation[], Record<'a' | 'g' | 'p', string[]>>();
    for (const { event, candidates, run, subject } of planned) {
      if (candidates.length === 0) continue;
      let kinds = kindsOf.get(candidates);
      if (!kinds) {
        kinds = { a: [], g: [], p: [] };
        for (const { automation, facts } of candidates) kinds[facts.group ? 'g' : facts.artifact ? 'a' : 'p'].push(automation.id);
        kindsOf.set(candidates, kinds);
      }
      if (kinds.p.length > 0) combine('p', subject, event.project, candidates);
      if (kinds.a.length > 0) combine('a', subjectFor(true, event), event.project, candidates);
      if (kinds.g.length > 0 && event.type === 'RUN_STATE' && run) combine('g', groupSubject(event, groupOf(event, run.context)), event.project, candidates);
    }
    const blocks: StateBlock[] = [];
    for (const kind of ['a', 'g', 'p'] as const) {
      for (const [list, subjects] of combos[kind]) blocks.push({ automationIds: kindsOf.get(list)![kind], subjects: [...subjects] });
    }
    const index = work.index;
    await this.store.states(em, blocks, (automationId, subject, triggerVersion, matching, lastFiredAt) => {
      work.states.get(subject)!.load(index.slotOf(automationId), triggerVersion, matching, lastFiredAt);
    });
  }

  /** Matches one event against its candidate automations, updating run and edge state. */
  private async process(
    em: EntityManager,
    work: UnitOfWork,
    auth: AuthContext,
    catalog: TeamCatalog,
    { event, candidates, run, subject }: Planned,
    now: number,
  ): Promise<StoredOutcome> {
    const outcome: StoredOutcome = { matched: [], suppressed: [], failed: [] };
    const previousRunState = run?.state ?? null;
    // Herald's RUN_STALE for a run that is no longer RUNNING (it reported an end meanwhile): nothing to decide.
    if (event.type === 'RUN_STALE' && run?.state !== 'RUNNING') return outcome;
    if (run && event.type !== 'RUN_STALE') run.reportedName = event.run!.name;
    if (run) {
      // The run's windows were decoded for this transaction alone: appended in place.
      if (appendMetricsInPlace(run.windows, event.metrics, catalog.index.watchedMetrics(event.project))) run.dirty = true;
      // A run's state changes with RUN_STATE events only: the state other events carry is
      // informational (it renders as ${run_state}), so RUN_STATE triggers never miss an entry.
      if (event.type === 'RUN_STATE' && event.run?.state && event.run.state !== run.state) {
        run.state = event.run.state;
        run.dirty = true;
      }
      const posted = event.run!;
      if (posted.group !== undefined || posted.tags !== undefined || posted.config !== undefined) {
        run.context = mergeRunContext(run.context, posted);
        run.dirty = true;
      }
    }
    // RUN_GROUP_FINISHED reads its group's counts, only for a state report of a run of a group.
    let group: GroupCounts | null = null;
    const groupName = run && event.type === 'RUN_STATE' ? groupOf(event, run.context) : null;
    if (groupName !== null && candidates.some((c) => c.facts.group)) group = await this.groupCounts(em, work, auth.teamId, event.project, groupName, now);
    const notFired = new NotFiredList();
    const plain = run?.states ?? work.statesOf(subject, event.project);
    for (const { entry, decision } of this.decideAll(work, catalog, event, plain, candidates, run?.windows ?? {}, previousRunState, run?.context ?? null, group, now, notFired)) {
      const automation = entry.automation;
      const names = { automationId: automation.id, automationName: automation.name };
      if (!decision.fires) {
        if (decision.suppressedBy) outcome.suppressed.push({ ...names, reason: decision.suppressedBy });
        else if (decision.notFired) notFired.record(automation.id, decision.notFired);
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
            metric: decision.metric,
            logLine: decision.logLine,
            runContext: run?.context ?? null,
            group: entry.compiled.facts.group ? group : null,
          },
          this.presets,
        );
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        this.logger.warn(`Automation ${automation.id} matched event ${event.id} but could not render: ${message}`);
        outcome.failed.push({ ...names, error: message });
        continue;
      }
      let status = statusAtMatch(webhook);
      // A free send slot now: lease the delivery here and send it once this transaction commits.
      const handOver = status === 'pending' ? this.dispatcher.reserve(webhook) : null;
      if (handOver) status = 'sending';
      const delivery: DeliveryEntity = {
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
        nextAttemptAt: status === 'pending' || status === 'sending' ? now : null,
        leaseUntil: handOver ? now + handOver.leaseMs : null,
        lastStatusCode: null,
        lastError: null,
        firstAttempt: null,
        createdAt: now,
        updatedAt: now,
      };
      work.deliveries.push(delivery);
      if (handOver) work.handOvers.push({ handOver, delivery });
      work.fired.set(automation.id, (work.fired.get(automation.id) ?? 0) + 1);
      if (status === 'cancelled') outcome.suppressed.push({ ...names, reason: 'webhook_disabled', deliveryId });
      else outcome.matched.push({ ...names, deliveryId });
    }
    notFired.storeIn(outcome);
    return outcome;
  }

  /**
   * The event's decisions that fire, are held back or change their state, in candidate order: a
   * metric event's from its project's metric program, the others' candidate by candidate; each
   * next state is set in the unit of work's states of its subject. The
   * candidates that did nothing but say why they did not fire (a filter, the window, the
   * condition) go straight into `notFired`. The matcher ignores a state of another
   * trigger version (a changed trigger resets it). `plain`: the states of subjectFor(false,
   * event), the run's (found once per run by load).
   */
  private decideAll(
    work: UnitOfWork,
    catalog: TeamCatalog,
    event: HeraldEvent,
    plain: SubjectStates,
    candidates: readonly CompiledAutomation[],
    windows: MetricWindows,
    previousRunState: RunState | null,
    runContext: RunContext | null,
    group: GroupCounts | null,
    now: number,
    notFired: NotFiredList,
  ): Decided[] {
    const decided: Decided[] = [];
    if (candidates.length === 0) return decided;
    const program = catalog.index.metricProgram(event);
    const push = (compiled: CompiledAutomation, decision: Decision) => {
      decided.push({ entry: catalog.entries.get(compiled.automation.id)!, decision });
    };
    if (program) {
      program.decide(event, windows, plain, now, push, runContext, notFired);
      return decided;
    }
    // Other events through their list's program (matching/event-program.ts), when it has one.
    const events = catalog.index.eventProgram(event);
    if (events) {
      const states = events.artifact ? work.statesOf(subjectFor(true, event), event.project) : plain;
      events.decide(event, previousRunState, states, now, push, runContext, notFired);
      return decided;
    }
    // One context for the event's candidates; only `state` changes from one to the next.
    const context: EvaluationContext = { windows, previousRunState, state: null, nowMs: now, runContext, group };
    let artifact: SubjectStates | undefined;
    let ofGroup: SubjectStates | undefined;
    for (const compiled of candidates) {
      const states = compiled.facts.artifact
        ? (artifact ??= work.statesOf(subjectFor(true, event), event.project))
        : compiled.facts.group
          ? (ofGroup ??= work.statesOf(groupSubject(event, groupOf(event, runContext)), event.project))
          : plain;
      const slot = work.index.slotOf(compiled.automation.id);
      context.state = states.get(slot);
      const decision = decide(compiled, event, context);
      if (decision.nextState !== null) states.set(slot, decision.nextState);
      // Quiet with no reason: the trigger did not apply (a metric the event does not carry).
      if (decision === compiled.quiet) continue;
      if (!decision.fires && decision.suppressedBy === null && decision.nextState === null) {
        if (decision.notFired) notFired.record(compiled.automation.id, decision.notFired);
        continue;
      }
      decided.push({ entry: catalog.entries.get(compiled.automation.id)!, decision });
    }
    return decided;
  }

  /**
   * RUN_STALE's timers of the runs that reported in this transaction, when automations of
   * their project watch for silence: re-armed while the run is RUNNING, stopped otherwise.
   */
  private async rearmStaleTimers(em: EntityManager, work: UnitOfWork, teamId: string, catalog: TeamCatalog, now: number): Promise<void> {
    for (const run of work.runList) {
      if (run.reportedName === null) continue;
      const lengths = catalog.index.staleSecondsFor(run.project);
      if (lengths.length === 0) continue;
      if (run.state === 'RUNNING') await this.store.armStaleTimers(em, teamId, run.project, run.runId, run.reportedName, lengths, now);
      else await this.store.stopStaleTimers(em, teamId, run.project, run.runId);
    }
  }

  /**
   * The group's counts as this transaction sees them: the runs it changed are written first, so
   * the count includes this event's state.
   */
  private async groupCounts(em: EntityManager, work: UnitOfWork, teamId: string, project: string, group: string, now: number): Promise<GroupCounts> {
    for (const run of work.runList) {
      if (!run.dirty) continue;
      await this.store.saveRun(em, teamId, run.project, run.runId, { state: run.state, windows: encodeWindows(run.windows), context: run.context }, now);
      run.dirty = false;
    }
    return this.store.groupCounts(em, teamId, project, group);
  }

  /** The automation's webhook, whole (a delivery handed over goes out with it), read once per transaction. */
  private async webhook(em: EntityManager, work: UnitOfWork, teamId: string, id: string): Promise<WebhookEntity | null> {
    const key = `${teamId} ${id}`;
    if (!work.webhooks.has(key)) {
      const webhook = (await this.deliveries.webhooks(em, [id])).get(id);
      work.webhooks.set(key, webhook && webhook.teamId === teamId ? webhook : null);
    }
    return work.webhooks.get(key)!;
  }

  private async flush(em: EntityManager, work: UnitOfWork, teamId: string, catalog: TeamCatalog, now: number): Promise<void> {
    await this.store.insertEvents(em, work.events);
    await this.rearmStaleTimers(em, work, teamId, catalog, now);
    for (const run of work.runList) {
      if (run.dirty) await this.store.saveRun(em, teamId, run.project, run.runId, { state: run.state, windows: encodeWindows(run.windows), context: run.context }, now);
    }
    const changed: StoredState[] = [];
    for (const [subject, states] of work.states) {
      states.forEachChanged((slot, state) => changed.push({ automationId: states.layout.ids[slot], subject, ...state, updatedAt: now }));
    }
    await this.store.saveStates(em, changed);
    await this.store.insertDeliveries(em, work.deliveries);
  }
}

/** Every edge/cooldown subject an event can touch, whatever automation matches it (see subjectOf). */
function stateKeys(teamId: string, events: HeraldEvent[]): string[] {
  const keys = new Set<string>();
  for (const event of events) {
    keys.add(JSON.stringify([teamId, 'project', event.project]));
    if (event.run) keys.add(JSON.stringify([teamId, 'run', event.project, event.run.id]));
    if (event.artifact) keys.add(JSON.stringify([teamId, 'collection', event.project, event.artifact.collection]));
    if (event.collection) keys.add(JSON.stringify([teamId, 'collection', event.project, event.collection.name]));
  }
  return [...keys];
}
