import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type EntityManager, MoreThan, type Repository } from 'typeorm';
import type { AuthContext } from '../auth/auth-context';
import { Clock } from '../common/clock';
import { ApiError, type FieldProblem } from '../common/errors/api-error';
import { checkIfMatch, contentEtag, type IfMatchTags } from '../common/etag/etag';
import { newId } from '../common/ids';
import { compositeKey } from '../common/identifiers';
import { decodeCursor, limitOf, type NamedListQueryDto, type Page, toPage } from '../common/pagination/pagination';
import { asRow, isoTime } from '../database/columns';
import { TransactionRunner } from '../database/transaction-runner';
import { MAX_BATCH, completeEvent, validateEventBatch } from '../events/event-validation';
import { type HeraldEvent, type RunContext, type RunState, mergeRunContext } from '../events/event.types';
import { isPlainObject } from '../common/plain-object';
import { RunEntity } from '../events/run.entity';
import { decodeWindows } from '../events/stored-windows';
import { type Evaluation, type FilterVerdict, type NotFiredReason, type SubjectState, compileAutomation, evaluate, groupOf, groupSubject, inCooldown, subjectOf } from '../matching/matcher';
import { type MetricWindows, appendMetrics, appendMetricsInPlace, windowSizes } from '../matching/metric-windows';
import { compileTemplate } from '../rendering/payload-template';
import { PresetLibrary } from '../rendering/presets';
import { variablesForTrigger, type VariableInfo } from '../rendering/variables';
import { boundSecretNames } from '../webhooks/webhook-rules';
import { WebhookEntity } from '../webhooks/webhook.entity';
import { BodyTooLargeError } from '../rendering/payload-template';
import { renderPreviewBody } from './action-renderer';
import { AutomationCatalog, matchable } from './automation-catalog';
import {
  type AutomationInput,
  type NormalizedAutomation,
  actionProblems,
  mergePatch,
  normalizeAutomation,
} from './automation-rules';
import { type GroupCounts, effectiveCooldownSeconds, isGroupTrigger, isTriggerName } from './triggers';
import { AutomationStateEntity } from './automation-state.entity';
import { AutomationEntity } from './automation.entity';

export interface AutomationView {
  id: string;
  name: string;
  description: string;
  enabled: boolean;
  scope: AutomationEntity['scope'];
  trigger: AutomationEntity['trigger'];
  runFilter: AutomationEntity['runFilter'];
  filter: AutomationEntity['filter'];
  action: AutomationEntity['action'];
  cooldownSeconds: number;
  lastFiredAt: string | null;
  fireCount: number;
  etag: string;
  createdAt: string;
  updatedAt: string;
}

/** What one event of a preview does: the decision, each filter, and the body when it fires. */
export interface PreviewStep {
  /** The event's position in the preview's events (0 for a single event). */
  index: number;
  eventId: string;
  wouldFire: boolean;
  /** fires; held back (cooldown, edge); not fired (filter, window, condition); not_applicable (the event does not carry the metric). */
  decision: PreviewDecision;
  /** For `filter` and `window`: which filter failed, or how many values of how many the window holds. */
  notFired?: NotFiredReason;
  filters: FilterVerdict[];
  /** The body that would be sent for this event, secrets masked (parsed JSON); null when it does not fire. */
  body: unknown;
}

export type PreviewDecision = 'fires' | 'cooldown' | 'edge' | 'filter' | 'window' | 'condition' | 'not_applicable';

export interface PreviewResult {
  /** `stored`: one event against the run's stored windows and edge state; `fresh`: a sequence through empty windows and no state. */
  windows: 'stored' | 'fresh';
  /** Whether the event (or any event of the sequence) would fire. */
  wouldFire: boolean;
  /** The last event's: whether the cooldown holds it back. */
  cooldownActive: boolean;
  /** The last event's filters, in the order checked. */
  filters: FilterVerdict[];
  /** The body that would be sent, secrets masked (parsed JSON): the first firing event's, else the last event's. */
  body: unknown;
  steps: PreviewStep[];
}

/** A sequence previewed through fresh windows holds at most this many events. */
export const MAX_PREVIEW_EVENTS = MAX_BATCH;

