import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { MoreThan, type EntityManager, type Repository } from 'typeorm';
import type { AuthContext } from '../auth/auth-context';
import { AutomationEntity } from '../automations/automation.entity';
import { Clock } from '../common/clock';
import { ApiError, type FieldProblem } from '../common/errors/api-error';
import { checkIfMatch, contentEtag, type IfMatchTags } from '../common/etag/etag';
import { newId } from '../common/ids';
import { SecretRedactor } from '../common/logging/redactor';
import { decodeCursor, limitOf, type NamedListQueryDto, type Page, toPage } from '../common/pagination/pagination';
import { isoTime } from '../database/columns';
import { TransactionRunner } from '../database/transaction-runner';
import { DeliverySender } from '../delivery/delivery-sender';
import { DeliveryDispatcher } from '../delivery/dispatcher';
import { DeliveryStore } from '../delivery/delivery-store';
import { buildVariables } from '../rendering/build-variables';
import { compileTemplate, validateTemplate } from '../rendering/payload-template';
import { testSendEvent } from '../rendering/preset-samples';
import { PresetLibrary, defaultPresetForKind } from '../rendering/presets';
import { SecretUsageRegistry, type SecretUsage } from '../secrets/secret-usage.registry';
import { SecretsService } from '../secrets/secrets.service';
import { CreateWebhookDto, type TestResultDto, type TestWebhookDto, UpdateWebhookDto, type WebhookDto } from './dto/webhook.dto';
import { type CollectedBody, collectBodyProblems, withoutFaulty } from '../common/errors/collected-validation';
import { maskedUrl, urlIsCredential } from './webhook-kinds';
import { WebhookEntity } from './webhook.entity';
import {
  type WebhookSpec,
  boundSecretNames,
  defaultSchemes,
  effectiveDeliverySettings,
  referencedSecretNames,
  signingSecretValueProblems,
  specProblems,
} from './webhook-rules';
import { headerTemplateSecrets } from '../rendering/header-template';
import { HeraldConfig } from '../config/config';
import { HostResolver } from '../delivery/host-resolver';
import { urlAddressWarnings } from './url-warnings';

@Injectable()
export class WebhooksService implements OnModuleInit {
  constructor(
    @InjectRepository(WebhookEntity) private readonly webhooks: Repository<WebhookEntity>,
    private readonly secrets: SecretsService,
    private readonly usage: SecretUsageRegistry,
    private readonly sender: DeliverySender,
    private readonly dispatcher: DeliveryDispatcher,
    private readonly deliveries: DeliveryStore,
    private readonly presets: PresetLibrary,
    private readonly redactor: SecretRedactor,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
    private readonly config: HeraldConfig,
    private readonly resolver: HostResolver,
  ) {}

  onModuleInit(): void {
    this.usage.register((teamId, names) => this.secretUsages(teamId, names));
  }

  async list(auth: AuthContext, query: NamedListQueryDto): Promise<Page<WebhookDto>> {
    const after = decodeCursor(query.cursor);
    const limit = limitOf(query);
    const rows = await this.webhooks.find({
      where: { teamId: auth.teamId, ...(after ? { name: MoreThan(after) } : {}), ...(query.name !== undefined ? { name: query.name } : {}) },
      order: { name: 'ASC' },
      take: limit + 1,
    });
    return toPage(rows, limit, (row) => row.name, (row) => this.toDto(row, auth));
  }

  async get(auth: AuthContext, id: string): Promise<WebhookDto> {
    return this.toDto(await this.find(auth.teamId, id), auth);
  }

  /** The webhook of the caller's team, or a 404 (another team's webhook does not exist for it). */
  async find(teamId: string, id: string, manager?: EntityManager): Promise<WebhookEntity> {
    const row = await (manager ? manager.findOneBy(WebhookEntity, { teamId, id }) : this.webhooks.findOneBy({ teamId, id }));
    if (!row) throw ApiError.notFound(`Webhook ${id}`);
    this.rememberCredentialUrl(row);
    return row;
  }

