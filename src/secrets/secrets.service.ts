import { compositeKey } from '../common/identifiers';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { type EntityManager, MoreThan, type Repository } from 'typeorm';
import type { AuthContext } from '../auth/auth-context';
import { Clock } from '../common/clock';
import { ApiError } from '../common/errors/api-error';
import { newId } from '../common/ids';
import { PerTurn } from '../common/per-turn';
import { SecretRedactor } from '../common/logging/redactor';
import { decodeCursor, limitOf, type ListQueryDto, type Page, toPage } from '../common/pagination/pagination';
import { isoTime } from '../database/columns';
import { isUniqueViolation } from '../database/errors';
import { GroupCommit } from '../database/group-commit';
import { Sql } from '../database/sql';
import { TransactionRunner } from '../database/transaction-runner';
import { generateEd25519Secret, publicKeyOf } from '../delivery/ed25519-keys';
import type { GeneratedSecretDto, GeneratedSecretFormat, PublicKeyDto, SecretDto } from './dto/secret.dto';
import { SecretDecryptionError } from './secret-cipher';
import { SecretKeyring } from './secret-keyring';
import { type PreviousValue, activePrevious, afterRotation, defaultOverlapSeconds } from './secret-rotation';
import { SecretUsageRegistry } from './secret-usage.registry';
import { SecretEntity } from './secret.entity';

/** A secret's stored columns as the hot path reads them (previous_values: JSON text, or null). */
interface StoredCiphertexts {
  ciphertext: string;
  previous_values: string | null;
}