@Injectable()
export class AutomationsService {
  constructor(
    @InjectRepository(AutomationEntity) private readonly automations: Repository<AutomationEntity>,
    private readonly catalog: AutomationCatalog,
    private readonly presets: PresetLibrary,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
  ) {}

  async list(auth: AuthContext, query: NamedListQueryDto): Promise<Page<AutomationView>> {
    const after = decodeCursor(query.cursor);
    const limit = limitOf(query);
    const rows = await this.automations.find({
      where: { teamId: auth.teamId, ...(after ? { name: MoreThan(after) } : {}), ...(query.name !== undefined ? { name: query.name } : {}) },
      order: { name: 'ASC' },
      take: limit + 1,
    });
    return toPage(rows, limit, (row) => row.name, toView);
  }

  async get(auth: AuthContext, id: string): Promise<AutomationView> {
    return toView(await this.find(auth.teamId, id));
  }

  async create(auth: AuthContext, input: unknown): Promise<AutomationView> {
    const now = this.clock.now();
    const row = await this.save(auth, async (em) => {
      const automation = await this.validated(em, auth.teamId, input as AutomationInput);
      const entity = newRow(newId('aut'), auth.teamId, automation, now);
      await em.insert(AutomationEntity, asRow(entity));
      return entity;
    });
    return toView(row);
  }

  async update(auth: AuthContext, id: string, patch: unknown, ifMatch?: IfMatchTags): Promise<AutomationView> {
    const row = await this.save(auth, async (em) => {
      const existing = await this.find(auth.teamId, id, em);
      checkIfMatch(ifMatch, automationEtag(existing), `Automation ${existing.name}`);
      const merged = mergePatch(inputOf(existing), patch);
      const automation = await this.validated(em, auth.teamId, merged.input, '', merged.problems);
      const columns = columnsOf(automation);
      // Changing the trigger resets edge and cooldown state (the matcher ignores older versions).
      const triggerChanged =
        JSON.stringify(columns.trigger) !== JSON.stringify(existing.trigger) ||
        JSON.stringify(columns.scope) !== JSON.stringify(existing.scope);
      const updated: AutomationEntity = {
        ...existing,
        ...columns,
        triggerVersion: existing.triggerVersion + (triggerChanged ? 1 : 0),
        updatedAt: this.clock.now(),
      };
      await em.save(AutomationEntity, updated);
      return updated;
    });
    return toView(row);
  }

  async delete(auth: AuthContext, id: string, ifMatch?: IfMatchTags): Promise<void> {
    await this.tx.run(async (em) => {
      // With If-Match the check and the delete must not race a PATCH, which holds the team's lock.
      if (ifMatch !== undefined) await this.tx.lockTeam(em, auth.teamId);
      const existing = await this.find(auth.teamId, id, em);
      checkIfMatch(ifMatch, automationEtag(existing), `Automation ${existing.name}`);
      await em.delete(AutomationEntity, { id: existing.id });
      await this.catalog.bumpVersion(em, auth.teamId);
    });
    await this.catalog.invalidate(auth.teamId);
  }

  /**
   * What a saved automation would do, changing nothing: with one event (the body itself, or
   * `{event}`), against the run's stored windows and the stored edge and cooldown state; with
   * `{events: [...]}`, the sequence through fresh windows and no state.
   */
  async preview(auth: AuthContext, id: string, body: unknown): Promise<PreviewResult> {
    const row = await this.find(auth.teamId, id);
    const input = isPlainObject(body) && (Object.hasOwn(body, 'events') || Object.hasOwn(body, 'event')) ? this.previewEvents(body, '') : null;
    if (input?.fresh) return this.explainSequence(auth, row, input.events);
    const event = input ? input.events[0] : this.previewEvent(body, '');
    let subject = subjectOf(matchable(row), event);
    if (isGroupTrigger(row.trigger.event) && event.run) {
      const run = await this.tx.run((em) => em.findOneBy(RunEntity, { teamId: auth.teamId, project: event.project, runId: event.run!.id }));
      subject = groupSubject(event, groupOf(event, run ? { group: run.group, tags: null, config: null } : null));
    }
    const stateRow = await this.tx.run((em) => em.findOneBy(AutomationStateEntity, { automationId: row.id, subject }));
    const state = stateRow ? { matching: stateRow.matching, lastFiredAt: stateRow.lastFiredAt, triggerVersion: stateRow.triggerVersion } : null;
    return this.explain(auth, row, event, state);
  }

