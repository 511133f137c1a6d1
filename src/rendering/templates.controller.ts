import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/decorators';
import { ApiStandardErrors } from '../common/api-docs';
import { WEBHOOK_KINDS, type WebhookKind } from '../webhooks/webhook-kinds';
import { PRESET_NAMES, type PresetInfo, PresetLibrary } from './presets';

class PresetDto {
  @ApiProperty({ description: 'The preset name (an automation\'s action.template)', enum: PRESET_NAMES }) name!: string;
  @ApiProperty({ description: 'What it renders for', example: 'Slack incoming webhook (Block Kit)' }) target!: string;
  @ApiProperty({ description: 'What it shows' }) description!: string;
  @ApiProperty({ description: 'The target\'s limits it truncates to', type: 'object', additionalProperties: { type: 'number' }, example: { sectionChars: 3000, blocks: 50 } })
  limits!: Record<string, number>;
  @ApiProperty({ enum: WEBHOOK_KINDS, isArray: true, description: 'Webhook kinds that use it when an automation names no template' })
  defaultFor!: WebhookKind[];
}

class PresetListDto {
  @ApiProperty({ description: 'Every preset of templates/', type: [PresetDto] }) items!: PresetInfo[];
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