  /** Creates a webhook; `warnings` (when any) say why sends to its URL would be refused. */
  async create(auth: AuthContext, body: unknown): Promise<WebhookDto> {
    const checked = await collectBodyProblems(CreateWebhookDto, body);
    const spec = specOfCreate(checked.value);
    const now = this.clock.now();
    const row = await this.tx.saveNamed(auth.teamId, 'webhook', async (em) => {
      await this.validate(auth.teamId, spec, em, new Set(), checked);
      const entity: WebhookEntity = {
        id: newId('wh'),
        teamId: auth.teamId,
        ...spec,
        failingSince: null,
        lastSuccessAt: null,
        createdAt: now,
        updatedAt: now,
      };
      await em.insert(WebhookEntity, entity);
      return entity;
    });
    return this.withWarnings(this.toDto(row, auth), row.url);
  }

  async update(auth: AuthContext, id: string, body: unknown, ifMatch?: IfMatchTags): Promise<WebhookDto> {
    const checked = await collectBodyProblems(UpdateWebhookDto, body);
    const row = await this.tx.saveNamed(auth.teamId, 'webhook', async (em) => {
      const existing = await this.find(auth.teamId, id, em);
      checkIfMatch(ifMatch, webhookEtag(existing), `Webhook ${existing.name}`);
      const spec = applyPatch(existing, checked.value);
      await this.validate(auth.teamId, spec, em, new Set(), checked);
      const updated: WebhookEntity = { ...existing, ...spec, updatedAt: this.clock.now() };
      await em.save(WebhookEntity, updated);
      if (!existing.enabled && updated.enabled) await this.rearm(em, existing);
      // A pause keeps the queue (delivery-lifecycle.ts › statusWhileDisabled); what matches meanwhile is cancelled.
      if (existing.enabled && !updated.enabled) await this.deliveries.holdWaiting(em, existing.id, updated.updatedAt);
      return updated;
    });
    this.dispatcher.wake();
    return this.withWarnings(this.toDto(row, auth), row.url);
  }

  /** The answer of a create or update, with `warnings` when the address policy would refuse the URL at send time. */
  private async withWarnings(dto: WebhookDto, url: string): Promise<WebhookDto> {
    const warnings = await urlAddressWarnings(url, this.config.addressPolicy, (host) => this.resolver.resolveAll(host));
    return warnings.length > 0 ? { ...dto, warnings } : dto;
  }

  async delete(auth: AuthContext, id: string, ifMatch?: IfMatchTags): Promise<void> {
    await this.tx.run(async (em) => {
      // With If-Match the check and the delete must not race a PATCH, which holds the team's lock.
      if (ifMatch !== undefined) await this.tx.lockTeam(em, auth.teamId);
      const existing = await this.find(auth.teamId, id, em);
      checkIfMatch(ifMatch, webhookEtag(existing), `Webhook ${existing.name}`);
      const users = await em.find(AutomationEntity, { where: { webhookId: existing.id }, select: { id: true, name: true } });
      if (users.length > 0) {
        const names = users.map((a) => `"${a.name}"`).join(', ');
        throw ApiError.conflict(`Webhook ${existing.name} is used by automation ${names}; point them elsewhere or delete them first`, [
          { field: 'id', reason: `in use by automation ${names}` },
        ]);
      }
      await em.delete(WebhookEntity, { id: existing.id });
    });
  }

  /**
   * Re-arms a webhook disabled by a user, a 410 or a failure streak: its held deliveries are
   * released, and those that ended `failed` during the failure streak are queued again as a
   * new attempt series.
   */
  async enable(auth: AuthContext, id: string): Promise<WebhookDto> {
    const row = await this.tx.run(async (em) => {
      const existing = await this.find(auth.teamId, id, em);
      const updated: WebhookEntity = { ...existing, enabled: true, disabledReason: null, failingSince: null, updatedAt: this.clock.now() };
      await em.save(WebhookEntity, updated);
      if (!existing.enabled) await this.rearm(em, existing);
      return updated;
    });
    this.dispatcher.wake();
    return this.toDto(row, auth);
  }

  private async rearm(em: EntityManager, before: WebhookEntity): Promise<void> {
    const now = this.clock.now();
    await em.update(WebhookEntity, { id: before.id }, { failingSince: null });
    await this.deliveries.releaseHeld(em, before.id, now);
    if (before.disabledReason !== 'user' && before.failingSince !== null) {
      const failed = await this.deliveries.failedDuring(em, before.id, before.failingSince);
      await this.deliveries.startNewSeries(em, failed.map((d) => d.id), now);
    }
  }