  /**
   * The console's wizard: an automation not saved yet, with a sample `event` (against the run's
   * stored windows; no edge or cooldown state) or a sequence of `events` (fresh windows).
   */
  async previewUnsaved(auth: AuthContext, body: { automation: unknown; event?: unknown; events?: unknown }): Promise<PreviewResult> {
    const validation = await this.tx.run(async (em) => {
      try {
        return { automation: await this.validated(em, auth.teamId, body.automation as AutomationInput, 'automation.'), problems: [] };
      } catch (error) {
        if (error instanceof ApiError && error.details) return { automation: null, problems: error.details };
        throw error;
      }
    });
    // The automation's problems and the events' in one answer.
    let input: { events: HeraldEvent[]; fresh: boolean } | null = null;
    try {
      input = this.previewEvents({ event: body.event, events: body.events }, '');
    } catch (error) {
      if (!(error instanceof ApiError && error.details)) throw error;
      throw ApiError.invalid([...validation.problems, ...error.details]);
    }
    if (validation.automation === null) throw ApiError.invalid(validation.problems);
    const row = newRow('aut_preview', auth.teamId, validation.automation, this.clock.now());
    return input.fresh ? this.explainSequence(auth, row, input.events) : this.explain(auth, row, input.events[0], null);
  }

  variables(trigger: string | undefined): { items: VariableInfo[] } {
    if (trigger !== undefined && !isTriggerName(trigger)) {
      throw ApiError.invalidField('trigger', `must be one of the automation triggers, not ${trigger}`);
    }
    return { items: variablesForTrigger(trigger) };
  }

  /** One event against the run's stored windows and the given edge/cooldown state. */
  private async explain(auth: AuthContext, row: AutomationEntity, event: HeraldEvent, state: SubjectState | null): Promise<PreviewResult> {
    const automation = matchable(row);
    const compiled = compileAutomation(automation);
    const run = event.run
      ? await this.tx.run((em) => em.findOneBy(RunEntity, { teamId: auth.teamId, project: event.project, runId: event.run!.id }))
      : null;
    const stored = run ? decodeWindows(run.windows) : {};
    const windows = event.metrics ? appendMetrics(stored, event.metrics, windowSizes([automation])).windows : stored;
    const now = this.clock.now();
    const runContext = event.run ? mergeRunContext(run ? { group: run.group, tags: run.tags, config: run.config } : null, event.run) : null;
    const group = isGroupTrigger(row.trigger.event) && event.type === 'RUN_STATE' && runContext?.group ? await this.groupCounts(auth.teamId, event, runContext.group) : null;
    const evaluation = evaluate(compiled, event, { windows, previousRunState: run?.state ?? null, state, nowMs: now, runContext, group });
    const render = await this.previewRenderer(auth, row);
    const body = render(event, evaluation, runContext, group);
    const step = stepOf(0, event, evaluation, evaluation.fires ? body : null);
    return {
      windows: 'stored',
      wouldFire: evaluation.fires,
      cooldownActive: evaluation.suppressedBy === 'cooldown' || inCooldown(automation, state, now),
      filters: evaluation.filters,
      body,
      steps: [step],
    };
  }

