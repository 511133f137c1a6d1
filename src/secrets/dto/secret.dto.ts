import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsNotIn, IsOptional, IsString, Matches, MinLength, ValidateBy, type ValidationOptions } from 'class-validator';
import { DEFAULT_SIGNING_OVERLAP_SECONDS, MAX_OVERLAP_SECONDS, MAX_PREVIOUS_VALUES } from '../secret-rotation';

export const SECRET_NAME_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;
export const SECRET_NAME_RULE = `must match ${SECRET_NAME_PATTERN.source} (upper-case letters, digits and _, starting with a letter)`;
export const RESERVED_SECRET_NAMES = ['ACCESS_TOKEN'];
export const MAX_SECRET_BYTES = 64 * 1024;
export const GENERATED_SECRET_FORMATS = ['whsec', 'hex', 'ed25519'] as const;
export type GeneratedSecretFormat = (typeof GENERATED_SECRET_FORMATS)[number];

function MaxUtf8Bytes(max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'maxUtf8Bytes',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && Buffer.byteLength(value, 'utf8') <= max,
        defaultMessage: () => `must be at most ${max} bytes (64 KiB) in UTF-8`,
      },
    },
    options,
  );
}

/** One rule, so a bad value is one problem: an integer within [min, max]. */
function IntegerIn(min: number, max: number): PropertyDecorator {
  return ValidateBy({
    name: 'integerIn',
    validator: {
      validate: (value: unknown) => typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max,
      defaultMessage: () => `must be an integer from ${min} to ${max}`,
    },
  });
}

function SecretName(): PropertyDecorator {
  return (target, key) => {
    IsString()(target, key);
    Matches(SECRET_NAME_PATTERN, { message: SECRET_NAME_RULE })(target, key);
    IsNotIn(RESERVED_SECRET_NAMES, { message: 'ACCESS_TOKEN is reserved: in payloads it names the webhook\'s access token' })(
      target,
      key,
    );
  };
}

function SecretValue(): PropertyDecorator {
  return (target, key) => {
    IsString()(target, key);
    MinLength(1, { message: 'must not be empty' })(target, key);
    MaxUtf8Bytes(MAX_SECRET_BYTES)(target, key);
  };
}

export class CreateSecretDto {
  @ApiProperty({ description: `Unique in the team; ${SECRET_NAME_RULE}; not ACCESS_TOKEN`, example: 'GITHUB_TOKEN' })
  @SecretName()
  name!: string;

  @ApiProperty({ description: 'The value, 1 byte to 64 KiB. Write-only: never returned.', writeOnly: true, example: 'ghp_…' })
  @SecretValue()
  value!: string;
}

export class RotateSecretDto {
  @ApiProperty({ description: 'The new value, 1 byte to 64 KiB. Write-only.', writeOnly: true })
  @SecretValue()
  value!: string;

  @ApiPropertyOptional({
    description:
      `How long the replaced value keeps signing beside the new one, in seconds (0 to ${MAX_OVERLAP_SECONDS}, 30 days). ` +
      `Default ${DEFAULT_SIGNING_OVERLAP_SECONDS} (a day) when a webhook signs with this secret, 0 otherwise. ` +
      'During the overlap the standard scheme sends one signature per value (`v1,<new> v1,<old>`); the other schemes sign with the new value only. ' +
      `At most ${MAX_PREVIOUS_VALUES} previous values are kept; DELETE /v1/secrets/{name}/previous ends the overlap.`,
    minimum: 0,
    maximum: MAX_OVERLAP_SECONDS,
    example: 86400,
  })
  @IsOptional()
  @IntegerIn(0, MAX_OVERLAP_SECONDS)
  previousValidForSeconds?: number;
}

export class GenerateSecretDto {
  @ApiProperty({ description: `Unique in the team; ${SECRET_NAME_RULE}`, example: 'WEBHOOK_SIGNING_SECRET' })
  @SecretName()
  name!: string;

