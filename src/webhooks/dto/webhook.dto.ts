import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
} from 'class-validator';
import { UniqueItems } from '../../common/dto-rules';
import { SECRET_NAME_PATTERN, SECRET_NAME_RULE } from '../../secrets/dto/secret.dto';
import {
  DISABLED_REASONS,
  type DisabledReason,
  SIGNATURE_SCHEMES,
  type SignatureSchemeName,
  WEBHOOK_KINDS,
  type WebhookKind,
} from '../webhook-kinds';

export const WEBHOOK_NAME_PATTERN = /^[-\w]+([ ]+[-\w]+)*$/;
const NAME_RULE = 'must be 1–64 letters, digits, _ or -, words separated by single spaces';
/** `null` is allowed on PATCH to clear an optional field. */
const nullable = ValidateIf((_, value) => value !== null);

export class DeliverySettingsDto {
  @ApiPropertyOptional({ description: 'Token-bucket rate in requests per second; null: unlimited', nullable: true, example: 1 })
  @IsOptional()
  @nullable
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0.01)
  @Max(10_000)
  ratePerSecond?: number | null;

  @ApiPropertyOptional({ description: 'Token-bucket size (requests allowed at once); null: same as the rate', nullable: true })
  @IsOptional()
  @nullable
  @IsInt()
  @Min(1)
  @Max(10_000)
  burst?: number | null;

  @ApiPropertyOptional({ description: 'Requests in flight at once to this webhook; null: unlimited', nullable: true })
  @IsOptional()
  @nullable
  @IsInt()
  @Min(1)
  @Max(1000)
  maxConcurrency?: number | null;

  @ApiPropertyOptional({ description: 'Attempts before a delivery is failed (default: one per schedule entry, 8)', minimum: 1, maximum: 50 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(50)
  maxAttempts?: number;

  @ApiPropertyOptional({
    description: 'Delay before each attempt in seconds (±20 % jitter), 1 to 50 entries of 0–86 400; the last entry repeats if maxAttempts is larger',
    type: [Number],
    minItems: 1,
    maxItems: 50,
    example: [0, 5, 30, 120, 600, 1800, 3600, 10800],
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @IsInt({ each: true })
  @Min(0, { each: true })
  @Max(86_400, { each: true })
  scheduleSeconds?: number[];
}

/** Fields shared by create and update; on create `name`, `url` and `kind` are required. */
export class WebhookFieldsDto {
  @ApiProperty({ description: `Unique in the team; ${NAME_RULE}`, example: 'deploy-on-prod', maxLength: 64 })
  @IsString()
  @MaxLength(64)
  @Matches(WEBHOOK_NAME_PATTERN, { message: NAME_RULE })
  name!: string;

  @ApiProperty({ description: 'http or https URL the payload is POSTed to', example: 'https://api.github.com/repos/acme/models/dispatches' })
  @IsString()
  @MaxLength(2048)
  url!: string;

  @ApiProperty({ enum: WEBHOOK_KINDS, description: 'Picks the default preset, headers (github) and rate limits' })
  @IsIn(WEBHOOK_KINDS, { message: `must be one of ${WEBHOOK_KINDS.join(', ')}` })
  kind!: WebhookKind;

  @ApiPropertyOptional({ description: 'Secret sent as `Authorization: Bearer …`; `${ACCESS_TOKEN}` in payloads', nullable: true, example: 'GITHUB_TOKEN' })
  @IsOptional()
  @nullable
  @IsString()
  @Matches(SECRET_NAME_PATTERN, { message: SECRET_NAME_RULE })
  accessTokenSecret?: string | null;

  @ApiPropertyOptional({ description: 'Secret whose value signs every request', nullable: true, example: 'SIGNING_SECRET' })
  @IsOptional()
  @nullable
  @IsString()
  @Matches(SECRET_NAME_PATTERN, { message: SECRET_NAME_RULE })
  signingSecret?: string | null;

  @ApiPropertyOptional({
    description: `Signature schemes to send, each at most once (at most ${SIGNATURE_SCHEMES.length}); default ["standard"] when a signing secret is set`,
    enum: SIGNATURE_SCHEMES,
    isArray: true,
    maxItems: SIGNATURE_SCHEMES.length,
    uniqueItems: true,
  })
  @IsOptional()
  @IsArray()
  @UniqueItems()
  @ArrayMaxSize(SIGNATURE_SCHEMES.length)
  @IsIn(SIGNATURE_SCHEMES, { each: true, message: `each value must be one of ${SIGNATURE_SCHEMES.join(', ')}` })
  signatureSchemes?: SignatureSchemeName[];

  @ApiPropertyOptional({
    description: 'Other secrets a payload or header may use as `${NAME}`; at most 50, each once',
    type: [String],
    maxItems: 50,
    uniqueItems: true,
    example: ['SLACK_CHANNEL'],
  })
  @IsOptional()
  @IsArray()
  @UniqueItems()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @Matches(SECRET_NAME_PATTERN, { each: true, message: `each name ${SECRET_NAME_RULE}` })
  payloadSecrets?: string[];

  @ApiPropertyOptional({
    description: 'Extra request headers; values may use `${SECRET}`. Host, Content-Type, Authorization and signature headers cannot be set.',
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { 'X-Team': 'ml-platform' },
  })
  @IsOptional()
  @IsObject()
  headers?: Record<string, string>;

  @ApiPropertyOptional({ type: DeliverySettingsDto, description: 'Rate limits, concurrency and retry schedule (defaults by kind)' })
  @IsOptional()
  @ValidateNested()
  @Type(() => DeliverySettingsDto)
  delivery?: DeliverySettingsDto;

  @ApiPropertyOptional({ description: 'false pauses the webhook: its matches are recorded as cancelled', default: true })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class CreateWebhookDto extends WebhookFieldsDto {}

/** PATCH: the top-level fields given replace the stored ones; null clears an optional field. */
export class UpdateWebhookDto {
  @ApiPropertyOptional({ description: `${NAME_RULE}` })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  @Matches(WEBHOOK_NAME_PATTERN, { message: NAME_RULE })
  name?: string;

  @ApiPropertyOptional({ description: 'The new URL (http or https)' })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  url?: string;

  @ApiPropertyOptional({ description: 'The new kind: it picks the default payload and delivery settings', enum: WEBHOOK_KINDS })
  @IsOptional()
  @IsIn(WEBHOOK_KINDS, { message: `must be one of ${WEBHOOK_KINDS.join(', ')}` })
  kind?: WebhookKind;

  @ApiPropertyOptional({ description: 'The secret sent as the Authorization bearer token; null removes it', nullable: true })
  @IsOptional()
  @nullable
  @IsString()
  @Matches(SECRET_NAME_PATTERN, { message: SECRET_NAME_RULE })
  accessTokenSecret?: string | null;

  @ApiPropertyOptional({ description: 'The secret that signs each request; null: unsigned', nullable: true })
  @IsOptional()
  @nullable
  @IsString()
  @Matches(SECRET_NAME_PATTERN, { message: SECRET_NAME_RULE })
  signingSecret?: string | null;

  @ApiPropertyOptional({
    description: `Signature schemes to send, each at most once (at most ${SIGNATURE_SCHEMES.length}); null for the default`,
    enum: SIGNATURE_SCHEMES,
    isArray: true,
    maxItems: SIGNATURE_SCHEMES.length,
    uniqueItems: true,
    nullable: true,
  })
  @IsOptional()
  @nullable
  @IsArray()
  @UniqueItems()
  @ArrayMaxSize(SIGNATURE_SCHEMES.length)
  @IsIn(SIGNATURE_SCHEMES, { each: true, message: `each value must be one of ${SIGNATURE_SCHEMES.join(', ')}` })
  signatureSchemes?: SignatureSchemeName[] | null;

  @ApiPropertyOptional({ description: 'Secrets payload templates and headers may use as ${NAME}; at most 50, each once; null: none', type: [String], maxItems: 50, uniqueItems: true, nullable: true })
  @IsOptional()
  @nullable
  @IsArray()
  @UniqueItems()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @Matches(SECRET_NAME_PATTERN, { each: true, message: `each name ${SECRET_NAME_RULE}` })
  payloadSecrets?: string[] | null;

  @ApiPropertyOptional({ description: 'Extra request headers (values may use ${SECRET}); null removes them all', type: 'object', additionalProperties: { type: 'string' }, nullable: true })
  @IsOptional()
  @nullable
  @IsObject()
  headers?: Record<string, string> | null;

  @ApiPropertyOptional({ type: DeliverySettingsDto, nullable: true, description: 'null restores the kind\'s defaults' })
  @IsOptional()
  @nullable
  @ValidateNested()
  @Type(() => DeliverySettingsDto)
  delivery?: DeliverySettingsDto | null;

  @ApiPropertyOptional({ description: 'false disables (reason "user"); use POST /enable to re-arm one disabled by Herald' })
  @IsOptional()
  @IsBoolean()
  enabled?: boolean;
}

export class DeliverySettingsViewDto {
  @ApiProperty({ description: 'Sends per second to this webhook; null: unlimited', nullable: true, type: Number }) ratePerSecond!: number | null;
  @ApiProperty({ description: 'Sends allowed at once above the rate; null: the rate', nullable: true, type: Number }) burst!: number | null;
  @ApiProperty({ description: 'Sends in flight at once; null: no limit beyond the instance\'s', nullable: true, type: Number }) maxConcurrency!: number | null;
  @ApiProperty({ description: 'Attempts per series before the delivery ends failed' }) maxAttempts!: number;
  @ApiProperty({ description: 'Delay before each retry, in seconds', type: [Number] }) scheduleSeconds!: number[];
}

export class WarningDto {
  @ApiProperty({ example: 'url', description: 'The field the warning is about' }) field!: string;
  @ApiProperty({
    description: 'What would happen, and how to allow it',
    example: '127.0.0.1 would be refused at send time (deliveries and test sends fail): 127.0.0.1 is a loopback address; add it to HERALD_ALLOWED_NETWORKS to allow it' })
  reason!: string;
}

export class WebhookDto {
  @ApiProperty({ description: 'The webhook id', example: 'wh_01JDA8W3M2Q0000000000000000' }) id!: string;
  @ApiProperty({ description: 'Unique in the team' }) name!: string;
  @ApiProperty({ description: 'Whole for admins; origin and a masked path for others when the URL is a credential (slack, teams, discord)' })
  url!: string;
  @ApiProperty({ description: 'What the receiver is: it picks the default payload and delivery settings', enum: WEBHOOK_KINDS }) kind!: WebhookKind;
  @ApiProperty({ description: 'The secret sent as the Authorization bearer token; null when none', nullable: true, type: String }) accessTokenSecret!: string | null;
  @ApiProperty({ description: 'The secret that signs each request; null: unsigned', nullable: true, type: String }) signingSecret!: string | null;
  @ApiProperty({ description: 'The signature headers sent', enum: SIGNATURE_SCHEMES, isArray: true }) signatureSchemes!: SignatureSchemeName[];
  @ApiProperty({ description: 'Secrets payload templates may use as ${NAME}', type: [String] }) payloadSecrets!: string[];
  @ApiProperty({ description: 'Extra request headers, as configured (${SECRET} placeholders, never values)', type: 'object', additionalProperties: { type: 'string' } }) headers!: Record<string, string>;
  @ApiProperty({ description: 'Delivery settings in force (the kind\'s defaults where none were set)', type: DeliverySettingsViewDto }) delivery!: DeliverySettingsViewDto;
  @ApiProperty({ description: 'false: deliveries are held (disabled by a user) or cancelled (gone)' }) enabled!: boolean;
  @ApiProperty({ enum: DISABLED_REASONS, nullable: true, description: 'user; gone (the receiver answered 410); failing (no success for HERALD_DISABLE_AFTER)' })
  disabledReason!: DisabledReason | null;
  @ApiProperty({ description: 'Changes whenever the configuration changes; send it as If-Match to PATCH or DELETE only what you read' })
  etag!: string;
  @ApiProperty({ description: 'When it was created', format: 'date-time' }) createdAt!: string;
  @ApiProperty({ description: 'When its configuration last changed', format: 'date-time' }) updatedAt!: string;
  @ApiPropertyOptional({
    type: [WarningDto],
    description:
      'Create and update only, when there is something to say: the URL\'s address would be refused at send time (a loopback, private or metadata address not in HERALD_ALLOWED_NETWORKS). The webhook is saved all the same.',
  })
  warnings?: WarningDto[];
}

export class WebhookPageDto {
  @ApiProperty({ description: 'The webhooks of this page', type: [WebhookDto] }) items!: WebhookDto[];
  @ApiProperty({ description: 'Pass as `cursor` for the next page; null on the last page', nullable: true, type: String }) nextCursor!: string | null;
}

export class TestWebhookDto {
  @ApiPropertyOptional({
    description:
      'A payload template (JSON object or JSON text) to send instead of the kind\'s default preset. It may use the sample event\'s variables and the webhook\'s bound secrets.',
    example: { text: 'Hello from ${project_name}' },
  })
  @IsOptional()
  payload?: unknown;
}

export class TestResultDto {
  @ApiProperty({ description: 'true when the receiver answered 2xx' }) ok!: boolean;
  @ApiProperty({ description: 'The HTTP status answered; null when none arrived', nullable: true, type: Number }) statusCode!: number | null;
  @ApiProperty({ description: 'How long the send took, in milliseconds' }) durationMs!: number;
  @ApiProperty({ description: 'The first 2 KiB of the response, secrets redacted' }) responseExcerpt!: string;
  @ApiProperty({ nullable: true, type: String, description: 'Why it failed: timeout, connection refused, refused address, …' })
  error!: string | null;
}