  /**
   * A sequence through fresh windows and no edge or cooldown state, as ingestion would see
   * these events of new runs one after the other (each run's windows and state its own), now.
   */
  private async explainSequence(auth: AuthContext, row: AutomationEntity, events: HeraldEvent[]): Promise<PreviewResult> {
    const automation = matchable(row);
    const compiled = compileAutomation(automation);
    const sizes = windowSizes([automation]);
    const render = await this.previewRenderer(auth, row);
    const now = this.clock.now();
    const windowsByRun = new Map<string, MetricWindows>();
    const runStates = new Map<string, RunState>();
    const runContexts = new Map<string, RunContext>();
    const runKeyProjects = new Map<string, string>();
    let lastContext: RunContext | null = null;
    const states = new Map<string, SubjectState>();
    const steps: PreviewStep[] = [];
    let last: Evaluation | null = null;
    let firstBody: unknown = undefined;
    for (const [index, event] of events.entries()) {
      const runKey = event.run ? compositeKey(event.project, event.run.id) : null;
      let windows: MetricWindows = {};
      if (runKey !== null) {
        if (!windowsByRun.has(runKey)) windowsByRun.set(runKey, {});
        windows = windowsByRun.get(runKey)!;
        appendMetricsInPlace(windows, event.metrics, sizes);
      }
      const previousRunState = runKey !== null ? (runStates.get(runKey) ?? null) : null;
      if (runKey !== null && event.type === 'RUN_STATE' && event.run?.state) runStates.set(runKey, event.run.state);
      const runContext = runKey !== null ? mergeRunContext(runContexts.get(runKey) ?? null, event.run) : null;
      if (runKey !== null) {
        runContexts.set(runKey, runContext!);
        runKeyProjects.set(runKey, event.project);
      }
      lastContext = runContext;
      // RUN_GROUP_FINISHED: the group as these events left it (runs of other groups apart).
      const groupName = isGroupTrigger(automation.trigger.event) ? groupOf(event, runContext) : null;
      const group = groupName !== null && event.type === 'RUN_STATE' ? sequenceGroupCounts(event.project, groupName, runContexts, runStates, runKeyProjects) : null;
      const subject = groupName !== null ? groupSubject(event, groupName) : subjectOf(automation, event);
      const evaluation = evaluate(compiled, event, { windows, previousRunState, state: states.get(subject) ?? null, nowMs: now, runContext, group });
      if (evaluation.nextState) states.set(subject, evaluation.nextState);
      const body = evaluation.fires ? render(event, evaluation, runContext, group) : null;
      if (evaluation.fires && firstBody === undefined) firstBody = body;
      steps.push(stepOf(index, event, evaluation, body));
      last = evaluation;
    }
    const lastEvent = events[events.length - 1];
    return {
      windows: 'fresh',
      wouldFire: steps.some((s) => s.wouldFire),
      cooldownActive: last!.suppressedBy === 'cooldown',
      filters: last!.filters,
      body: firstBody !== undefined ? firstBody : render(lastEvent, last!, lastContext, null),
      steps,
    };
  }

  /** Renders the body the automation would send for an event, secrets masked, parsed. */
  private async previewRenderer(
    auth: AuthContext,
    row: AutomationEntity,
  ): Promise<(event: HeraldEvent, evaluation: Evaluation, runContext: RunContext | null, group: GroupCounts | null) => unknown> {
    const webhook = await this.tx.run((em) => em.findOneBy(WebhookEntity, { teamId: auth.teamId, id: row.webhookId }));
    const payload = row.action.payload === undefined ? null : compileTemplate(row.action.payload);
    return (event, evaluation, runContext, group) =>
      JSON.parse(
        previewBodyOrRefusal(
          {
            action: row.action,
            payload,
            webhookKind: webhook!.kind,
            event,
            team: { id: auth.teamId, name: auth.teamName },
            automation: { id: row.id, name: row.name },
            deliveryId: 'msg_preview',
            metric: evaluation.metric,
            logLine: evaluation.logLine,
            runContext,
            group,
          },
          this.presets,
        ),
      );
  }