  @ApiProperty({
    description:
      '`whsec`: `whsec_` + base64 of 32 random bytes (Standard Webhooks, usable by every signature scheme); `hex`: 64 hex characters; ' +
      '`ed25519`: an Ed25519 key pair in the Standard Webhooks encodings, the secret key (`whsk_` + base64 of seed and public key) kept by Herald ' +
      'and never shown, the public key (`whpk_…`) answered: the standard scheme signs `v1a` with it, the other schemes refuse it',
    enum: GENERATED_SECRET_FORMATS,
  })
  @IsIn(GENERATED_SECRET_FORMATS, { message: `must be one of ${GENERATED_SECRET_FORMATS.join(', ')}` })
  format!: GeneratedSecretFormat;
}

export class SecretUsageDto {
  @ApiProperty({ description: 'What refers to the secret: webhook or source', example: 'webhook' })
  kind!: string;

  @ApiProperty({ description: 'Its id' })
  id!: string;

  @ApiProperty({ description: 'Its name' })
  name!: string;

  @ApiProperty({ description: 'The field that refers to the secret', example: 'signingSecret' })
  as!: string;
}

export class PreviousValueDto {
  @ApiProperty({ format: 'date-time', description: 'When a rotation replaced this value' })
  retiredAt!: string;

  @ApiProperty({ format: 'date-time', description: 'Until when it still signs (the standard scheme) beside the current value' })
  validUntil!: string;
}

export class SecretDto {
  @ApiProperty({ description: 'The secret name (the value is never shown)', example: 'GITHUB_TOKEN' })
  name!: string;

  @ApiProperty({ description: 'When it was created', format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time', description: 'Last creation or rotation' })
  updatedAt!: string;

  @ApiProperty({ type: [SecretUsageDto], description: 'What refers to this secret; a secret in use cannot be deleted' })
  usedBy!: SecretUsageDto[];

  @ApiProperty({
    type: [PreviousValueDto],
    description: 'Values replaced by a rotation that still sign during their overlap, newest first (never the values themselves)',
  })
  previousValues!: PreviousValueDto[];
}

export class GeneratedSecretDto extends SecretDto {
  @ApiPropertyOptional({
    description: 'whsec and hex: the generated value. Shown only in this answer: configure the receiver with it now. Absent for ed25519 (the secret key never leaves Herald).',
  })
  value?: string;

  @ApiPropertyOptional({
    description: 'ed25519 only: the public key (`whpk_` + base64 of 32 bytes) receivers verify with; also at GET /v1/secrets/{name}/public-key',
    example: 'whpk_4V8m0cCGCmdw6OBLFuYTCLTmWgnHoOfQM3bxvXjEIM0=',
  })
  publicKey?: string;
}

export class PreviousPublicKeyDto {
  @ApiProperty({ description: 'A replaced key\'s public key (`whpk_…`)' })
  publicKey!: string;

  @ApiProperty({ format: 'date-time', description: 'Until when the replaced key still signs beside the current one' })
  validUntil!: string;
}

export class PublicKeyDto {
  @ApiProperty({ description: 'The secret holding the key pair', example: 'WEBHOOK_SIGNING_KEY' })
  name!: string;

  @ApiProperty({ description: 'The public key of the current value (`whpk_` + base64 of 32 bytes). Not secret.', example: 'whpk_4V8m0cCGCmdw6OBLFuYTCLTmWgnHoOfQM3bxvXjEIM0=' })
  publicKey!: string;

  @ApiProperty({ type: [PreviousPublicKeyDto], description: 'Public keys of replaced key pairs still signing during their overlap, newest first' })
  previous!: PreviousPublicKeyDto[];
}

export class SecretPageDto {
  @ApiProperty({ description: 'The secrets of this page', type: [SecretDto] })
  items!: SecretDto[];

  @ApiProperty({ description: 'Pass as `cursor` for the next page; null on the last page', nullable: true, type: String })
  nextCursor!: string | null;
}
