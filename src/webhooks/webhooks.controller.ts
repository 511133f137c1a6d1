import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, UseInterceptors } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { AuthContext } from '../auth/auth-context';
import { Auth, Roles } from '../auth/decorators';
import { ApiErrorDto, ApiIdParam, ApiStandardErrors } from '../common/api-docs';
import { ApiIfMatch, EtagHeader, IfMatch, type IfMatchTags } from '../common/etag/etag';
import { NamedListQueryDto } from '../common/pagination/pagination';
import {
  CreateWebhookDto,
  TestResultDto,
  TestWebhookDto,
  UpdateWebhookDto,
  WebhookDto,
  WebhookPageDto,
} from './dto/webhook.dto';
import { RecoverResultDto, RecoverWebhookDto } from './dto/recover.dto';
import { WebhookRecoveryService } from './webhook-recovery.service';
import { WebhooksService } from './webhooks.service';

@ApiTags('Webhooks')
@ApiBearerAuth()
@ApiStandardErrors()
@Controller('v1/webhooks')
@UseInterceptors(EtagHeader)
export class WebhooksController {
  constructor(
    private readonly webhooks: WebhooksService,
    private readonly recovery: WebhookRecoveryService,
  ) {}

  @Get()
  @Roles('member')
  @ApiOperation({ summary: 'List webhooks (member; Slack, Teams and Discord URLs are masked for non-admins)' })
  @ApiOkResponse({ type: WebhookPageDto })
  list(@Auth() auth: AuthContext, @Query() query: NamedListQueryDto) {
    return this.webhooks.list(auth, query);
  }

  @Post()
  @ApiOperation({ summary: 'Create a webhook (admin)' })
  @ApiCreatedResponse({ type: WebhookDto })
  @ApiConflictResponse({ type: ApiErrorDto, description: 'A webhook of that name exists' })
  @ApiBody({ type: CreateWebhookDto, description: 'The webhook: its name, URL, kind, secrets, headers and delivery settings' })
  create(@Auth() auth: AuthContext, @Body() body: unknown) {
    return this.webhooks.create(auth, body);
  }

  @Get(':id')
  @Roles('member')
  @ApiOperation({ summary: 'One webhook (member)' })
  @ApiOkResponse({ type: WebhookDto })
  @ApiIdParam('The webhook id (wh_…)')
  get(@Auth() auth: AuthContext, @Param('id') id: string) {
    return this.webhooks.get(auth, id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change a webhook: the fields given replace the stored ones, null clears (admin)' })
  @ApiOkResponse({ type: WebhookDto })
  @ApiConflictResponse({ type: ApiErrorDto, description: 'A webhook of that name exists' })
  @ApiIfMatch()
  @ApiIdParam('The webhook id (wh_…)')
  @ApiBody({ type: UpdateWebhookDto, description: 'The fields to change; null clears an optional one' })
  update(@Auth() auth: AuthContext, @Param('id') id: string, @Body() body: unknown, @IfMatch() ifMatch: IfMatchTags) {
    return this.webhooks.update(auth, id, body, ifMatch);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a webhook (admin)' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiIfMatch()
  @ApiIdParam('The webhook id (wh_…)')
  delete(@Auth() auth: AuthContext, @Param('id') id: string, @IfMatch() ifMatch: IfMatchTags) {
    return this.webhooks.delete(auth, id, ifMatch);
  }

  @Post(':id/enable')
  @HttpCode(200)
  @ApiOperation({ summary: 'Re-arm a disabled webhook (admin)' })
  @ApiOkResponse({ type: WebhookDto })
  @ApiIdParam('The webhook id (wh_…)')
  enable(@Auth() auth: AuthContext, @Param('id') id: string) {
    return this.webhooks.enable(auth, id);
  }

  @Post(':id/recover')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Re-queue every delivery of this webhook that ended failed in [since, until) as a new attempt series of the same id (admin)',
  })
  @ApiOkResponse({ type: RecoverResultDto })
  @ApiConflictResponse({ type: ApiErrorDto, description: 'The webhook is disabled (by a user, gone or failing): enable it first' })
  @ApiIdParam('The webhook id (wh_…)')
  @ApiBody({ type: RecoverWebhookDto, description: 'The time range of the failed deliveries to re-queue' })
  recover(@Auth() auth: AuthContext, @Param('id') id: string, @Body() body: RecoverWebhookDto) {
    return this.recovery.recover(auth, id, body);
  }

  @Post(':id/test')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Send a test payload now (admin): the given payload, or the kind\'s default preset over the sample event',
  })
  @ApiOkResponse({ type: TestResultDto, description: 'ok is false when the receiver fails or cannot be reached' })
  @ApiIdParam('The webhook id (wh_…)')
  @ApiBody({ type: TestWebhookDto, description: 'Optionally the payload to send instead of the default sample' })
  test(@Auth() auth: AuthContext, @Param('id') id: string, @Body() body: TestWebhookDto) {
    return this.webhooks.test(auth, id, body);
  }
}
