import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { NoControlCharacters } from '../../common/dto-rules';
import { IsIn, IsOptional, IsString, Matches, MaxLength, MinLength, ValidateIf } from 'class-validator';
import { EVENT_TYPES, type EventType } from '../../events/event.types';
import { MAX_NAME_CHARS } from '../../events/event-validation';
import { SECRET_NAME_PATTERN, SECRET_NAME_RULE } from '../../secrets/dto/secret.dto';
import { WEBHOOK_NAME_PATTERN } from '../../webhooks/dto/webhook.dto';
import { RECEIPT_VERDICTS, type ReceiptVerdict, SOURCE_KINDS, type SourceKind } from '../source-kinds';

const NAME_RULE = 'must be 1–64 letters, digits, _ or -, words separated by single spaces';
const KIND_RULE = `must be one of ${SOURCE_KINDS.join(', ')}`;
const PROJECT_RULE = `must be a string of 1 to ${MAX_NAME_CHARS} characters`;
const SECRET_DESCRIPTION =
  'Name of the team secret holding what the sender is configured with: the MLflow webhook secret, Determined\'s ' +
  '`webhook_signing_key`, the Hugging Face webhook secret, or the token W&B sends as its webhook access token. ' +
  'Required for those kinds; valohai takes none (its receive URL carries a token).';
/** `null` is allowed on PATCH to clear an optional field. */
const nullable = ValidateIf((_, value) => value !== null);

export class CreateSourceDto {
  @ApiProperty({ description: `Unique in the team; ${NAME_RULE}`, example: 'mlflow-registry', maxLength: 64 })
  @IsString()
  @MaxLength(64)
  @Matches(WEBHOOK_NAME_PATTERN, { message: NAME_RULE })
  name!: string;

  @ApiProperty({ enum: SOURCE_KINDS, description: 'The platform sending: picks its authentication and payload mapping' })
  @IsIn(SOURCE_KINDS, { message: KIND_RULE })
  kind!: SourceKind;

  @ApiProperty({
    description: 'The Herald project the events land in. A Determined experiment names its own project, which is used instead; see docs/sources.md',
    example: 'llm-finetune',
    maxLength: MAX_NAME_CHARS,
  })
  @IsString()
  @MinLength(1, { message: PROJECT_RULE })
  @MaxLength(MAX_NAME_CHARS, { message: PROJECT_RULE })
  @NoControlCharacters()
  project!: string;

  @ApiPropertyOptional({ description: SECRET_DESCRIPTION, example: 'MLFLOW_WEBHOOK_SECRET' })
  @IsOptional()
  @IsString()
  @Matches(SECRET_NAME_PATTERN, { message: SECRET_NAME_RULE })
  secret?: string;
}

/** PATCH: the fields given replace the stored ones. The kind of a source cannot change. */
export class UpdateSourceDto {
  @ApiPropertyOptional({ description: NAME_RULE, maxLength: 64 })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  @Matches(WEBHOOK_NAME_PATTERN, { message: NAME_RULE })
  name?: string;

  @ApiPropertyOptional({ enum: SOURCE_KINDS, description: 'Accepted only when equal to the stored kind: a kind cannot change (create another source)' })
  @IsOptional()
  @IsIn(SOURCE_KINDS, { message: KIND_RULE })
  kind?: SourceKind;

  @ApiPropertyOptional({ description: 'The Herald project the events land in', maxLength: MAX_NAME_CHARS })
  @IsOptional()
  @IsString()
  @MinLength(1, { message: PROJECT_RULE })
  @MaxLength(MAX_NAME_CHARS, { message: PROJECT_RULE })
  @NoControlCharacters()
  project?: string;

  @ApiPropertyOptional({ description: `${SECRET_DESCRIPTION} null is refused for the kinds that need one.`, nullable: true })
  @IsOptional()
  @nullable
  @IsString()
  @Matches(SECRET_NAME_PATTERN, { message: SECRET_NAME_RULE })
  secret?: string | null;
}

export class SourceDto {
  @ApiProperty({ description: 'The source id', example: 'src_01JD8X3W6Q2Y0ZK5N7R8T9V0AB' })
  id!: string;

  @ApiProperty({ description: 'Unique in the team', example: 'mlflow-registry' })
  name!: string;

  @ApiProperty({ description: 'The sending platform: it decides the signature check and the mapping', enum: SOURCE_KINDS })
  kind!: SourceKind;

