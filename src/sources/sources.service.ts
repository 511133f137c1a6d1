import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { type EntityManager, In, MoreThan, type Repository } from 'typeorm';
import { hashApiKey } from '../auth/api-key-format';
import type { AuthContext } from '../auth/auth-context';
import { Clock } from '../common/clock';
import { ApiError, type FieldProblem } from '../common/errors/api-error';
import { checkIfMatch, contentEtag, type IfMatchTags } from '../common/etag/etag';
import { newId } from '../common/ids';
import { REDACTED } from '../common/logging/redactor';
import { decodeCursor, limitOf, type ListQueryDto, type NamedListQueryDto, type Page, toPage } from '../common/pagination/pagination';
import { isoTime } from '../database/columns';
import { TransactionRunner } from '../database/transaction-runner';
import { SecretUsageRegistry, type SecretUsage } from '../secrets/secret-usage.registry';
import { SecretsService } from '../secrets/secrets.service';
import { CreateSourceDto, type ReceiptDto, type SourceDto, UpdateSourceDto } from './dto/source.dto';
import { type CollectedBody, collectBodyProblems, withoutFaulty } from '../common/errors/collected-validation';
import { wandbSenderTemplate } from './senders/wandb';
import { SECRET_MEANING, type SourceKind, receivePath } from './source-kinds';
import { SourceReceipts } from './source-receipts';
import { SourceEntity } from './source.entity';

/** What create and update validate: the fields a source is made of. */
interface SourceSpec {
  name: string;
  kind: SourceKind;
  project: string;
  secret: string | null;
}

/** Sources CRUD (admin; read: member). Receiving is SourceReceiver's. */
@Injectable()
export class SourcesService implements OnModuleInit {
  constructor(
    @InjectRepository(SourceEntity) private readonly sources: Repository<SourceEntity>,
    private readonly secrets: SecretsService,
    private readonly usage: SecretUsageRegistry,
    private readonly receiptLog: SourceReceipts,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    // A secret a source verifies with cannot be deleted (409), as for webhooks.
    this.usage.register((teamId, names) => this.secretUsages(teamId, names));
  }

  async list(auth: AuthContext, query: NamedListQueryDto): Promise<Page<SourceDto>> {
    const after = decodeCursor(query.cursor);
    const limit = limitOf(query);
    const rows = await this.sources.find({
      where: { teamId: auth.teamId, ...(after ? { name: MoreThan(after) } : {}), ...(query.name !== undefined ? { name: query.name } : {}) },
      order: { name: 'ASC' },
      take: limit + 1,
    });
    return toPage(rows, limit, (row) => row.name, (row) => toDto(row));
  }

  async get(auth: AuthContext, id: string): Promise<SourceDto> {
    return toDto(await this.find(auth.teamId, id));
  }

  /** What became of the last requests to the source's receive URL, newest first. */
  async receipts(auth: AuthContext, id: string, query: ListQueryDto): Promise<Page<ReceiptDto>> {
    const source = await this.find(auth.teamId, id);
    return this.receiptLog.list(source.id, query);
  }

  /** The source of the caller's team, or a 404 (another team's source does not exist for it). */
  async find(teamId: string, id: string, manager?: EntityManager): Promise<SourceEntity> {
    const row = await (manager ? manager.findOneBy(SourceEntity, { teamId, id }) : this.sources.findOneBy({ teamId, id }));
    if (!row) throw ApiError.notFound(`Source ${id}`);
    return row;
  }

  async create(auth: AuthContext, body: unknown): Promise<SourceDto> {
    const checked = await collectBodyProblems(CreateSourceDto, body);
    const spec = specOfCreate(checked.value);
    // Valohai documents no sender authentication: the receive URL carries a random token.
    const token = spec.kind === 'valohai' ? `hrs_${randomBytes(32).toString('base64url')}` : undefined;
    const now = this.clock.now();
    const row = await this.tx.saveNamed(auth.teamId, 'source', async (em) => {
      await this.validate(auth.teamId, spec, em, new Set(), checked);
      const entity: SourceEntity = {
        id: newId('src'),
        teamId: auth.teamId,
        ...spec,
        tokenHash: token === undefined ? null : hashApiKey(token),
        createdAt: now,
        updatedAt: now,
      };
      await em.insert(SourceEntity, entity);
      return entity;
    });
    return toDto(row, token);
  }

