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
import { type EventRun, type HeraldEvent, type RunContext, type RunState, mergeRunContext } from './event.types';
import { IngestionStore, type NewEvent, type RunRef, type SavedRun, type StateBlock, type StoredState, eventKey, runKey } from './ingestion-store';
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

/**
 * The rows a unit of work reads once and writes back once: the requests of one transaction of
 * one team that share a catalog (the usual case: every request of the turn). Later requests see
 * earlier ones' events, runs and states here, in memory, as if they had been written.
 */
class UnitOfWork {
  /** The runs, by project then run id (no key built per event), and in the order first seen. */
  readonly runs = new Map<string, Map<string, RunWork>>();
  readonly runList: RunWork[] = [];
  /**
   * Edge/cooldown states of the unit's subjects, each in columns by the catalog's slots (the
   * stored ones read by load, those decided since marked to store); rows are read and written
   * by automation id, so a catalog numbered otherwise reads the same states.
   */
  readonly states = new Map<string, SubjectStates>();
  readonly parts: RequestPart[] = [];
  /** The events to process, every request's in order. */
  readonly planned: Planned[] = [];
  /** The answer of the first occurrence of each event processed here, by eventKey. */
  readonly first = new Map<string, IngestResult>();
  readonly events: NewEvent[] = [];
  readonly deliveries: DeliveryEntity[] = [];
  /** The latest request's time: runs and states are stored as of it. */
  now = 0;

  /**
   * `webhooks`: those read in this transaction, by team and id (shared by every unit of it:
   * nothing in it changes a webhook); `fired`: how many times each automation fired in this
   * transaction, counted once at its end (nothing in it reads them).
   */
  constructor(
    readonly teamId: string,
    readonly catalog: TeamCatalog,
    readonly webhooks: Map<string, WebhookEntity | null>,
    readonly fired: Map<string, number>,
  ) {}

  get index(): AutomationIndex {
    return this.catalog.index;
  }

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
   * Each event's eventKey when the client chose its id, else null: only those can repeat an
   * event, stored or earlier in the unit. An id Herald assigns (`evt_`, time-ordered with 80
   * random bits) is new, so its event needs no key, no lookup and no check.
   */
  keys: (string | null)[];
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

/** A request in its unit of work: what its answer is made of. */
interface RequestPart extends Written {
  request: IngestRequest;
}

/** One new event with the automations it is evaluated against (the index's, shared between events). */
interface Planned {
  event: HeraldEvent;
  /** The request it came in. */
  part: RequestPart;
  /** Its position in the request. */
  index: number;
  candidates: readonly CompiledAutomation[];
  /** Its answer, completed once it is processed. */
  result: IngestResult;
  /** Its run in the unit of work (set by load); null for an event of no run. */
  run: RunWork | null;
  /** subjectFor(false, event) (set by load): the run's, for an event of a run. */
  subject: string;
  /** Its run's group as of this event (set by load: whose states and counts RUN_GROUP_FINISHED decides with); null for none. */
  group: string | null;
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
    const keys = validation.events.map((posted) => (posted.id === undefined ? null : eventKey(posted as { id: string; project: string })));
    const events = validation.events.map((posted) => completeEvent(posted, now, () => newId('evt')));
    this.checkProjects(auth, events, Array.isArray(body));

    const catalog = await this.catalog.forTeam(auth.teamId);
    const { out: results, due, handOvers } = await this.group.submit({ auth, events, keys, catalog, now });
    for (const { handOver, delivery } of handOvers) handOver.send(delivery);
    this.dispatcher.dispatch(due);
    const fresh = results.filter((r) => !r.duplicate);
    this.metrics.eventsIngested(fresh.length);
    this.metrics.matches(fresh.reduce((sum, r) => sum + r.matched, 0));
    return { results };
  }

  /**
   * Writes the requests that arrived together in ONE transaction, one after another (each sees
   * what the earlier ones wrote: duplicates, windows, edges). A team's requests of one catalog
   * share a unit of work: its rows read once and written once, whatever the number of requests.
   * Processes ingesting the same run (or collection, or project) serialize on the locks taken
   * first, in one statement.
   */
  private async write(requests: IngestRequest[]): Promise<Written[]> {
    const webhooks = new Map<string, WebhookEntity | null>();
    const fired = new Map<string, number>();
    // The units in the order they are written, and each team's open one. A team's catalog
    // replaced between its requests starts a new unit, written after the one before.
    const units: UnitOfWork[] = [];
    const open = new Map<string, UnitOfWork>();
    const parts: RequestPart[] = [];
    for (const request of requests) {
      const teamId = request.auth.teamId;
      let work = open.get(teamId);
      if (!work || work.catalog !== request.catalog) {
        open.set(teamId, (work = new UnitOfWork(teamId, request.catalog, webhooks, fired)));
        units.push(work);
      }
      const part: RequestPart = { request, out: [], due: [], handOvers: [] };
      work.parts.push(part);
      parts.push(part);
    }
    try {
      await this.tx.runHot(async (em) => {
        // Only where rows are locked (PostgreSQL): SQLite's transactions are already serialized.
        if (this.tx.locksRows) await this.tx.lockKeys(em, requests.flatMap((r) => stateKeys(r.auth.teamId, r.events)));
        for (const work of units) await this.writeUnit(em, work);
        const now = requests.reduce((latest, r) => Math.max(latest, r.now), 0);
        for (const [automationId, count] of fired) await this.store.countFires(em, automationId, count, now);
      });
    } catch (error) {
      // Nothing was written: the slots taken for deliveries leased in it go back.
      for (const { handOvers } of parts) for (const { handOver } of handOvers) handOver.cancel();
      throw error;
    }
    return parts.map(({ out, due, handOvers }) => ({ out, due, handOvers }));
  }

