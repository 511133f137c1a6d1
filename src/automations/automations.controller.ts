import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, UseInterceptors } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiQuery,
  ApiTags,
} from '@nestjs/swagger';
import type { AuthContext } from '../auth/auth-context';
import { Auth, Roles } from '../auth/decorators';
import { ApiErrorDto, ApiIdParam, ApiStandardErrors } from '../common/api-docs';
import { ApiIfMatch, EtagHeader, IfMatch, type IfMatchTags } from '../common/etag/etag';
import { NamedListQueryDto } from '../common/pagination/pagination';
import { EventDto } from '../events/dto/event.dto';
import {
  AutomationDto,
  AutomationPageDto,
  CreateAutomationDto,
  PreviewResultDto,
  PreviewSavedDto,
  PreviewUnsavedDto,
  UpdateAutomationDto,
  VariablesDto,
} from './dto/automation.dto';
import { AutomationsService } from './automations.service';

@ApiTags('Automations')
@ApiBearerAuth()
@ApiStandardErrors()
@Controller('v1/automations')
@UseInterceptors(EtagHeader)
export class AutomationsController {
  constructor(private readonly automations: AutomationsService) {}

  @Get()
  @Roles('member')
  @ApiOperation({ summary: 'List automations (member)' })
  @ApiOkResponse({ type: AutomationPageDto })
  list(@Auth() auth: AuthContext, @Query() query: NamedListQueryDto) {
    return this.automations.list(auth, query);
  }

  @Get('variables')
  @Roles('member')
  @ApiOperation({ summary: 'The variables a payload may use, with the ones that apply to a trigger (member)' })
  @ApiQuery({ name: 'trigger', required: false, example: 'RUN_METRIC_THRESHOLD', description: 'A trigger name: each variable then says whether it applies to it' })
  @ApiOkResponse({ type: VariablesDto })
  variables(@Query('trigger') trigger?: string) {
    return this.automations.variables(trigger);
  }

  @Post()
  @ApiOperation({ summary: 'Create an automation (admin)' })
  @ApiBody({ type: CreateAutomationDto, description: 'The automation; every problem is reported at once, each naming its field' })
  @ApiCreatedResponse({ type: AutomationDto })
  @ApiConflictResponse({ type: ApiErrorDto, description: 'An automation of that name exists' })
  create(@Auth() auth: AuthContext, @Body() body: unknown) {
    return this.automations.create(auth, body);
  }

  @Post('preview')
  @HttpCode(200)
  @ApiOperation({ summary: 'Preview an automation not saved yet against an event or a sequence of events: sends nothing, changes nothing (admin)' })
  @ApiOkResponse({ type: PreviewResultDto })
  @ApiBody({ type: PreviewUnsavedDto, description: 'The automation as it would be created, and `event` (one event) or `events` (a sequence through fresh windows); nothing is stored or sent' })
  previewUnsaved(@Auth() auth: AuthContext, @Body() body: PreviewUnsavedDto) {
    return this.automations.previewUnsaved(auth, body);
  }

  @Get(':id')
  @Roles('member')
  @ApiOperation({ summary: 'One automation (member)' })
  @ApiOkResponse({ type: AutomationDto })
  @ApiIdParam('The automation id (aut_…)')
  get(@Auth() auth: AuthContext, @Param('id') id: string) {
    return this.automations.get(auth, id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change an automation: the fields given replace the stored ones, null clears (admin)' })
  @ApiBody({ type: UpdateAutomationDto, description: 'The top-level fields to replace; null clears runFilter, description or cooldownSeconds' })
  @ApiOkResponse({ type: AutomationDto })
  @ApiIfMatch()
  @ApiIdParam('The automation id (aut_…)')
  update(@Auth() auth: AuthContext, @Param('id') id: string, @Body() body: unknown, @IfMatch() ifMatch: IfMatchTags) {
    return this.automations.update(auth, id, body, ifMatch);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete an automation; its delivery history is kept (admin)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiIfMatch()
  @ApiIdParam('The automation id (aut_…)')
  delete(@Auth() auth: AuthContext, @Param('id') id: string, @IfMatch() ifMatch: IfMatchTags) {
    return this.automations.delete(auth, id, ifMatch);
  }

  @Post(':id/preview')
  @HttpCode(200)
  @ApiOperation({ summary: 'What this automation would do with an event (stored windows and state) or a sequence (fresh windows), step by step; secrets masked (admin)' })
  @ApiBody({ type: EventDto, description: 'One event (evaluated against the stored windows and edge state), or `{event}`, or `{events: [...]}` (a sequence through fresh windows): see PreviewSavedDto' })
  @ApiExtraModels(PreviewSavedDto)
  @ApiOkResponse({ type: PreviewResultDto })
  @ApiIdParam('The automation id (aut_…)')
  preview(@Auth() auth: AuthContext, @Param('id') id: string, @Body() event: unknown) {
    return this.automations.preview(auth, id, event);
  }
}