/** A signing secret as the sender needs it: the current value and the earlier ones still in their overlap, newest first. */
export interface SigningValues {
  value: string;
  previous: string[];
}

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
  /** Each secret's stored ciphertexts, read once per turn (see stored). */
  private readonly storedThisTurn = new PerTurn<Promise<StoredCiphertexts | undefined>>();
  /** The secrets a turn's sends read, by team and name, in one statement (undefined: none such). */
  private readonly storedReads = new GroupCommit<readonly [string, string], StoredCiphertexts | undefined>((keys) => this.readStored(keys));

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
    const now = this.clock.now();
    return { items: page.items.map((row) => toDto(row, usages.get(row.name) ?? [], now)), nextCursor: page.nextCursor };
  }

  async create(auth: AuthContext, name: string, value: string): Promise<SecretDto> {
    const now = this.clock.now();
    this.redactor.remember(value);
    const row = {
      id: newId('sec'),
      teamId: auth.teamId,
      name,
      ciphertext: this.keyring.cipher.encrypt(value, aad(auth.teamId, name)),
      previousValues: null,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.tx.run((em) => em.insert(SecretEntity, row));
      this.storedThisTurn.forget(compositeKey(auth.teamId, name));
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw ApiError.conflict(`A secret named ${name} already exists; rotate it with PUT /v1/secrets/${name}`, [
          { field: 'name', reason: 'already exists' },
        ]);
      }
      throw error;
    }
    return toDto(row, [], now);
  }

  /**
   * Creates a random signing secret and returns it, once; for `ed25519` a key pair whose secret
   * key stays in Herald, answering only the public key (receivers need nothing else).
   */
  async generate(auth: AuthContext, name: string, format: GeneratedSecretFormat): Promise<GeneratedSecretDto> {
    if (format === 'ed25519') {
      const pair = generateEd25519Secret();
      return { ...(await this.create(auth, name, pair.secret)), publicKey: pair.publicKey };
    }
    const bytes = randomBytes(32);
    const value = format === 'whsec' ? `whsec_${bytes.toString('base64')}` : bytes.toString('hex');
    return { ...(await this.create(auth, name, value)), value };
  }

  /**
   * Replaces a secret's value. The replaced value keeps signing (standard scheme) beside the new
   * one for `previousValidForSeconds`: by default a day when a webhook signs with the secret,
   * none otherwise (docs/signatures.md › Rotating a signing secret).
   */
  async rotate(auth: AuthContext, name: string, value: string, previousValidForSeconds?: number): Promise<SecretDto> {
    this.redactor.remember(value);
    const overlap = previousValidForSeconds ?? defaultOverlapSeconds(await this.signsAnything(auth.teamId, name));
    const row = await this.tx.run(async (em) => {
      const existing = await em.findOneBy(SecretEntity, { teamId: auth.teamId, name });
      if (!existing) throw ApiError.notFound(`Secret ${name}`);
      const now = this.clock.now();
      // The replaced ciphertext moves as it is: no decryption, so a rotation never fails on the old value.
      existing.previousValues = afterRotation(existing.previousValues, existing.ciphertext, now, overlap);
      existing.ciphertext = this.keyring.cipher.encrypt(value, aad(auth.teamId, name));
      existing.updatedAt = now;
      await em.save(SecretEntity, existing);
      return existing;
    });
    this.storedThisTurn.forget(compositeKey(auth.teamId, name));
    return this.withUsage(auth.teamId, row);
  }

  /** DELETE /v1/secrets/:name/previous: the replaced values stop signing now. */
  async endOverlap(auth: AuthContext, name: string): Promise<SecretDto> {
    const row = await this.tx.run(async (em) => {
      const existing = await em.findOneBy(SecretEntity, { teamId: auth.teamId, name });
      if (!existing) throw ApiError.notFound(`Secret ${name}`);
      existing.previousValues = [];
      await em.save(SecretEntity, existing);
      return existing;
    });
    this.storedThisTurn.forget(compositeKey(auth.teamId, name));
    return this.withUsage(auth.teamId, row);
  }

  /** The public key of an Ed25519 secret (and of replaced key pairs still signing). It is not secret; 409 for any other secret. */
  async publicKey(auth: AuthContext, name: string): Promise<PublicKeyDto> {
    const row = await this.secrets.findOneBy({ teamId: auth.teamId, name });
    if (!row) throw ApiError.notFound(`Secret ${name}`);
    const now = this.clock.now();
    const publicKey = publicKeyOf(this.current(row.teamId, row.name, row));
    if (publicKey === null) {
      throw ApiError.conflict(`Secret ${name} is not an Ed25519 key: create one with POST /v1/secrets/generate {"format": "ed25519"}`, [
        { field: 'name', reason: 'is not an Ed25519 key (whsk_…)' },
      ]);
    }
    const previous = activePrevious(row.previousValues, now).flatMap((v) => {
      const key = publicKeyOf(this.decrypt(row.teamId, row.name, v.ciphertext, 'previous'));
      return key === null ? [] : [{ publicKey: key, validUntil: isoTime(v.validUntil)! }];
    });
    return { name, publicKey, previous };
  }

  private async signsAnything(teamId: string, name: string): Promise<boolean> {
    const users = (await this.usage.usages(teamId, [name])).get(name) ?? [];
    return users.some((use) => use.as === 'signingSecret');
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
    this.storedThisTurn.forget(compositeKey(auth.teamId, name));
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
    return this.current(teamId, name, await this.stored(teamId, name));
  }

  /**
   * A signing secret for the sender: the current value and, newest first, the replaced values
   * still inside their rotation overlap, from one read. Each is remembered by the redactor.
   */
  async resolveSigning(teamId: string, name: string): Promise<SigningValues> {
    const row = await this.stored(teamId, name);
    const value = this.current(teamId, name, row);
    if (row.previous_values === null) return { value, previous: [] };
    const active = activePrevious(JSON.parse(row.previous_values) as PreviousValue[], this.clock.now());
    return { value, previous: active.map((v) => this.decrypt(teamId, name, v.ciphertext, 'previous')) };
  }

  /**
   * A secret's ciphertexts. Every attempt resolves its webhook's secrets: read once per turn of
   * the event loop for the sends that start together (this process's writes forget it at once;
   * another process's land between turns). On PostgreSQL the secrets of all those sends (a
   * worker's claimed attempts, whatever their webhooks and teams) are read in one statement
   * after the turn, one round trip; on SQLite a read is an in-process call, made at once, as
   * waiting for the turn's end would only delay the send.
   */
  private async stored(teamId: string, name: string): Promise<StoredCiphertexts> {
    const row = await this.storedThisTurn.get(compositeKey(teamId, name), () =>
      this.sql.dialect === 'postgres' ? this.storedReads.submit([teamId, name]) : this.readOne(teamId, name),
    );
    if (!row) throw new SecretResolutionError(name, 'it does not exist in this team');
    return row;
  }

  /** The ciphertexts of one secret (undefined: none such). */
  private async readOne(teamId: string, name: string): Promise<StoredCiphertexts | undefined> {
    const [found] = await this.sql.query<StoredCiphertexts>(
      this.secrets.manager,
      'SELECT ciphertext, previous_values FROM secrets WHERE team_id = ? AND name = ?',
      [teamId, name],
    );
    return found;
  }

  /** The ciphertexts of these secrets, in their order (constant SQL whatever their number). */
  private async readStored(keys: readonly (readonly [string, string])[]): Promise<(StoredCiphertexts | undefined)[]> {
    const rows = await this.sql.query<StoredCiphertexts & { team_id: string; name: string }>(
      this.secrets.manager,
      `SELECT team_id, name, ciphertext, previous_values FROM secrets WHERE ${this.sql.inPairs('team_id', 'name')}`,
      this.sql.pairs(keys),
    );
    const found = new Map(rows.map((row) => [compositeKey(row.team_id, row.name), { ciphertext: row.ciphertext, previous_values: row.previous_values }]));
    return keys.map(([teamId, name]) => found.get(compositeKey(teamId, name)));
  }

  /**
   * The current value. The last decryption of each secret is kept with its ciphertext, so a
   * rotated value (a new ciphertext) is never served stale, in any process, and an unchanged one
   * is not decrypted again.
   */
  private current(teamId: string, name: string, row: Pick<StoredCiphertexts, 'ciphertext'>): string {
    const key = compositeKey(teamId, name);
    const cached = this.decrypted.get(key);
    if (cached?.ciphertext === row.ciphertext) {
      this.redactor.remember(cached.value);
      return cached.value;
    }
    const value = this.decrypt(teamId, name, row.ciphertext, 'current');
    if (this.decrypted.size >= MAX_DECRYPTED) this.decrypted.delete(this.decrypted.keys().next().value!);
    this.decrypted.set(key, { ciphertext: row.ciphertext, value });
    return value;
  }

  /** One ciphertext of the secret (its current or a previous value), remembered by the redactor. */
  private decrypt(teamId: string, name: string, ciphertext: string, which: 'current' | 'previous'): string {
    let value: string;
    try {
      value = this.keyring.cipher.decrypt(ciphertext, aad(teamId, name));
    } catch (error) {
      if (error instanceof SecretDecryptionError) {
        throw new SecretResolutionError(name, which === 'current' ? error.message : `a previous value: ${error.message}`);
      }
      throw error;
    }
    this.redactor.remember(value);
    return value;
  }

  private async withUsage(teamId: string, row: SecretEntity): Promise<SecretDto> {
    const usages = await this.usage.usages(teamId, [row.name]);
    return toDto(row, usages.get(row.name) ?? [], this.clock.now());
  }
}

/** Binds a ciphertext to its team and name. */
function aad(teamId: string, name: string): string {
  return `secret:${teamId}:${name}`;
}

function toDto(
  row: Pick<SecretEntity, 'name' | 'createdAt' | 'updatedAt' | 'previousValues'>,
  usedBy: SecretDto['usedBy'],
  now: number,
): SecretDto {
  const previousValues = activePrevious(row.previousValues, now).map((v) => ({
    retiredAt: isoTime(v.retiredAt)!,
    validUntil: isoTime(v.validUntil)!,
  }));
  return { name: row.name, createdAt: isoTime(row.createdAt)!, updatedAt: isoTime(row.updatedAt)!, usedBy, previousValues };
}