  /**
   * Sends the given payload, or the kind's default preset over the fixed sample event, now:
   * signed and authenticated as a real delivery, one attempt, nothing stored.
   */
  async test(auth: AuthContext, id: string, dto: TestWebhookDto): Promise<TestResultDto> {
    const webhook = await this.find(auth.teamId, id);
    const deliveryId = newId('msg');
    const event = { ...testSendEvent(), occurredAt: new Date(this.clock.now()).toISOString() };
    const team = { id: auth.teamId, name: auth.teamName };
    const variables = buildVariables({ event, team, automation: null, deliveryId });
    let body: Parameters<DeliverySender['send']>[1]['body'];
    if (dto.payload !== undefined) {
      const validation = validateTemplate(dto.payload, { secrets: boundSecretNames(webhook) }, 'payload');
      if (!validation.ok) throw ApiError.invalid(validation.problems);
      const template = compileTemplate(dto.payload);
      body = (secrets) => template.render(variables, secrets);
    } else {
      const preset = defaultPresetForKind(webhook.kind);
      const rendered = this.presets.render(preset, { variables, event, team, automation: null, deliveryId });
      body = () => rendered;
    }
    const outcome = await this.sender.send(webhook, { deliveryId, eventType: 'TEST', body });
    return {
      ok: outcome.kind === 'success',
      statusCode: outcome.statusCode,
      durationMs: outcome.durationMs,
      responseExcerpt: outcome.responseExcerpt,
      error: outcome.errorMessage,
    };
  }

  /**
   * Checks a webhook as POST would create it, writing nothing (a configuration file's check,
   * `POST /v1/config/validate`): a 400 naming each field. `pendingSecrets` are taken to exist
   * (the caller creates them first); their values are not checked here.
   */
  async checkCreate(teamId: string, dto: CreateWebhookDto, em: EntityManager, pendingSecrets: ReadonlySet<string>): Promise<void> {
    await this.validate(teamId, specOfCreate(dto), em, pendingSecrets);
  }

  /**
   * Every rule of docs/design.md › Webhooks that needs the team's secrets; a 400 naming each
   * field at fault, with the body's own problems (`earlier`, from its DTO) in the same answer.
   */
  private async validate(
    teamId: string,
    spec: WebhookSpec,
    em: EntityManager,
    pendingSecrets: ReadonlySet<string> = new Set(),
    earlier: Pick<CollectedBody<unknown>, 'problems' | 'faulty'> = { problems: [], faulty: new Set() },
  ): Promise<void> {
    const problems: FieldProblem[] = specProblems(spec);
    const referenced = referencedSecretNames(spec);
    const existing = await this.secrets.existing(teamId, referenced, em);
    for (const name of pendingSecrets) existing.add(name);
    const missing = (name: string | null) => name !== null && !existing.has(name);
    if (missing(spec.accessTokenSecret)) problems.push({ field: 'accessTokenSecret', reason: `secret ${spec.accessTokenSecret} does not exist` });
    if (missing(spec.signingSecret)) problems.push({ field: 'signingSecret', reason: `secret ${spec.signingSecret} does not exist` });
    for (const name of spec.payloadSecrets) {
      if (missing(name)) problems.push({ field: 'payloadSecrets', reason: `secret ${name} does not exist` });
    }
    if (spec.signingSecret !== null && existing.has(spec.signingSecret) && !pendingSecrets.has(spec.signingSecret) && spec.signatureSchemes.length > 0) {
      const value = await this.secrets.resolve(teamId, spec.signingSecret);
      problems.push(...signingSecretValueProblems(spec.signatureSchemes, value));
    }
    const all = [...earlier.problems, ...withoutFaulty(problems, earlier.faulty)];
    if (all.length > 0) throw ApiError.invalid(all);
  }

  private async secretUsages(teamId: string, names: string[]): Promise<Map<string, SecretUsage[]>> {
    const result = new Map<string, SecretUsage[]>();
    const wanted = new Set(names);
    const rows = await this.webhooks.find({ where: { teamId } });
    for (const row of rows) {
      const uses: [string | null, string][] = [
        [row.accessTokenSecret, 'accessTokenSecret'],
        [row.signingSecret, 'signingSecret'],
        ...row.payloadSecrets.map((name): [string, string] => [name, 'payloadSecrets']),
        ...Object.values(row.headers).flatMap((value) =>
          headerTemplateSecrets(value).secrets.map((name): [string, string] => [name, 'headers']),
        ),
      ];
      const seen = new Set<string>();
      for (const [name, as] of uses) {
        if (name === null || !wanted.has(name) || seen.has(`${name}:${as}`)) continue;
        seen.add(`${name}:${as}`);
        const list = result.get(name) ?? [];
        list.push({ kind: 'webhook', id: row.id, name: row.name, as });
        result.set(name, list);
      }
    }
    return result;
  }

