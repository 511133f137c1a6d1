import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';
import { NoControlCharacters } from '../../common/dto-rules';
import { API_KEY_ROLES, type ApiKeyRole } from '../api-key-format';

export class CreateApiKeyDto {
  @ApiProperty({ description: 'A label for people: where the key is used; 1 to 100 characters, no control characters', example: 'training-cluster', maxLength: 100 })
  @IsString()
  @Length(1, 100)
  @Matches(/\S/, { message: 'must not be blank' })
  @NoControlCharacters()
  name!: string;

  @ApiProperty({
    description: '`admin`: everything in the team; `member`: read-only; `ingest`: POST /v1/events only',
    enum: API_KEY_ROLES,
  })
  @IsIn(API_KEY_ROLES, { message: `must be one of ${API_KEY_ROLES.join(', ')}` })
  role!: ApiKeyRole;

  @ApiPropertyOptional({
    description: 'Ingest keys only: the projects this key may post events for (default: all); 1 to 100 names of at most 128 characters',
    type: [String],
    minItems: 1,
    maxItems: 100,
    example: ['llm-finetune'],
  })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxLength(128, { each: true })
  @NoControlCharacters({ each: true })
  projects?: string[];
}

export class ApiKeyDto {
  @ApiProperty({ description: 'The key id (not the key)', example: 'key_01JDA8W3M2Q0000000000000000' })
  id!: string;

  @ApiProperty({ description: 'The label given at creation' })
  name!: string;

  @ApiProperty({ description: 'admin: everything in the team; member: read-only; ingest: POST /v1/events only', enum: API_KEY_ROLES })
  role!: ApiKeyRole;

  @ApiProperty({ type: [String], nullable: true, description: 'Projects an ingest key is limited to; null: all' })
  projects!: string[] | null;

  @ApiProperty({ description: 'The first characters of the key, to tell keys apart', example: 'hrd_Xk3v9QaB' })
  prefix!: string;

  @ApiProperty({ description: 'When the key was created', format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time', nullable: true, description: 'Last request made with the key (minute resolution)' })
  lastUsedAt!: string | null;
}

export class CreatedApiKeyDto extends ApiKeyDto {
  @ApiProperty({ description: 'The key itself. Shown only in this answer: store it now.', example: 'hrd_…' })
  key!: string;
}

export class ApiKeyPageDto {
  @ApiProperty({ description: 'The keys of this page', type: [ApiKeyDto] })
  items!: ApiKeyDto[];

  @ApiProperty({ description: 'Pass as `cursor` for the next page; null on the last page', nullable: true, type: String })
  nextCursor!: string | null;
}
