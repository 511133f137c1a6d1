import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Clock } from '../common/clock';
import { ApiError } from '../common/errors/api-error';
import { newId } from '../common/ids';
import { isUniqueViolation } from '../database/errors';
import { TransactionRunner } from '../database/transaction-runner';
import { type GeneratedApiKey, generateApiKey } from './api-key-format';
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

  /** Adds an admin key to an existing team (bootstrap of an instance whose team outlived its keys). */
  async insertAdminKey(em: EntityManager, teamId: string, name: string, key: GeneratedApiKey): Promise<ApiKeyEntity> {
    return em.save(ApiKeyEntity, {
      id: newId('key'),
      teamId,
      name,
      role: 'admin',
      projects: null,
      prefix: key.prefix,
      keyHash: key.hash,
      createdAt: this.clock.now(),
      lastUsedAt: null,
      revokedAt: null,
    });
  }
}
