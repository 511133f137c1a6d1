import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, MaxLength } from 'class-validator';
import { ListQueryDto } from '../../common/pagination/pagination';
import { ATTEMPT_ERROR_CLASSES } from '../delivery-failures';
import { FINAL, IN_FLIGHT } from '../delivery-lifecycle';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../delivery-status';

/** Each delivery status, for the API's descriptions (the statuses and their groups: delivery-lifecycle.ts). */
const STATUS_MEANINGS: Record<DeliveryStatus, string> = {
  pending: 'due now, waiting for the worker',
  sending: 'leased by a worker, an attempt in flight',
  succeeded: 'a 2xx arrived',
  retrying: 'the last attempt failed retryably; nextAttemptAt says when the next one is due',
  failed: 'dead letter: a final answer (3xx, 4xx other than 408/425/429), attempts used up, or the webhook deleted; redeliverable',
  held: 'Herald disabled its webhook (gone, failing); kept and sent after enable',
  cancelled: 'its webhook was disabled by a user when it matched (or before its retry); never sent',
}

export const DELIVERY_STATUS_DOC =
  `${DELIVERY_STATUSES.map((status) => `${status}: ${STATUS_MEANINGS[status]}`).join('; ')}. ` +
  `Final: ${FINAL.join(', ')}; in flight (a redelivery is refused): ${IN_FLIGHT.join(', ')}.`;

export class DeliveryListQueryDto extends ListQueryDto {
  @ApiPropertyOptional({ description: 'Only deliveries of this automation' })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  automation?: string;

  @ApiPropertyOptional({ description: 'Only deliveries to this webhook' })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  webhook?: string;

  @ApiPropertyOptional({ enum: DELIVERY_STATUSES, description: `Only deliveries in this status. ${DELIVERY_STATUS_DOC}` })
  @IsOptional()
  @IsIn(DELIVERY_STATUSES, { message: `must be one of ${DELIVERY_STATUSES.join(', ')}` })
  status?: DeliveryStatus;

  @ApiPropertyOptional({ description: 'Only deliveries made by this event' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  event?: string;

  @ApiPropertyOptional({ description: 'Created at or after (ISO-8601)', format: 'date-time' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'must be an ISO-8601 time' })
  from?: string;

  @ApiPropertyOptional({ description: 'Created before (ISO-8601)', format: 'date-time' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'must be an ISO-8601 time' })
  to?: string;
}

/** One HTTP attempt of a delivery. */
export class AttemptDto {
  @ApiProperty({ description: 'Attempt series: 1, then one more per redelivery or re-queue' }) series!: number;
  @ApiProperty({ description: 'Attempt number within its series, from 1' }) number!: number;
  @ApiProperty({ format: 'date-time', description: 'When the attempt started' }) startedAt!: string;
  @ApiProperty({ description: 'How long it took, in milliseconds' }) durationMs!: number;
  @ApiProperty({ nullable: true, type: Number, description: 'The HTTP status answered; null when no response arrived' }) statusCode!: number | null;
  @ApiProperty({ description: 'The first 2 KiB of the response, secrets redacted' }) responseExcerpt!: string;
  @ApiProperty({
    nullable: true,
    type: String,
    enum: Object.keys(ATTEMPT_ERROR_CLASSES),
    example: 'timeout',
    description: `Why it failed without a response to judge; null when a response arrived (statusCode says how it went). ${Object.entries(ATTEMPT_ERROR_CLASSES).map(([name, text]) => `${name}: ${text}`).join('; ')}`,
  })
  errorClass!: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'The failure in words, secret values redacted; null on success' }) errorMessage!: string | null;
  @ApiProperty({ description: 'Whether another attempt was scheduled after this one' }) willRetry!: boolean;
}

/** A delivery: one payload for one webhook, with its attempts' outcome. */
export class DeliveryDto {
  @ApiProperty({ example: 'msg_01JDA8W3M2Q0000000000000000', description: 'Stable across attempts: receivers dedupe on it (webhook-id, X-Herald-Delivery)' })
  id!: string;
  @ApiProperty({ enum: DELIVERY_STATUSES, description: DELIVERY_STATUS_DOC }) status!: DeliveryStatus;
  @ApiProperty({ nullable: true, type: String, description: 'The automation that made it; null once deleted' }) automationId!: string | null;
  @ApiProperty({ nullable: true, type: String, description: "That automation's name when it fired" }) automationName!: string | null;
  @ApiProperty({ description: 'The webhook it is sent to' }) webhookId!: string;
  @ApiProperty({ nullable: true, type: String, description: 'The event that made it; null once the event was pruned' }) eventId!: string | null;
  @ApiProperty({ description: "That event's type", example: 'RUN_STATE' }) eventType!: string;
  @ApiProperty({ description: 'The current attempt series: 1, then one more per redelivery or recovery' }) series!: number;
  @ApiProperty({ description: 'Attempts in the current series' }) attemptCount!: number;
  @ApiProperty({ nullable: true, type: String, format: 'date-time', description: 'When the next attempt is due; null when none is scheduled' })
  nextAttemptAt!: string | null;
  @ApiProperty({ nullable: true, type: Number, description: "The last attempt's HTTP status; null when none answered" }) lastStatusCode!: number | null;
  @ApiProperty({ nullable: true, type: String, description: "The last attempt's error, secret values redacted; null when none" }) lastError!: string | null;
  @ApiProperty({ format: 'date-time', description: 'When the automation fired' }) createdAt!: string;
  @ApiProperty({ format: 'date-time', description: 'When its status last changed' }) updatedAt!: string;
}

/** The request an attempt sends, as people may read it. */
export class DeliveryRequestDto {
  @ApiProperty({
    description: "The webhook's URL; for members only its origin where the URL is itself a credential (Slack, Teams, Discord)",
    example: 'https://hooks.slack.com/••••••',
  })
  url!: string;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    description: 'The headers sent, secret values never shown: the access token and header values as ${NAME} placeholders, signatures "(computed at each attempt)"',
    example: { 'Content-Type': 'application/json', Authorization: 'Bearer ${GITHUB_TOKEN}', 'webhook-signature': '(computed at each attempt)' },
  })
  headers!: Record<string, string>;
}

/** A delivery with its stored body and every attempt. */
export class DeliveryDetailDto extends DeliveryDto {
  @ApiProperty({
    type: DeliveryRequestDto,
    nullable: true,
    description: "The request as the webhook's current configuration sends it (a redelivery sends this); null once the webhook is deleted",
  })
  request!: DeliveryRequestDto | null;
  @ApiProperty({ description: 'The stored body: secrets appear only as ${NAME} placeholders' }) body!: string;
  @ApiProperty({ type: [AttemptDto], description: 'Every attempt of every series, oldest first' }) attempts!: AttemptDto[];
}

/** One page of deliveries, newest first. */
export class DeliveryPageDto {
  @ApiProperty({ type: [DeliveryDto], description: 'The deliveries of this page, newest first' }) items!: DeliveryDto[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as `cursor` for the next page; null on the last page' }) nextCursor!: string | null;
}
