import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type EntityManager, MoreThan, type Repository } from 'typeorm';
import type { AuthContext } from '../auth/auth-context';
import { Clock } from '../common/clock';
import { ApiError, type FieldProblem } from '../common/errors/api-error';
import { checkIfMatch, contentEtag, type IfMatchTags } from '../common/etag/etag';
import { newId } from '../common/ids';
import { decodeCursor, limitOf, type NamedListQueryDto, type Page, toPage } from '../common/pagination/pagination';
import { asRow, isoTime } from '../database/columns';
import { TransactionRunner } from '../database/transaction-runner';
import { completeEvent, validateEventBatch } from '../events/event-validation';
import { type HeraldEvent, mergeRunContext } from '../events/event.types';
import { RunEntity } from '../events/run.entity';
import { decodeWindows } from '../events/stored-windows';
import { compileAutomation, evaluate, groupOf, groupSubject, inCooldown, subjectOf } from '../matching/matcher';
import { appendMetrics, windowSizes } from '../matching/metric-windows';
import { compileTemplate } from '../rendering/payload-template';
import { PresetLibrary } from '../rendering/presets';
import { variablesForTrigger, type VariableInfo } from '../rendering/variables';
import { boundSecretNames } from '../webhooks/webhook-rules';
import { WebhookEntity } from '../webhooks/webhook.entity';
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

export interface PreviewResult {
  wouldFire: boolean;
  cooldownActive: boolean;
  filters: { filter: string; passed: boolean; actual: unknown; expected: unknown }[];
  /** The body that would be sent, secrets masked (parsed JSON). */
  body: unknown;
}

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
    this.catalog.invalidate(auth.teamId);
  }

  /** What a saved automation would do with this event, against a copy of the stored state. */
  async preview(auth: AuthContext, id: string, eventBody: unknown): Promise<PreviewResult> {
    const row = await this.find(auth.teamId, id);
    const event = this.previewEvent(eventBody, '');
    let subject = subjectOf(matchable(row), event);
    if (isGroupTrigger(row.trigger.event) && event.run) {
      const run = await this.tx.run((em) => em.findOneBy(RunEntity, { teamId: auth.teamId, project: event.project, runId: event.run!.id }));
      subject = groupSubject(event, groupOf(event, run ? { group: run.group, tags: null, config: null } : null));
    }
    const stateRow = await this.tx.run((em) => em.findOneBy(AutomationStateEntity, { automationId: row.id, subject }));
    const state = stateRow ? { matching: stateRow.matching, lastFiredAt: stateRow.lastFiredAt, triggerVersion: stateRow.triggerVersion } : null;
    return this.explain(auth, row, event, state);
  }

  /** The console's wizard: an automation not saved yet, with a sample event. */
  async previewUnsaved(auth: AuthContext, body: { automation: unknown; event: unknown }): Promise<PreviewResult> {
    const automation = await this.tx.run((em) => this.validated(em, auth.teamId, body.automation as AutomationInput, 'automation.'));
    const event = this.previewEvent(body.event, 'event.');
    const row = newRow('aut_preview', auth.teamId, automation, this.clock.now());
    return this.explain(auth, row, event, null);
  }

  variables(trigger: string | undefined): { items: VariableInfo[] } {
    if (trigger !== undefined && !isTriggerName(trigger)) {
      throw ApiError.invalidField('trigger', `must be one of the automation triggers, not ${trigger}`);
    }
    return { items: variablesForTrigger(trigger) };
  }

  private async explain(
    auth: AuthContext,
    row: AutomationEntity,
    event: HeraldEvent,
    state: { matching: boolean; lastFiredAt: number | null; triggerVersion: number } | null,
  ): Promise<PreviewResult> {
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
    const webhook = await this.tx.run((em) => em.findOneBy(WebhookEntity, { teamId: auth.teamId, id: row.webhookId }));
    const body = renderPreviewBody(
      {
        action: row.action,
        payload: row.action.payload === undefined ? null : compileTemplate(row.action.payload),
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
    );
    return {
      wouldFire: evaluation.fires,
      cooldownActive: evaluation.suppressedBy === 'cooldown' || inCooldown(automation, state, now),
      filters: evaluation.filters,
      body: JSON.parse(body),
    };
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
    if (normalized.ok) {
      const { action } = normalized.automation;
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
      this.catalog.invalidate(auth.teamId);
    }
  }

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