  async update(auth: AuthContext, id: string, body: unknown, ifMatch?: IfMatchTags): Promise<SourceDto> {
    const checked = await collectBodyProblems(UpdateSourceDto, body);
    const dto = checked.value;
    const row = await this.tx.saveNamed(auth.teamId, 'source', async (em) => {
      const existing = await this.find(auth.teamId, id, em);
      checkIfMatch(ifMatch, sourceEtag(existing), `Source ${existing.name}`);
      const earlier = { problems: [...checked.problems], faulty: checked.faulty };
      if (dto.kind !== undefined && dto.kind !== existing.kind) {
        earlier.problems.push({ field: 'kind', reason: `cannot change from ${existing.kind}: create a new source for another platform` });
      }
      const spec: SourceSpec = {
        name: dto.name ?? existing.name,
        kind: existing.kind,
        project: dto.project ?? existing.project,
        secret: dto.secret === undefined ? existing.secret : dto.secret,
      };
      await this.validate(auth.teamId, spec, em, new Set(), earlier);
      const updated: SourceEntity = { ...existing, ...spec, updatedAt: this.clock.now() };
      await em.save(SourceEntity, updated);
      return updated;
    });
    return toDto(row);
  }

  async delete(auth: AuthContext, id: string, ifMatch?: IfMatchTags): Promise<void> {
    await this.tx.run(async (em) => {
      // With If-Match the check and the delete must not race a PATCH, which holds the team's lock.
      if (ifMatch !== undefined) await this.tx.lockTeam(em, auth.teamId);
      const existing = await this.find(auth.teamId, id, em);
      checkIfMatch(ifMatch, sourceEtag(existing), `Source ${existing.name}`);
      // Its receipts go with it (ON DELETE CASCADE); the events it stored stay.
      await em.delete(SourceEntity, { id: existing.id });
    });
  }

  /**
   * Checks a source as POST would create it, writing nothing (a configuration file's check,
   * `POST /v1/config/validate`): a 400 naming each field. `pendingSecrets` are taken to exist.
   */
  async checkCreate(teamId: string, dto: CreateSourceDto, em: EntityManager, pendingSecrets: ReadonlySet<string>): Promise<void> {
    await this.validate(teamId, specOfCreate(dto), em, pendingSecrets);
  }

  /**
   * The rules needing the team's secrets; every problem at once, each naming its field, with the
   * body's own (`earlier`, from its DTO). Without a valid kind only the secret's existence is checked.
   */
  private async validate(
    teamId: string,
    spec: SourceSpec,
    em: EntityManager,
    pendingSecrets: ReadonlySet<string> = new Set(),
    earlier: Pick<CollectedBody<unknown>, 'problems' | 'faulty'> = { problems: [], faulty: new Set() },
  ): Promise<void> {
    const problems: FieldProblem[] = [];
    const meaning = earlier.faulty.has('kind') ? undefined : SECRET_MEANING[spec.kind];
    if (meaning === undefined) {
      if (spec.secret !== null && spec.secret !== undefined && !pendingSecrets.has(spec.secret) && !(await this.secrets.existing(teamId, [spec.secret], em)).has(spec.secret)) {
        problems.push({ field: 'secret', reason: `secret ${spec.secret} does not exist` });
      }
    } else if (meaning === null && spec.secret !== null) {
      problems.push({ field: 'secret', reason: `is not used by ${spec.kind} sources: their receive URL carries a token instead` });
    } else if (meaning !== null && spec.secret === null) {
      problems.push({ field: 'secret', reason: `is required for ${spec.kind} sources: the name of a secret holding ${meaning}` });
    } else if (spec.secret !== null && !pendingSecrets.has(spec.secret) && !(await this.secrets.existing(teamId, [spec.secret], em)).has(spec.secret)) {
      problems.push({ field: 'secret', reason: `secret ${spec.secret} does not exist` });
    }
    const all = [...earlier.problems, ...withoutFaulty(problems, earlier.faulty)];
    if (all.length > 0) throw ApiError.invalid(all);
  }

  private async secretUsages(teamId: string, names: string[]): Promise<Map<string, SecretUsage[]>> {
    const result = new Map<string, SecretUsage[]>();
    const rows = await this.sources.find({ where: { teamId, secret: In(names) }, select: { id: true, name: true, secret: true } });
    for (const row of rows) {
      const list = result.get(row.secret!) ?? [];
      list.push({ kind: 'source', id: row.id, name: row.name, as: 'secret' });
      result.set(row.secret!, list);
    }
    return result;
  }
}

/** The answer for a source; `token` only right after creation, the one time it is shown. */
function toDto(row: SourceEntity, token?: string): SourceDto {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    project: row.project,
    secret: row.secret,
    receiveUrl: receivePath(row.id, row.kind === 'valohai' ? (token ?? REDACTED) : undefined),
    senderTemplate: row.kind === 'wandb' ? wandbSenderTemplate() : null,
    etag: sourceEtag(row),
    createdAt: isoTime(row.createdAt)!,
    updatedAt: isoTime(row.updatedAt)!,
  };
}

/** The etag of a source: its configuration (the Valohai token cannot change, so it is left out). */
function sourceEtag(row: SourceEntity): string {
  const { name, kind, project, secret } = row;
  return contentEtag({ name, kind, project, secret });
}

function specOfCreate(dto: CreateSourceDto): SourceSpec {
  return { name: dto.name, kind: dto.kind, project: dto.project, secret: dto.secret ?? null };
}