  /** A Slack, Teams or Discord URL is a credential: scrub it from every log line from now on. */
  private rememberCredentialUrl(row: WebhookEntity): void {
    if (urlIsCredential(row.kind)) this.redactor.remember(row.url);
  }

  private toDto(row: WebhookEntity, auth: AuthContext): WebhookDto {
    const hideUrl = auth.role !== 'admin' && urlIsCredential(row.kind);
    return {
      id: row.id,
      name: row.name,
      url: hideUrl ? maskedUrl(row.url) : row.url,
      kind: row.kind,
      accessTokenSecret: row.accessTokenSecret,
      signingSecret: row.signingSecret,
      signatureSchemes: row.signatureSchemes,
      payloadSecrets: row.payloadSecrets,
      headers: row.headers,
      delivery: effectiveDeliverySettings(row.kind, row.delivery),
      enabled: row.enabled,
      disabledReason: row.disabledReason,
      etag: webhookEtag(row),
      createdAt: isoTime(row.createdAt)!,
      updatedAt: isoTime(row.updatedAt)!,
    };
  }
}

/** The etag of a webhook: its configuration, not its delivery health (failingSince, lastSuccessAt). */
function webhookEtag(row: WebhookEntity): string {
  const { name, url, kind, accessTokenSecret, signingSecret, signatureSchemes, payloadSecrets, headers, delivery, enabled, disabledReason } = row;
  return contentEtag({ name, url, kind, accessTokenSecret, signingSecret, signatureSchemes, payloadSecrets, headers, delivery, enabled, disabledReason });
}

/** POST: the webhook as given, with the defaults of the fields left out. */
function specOfCreate(dto: CreateWebhookDto): WebhookSpec {
  const signingSecret = dto.signingSecret ?? null;
  const enabled = dto.enabled ?? true;
  return {
    name: dto.name,
    url: dto.url,
    kind: dto.kind,
    accessTokenSecret: dto.accessTokenSecret ?? null,
    signingSecret,
    signatureSchemes: dto.signatureSchemes ?? defaultSchemes(signingSecret),
    payloadSecrets: dto.payloadSecrets ?? [],
    headers: dto.headers ?? {},
    delivery: definedFields(dto.delivery ?? {}),
    enabled,
    disabledReason: enabled ? null : 'user',
  };
}

/** PATCH: the top-level fields given replace the stored ones; null clears an optional field. */
function applyPatch(row: WebhookEntity, dto: UpdateWebhookDto): WebhookSpec {
  const signingSecret = dto.signingSecret === undefined ? row.signingSecret : dto.signingSecret;
  let signatureSchemes: WebhookSpec['signatureSchemes'];
  if (dto.signatureSchemes !== undefined && dto.signatureSchemes !== null) signatureSchemes = dto.signatureSchemes;
  else if (dto.signatureSchemes === null) signatureSchemes = defaultSchemes(signingSecret);
  else if (signingSecret === null) signatureSchemes = [];
  // A signing secret set where there was none gets the default scheme, as on create.
  else if (row.signingSecret === null) signatureSchemes = defaultSchemes(signingSecret);
  else signatureSchemes = row.signatureSchemes;

  let enabled = row.enabled;
  let disabledReason = row.disabledReason;
  if (dto.enabled === false && row.enabled) [enabled, disabledReason] = [false, 'user'];
  if (dto.enabled === true) [enabled, disabledReason] = [true, null];

  return {
    name: dto.name ?? row.name,
    url: dto.url ?? row.url,
    kind: dto.kind ?? row.kind,
    accessTokenSecret: dto.accessTokenSecret === undefined ? row.accessTokenSecret : dto.accessTokenSecret,
    signingSecret,
    signatureSchemes,
    payloadSecrets: dto.payloadSecrets === undefined ? row.payloadSecrets : (dto.payloadSecrets ?? []),
    headers: dto.headers === undefined ? row.headers : (dto.headers ?? {}),
    delivery: dto.delivery === undefined ? row.delivery : definedFields(dto.delivery ?? {}),
    enabled,
    disabledReason,
  };
}

/** Drops undefined fields, so a stored override set holds only what the admin gave. */
function definedFields<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
