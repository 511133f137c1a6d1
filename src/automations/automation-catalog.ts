import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { EntityManager, Repository } from 'typeorm';
import { TeamEntity } from '../auth/team.entity';
import { Clock } from '../common/clock';
import { TransactionRunner } from '../database/transaction-runner';
import { CacheToken } from '../delivery/queue/cache-token';
import { AutomationIndex, type CompiledAutomation, compileAutomation } from '../matching/matcher';
import { type CompiledTemplate, sharedTemplate } from '../rendering/payload-template';
import { effectiveCooldownSeconds } from './triggers';
import type { AutomationAction, MatchableAutomation } from './automation.types';
import { AutomationEntity } from './automation.entity';

/** Scaled mode: a catalog checked under the current cache token is checked again after this long anyway. */
const SCALED_CHECK_MAX_AGE_MS = 5_000;

/** What ingestion reads of an automation that fired, beside its compiled forms. */
export interface CatalogAutomation {
  readonly id: string;
  readonly name: string;
  readonly webhookId: string;
  /** The action without its raw payload (`payload` below is the compiled one). */
  readonly action: AutomationAction;
}

/**
 * An enabled automation ready to match and render: regexes and payload template compiled
 * once. Only these plans are kept, not the rows they came from (10 000 automations must fit
 * in a small process).
 */
export interface CatalogEntry {
  automation: CatalogAutomation;
  compiled: CompiledAutomation;
  /** The custom payload, compiled (and shared by the automations carrying the same one); null when the action uses a preset. */
  payload: CompiledTemplate | null;
}

export interface TeamCatalog {
  index: AutomationIndex;
  entries: Map<string, CatalogEntry>;
  /** The team's automations_version this catalog was loaded at. */
  version: number;
}

/**
 * The matcher's index of each team's enabled automations, built on first use, so ingestion
 * never reads the automations table per event. Every automation change bumps the team's
 * `automations_version` in its own transaction and, after the commit, drops this process's
 * copy (`invalidate`). With PostgreSQL, where other processes change automations too, `forTeam`
 * also checks the version and reloads when it moved: a change acknowledged before an ingestion
 * request starts is always seen by it, in every process. Without Redis that check reads the
 * version (one primary-key lookup) per request; in the scaled mode `invalidate` also sets the
 * shared cache token anew (CacheToken), and a catalog whose version was checked under the
 * token a request reads (one Redis GET) is used without reading the version again (at most
 * `SCALED_CHECK_MAX_AGE_MS` after that check).
 */
@Injectable()
export class AutomationCatalog {
  private readonly teams = new Map<string, Promise<TeamCatalog>>();
  /** Scaled mode: the catalog whose version was last checked, the token read before that check, and when. */
  private readonly checked = new Map<string, { catalog: TeamCatalog; token: string; at: number }>();

  constructor(
    @InjectRepository(AutomationEntity) private readonly automations: Repository<AutomationEntity>,
    @InjectRepository(TeamEntity) private readonly teamRows: Repository<TeamEntity>,
    private readonly tx: TransactionRunner,
    private readonly cacheToken: CacheToken,
    private readonly clock: Clock,
  ) {}

  async forTeam(teamId: string): Promise<TeamCatalog> {
    const cached = this.teams.get(teamId);
    if (cached && !this.tx.locksRows) return cached;
    if (cached) {
      // The token first: a change whose bump comes after this read is checked for below.
      const token = this.cacheToken.enabled ? await this.cacheToken.read() : null;
      const catalog = await cached;
      const now = this.clock.now();
      const check = this.checked.get(teamId);
      if (token !== null && check?.catalog === catalog && check.token === token && now - check.at <= SCALED_CHECK_MAX_AGE_MS) return catalog;
      const version = await this.versionOf(teamId);
      if (catalog.version === version) {
        if (token !== null) this.checked.set(teamId, { catalog, token, at: now });
        return catalog;
      }
      if (this.teams.get(teamId) === cached) this.teams.delete(teamId);
    }
    let catalog = this.teams.get(teamId);
    if (!catalog) {
      catalog = this.load(teamId);
      this.teams.set(teamId, catalog);
      catalog.catch(() => this.teams.delete(teamId));
    }
    return catalog;
  }

  /** After the commit of a change to the team's automations (also when it failed): reloads here, and in every scaled process. */
  async invalidate(teamId: string): Promise<void> {
    this.teams.delete(teamId);
    this.checked.delete(teamId);
    await this.cacheToken.bump();
  }

  /** Marks a change of the team's automations; call inside the transaction that makes it. */
  async bumpVersion(em: EntityManager, teamId: string): Promise<void> {
    await em.increment(TeamEntity, { id: teamId }, 'automationsVersion', 1);
  }

  private async versionOf(teamId: string): Promise<number> {
    const team = await this.teamRows.findOne({ where: { id: teamId }, select: { id: true, automationsVersion: true } });
    return team?.automationsVersion ?? 0;
  }

  private async load(teamId: string): Promise<TeamCatalog> {
    // The version is read first: a change landing between the two reads makes the next
    // request reload, never keeps a stale index.
    const version = await this.versionOf(teamId);
    const rows = await this.automations.find({ where: { teamId, enabled: true } });
    const entries = new Map<string, CatalogEntry>();
    for (const row of rows) entries.set(row.id, catalogEntry(row));
    return { index: new AutomationIndex([...entries.values()].map((e) => e.compiled)), entries, version };
  }
}

export function matchable(row: AutomationEntity): MatchableAutomation {
  return {
    id: row.id,
    name: row.name,
    scope: row.scope,
    trigger: row.trigger,
    runFilter: row.runFilter,
    filter: row.filter ?? null,
    cooldownSeconds: effectiveCooldownSeconds(row.trigger, row.cooldownSeconds),
    triggerVersion: row.triggerVersion,
  };
}

export function catalogEntry(row: AutomationEntity): CatalogEntry {
  const payload = row.action.payload === undefined ? null : sharedTemplate(row.action.payload);
  const action: AutomationAction = row.action.template === undefined ? { webhookId: row.webhookId } : { webhookId: row.webhookId, template: row.action.template };
  return { automation: { id: row.id, name: row.name, webhookId: row.webhookId, action }, compiled: compileAutomation(matchable(row)), payload };
}
