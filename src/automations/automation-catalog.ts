import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { Repository } from 'typeorm';
import { AutomationIndex, type CompiledAutomation, compileAutomation } from '../matching/matcher';
import { type CompiledTemplate, compileTemplate } from '../rendering/payload-template';
import { effectiveCooldownSeconds } from './automation-rules';
import type { MatchableAutomation } from './automation.types';
import { AutomationEntity } from './automation.entity';

/** An enabled automation ready to match and render: regexes and payload template compiled once. */
export interface CatalogEntry {
  entity: AutomationEntity;
  compiled: CompiledAutomation;
  /** The custom payload, compiled; null when the action uses a preset. */
  payload: CompiledTemplate | null;
}

export interface TeamCatalog {
  index: AutomationIndex;
  entries: Map<string, CatalogEntry>;
}

/**
 * The matcher's index of each team's enabled automations, built on first use and dropped
 * explicitly whenever an automation of the team changes (`invalidate`), so ingestion never
 * reads the automations table per event. Embedded mode has one process; a scaled-out
 * deployment must broadcast invalidations (see docs/architecture.md).
 */
@Injectable()
export class AutomationCatalog {
  private readonly teams = new Map<string, Promise<TeamCatalog>>();

  constructor(@InjectRepository(AutomationEntity) private readonly automations: Repository<AutomationEntity>) {}

  forTeam(teamId: string): Promise<TeamCatalog> {
    let catalog = this.teams.get(teamId);
    if (!catalog) {
      catalog = this.load(teamId);
      this.teams.set(teamId, catalog);
      catalog.catch(() => this.teams.delete(teamId));
    }
    return catalog;
  }

  invalidate(teamId: string): void {
    this.teams.delete(teamId);
  }

  private async load(teamId: string): Promise<TeamCatalog> {
    const rows = await this.automations.find({ where: { teamId, enabled: true } });
    const entries = new Map<string, CatalogEntry>();
    for (const row of rows) entries.set(row.id, catalogEntry(row));
    return { index: new AutomationIndex([...entries.values()].map((e) => e.compiled)), entries };
  }
}

export function matchable(row: AutomationEntity): MatchableAutomation {
  return {
    id: row.id,
    name: row.name,
    scope: row.scope,
    trigger: row.trigger,
    runFilter: row.runFilter,
    cooldownSeconds: effectiveCooldownSeconds(row.trigger, row.cooldownSeconds),
    triggerVersion: row.triggerVersion,
  };
}

export function catalogEntry(row: AutomationEntity): CatalogEntry {
  const payload = row.action.payload === undefined ? null : compileTemplate(row.action.payload);
  return { entity: row, compiled: compileAutomation(matchable(row)), payload };
}
