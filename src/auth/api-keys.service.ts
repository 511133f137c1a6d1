import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, LessThan, type Repository } from 'typeorm';
import { Clock } from '../common/clock';
import { ApiError } from '../common/errors/api-error';
import { newId } from '../common/ids';
import { isoTime, jsonText, readNumber } from '../database/columns';
import { decodeCursor, limitOf, type ListQueryDto, type Page, toPage } from '../common/pagination/pagination';
import { Sql } from '../database/sql';
import { TransactionRunner } from '../database/transaction-runner';
import { type ApiKeyRole, generateApiKey, hashApiKey } from './api-key-format';
import { ApiKeyEntity } from './api-key.entity';
import type { AuthContext } from './auth-context';
import type { ApiKeyDto, CreateApiKeyDto, CreatedApiKeyDto } from './dto/api-key.dto';

/** lastUsedAt is written at most this often per key, so reads do not turn into writes. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** An authenticated key as kept between requests. */
interface KnownKey {
  auth: AuthContext;
  lastUsedAt: number | null;
}

/**
 * Keys authenticated before, by hash, valid while no other connection has written the SQLite
 * database: `data_version` changes exactly when another connection commits, so a key revoked
 * by another process is looked up again on the next request.
 */
class KnownKeys {
  private readonly keys = new Map<string, KnownKey>();
  private version: unknown = null;

  constructor(private readonly dataVersion: () => unknown) {}

  /** The key if known and no other connection has written the database since it was kept (all are dropped then). */
  get(hash: string): KnownKey | undefined {
    const version = this.dataVersion();
    if (version !== this.version) {
      this.keys.clear();
      this.version = version;
    }
    return this.keys.get(hash);
  }

  set(hash: string, key: KnownKey): void {
    if (this.keys.size >= MAX_KNOWN_KEYS) this.keys.delete(this.keys.keys().next().value!);
    this.keys.set(hash, key);
  }

  /** This process revoked a key: no request may authenticate with it from now on. */
  forget(keyId: string): void {
    for (const [hash, known] of this.keys) if (known.auth.keyId === keyId) this.keys.delete(hash);
  }
}

/**
 * `read`, asked at most once per turn of the event loop: the requests handled in one turn (a
 * burst that arrived together) share the answer. A write by another process lands between
 * turns for all of them alike.
 */
function onePerTurn<T>(read: () => T): () => T {
  let value: T;
  let fresh = false;
  return () => {
    if (!fresh) {
      value = read();
      fresh = true;
      setImmediate(() => {
        fresh = false;
      });
    }
    return value;
  };
}

/** Keys kept in memory at most (the oldest goes first). */
const MAX_KNOWN_KEYS = 10_000;

@Injectable()
export class ApiKeysService {
  /** SQLite only (see authenticate); null on PostgreSQL, where other processes revoke keys too. */
  private readonly known: KnownKeys | null;

  constructor(
    @InjectRepository(ApiKeyEntity) private readonly keys: Repository<ApiKeyEntity>,
    private readonly tx: TransactionRunner,
    private readonly sql: Sql,
    private readonly clock: Clock,
  ) {
    this.known = sql.dialect === 'sqlite' ? new KnownKeys(onePerTurn(() => sql.querySqlite<{ data_version: number }>('PRAGMA data_version')[0]?.data_version)) : null;
  }

  /**
   * The AuthContext of a presented key, or null if it is unknown or revoked. A revocation
   * holds from the next request on, in every process: on PostgreSQL every request reads the
   * key (one indexed read); on SQLite, where a busy ingester would pay that read per event,
   * known keys are kept in memory and dropped whenever the database was written by another
   * connection since (SQLite's data_version: the CLI, say) or this process revokes a key.
   */
  async authenticate(key: string): Promise<AuthContext | null> {
    const hash = hashApiKey(key);
    const now = this.clock.now();
    let known = this.known?.get(hash);
    if (!known) {
      // Constant SQL on the hot path of every request (see Sql): one prepared statement.
      const [row] = await this.sql.query<{ id: string; team_id: string; role: ApiKeyRole; projects: string | null; last_used_at: unknown; team_name: string }>(
        this.keys.manager,
        `SELECT k.id, k.team_id, k.role, k.projects, k.last_used_at, t.name AS team_name
         FROM api_keys AS k JOIN teams AS t ON t.id = k.team_id WHERE k.key_hash = ? AND k.revoked_at IS NULL`,
        [hash],
      );
      if (!row) return null;
      const projects = jsonText.from(row.projects) as string[] | null;
      known = {
        auth: { teamId: row.team_id, teamName: row.team_name, keyId: row.id, role: row.role, projects },
        lastUsedAt: readNumber(row.last_used_at),
      };
      this.known?.set(hash, known);
    }
    if (known.lastUsedAt === null || now - known.lastUsedAt >= LAST_USED_RESOLUTION_MS) {
      known.lastUsedAt = now;
      await this.tx.run((em) => em.update(ApiKeyEntity, { id: known.auth.keyId }, { lastUsedAt: now }));
    }
    return known.auth;
  }

  async list(auth: AuthContext, query: ListQueryDto): Promise<Page<ApiKeyDto>> {
    const after = decodeCursor(query.cursor);
    const limit = limitOf(query);
    const rows = await this.keys.find({
      where: { teamId: auth.teamId, revokedAt: IsNull(), ...(after ? { id: LessThan(after) } : {}) },
      order: { id: 'DESC' },
      take: limit + 1,
    });
    return toPage(rows, limit, (row) => row.id, toDto);
  }

  async create(auth: AuthContext, input: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    const projects = input.projects ?? null;
    if (projects !== null && input.role !== 'ingest') {
      throw ApiError.invalidField('projects', 'only ingest keys can be limited to projects');
    }
    const generated = generateApiKey();
    const row = await this.tx.run((em) =>
      em.save(ApiKeyEntity, {
        id: newId('key'),
        teamId: auth.teamId,
        name: input.name,
        role: input.role,
        projects: projects ? [...new Set(projects)] : null,
        prefix: generated.prefix,
        keyHash: generated.hash,
        createdAt: this.clock.now(),
        lastUsedAt: null,
        revokedAt: null,
      }),
    );
    return { ...toDto(row), key: generated.key };
  }

  /** Revokes a key of the caller's team. The team's last active admin key cannot be revoked. */
  async revoke(auth: AuthContext, id: string): Promise<void> {
    await this.tx.run(async (em) => {
      await this.tx.lockTeam(em, auth.teamId);
      const row = await em.findOneBy(ApiKeyEntity, { id, teamId: auth.teamId, revokedAt: IsNull() });
      if (!row) throw ApiError.notFound(`API key ${id}`);
      if (row.role === 'admin') {
        const admins = await em.countBy(ApiKeyEntity, { teamId: auth.teamId, role: 'admin', revokedAt: IsNull() });
        if (admins <= 1) {
          throw ApiError.conflict('This is the team\'s last admin key; create another admin key before revoking it');
        }
      }
      await em.update(ApiKeyEntity, { id }, { revokedAt: this.clock.now() });
      // Before the commit: no request authenticates with it once the revocation is visible.
      this.known?.forget(id);
    });
  }
}

function toDto(row: ApiKeyEntity): ApiKeyDto {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    projects: row.projects,
    prefix: row.prefix,
    createdAt: isoTime(row.createdAt)!,
    lastUsedAt: isoTime(row.lastUsedAt),
  };
}
