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
import { CacheToken } from '../delivery/queue/cache-token';
import type { ApiKeyDto, CreateApiKeyDto, CreatedApiKeyDto } from './dto/api-key.dto';
import { onePerTurn } from '../common/per-turn';

/** lastUsedAt is written at most this often per key, so reads do not turn into writes. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** An authenticated key as kept between requests. */
interface KnownKey {
  auth: AuthContext;
  lastUsedAt: number | null;
  /** When it was read from the database (clock ms). */
  keptAt: number;
}

/**
 * Keys authenticated before, by hash, valid while the version they were kept at is current.
 * SQLite: the version is `data_version`, which changes exactly when another connection
 * commits, so a key revoked by another process is looked up again on the next request.
 * PostgreSQL with Redis (the scaled mode): the version is the shared `CacheToken`, which every
 * process sets anew after revoking a key; entries also expire after `maxAgeMs` (bounding what
 * a process that died between its commit and its bump could leave stale).
 */
class KnownKeys {
  private readonly keys = new Map<string, KnownKey>();
  private version: unknown = null;

  constructor(private readonly maxAgeMs = Infinity) {}

  /** The key if known and kept at `version` (all are dropped when the version moved), not older than maxAgeMs. */
  get(hash: string, version: unknown, now: number): KnownKey | undefined {
    if (version !== this.version) {
      this.keys.clear();
      this.version = version;
    }
    const known = this.keys.get(hash);
    if (known && now - known.keptAt > this.maxAgeMs) {
      this.keys.delete(hash);
      return undefined;
    }
    return known;
  }

  /** Keeps a key read at `version` (that of the `get` just before; nothing is kept if it moved since). */
  set(hash: string, key: KnownKey, version: unknown): void {
    if (version !== this.version) return;
    if (this.keys.size >= MAX_KNOWN_KEYS) this.keys.delete(this.keys.keys().next().value!);
    this.keys.set(hash, key);
  }

  /** This process revoked a key: no request may authenticate with it from now on. */
  forget(keyId: string): void {
    for (const [hash, known] of this.keys) if (known.auth.keyId === keyId) this.keys.delete(hash);
  }
}

/** Keys kept in memory at most (the oldest goes first). */
const MAX_KNOWN_KEYS = 10_000;
/** Scaled mode: a kept key is read again after this long whatever the cache token says. */
const SCALED_KEY_MAX_AGE_MS = 5_000;

@Injectable()
export class ApiKeysService {
  /** Keys kept between requests (see authenticate); null on PostgreSQL without Redis. */
  private readonly known: KnownKeys | null;
  /** The version `known` is kept at: SQLite's data_version, or the scaled mode's cache token (null: keep nothing). */
  private readonly version: () => unknown | Promise<string | null>;

  constructor(
    @InjectRepository(ApiKeyEntity) private readonly keys: Repository<ApiKeyEntity>,
    private readonly tx: TransactionRunner,
    private readonly sql: Sql,
    private readonly clock: Clock,
    private readonly cacheToken: CacheToken,
  ) {
    if (sql.dialect === 'sqlite') {
      this.known = new KnownKeys();
      this.version = onePerTurn(() => sql.querySqlite<{ data_version: number }>('PRAGMA data_version')[0]?.data_version);
    } else {
      this.known = cacheToken.enabled ? new KnownKeys(SCALED_KEY_MAX_AGE_MS) : null;
      this.version = () => cacheToken.read();
    }
  }

  /**
   * The AuthContext of a presented key, or null if it is unknown or revoked. A revocation
   * holds from the next request on, in every process. Known keys are kept in memory, since a
   * busy ingester would otherwise pay a database read per request: on SQLite they are dropped
   * whenever the database was written by another connection since (SQLite's data_version: the
   * CLI, say) or this process revokes a key; in the scaled mode whenever the shared cache token
   * moved (every revocation sets it anew after its commit, see CacheToken), read with one
   * Redis GET per request. On PostgreSQL without Redis, and while the token cannot be read,
   * every request reads the key (one indexed read).
   */
  async authenticate(key: string): Promise<AuthContext | null> {
    const hash = hashApiKey(key);
    const now = this.clock.now();
    let version = this.known ? this.version() : null;
    if (version instanceof Promise) version = await version;
    let known = version === null ? undefined : this.known?.get(hash, version, now);
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
        keptAt: now,
      };
      if (version !== null) this.known?.set(hash, known, version);
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
    // After the commit, before the answer: every other process drops its kept keys.
    await this.cacheToken.bump();
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
