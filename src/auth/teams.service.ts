import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock } from '../common/clock';
import { ApiError } from '../common/errors/api-error';
import { newId } from '../common/ids';
import { isUniqueViolation } from '../database/errors';
import { TransactionRunner } from '../database/transaction-runner';
import { API_KEY_ROLES, type ApiKeyRole, type GeneratedApiKey, generateApiKey } from './api-key-format';
import { ApiKeyEntity } from './api-key.entity';
import { TeamEntity } from './team.entity';

/** Lowercase, W&B-entity-like: it appears in artifact version strings (`team/project/collection:v3`). */
export const TEAM_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export interface CreatedTeam {
  team: TeamEntity;
  adminKey: GeneratedApiKey;
}

/** Teams are created by operators (CLI, bootstrap), never over the team-scoped API. */
@Injectable()
export class TeamsService {
  constructor(
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
  ) {}

  /** Creates a team and its first admin key in one transaction. */
  async createWithAdminKey(name: string, adminKey: GeneratedApiKey = generateApiKey()): Promise<CreatedTeam> {
    if (!TEAM_NAME_PATTERN.test(name)) {
      throw ApiError.invalidField('name', `must match ${TEAM_NAME_PATTERN.source} (lowercase letters, digits, - and _)`);
    }
    try {
      return await this.tx.run(async (em) => {
        const team = await em.save(TeamEntity, { id: newId('team'), name, createdAt: this.clock.now() });
        await this.insertAdminKey(em, team.id, 'bootstrap admin', adminKey);
        return { team, adminKey };
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw ApiError.conflict(`A team named "${name}" already exists`);
      throw error;
    }
  }

  /**
   * Issues a new key of `role` (all projects) for the team of that name: the operator's way
   * back in when every admin key of a team is lost (`herald keys create`).
   */
  async createKey(teamName: string, role: ApiKeyRole, name: string): Promise<{ team: TeamEntity; key: GeneratedApiKey; id: string }> {
    if (!(API_KEY_ROLES as readonly string[]).includes(role)) throw ApiError.invalidField('role', `must be one of ${API_KEY_ROLES.join(', ')}`);
    const key = generateApiKey();
    return this.tx.run(async (em) => {
      const team = await em.findOneBy(TeamEntity, { name: teamName });
      if (!team) throw ApiError.notFound(`Team "${teamName}"`);
      const row = await this.insertKey(em, team.id, name, role, key);
      return { team, key, id: row.id };
    });
  }

  /** Adds an admin key to an existing team (bootstrap of an instance whose team outlived its keys). */
  async insertAdminKey(em: EntityManager, teamId: string, name: string, key: GeneratedApiKey): Promise<ApiKeyEntity> {
    return this.insertKey(em, teamId, name, 'admin', key);
  }

  private async insertKey(em: EntityManager, teamId: string, name: string, role: ApiKeyRole, key: GeneratedApiKey): Promise<ApiKeyEntity> {
    return em.save(ApiKeyEntity, {
      id: newId('key'),
      teamId,
      name,
      role,
      projects: null,
      prefix: key.prefix,
      keyHash: key.hash,
      createdAt: this.clock.now(),
      lastUsedAt: null,
      revokedAt: null,
    });
  }
}
