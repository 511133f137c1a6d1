import { Injectable, type ValidationPipe } from '@nestjs/common';
import { type EntityManager, In } from 'typeorm';
import type { AuthContext } from '../auth/auth-context';
import { type AutomationInput, actionProblems, normalizeAutomation } from '../automations/automation-rules';
import { AutomationEntity } from '../automations/automation.entity';
import { ApiError, type FieldProblem } from '../common/errors/api-error';
import { createValidationPipe } from '../common/errors/validation';
import { TransactionRunner } from '../database/transaction-runner';
import { CreateSourceDto } from '../sources/dto/source.dto';
import { SourcesService } from '../sources/sources.service';
import { CreateWebhookDto } from '../webhooks/dto/webhook.dto';
import { WebhookEntity } from '../webhooks/webhook.entity';
import { boundSecretNames } from '../webhooks/webhook-rules';
import { WebhooksService } from '../webhooks/webhooks.service';
import { schemaProblems } from './config-check';
import { buildConfigSchema } from './config-schema';
import type { ValidateConfigDto } from './dto/validate-config.dto';

/** A webhook id standing for one the file creates (automations are checked before it exists). */
const FILE_WEBHOOK_ID = 'wh_in_file';

@Injectable()
export class AsCodeService {
  private readonly pipe: ValidationPipe = createValidationPipe();
  private schemaDocument: Record<string, unknown> | undefined;

  constructor(
    private readonly webhooks: WebhooksService,
    private readonly sources: SourcesService,
    private readonly tx: TransactionRunner,
  ) {}

  schema(): Record<string, unknown> {
    return (this.schemaDocument ??= buildConfigSchema());
  }

  /**
   * Checks every object of a configuration file as the create endpoints would (the same DTOs,
   * the same services' rules, the same automation rules), against the team and the file
   * itself: an automation may name a webhook the file creates, a webhook a secret the caller
   * is about to set. Writes nothing. Every problem at once, each field a path in the file.
   */
  async validate(auth: AuthContext, body: ValidateConfigDto): Promise<{ valid: true; webhooks: number; sources: number; automations: number }> {
    const document = body.config;
    // The shape first (the JSON Schema the command checks too): the rules below read well-formed objects.
    const shape = schemaProblems(document);
    if (shape.length > 0) throw ApiError.invalid(shape);
    const pending = new Set(body.pendingSecrets ?? []);
    const list = (section: string) => (Array.isArray(document[section]) ? (document[section] as Record<string, unknown>[]) : undefined);
    const webhooks = list('webhooks');
    const sources = list('sources');
    const automations = list('automations');
    const problems = await this.tx.run(async (em) => {
      const found: FieldProblem[] = [];
      for (const [index, webhook] of (webhooks ?? []).entries()) {
        found.push(...prefixed(`webhooks[${index}]`, await this.webhookProblems(auth.teamId, webhook, em, pending)));
      }
      for (const [index, source] of (sources ?? []).entries()) {
        found.push(...prefixed(`sources[${index}]`, await this.sourceProblems(auth.teamId, source, em, pending)));
      }
      for (const [index, automation] of (automations ?? []).entries()) {
        const bound = await this.boundSecretsOf(auth.teamId, automation, webhooks, body.prune === true, em);
        found.push(...prefixed(`automations[${index}]`, automationProblems(automation, bound)));
      }
      if (body.prune === true && webhooks && !automations) found.push(...(await this.prunedWebhooksInUse(auth.teamId, webhooks, em)));
      return found;
    });
    if (problems.length > 0) throw ApiError.invalid(problems);
    return { valid: true, webhooks: webhooks?.length ?? 0, sources: sources?.length ?? 0, automations: automations?.length ?? 0 };
  }

  /** As POST /v1/webhooks checks a body: the request pipe (the DTO's rules), then the service's. */
  private webhookProblems(teamId: string, value: unknown, em: EntityManager, pending: ReadonlySet<string>): Promise<FieldProblem[]> {
    return problemsOf(async () => {
      const dto = (await this.pipe.transform(value, { type: 'body', metatype: CreateWebhookDto })) as CreateWebhookDto;
      await this.webhooks.checkCreate(teamId, dto, em, pending);
    });
  }

