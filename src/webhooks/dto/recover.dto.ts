import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsISO8601, IsOptional } from 'class-validator';

export class RecoverWebhookDto {
  @ApiProperty({
    format: 'date-time',
    description: 'Re-queue the deliveries that ended `failed` at or after this time (ISO-8601 with a timezone)',
    example: '2026-11-22T08:00:00Z',
  })
  @IsISO8601({ strict: true }, { message: 'must be an ISO-8601 time' })
  since!: string;

  @ApiPropertyOptional({
    format: 'date-time',
    description: '… and before this time (exclusive; default: now)',
    example: '2026-11-22T20:00:00Z',
  })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'must be an ISO-8601 time' })
  until?: string;
}

export class RecoverResultDto {
  @ApiProperty({ description: 'How many failed deliveries were re-queued, each as a new attempt series of the same id', example: 3 })
  requeued!: number;
}
