import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { type EntityManager, MoreThan, type Repository } from 'typeorm';
import type { AuthContext } from '../auth/auth-context';
import { Clock } from '../common/clock';
import { ApiError } from '../common/errors/api-error';
import { newId } from '../common/ids';
import { SecretRedactor } from '../common/logging/redactor';
import { decodeCursor, limitOf, type ListQueryDto, type Page, toPage } from '../common/pagination/pagination';
import { isoTime } from '../database/columns';
import { isUniqueViolation } from '../database/errors';
import { Sql } from '../database/sql';
import { TransactionRunner } from '../database/transaction-runner';
import type { GeneratedSecretDto, GeneratedSecretFormat, SecretDto } from './dto/secret.dto';
import { SecretDecryptionError } from './secret-cipher';
import { SecretKeyring } from './secret-keyring';
import { SecretUsageRegistry } from './secret-usage.registry';
import { SecretEntity } from './secret.entity';

/** A secret could not be turned back into its value; the message names the secret, never the value. */
export class SecretResolutionError extends Error {
  constructor(
    readonly secretName: string,
    reason: string,
  ) {
    super(`Secret ${secretName} cannot be resolved: ${reason}`);
    this.name = 'SecretResolutionError';
  }
}

/** Decrypted values kept (the oldest goes first): far more than the secrets a busy team binds to its webhooks. */
const MAX_DECRYPTED = 1000;

@Injectable()
export class SecretsService {
  /** The last decryption of each secret, by team and name, with the ciphertext it came from. */
  private readonly decrypted = new Map<string, { ciphertext: string; value: string }>();

  constructor(
    @InjectRepository(SecretEntity) private readonly secrets: Repository<SecretEntity>,
    private readonly keyring: SecretKeyring,
    private readonly usage: SecretUsageRegistry,
    private readonly redactor: SecretRedactor,
    private readonly tx: TransactionRunner,
    private readonly sql: Sql,
    private readonly clock: Clock,
  ) {}

  async list(auth: AuthContext, query: ListQueryDto): Promise<Page<SecretDto>> {
    const after = decodeCursor(query.cursor);
    const limit = limitOf(query);
    const rows = await this.secrets.find({
      where: { teamId: auth.teamId, ...(after ? { name: MoreThan(after) } : {}) },
      order: { name: 'ASC' },
      take: limit + 1,
    });
    const page = toPage(rows, limit, (row) => row.name, (row) => row);
    const usages = await this.usage.usages(auth.teamId, page.items.map((row) => row.name));
    return { items: page.items.map((row) => toDto(row, usages.get(row.name) ?? [])), nextCursor: page.nextCursor };
  }