  /** As POST /v1/sources checks a body. */
  private sourceProblems(teamId: string, value: unknown, em: EntityManager, pending: ReadonlySet<string>): Promise<FieldProblem[]> {
    return problemsOf(async () => {
      const dto = (await this.pipe.transform(value, { type: 'body', metatype: CreateSourceDto })) as CreateSourceDto;
      await this.sources.checkCreate(teamId, dto, em, pending);
    });
  }

  /**
   * With prune, a file that manages webhooks but not automations would delete webhooks that
   * automations it leaves alone still use: the delete would be refused (409) halfway through.
   */
  private async prunedWebhooksInUse(teamId: string, fileWebhooks: Record<string, unknown>[], em: EntityManager): Promise<FieldProblem[]> {
    const kept = new Set(fileWebhooks.map((w) => w.name));
    const pruned = (await em.findBy(WebhookEntity, { teamId })).filter((w) => !kept.has(w.name));
    if (pruned.length === 0) return [];
    const users = await em.find(AutomationEntity, { where: { teamId, webhookId: In(pruned.map((w) => w.id)) }, select: { name: true, webhookId: true } });
    return pruned.flatMap((webhook) => {
      const names = users.filter((a) => a.webhookId === webhook.id).map((a) => `"${a.name}"`);
      if (names.length === 0) return [];
      return [{ field: 'webhooks', reason: `leaves out webhook "${webhook.name}", which automation ${names.join(', ')} uses: --prune cannot delete it (add the automations section, or keep the webhook)` }];
    });
  }

  /**
   * The secrets a payload of this automation may use, from the webhook it names: the file's
   * webhook of that name, else the team's (unless prune deletes the team's webhooks the file
   * leaves out). undefined when there is no such webhook.
   */
  private async boundSecretsOf(
    teamId: string,
    automation: Record<string, unknown>,
    fileWebhooks: Record<string, unknown>[] | undefined,
    prune: boolean,
    em: EntityManager,
  ): Promise<{ id: string; secrets: string[] } | string> {
    const name = (automation.action as { webhook?: unknown }).webhook as string;
    const inFile = fileWebhooks?.find((w) => w.name === name);
    if (inFile) {
      const { accessTokenSecret = null, signingSecret = null, payloadSecrets = [] } = inFile as {
        accessTokenSecret?: string | null;
        signingSecret?: string | null;
        payloadSecrets?: string[];
      };
      return { id: FILE_WEBHOOK_ID, secrets: boundSecretNames({ accessTokenSecret, signingSecret, payloadSecrets }) };
    }
    const stored = await em.findOneBy(WebhookEntity, { teamId, name });
    if (stored && !(prune && fileWebhooks)) return { id: stored.id, secrets: boundSecretNames(stored) };
    if (stored) return `names webhook "${name}", which the file leaves out and --prune would delete`;
    return `names webhook "${name}", which is neither in the file nor in the team`;
  }
}

/** An automation of the file checked by the API's rules, its webhook (by name) resolved. */
function automationProblems(automation: Record<string, unknown>, webhook: { id: string; secrets: string[] } | string): FieldProblem[] {
  if (typeof webhook === 'string') return [{ field: 'action.webhook', reason: webhook }];
  const { webhook: _name, ...action } = automation.action as Record<string, unknown>;
  const normalized = normalizeAutomation({ ...automation, action: { ...action, webhookId: webhook.id } } as AutomationInput);
  if (normalized.ok) return actionProblems(normalized.automation.action, webhook.secrets);
  const problems = normalized.problems.map((p) => (p.field === 'action.webhookId' ? { ...p, field: 'action.webhook' } : p));
  // The payload is checked too when only other fields are at fault: every problem at once.
  if (!problems.some((p) => p.field.startsWith('action'))) problems.push(...actionProblems({ ...action, webhookId: webhook.id }, webhook.secrets));
  return problems;
}

/** The problems a check answers with as a 400 (none when it passes); other errors go on. */
async function problemsOf(check: () => Promise<void>): Promise<FieldProblem[]> {
  try {
    await check();
    return [];
  } catch (error) {
    if (error instanceof ApiError && error.details) return error.details;
    throw error;
  }
}

function prefixed(prefix: string, problems: FieldProblem[]): FieldProblem[] {
  return problems.map((p) => ({ field: `${prefix}.${p.field}`, reason: p.reason }));
}
