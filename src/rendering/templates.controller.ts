import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/decorators';
import { ApiStandardErrors } from '../common/api-docs';
import { WEBHOOK_KINDS, type WebhookKind } from '../webhooks/webhook-kinds';
import { PRESET_NAMES, type PresetInfo, PresetLibrary } from './presets';

class PresetDto {
  @ApiProperty({ enum: PRESET_NAMES }) name!: string;
  @ApiProperty({ example: 'Slack incoming webhook (Block Kit)' }) target!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'number' }, example: { sectionChars: 3000, blocks: 50 } })
  limits!: Record<string, number>;
  @ApiProperty({ enum: WEBHOOK_KINDS, isArray: true, description: 'Webhook kinds that use it when an automation names no template' })
  defaultFor!: WebhookKind[];
}

class PresetListDto {
  @ApiProperty({ type: [PresetDto] }) items!: PresetInfo[];
}

@ApiTags('Templates')
@ApiBearerAuth()
@ApiStandardErrors()
@Controller('v1/templates')
export class TemplatesController {
  constructor(private readonly presets: PresetLibrary) {}

  @Get()
  @Roles('member')
  @ApiOperation({ summary: 'The payload presets in templates/, with their target and limits (member)' })
  @ApiOkResponse({ type: PresetListDto })
  list(): PresetListDto {
    return { items: this.presets.list() };
  }
}
