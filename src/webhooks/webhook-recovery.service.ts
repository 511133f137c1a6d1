import { Injectable } from '@nestjs/common';
import type { AuthContext } from '../auth/auth-context';
import { Clock } from '../common/clock';
import { ApiError, type FieldProblem } from '../common/errors/api-error';
import { TransactionRunner } from '../database/transaction-runner';
import { DeliveryStore } from '../delivery/delivery-store';
import { DeliveryDispatcher } from '../delivery/dispatcher';
import type { RecoverResultDto, RecoverWebhookDto } from './dto/recover.dto';
import { WebhookEntity } from './webhook.entity';

/**
 * `POST /v1/webhooks/:id/recover` (Svix's "recover failed messages since"): every delivery of
 * the webhook that ended `failed` in a window is sent again as a new attempt series of the same
 * id (DeliveryStore.startNewSeries, as redelivery and `enable` do), with the current secrets and
 * fresh signatures. Refused (409) while the webhook is disabled: enable it first.
 */
@Injectable()
export class WebhookRecoveryService {
  constructor(
    private readonly store: DeliveryStore,
    private readonly dispatcher: DeliveryDispatcher,
    private readonly tx: TransactionRunner,
    private readonly clock: Clock,
  ) {}

  async recover(auth: AuthContext, id: string, dto: RecoverWebhookDto): Promise<RecoverResultDto> {
    const now = this.clock.now();
    const window = recoveryWindow(dto, now);
    const requeued = await this.tx.run(async (em) => {
      const webhook = await em.findOneBy(WebhookEntity, { teamId: auth.teamId, id });
      if (!webhook) throw ApiError.notFound(`Webhook ${id}`);
      if (!webhook.enabled) {
        throw ApiError.conflict(
          `Webhook ${webhook.name} is disabled (${webhook.disabledReason}): enable it first (POST /v1/webhooks/${id}/enable), then recover`,
        );
      }
      const failed = await this.store.failedDuring(em, id, window.since, window.until);
      await this.store.startNewSeries(em, failed.map((d) => d.id), now);
      return failed;
    });
    this.dispatcher.dispatch(requeued.map((d) => ({ id: d.id, series: d.series + 1, attempt: 1, dueAt: now })));
    return { requeued: requeued.length };
  }
}

/** The window in epoch ms; a 400 naming the field when it is empty. */
export function recoveryWindow(dto: RecoverWebhookDto, now: number): { since: number; until: number } {
  const since = Date.parse(dto.since);
  const until = dto.until === undefined ? now : Date.parse(dto.until);
  const problems: FieldProblem[] = [];
  if (dto.until !== undefined && until <= since) problems.push({ field: 'until', reason: 'must be after since' });
  if (dto.until === undefined && since >= now) problems.push({ field: 'since', reason: 'must be in the past (or give an until after it)' });
  if (problems.length > 0) throw ApiError.invalid(problems);
  return { since, until };
}