  /**
   * `{event}` (one, against the stored windows) or `{events: [...]}` (a sequence through fresh
   * windows), exactly one; problems named `event.<field>` or `events[i].<field>`.
   */
  private previewEvents(body: Record<string, unknown>, prefix: string): { events: HeraldEvent[]; fresh: boolean } {
    const problems: FieldProblem[] = [];
    for (const key of Object.keys(body)) {
      if (key !== 'event' && key !== 'events') problems.push({ field: `${prefix}${key}`, reason: 'is not an allowed field' });
    }
    const hasEvent = body.event !== undefined;
    const hasEvents = body.events !== undefined;
    if (hasEvent === hasEvents) {
      problems.push({ field: `${prefix}event`, reason: 'give exactly one of event (one event, against the stored windows) and events (a sequence, through fresh windows)' });
    }
    if (problems.length > 0) throw ApiError.invalid(problems);
    if (hasEvent) return { events: [this.previewEvent(body.event, `${prefix}event.`)], fresh: false };
    if (!Array.isArray(body.events)) throw ApiError.invalidField(`${prefix}events`, `must be an array of 1 to ${MAX_PREVIEW_EVENTS} events`);
    const validation = validateEventBatch(body.events, { operational: true });
    if (!validation.ok) throw ApiError.invalid(validation.problems.map((p) => ({ field: `${prefix}${p.field}`, reason: p.reason })));
    const now = this.clock.now();
    return { events: validation.events.map((e, i) => completeEvent(e, now, () => `evt_preview_${i}`)), fresh: true };
  }

  /** The group's counts as they would be after the previewed state report (RUN_GROUP_FINISHED). */
  private async groupCounts(teamId: string, event: HeraldEvent, group: string): Promise<GroupCounts> {
    const runs = await this.tx.run((em) => em.find(RunEntity, { where: { teamId, project: event.project, group }, select: { runId: true, state: true } }));
    const states = new Map(runs.map((r) => [r.runId, r.state]));
    states.set(event.run!.id, event.run!.state ?? null);
    const counts: GroupCounts = { total: states.size, running: 0, finished: 0, failed: 0 };
    for (const state of states.values()) {
      if (state === 'RUNNING') counts.running++;
      else if (state !== null) counts.finished++;
      if (state === 'FAILED' || state === 'CRASHED') counts.failed++;
    }
    return counts;
  }

  private previewEvent(body: unknown, prefix: string): HeraldEvent {
    if (Array.isArray(body)) throw ApiError.invalidField(prefix ? prefix.slice(0, -1) : 'body', 'must be one event, not an array');
    const validation = validateEventBatch(body, { operational: true });
    if (!validation.ok) {
      const problems = validation.problems.map((p) => ({ field: `${prefix}${p.field}`, reason: p.reason }));
      throw ApiError.invalid(problems);
    }
    return completeEvent(validation.events[0], this.clock.now(), () => 'evt_preview');
  }

  private async find(teamId: string, id: string, em?: EntityManager): Promise<AutomationEntity> {
    const row = await (em ? em.findOneBy(AutomationEntity, { teamId, id }) : this.automations.findOneBy({ teamId, id }));
    if (!row) throw ApiError.notFound(`Automation ${id}`);
    return row;
  }

  /**
   * Normalizes and checks an automation, including its webhook (in the team) and payload (bound
   * secrets); `earlier` are problems found before (a PATCH's own), reported with the others.
   */
  private async validated(
    em: EntityManager,
    teamId: string,
    input: AutomationInput,
    prefix = '',
    earlier: FieldProblem[] = [],
  ): Promise<NormalizedAutomation> {
    const normalized = normalizeAutomation(input);
    const problems = normalized.ok ? [...earlier] : [...earlier, ...normalized.problems];
    // The action's own checks run even when other fields are wrong: every problem in one answer.
    const action = normalized.ok ? normalized.automation.action : normalized.action;
    if (action !== undefined) {
      const webhook = await em.findOneBy(WebhookEntity, { teamId, id: action.webhookId });
      if (webhook) problems.push(...actionProblems(action, boundSecretNames(webhook)));
      else problems.push({ field: 'action.webhookId', reason: `webhook ${action.webhookId} does not exist in this team` });
    }
    if (problems.length > 0 || !normalized.ok) throw ApiError.invalid(problems.map((p) => ({ field: `${prefix}${p.field}`, reason: p.reason })));
    return normalized.automation;
  }

  private async save(auth: AuthContext, work: (em: EntityManager) => Promise<AutomationEntity>): Promise<AutomationEntity> {
    try {
      return await this.tx.saveNamed(auth.teamId, 'automation', async (em) => {
        const row = await work(em);
        await this.catalog.bumpVersion(em, auth.teamId);
        return row;
      });
    } finally {
      await this.catalog.invalidate(auth.teamId);
    }
  }

}