  @ApiProperty({ description: 'The Herald project its events land in', example: 'llm-finetune' })
  project!: string;

  @ApiProperty({ nullable: true, type: String, description: 'The secret\'s name (never its value); null for valohai', example: 'MLFLOW_WEBHOOK_SECRET' })
  secret!: string | null;

  @ApiProperty({
    description:
      'The path to give the sender (prefix it with the address senders reach Herald at). For valohai it ends with the ' +
      'source\'s token, shown whole only in the answer to POST; later answers show •••••• in its place.',
    example: '/v1/sources/src_01JD8X3W6Q2Y0ZK5N7R8T9V0AB/receive',
  })
  receiveUrl!: string;

  @ApiProperty({
    nullable: true,
    type: String,
    description: 'wandb only: the JSON payload to paste into the W&B webhook automation, so Herald can read what W&B sends; null for the other kinds',
  })
  senderTemplate!: string | null;

  @ApiProperty({ description: 'Changes whenever the configuration changes; send it as If-Match to PATCH or DELETE only what you read' })
  etag!: string;

  @ApiProperty({ description: 'When it was created', example: '2026-11-22T08:00:00.000Z' })
  createdAt!: string;

  @ApiProperty({ description: 'When its configuration last changed', example: '2026-11-22T08:00:00.000Z' })
  updatedAt!: string;
}

export class SourcePageDto {
  @ApiProperty({ description: 'The sources of this page', type: [SourceDto] })
  items!: SourceDto[];

  @ApiProperty({ description: 'Pass as `cursor` for the next page; null on the last page', nullable: true, type: String })
  nextCursor!: string | null;
}

export class ReceiptEventDto {
  @ApiProperty({ description: 'The Herald event id (the sender\'s delivery or event id, or one derived from it)' })
  id!: string;

  @ApiProperty({ description: 'The Herald event type it became', enum: EVENT_TYPES })
  type!: EventType;

  @ApiProperty({ description: 'true when Herald already had this event: nothing fired again' })
  duplicate!: boolean;
}

export class ReceiptDto {
  @ApiProperty({ description: 'The receipt id', example: 'rcp_01JD8X3W6Q2Y0ZK5N7R8T9V0AB' })
  id!: string;

  @ApiProperty({ description: 'When the sender\'s request arrived', example: '2026-11-22T08:00:00.000Z' })
  receivedAt!: string;

  @ApiProperty({
    nullable: true,
    type: String,
    description: 'The sender\'s delivery or event id (X-MLflow-Delivery-Id, Determined event_id, Valohai execution id), or the id Herald derived for senders that send none',
  })
  senderId!: string | null;

  @ApiProperty({ nullable: true, type: String, description: 'The sender\'s name for the event, e.g. model_version_alias.created, EXPERIMENT_STATE_CHANGE, repo.content.update' })
  senderEvent!: string | null;

  @ApiProperty({ enum: RECEIPT_VERDICTS, description: 'accepted: events stored (or duplicates); ignored: no Herald equivalent, answered 2xx; refused: answered 4xx/5xx, nothing stored' })
  verdict!: ReceiptVerdict;

  @ApiProperty({ description: 'The HTTP status Herald answered with', example: 200 })
  statusCode!: number;

  @ApiProperty({ nullable: true, type: String, description: 'Why it was ignored or refused (never a secret or a body)' })
  reason!: string | null;

  @ApiProperty({ type: [ReceiptEventDto], description: 'The Herald events of an accepted receipt' })
  events!: ReceiptEventDto[];
}

export class ReceiptPageDto {
  @ApiProperty({ type: [ReceiptDto], description: 'Newest first' })
  items!: ReceiptDto[];

  @ApiProperty({ description: 'Pass as `cursor` for the next page; null on the last page', nullable: true, type: String })
  nextCursor!: string | null;
}

/** What a sender is answered with. */
export class ReceiveResultDto {
  @ApiProperty({ description: 'accepted: events stored (or duplicates); ignored: no Herald equivalent', enum: ['accepted', 'ignored'] })
  verdict!: 'accepted' | 'ignored';

  @ApiProperty({ description: 'Why it was ignored; null when accepted', nullable: true, type: String })
  reason!: string | null;

  @ApiProperty({ description: 'The Herald events stored', type: [ReceiptEventDto] })
  events!: ReceiptEventDto[];
}