  /** Plans, reads, decides and writes a unit's requests, in their order. */
  private async writeUnit(em: EntityManager, work: UnitOfWork): Promise<void> {
    // Ids are unique per team and project: a key limited to p1 neither shadows nor sees p2's.
    const clientIdentified = work.parts.flatMap(({ request }) => request.events.filter((_, index) => request.keys[index] !== null));
    const known = clientIdentified.length > 0 ? await this.store.knownOutcomes(em, work.teamId, clientIdentified) : NONE_KNOWN;
    // The first occurrence of each event not stored yet is processed; the others repeat an answer.
    for (const part of work.parts) {
      const { request, out } = part;
      const keys = request.keys;
      work.now = Math.max(work.now, request.now);
      for (let index = 0; index < keys.length; index++) {
        const key = keys[index];
        if (key !== null && (known.has(key) || work.first.has(key))) continue;
        const event = request.events[index];
        const result: IngestResult = { index, id: event.id, duplicate: false, matched: 0, deliveries: [] };
        if (key !== null) work.first.set(key, result);
        out[index] = result;
        work.planned.push({ event, part, index, candidates: work.index.candidates(event), result, run: null, subject: '', group: null });
      }
    }
    await this.load(em, work);
    for (const plan of work.planned) {
      const { event, index, result, part } = plan;
      const outcome = await this.process(em, work, plan);
      work.events.push({ teamId: work.teamId, event, receivedAt: part.request.now, batchIndex: index, outcome });
      const matched = outcome.matched;
      result.matched = matched.length;
      if (matched.length > 0) result.deliveries = matched.map((m) => m.deliveryId);
    }
    for (const { request, out } of work.parts) {
      for (let index = 0; index < request.events.length; index++) {
        if (out[index] !== undefined) continue;
        // Not processed: a repeat, so the client chose its id.
        const key = request.keys[index]!;
        const stored = known.get(key);
        out[index] = stored
          ? { index, id: request.events[index].id, duplicate: true, matched: stored.matched.length, deliveries: stored.matched.map((m) => m.deliveryId) }
          : { ...work.first.get(key)!, index, duplicate: true };
      }
    }
    await this.flush(em, work);
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

  /**
   * Reads the unit's runs (locking them on PostgreSQL) in one statement, and every
   * edge/cooldown state its events can touch.
   */
  private async load(em: EntityManager, work: UnitOfWork): Promise<void> {
    const planned = work.planned;
    const unread: RunRef[] = [];
    const seen = new Set<string>();
    for (const { event } of planned) {
      if (!event.run || work.runs.get(event.project)?.has(event.run.id)) continue;
      const ref = { project: event.project, runId: event.run.id };
      const key = runKey(ref);
      if (!seen.has(key)) unread.push(ref), seen.add(key);
    }
    const stored = await this.store.runs(em, work.teamId, unread);
    // Each run's context as of each event, as process will merge it: what its group's states are read by.
    const contexts = new Map<RunWork, RunContext>();
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
        const row = stored.get(runKey({ project: event.project, runId: event.run.id }));
        const subject = subjectFor(false, event);
        run = {
          project: event.project,
          runId: event.run.id,
          subject,
          states: work.statesOf(subject, event.project),
          state: row?.state ?? null,
          windows: row ? decodeWindows(row.windows) : {},
          context: row?.context ?? mergeRunContext(null, undefined),
          dirty: false,
          reportedName: null,
        };
        runs.set(event.run.id, run);
        work.runList.push(run);
      }
      plan.run = run;
      plan.subject = run.subject;
      const context = contexts.get(run) ?? run.context;
      plan.group = groupOf(event, context);
      if (changesContext(event.run)) contexts.set(run, mergeRunContext(context, event.run));
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
    for (const plan of planned) {
      const { event, candidates, run, subject } = plan;
      if (candidates.length === 0) continue;
      let kinds = kindsOf.get(candidates);
      if (!kinds) {
        kinds = { a: [], g: [], p: [] };
        for (const { automation, facts } of candidates) kinds[facts.group ? 'g' : facts.artifact ? 'a' : 'p'].push(automation.id);
        kindsOf.set(candidates, kinds);
      }
      if (kinds.p.length > 0) combine('p', subject, event.project, candidates);
      if (kinds.a.length > 0) combine('a', subjectFor(true, event), event.project, candidates);
      if (kinds.g.length > 0 && event.type === 'RUN_STATE' && run) combine('g', groupSubject(event, plan.group), event.project, candidates);
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
  private async process(em: EntityManager, work: UnitOfWork, { event, part, candidates, run, subject, group: groupName }: Planned): Promise<StoredOutcome> {
    const { auth, catalog, now } = part.request;
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
      if (changesContext(posted)) {
        run.context = mergeRunContext(run.context, posted);
        run.dirty = true;
      }
    }
    // RUN_GROUP_FINISHED reads its group's counts, only for a state report of a run of a group.
    let group: GroupCounts | null = null;
    if (run && event.type === 'RUN_STATE' && groupName !== null && candidates.some((c) => c.facts.group)) group = await this.groupCounts(em, work, event.project, groupName);
    const notFired = new NotFiredList();
    const plain = run?.states ?? work.statesOf(subject, event.project);
    for (const { entry, decision } of this.decideAll(work, catalog, event, plain, candidates, run?.windows ?? {}, previousRunState, run?.context ?? null, groupName, group, now, notFired)) {
      const automation = entry.automation;
      const names = { automationId: automation.id, automationName: automation.name };
      if (!decision.fires) {
        if (decision.suppressedBy) outcome.suppressed.push({ ...names, reason: decision.suppressedBy });
        else if (decision.notFired) notFired.record(automation.id, decision.notFired);
        continue;
      }
      const webhook = await this.webhook(em, work, automation.webhookId);
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
      if (handOver) part.handOvers.push({ handOver, delivery });
      else if (status === 'pending') part.due.push({ id: deliveryId, series: 1, attempt: 1, dueAt: now, delivery });
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
   * event), the run's (found once per run by load); `groupName`: the run's group as of the event
   * (Planned.group).
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
    groupName: string | null,
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
          ? (ofGroup ??= work.statesOf(groupSubject(event, groupName), event.project))
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
   * RUN_STALE's timers of the runs that reported in this unit, when automations of their
   * project watch for silence: re-armed while the run is RUNNING, stopped otherwise.
   */
  private async rearmStaleTimers(em: EntityManager, work: UnitOfWork): Promise<void> {
    for (const run of work.runList) {
      if (run.reportedName === null) continue;
      const lengths = work.index.staleSecondsFor(run.project);
      if (lengths.length === 0) continue;
      if (run.state === 'RUNNING') await this.store.armStaleTimers(em, work.teamId, run.project, run.runId, run.reportedName, lengths, work.now);
      else await this.store.stopStaleTimers(em, work.teamId, run.project, run.runId);
    }
  }

  /** Writes the unit's runs changed since they were read or last written. */
  private async saveRuns(em: EntityManager, work: UnitOfWork): Promise<void> {
    const changed: SavedRun[] = [];
    for (const run of work.runList) {
      if (!run.dirty) continue;
      changed.push({ project: run.project, runId: run.runId, run: { state: run.state, windows: encodeWindows(run.windows), context: run.context } });
      run.dirty = false;
    }
    await this.store.saveRuns(em, work.teamId, changed, work.now);
  }

  /**
   * The group's counts as this transaction sees them: the runs it changed are written first, so
   * the count includes this event's state.
   */
  private async groupCounts(em: EntityManager, work: UnitOfWork, project: string, group: string): Promise<GroupCounts> {
    await this.saveRuns(em, work);
    return this.store.groupCounts(em, work.teamId, project, group);
  }

  /** The automation's webhook, whole (a delivery handed over goes out with it), read once per transaction. */
  private async webhook(em: EntityManager, work: UnitOfWork, id: string): Promise<WebhookEntity | null> {
    const key = `${work.teamId} ${id}`;
    if (!work.webhooks.has(key)) {
      const webhook = (await this.deliveries.webhooks(em, [id])).get(id);
      work.webhooks.set(key, webhook && webhook.teamId === work.teamId ? webhook : null);
    }
    return work.webhooks.get(key)!;
  }

  /** Writes what the unit decided: its events, runs, timers, states and deliveries, each in bulk. */
  private async flush(em: EntityManager, work: UnitOfWork): Promise<void> {
    await this.store.insertEvents(em, work.events);
    await this.rearmStaleTimers(em, work);
    await this.saveRuns(em, work);
    const changed: StoredState[] = [];
    for (const [subject, states] of work.states) {
      states.forEachChanged((slot, state) => changed.push({ automationId: states.layout.ids[slot], subject, ...state, updatedAt: work.now }));
    }
    await this.store.saveStates(em, changed);
    await this.store.insertDeliveries(em, work.deliveries);
  }
}

/** Whether a run's report replaces part of its context (group, tags, config): see mergeRunContext. */
function changesContext(posted: EventRun): boolean {
  return posted.group !== undefined || posted.tags !== undefined || posted.config !== undefined;
}

/** What a unit of work whose events all have ids Herald assigned knows of them: nothing. */
const NONE_KNOWN: ReadonlyMap<string, StoredOutcome> = new Map();

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
