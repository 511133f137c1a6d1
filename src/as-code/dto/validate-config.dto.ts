import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsBoolean, IsObject, IsOptional, Matches } from 'class-validator';
import { SECRET_NAME_PATTERN, SECRET_NAME_RULE } from '../../secrets/dto/secret.dto';

export class ValidateConfigDto {
  @ApiProperty({
    description: 'A configuration file\'s document (docs/as-code.md; its JSON Schema is GET /v1/schema/config.json)',
    type: 'object',
    additionalProperties: true,
    example: { version: 1, webhooks: [{ name: 'ml-alerts', kind: 'slack', url: 'https://hooks.slack.com/services/T0/B0/X' }] },
  })
  @IsObject()
  config!: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'Whether the team\'s objects the file leaves out will be deleted (apply --prune)', default: false })
  @IsOptional()
  @IsBoolean()
  prune?: boolean;

  @ApiPropertyOptional({
    description: 'Secrets the caller will create before applying (herald apply --secrets-from-env): taken to exist; their values are not checked. At most 500',
    type: [String],
    maxItems: 500,
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(500)
  @Matches(SECRET_NAME_PATTERN, { each: true, message: `each name ${SECRET_NAME_RULE}` })
  pendingSecrets?: string[];
}

export class ConfigValidDto {
  @ApiProperty({ description: 'Always true: an invalid document is a 400 naming every problem' }) valid!: boolean;
  @ApiProperty({ description: 'How many webhooks the file declares' }) webhooks!: number;
  @ApiProperty({ description: 'How many sources it declares' }) sources!: number;
  @ApiProperty({ description: 'How many automations it declares' }) automations!: number;
}
