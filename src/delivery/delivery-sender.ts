import { Injectable } from '@nestjs/common';
import { Clock } from '../common/clock';
import { BoundRedaction, SecretRedactor } from '../common/logging/redactor';
import { HeraldConfig } from '../config/config';
import { renderHeaderValue } from '../rendering/header-template';
import type { SecretLookup } from '../rendering/payload-template';
import { ACCESS_TOKEN } from '../rendering/variables';
import { SecretResolutionError, SecretsService } from '../secrets/secrets.service';
import type { WebhookEntity } from '../webhooks/webhook.entity';
import { buildDeliveryRequest } from './delivery-request';
import { urlIsCredential } from '../webhooks/webhook-kinds';
import { HttpSender, type SendOutcome, redactedExcerpt } from './http-executor';

/** What a send needs to know about its webhook. */
export type SendTarget = Pick<
  WebhookEntity,
  'teamId' | 'url' | 'kind' | 'accessTokenSecret' | 'signingSecret' | 'signatureSchemes' | 'payloadSecrets' | 'headers'
>;

export interface SendRequest {
  deliveryId: string;
  /** `X-Herald-Event`: the event type, or TEST. */
  eventType: string;
  /** Produces the body once the webhook's secrets are known (only this send sees their values). */
  body: (secrets: SecretLookup) => string;
}

/**
 * One attempt at one webhook: resolves the webhook's secrets in memory, renders what needs
 * them, signs, sends, and returns the outcome with every secret value redacted. Never throws
 * for the receiver's or the secrets' sake: a failure is an outcome.
 */
@Injectable()
export class DeliverySender {
  constructor(
    private readonly executor: HttpSender,
    private readonly secrets: SecretsService,
    private readonly redactor: SecretRedactor,
    private readonly config: HeraldConfig,
    private readonly clock: Clock,
  ) {}

  async send(target: SendTarget, request: SendRequest): Promise<SendOutcome> {
    const started = this.clock.now();
    let outbound;
    let bound = BoundRedaction.EMPTY;
    try {
      const { values, previousSigning } = await this.resolveSecrets(target);
      // Every value this send may carry, whatever its length, in every form a receiver may echo.
      bound = this.redactor.bound(boundValues(target, values, previousSigning));
      const lookup: SecretLookup = (name) => values.get(name);
      const extraHeaders: Record<string, string> = {};
      for (const [name, value] of Object.entries(target.headers)) extraHeaders[name] = renderHeaderValue(value, lookup);
      outbound = buildDeliveryRequest({
        url: target.url,
        kind: target.kind,
        body: request.body(lookup),
        deliveryId: request.deliveryId,
        eventType: request.eventType,
        version: this.config.version,
        accessToken: target.accessTokenSecret === null ? null : (values.get(ACCESS_TOKEN) ?? null),
        signingSecret: target.signingSecret === null ? null : (values.get(target.signingSecret) ?? null),
        previousSigningSecrets: previousSigning,
        schemes: target.signatureSchemes,
        extraHeaders,
        nowMs: this.clock.now(),
      });
    } catch (error) {
      return this.preparationFailure(error, this.clock.now() - started);
    }
    const outcome = await this.executor.send({ ...outbound, excerpt: redactedExcerpt(bound) });
    return {
      ...outcome,
      // The bound secrets are already gone from the excerpt; the process-wide redactor adds any other value it knows.
      responseExcerpt: this.redactor.redactText(outcome.responseExcerpt),
      errorMessage: outcome.errorMessage === null ? null : this.redactor.redactText(bound.redact(outcome.errorMessage)),
    };
  }

  /** The webhook's secrets by name, and its signing secret's previous values still in their rotation overlap. */
  private async resolveSecrets(target: SendTarget): Promise<{ values: Map<string, string>; previousSigning: string[] }> {
    const values = new Map<string, string>();
    if (target.accessTokenSecret !== null) {
      values.set(ACCESS_TOKEN, await this.secrets.resolve(target.teamId, target.accessTokenSecret));
    }
    let previousSigning: string[] = [];
    if (target.signingSecret !== null) {
      const signing = await this.secrets.resolveSigning(target.teamId, target.signingSecret);
      values.set(target.signingSecret, signing.value);
      previousSigning = signing.previous;
    }
    for (const name of target.payloadSecrets) {
      if (!values.has(name)) values.set(name, await this.secrets.resolve(target.teamId, name));
    }
    return { values, previousSigning };
  }

  /** A send that could not be prepared (a secret unreadable, a header unrenderable) is final: retrying will not fix it. */
  private preparationFailure(error: unknown, durationMs: number): SendOutcome {
    const errorClass = error instanceof SecretResolutionError ? 'secret_unavailable' : 'preparation_failed';
    const message = error instanceof Error ? error.message : String(error);
    return {
      kind: 'final',
      statusCode: null,
      durationMs,
      responseExcerpt: '',
      errorClass,
      errorMessage: this.redactor.redactText(message),
      retryAfterMs: null,
      gone: false,
    };
  }
}

/** The secret values one send may carry: its secrets (signing values in their overlap too) and a URL that is a credential. */
function boundValues(target: SendTarget, values: ReadonlyMap<string, string>, previousSigning: readonly string[]): string[] {
  const out = [...values.values(), ...previousSigning];
  if (urlIsCredential(target.kind)) out.push(target.url);
  return out;
}
