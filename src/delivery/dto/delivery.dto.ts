import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, MaxLength } from 'class-validator';
import { ListQueryDto } from '../../common/pagination/pagination';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../delivery-status';

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

  @ApiPropertyOptional({ enum: DELIVERY_STATUSES })
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

export class AttemptDto {
  @ApiProperty({ description: 'Attempt series: 1, then one more per redelivery or re-queue' }) series!: number;
  @ApiProperty({ description: 'Attempt number within its series, from 1' }) number!: number;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiProperty() durationMs!: number;
  @ApiProperty({ nullable: true, type: Number }) statusCode!: number | null;
  @ApiProperty({ description: 'The first 2 KiB of the response, secrets redacted' }) responseExcerpt!: string;
  @ApiProperty({ nullable: true, type: String, example: 'timeout' }) errorClass!: string | null;
  @ApiProperty({ nullable: true, type: String }) errorMessage!: string | null;
  @ApiProperty({ description: 'Whether another attempt was scheduled after this one' }) willRetry!: boolean;
}

export class DeliveryDto {
  @ApiProperty({ example: 'msg_01JDA8W3M2Q0000000000000000', description: 'Stable across attempts: receivers dedupe on it (webhook-id, X-Herald-Delivery)' })
  id!: string;
  @ApiProperty({ enum: DELIVERY_STATUSES }) status!: DeliveryStatus;
  @ApiProperty({ nullable: true, type: String }) automationId!: string | null;
  @ApiProperty({ nullable: true, type: String }) automationName!: string | null;
  @ApiProperty() webhookId!: string;
  @ApiProperty({ nullable: true, type: String }) eventId!: string | null;
  @ApiProperty() eventType!: string;
  @ApiProperty() series!: number;
  @ApiProperty({ description: 'Attempts in the current series' }) attemptCount!: number;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) nextAttemptAt!: string | null;
  @ApiProperty({ nullable: true, type: Number }) lastStatusCode!: number | null;
  @ApiProperty({ nullable: true, type: String }) lastError!: string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class DeliveryDetailDto extends DeliveryDto {
  @ApiProperty({ description: 'The stored body: secrets appear only as ${NAME} placeholders' }) body!: string;
  @ApiProperty({ type: [AttemptDto] }) attempts!: AttemptDto[];
}

export class DeliveryPageDto {
  @ApiProperty({ type: [DeliveryDto] }) items!: DeliveryDto[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}