function stepOf(index: number, event: HeraldEvent, evaluation: Evaluation, body: unknown): PreviewStep {
  const decision: PreviewDecision = evaluation.fires
    ? 'fires'
    : evaluation.suppressedBy !== null
      ? evaluation.suppressedBy
      : evaluation.notFired
        ? evaluation.notFired.reason
        : 'not_applicable';
  const step: PreviewStep = { index, eventId: event.id, wouldFire: evaluation.fires, decision, filters: evaluation.filters, body };
  if (evaluation.notFired && evaluation.notFired.reason !== 'condition') step.notFired = evaluation.notFired;
  return step;
}

function columnsOf(automation: NormalizedAutomation) {
  return {
    name: automation.name,
    description: automation.description,
    enabled: automation.enabled,
    scope: automation.scope,
    triggerEvent: automation.trigger.event,
    trigger: automation.trigger,
    runFilter: automation.runFilter,
    filter: automation.filter,
    action: automation.action,
    webhookId: automation.action.webhookId,
    cooldownSeconds: automation.cooldownSeconds,
  };
}

function newRow(id: string, teamId: string, automation: NormalizedAutomation, now: number): AutomationEntity {
  return { id, teamId, ...columnsOf(automation), triggerVersion: 1, lastFiredAt: null, fireCount: 0, createdAt: now, updatedAt: now };
}

/** The stored automation as the input PATCH merges into. */
function inputOf(row: AutomationEntity): AutomationInput {
  return {
    name: row.name,
    description: row.description,
    enabled: row.enabled,
    scope: row.scope,
    trigger: row.trigger,
    ...(row.runFilter ? { runFilter: row.runFilter } : {}),
    ...(row.filter ? { filter: row.filter } : {}),
    action: row.action,
    ...(row.cooldownSeconds === null ? {} : { cooldownSeconds: row.cooldownSeconds }),
  };
}

function toView(row: AutomationEntity): AutomationView {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    enabled: row.enabled,
    scope: row.scope,
    trigger: row.trigger,
    runFilter: row.runFilter,
    filter: row.filter,
    action: row.action,
    cooldownSeconds: effectiveCooldownSeconds(row.trigger, row.cooldownSeconds),
    lastFiredAt: isoTime(row.lastFiredAt),
    fireCount: row.fireCount,
    etag: automationEtag(row),
    createdAt: isoTime(row.createdAt)!,
    updatedAt: isoTime(row.updatedAt)!,
  };
}

/** The etag of an automation: what it is configured to do, not when or how often it fired. */
function automationEtag(row: AutomationEntity): string {
  const { name, description, enabled, scope, trigger, runFilter, filter, action, cooldownSeconds } = row;
  // An automation without a filter keeps the etag it had before filters existed.
  return contentEtag({ name, description, enabled, scope, trigger, runFilter, ...(filter ? { filter } : {}), action, cooldownSeconds });
}

/** A preview whose body would be over the webhook's limit is a 400 saying so, as the match would record it. */
function previewBodyOrRefusal(...args: Parameters<typeof renderPreviewBody>): string {
  try {
    return renderPreviewBody(...args);
  } catch (error) {
    if (error instanceof BodyTooLargeError) throw ApiError.badRequest(error.message);
    throw error;
  }
}

/** A group's counts after the sequence's events so far: its runs' latest states (RUN_GROUP_FINISHED in a fresh preview). */
function sequenceGroupCounts(
  project: string,
  group: string,
  contexts: ReadonlyMap<string, RunContext>,
  states: ReadonlyMap<string, RunState>,
  projects: ReadonlyMap<string, string>,
): GroupCounts {
  const counts: GroupCounts = { total: 0, running: 0, finished: 0, failed: 0 };
  for (const [key, context] of contexts) {
    if (context.group !== group || projects.get(key) !== project) continue;
    counts.total++;
    const state = states.get(key);
    if (state === 'RUNNING') counts.running++;
    else if (state !== undefined) counts.finished++;
    if (state === 'FAILED' || state === 'CRASHED') counts.failed++;
  }
  return counts;
}
