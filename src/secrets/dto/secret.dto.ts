import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsNotIn, IsString, Matches, MinLength, ValidateBy, type ValidationOptions } from 'class-validator';

export const SECRET_NAME_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;
export const SECRET_NAME_RULE = `must match ${SECRET_NAME_PATTERN.source} (upper-case letters, digits and _, starting with a letter)`;
export const RESERVED_SECRET_NAMES = ['ACCESS_TOKEN'];
export const MAX_SECRET_BYTES = 64 * 1024;
export const GENERATED_SECRET_FORMATS = ['whsec', 'hex'] as const;
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
}

export class GenerateSecretDto {
  @ApiProperty({ description: `Unique in the team; ${SECRET_NAME_RULE}`, example: 'WEBHOOK_SIGNING_SECRET' })
  @SecretName()
  name!: string;

  @ApiProperty({
    description:
      '`whsec`: `whsec_` + base64 of 32 random bytes (Standard Webhooks, usable by every signature scheme); `hex`: 64 hex characters',
    enum: GENERATED_SECRET_FORMATS,
  })
  @IsIn(GENERATED_SECRET_FORMATS, { message: `must be one of ${GENERATED_SECRET_FORMATS.join(', ')}` })
  format!: GeneratedSecretFormat;
}

export class SecretUsageDto {
  @ApiProperty({ example: 'webhook' })
  kind!: string;

  @ApiProperty()
  id!: string;

  @ApiProperty()
  name!: string;

  @ApiProperty({ description: 'The field that refers to the secret', example: 'signingSecret' })
  as!: string;
}

export class SecretDto {
  @ApiProperty({ example: 'GITHUB_TOKEN' })
  name!: string;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time', description: 'Last creation or rotation' })
  updatedAt!: string;

  @ApiProperty({ type: [SecretUsageDto], description: 'What refers to this secret; a secret in use cannot be deleted' })
  usedBy!: SecretUsageDto[];
}

export class GeneratedSecretDto extends SecretDto {
  @ApiProperty({ description: 'The generated value. Shown only in this answer: configure the receiver with it now.' })
  value!: string;
}

export class SecretPageDto {
  @ApiProperty({ type: [SecretDto] })
  items!: SecretDto[];

  @ApiProperty({ nullable: true, type: String })
  nextCursor!: string | null;
}