  async create(auth: AuthContext, name: string, value: string): Promise<SecretDto> {
    const now = this.clock.now();
    this.redactor.remember(value);
    const row = {
      id: newId('sec'),
      teamId: auth.teamId,
      name,
      ciphertext: this.keyring.cipher.encrypt(value, aad(auth.teamId, name)),
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.tx.run((em) => em.insert(SecretEntity, row));
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw ApiError.conflict(`A secret named ${name} already exists; rotate it with PUT /v1/secrets/${name}`, [
          { field: 'name', reason: 'already exists' },
        ]);
      }
      throw error;
    }
    return toDto(row, []);
  }

  /** Creates a random signing secret and returns it, once. */
  async generate(auth: AuthContext, name: string, format: GeneratedSecretFormat): Promise<GeneratedSecretDto> {
    const bytes = randomBytes(32);
    const value = format === 'whsec' ? `whsec_${bytes.toString('base64')}` : bytes.toString('hex');
    return { ...(await this.create(auth, name, value)), value };
  }

  async rotate(auth: AuthContext, name: string, value: string): Promise<SecretDto> {
    this.redactor.remember(value);
    const row = await this.tx.run(async (em) => {
      const existing = await em.findOneBy(SecretEntity, { teamId: auth.teamId, name });
      if (!existing) throw ApiError.notFound(`Secret ${name}`);
      existing.ciphertext = this.keyring.cipher.encrypt(value, aad(auth.teamId, name));
      existing.updatedAt = this.clock.now();
      await em.save(SecretEntity, existing);
      return existing;
    });
    return this.withUsage(auth.teamId, row);
  }

  async delete(auth: AuthContext, name: string): Promise<void> {
    await this.tx.run(async (em) => {
      // Serializes with webhook saves on PostgreSQL, so no webhook binds the secret meanwhile.
      await this.tx.lockTeam(em, auth.teamId);
      const existing = await em.findOneBy(SecretEntity, { teamId: auth.teamId, name });
      if (!existing) throw ApiError.notFound(`Secret ${name}`);
      const users = (await this.usage.usages(auth.teamId, [name])).get(name) ?? [];
      if (users.length > 0) {
        const list = users.map((u) => `${u.kind} "${u.name}" (${u.as})`).join(', ');
        throw ApiError.conflict(`Secret ${name} is in use by ${list}; unbind it first`, [
          { field: 'name', reason: `in use by ${list}` },
        ]);
      }
      await em.delete(SecretEntity, { id: existing.id });
    });
  }

  /** Names of the team's secrets that exist among `names` (for validating references). */
  async existing(teamId: string, names: string[], manager?: EntityManager): Promise<Set<string>> {
    if (names.length === 0) return new Set();
    const repository = manager ? manager.getRepository(SecretEntity) : this.secrets;
    const rows = await repository.find({ where: names.map((name) => ({ teamId, name })), select: { name: true } });
    return new Set(rows.map((row) => row.name));
  }

  /**
   * The only way to read a secret's value: for the executor, at send time. The value is
   * remembered by the redactor so it is scrubbed from every log line and stored text.
   */
  async resolve(teamId: string, name: string): Promise<string> {
    // Every attempt resolves its webhook's secrets: constant SQL, and the last decryption of each
    // secret is kept with its ciphertext, so a rotated value (a new ciphertext) is never served
    // stale, in any process, and an unchanged one is not decrypted again.
    const [row] = await this.sql.query<{ ciphertext: string }>(this.secrets.manager, 'SELECT ciphertext FROM secrets WHERE team_id = ? AND name = ?', [
      teamId,
      name,
    ]);
    if (!row) throw new SecretResolutionError(name, 'it does not exist in this team');
    const key = `${teamId}\u0000${name}`;
    const cached = this.decrypted.get(key);
    if (cached?.ciphertext === row.ciphertext) {
      this.redactor.remember(cached.value);
      return cached.value;
    }
    let value: string;
    try {
      value = this.keyring.cipher.decrypt(row.ciphertext, aad(teamId, name));
    } catch (error) {
      if (error instanceof SecretDecryptionError) throw new SecretResolutionError(name, error.message);
      throw error;
    }
    this.redactor.remember(value);
    if (this.decrypted.size >= MAX_DECRYPTED) this.decrypted.delete(this.decrypted.keys().next().value!);
    this.decrypted.set(key, { ciphertext: row.ciphertext, value });
    return value;
  }

  private async withUsage(teamId: string, row: SecretEntity): Promise<SecretDto> {
    const usages = await this.usage.usages(teamId, [row.name]);
    return toDto(row, usages.get(row.name) ?? []);
  }
}

/** Binds a ciphertext to its team and name. */
function aad(teamId: string, name: string): string {
  return `secret:${teamId}:${name}`;
}

function toDto(row: Pick<SecretEntity, 'name' | 'createdAt' | 'updatedAt'>, usedBy: SecretDto['usedBy']): SecretDto {
  return { name: row.name, createdAt: isoTime(row.createdAt)!, updatedAt: isoTime(row.updatedAt)!, usedBy };
}
