import { Controller, HttpCode, Param, Post, Req } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConsumes,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { Request } from 'express';
import { Public } from '../auth/decorators';
import { ApiErrorDto } from '../common/api-docs';
import { ReceiveResultDto } from './dto/source.dto';
import { SourceReceiver } from './source-receiver';

const RECEIVE_SUMMARY =
  'A sender\'s webhook (no Herald API key): authenticated with the sender\'s own scheme (MLflow X-MLflow-Signature, ' +
  'Determined X-Determined-AI-Signature, Hugging Face X-Webhook-Secret, W&B Authorization: Bearer, Valohai the URL\'s token), ' +
  'mapped to Herald events and ingested. Events without a Herald equivalent are answered 200 and recorded as ignored.';

/** The receive URLs senders post to. Public: each sender authenticates in its own way. */
@ApiTags('Sources')
@Controller('v1/sources/:id/receive')
export class SourceReceiveController {
  constructor(private readonly receiver: SourceReceiver) {}

  @Post()
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: RECEIVE_SUMMARY })
  @ApiParam({ name: 'id', description: 'The source id' })
  @ApiConsumes('application/json')
  @ApiOkResponse({ type: ReceiveResultDto })
  @ApiBadRequestResponse({ type: ApiErrorDto, description: 'The body is not in the sender\'s format; nothing stored' })
  @ApiUnauthorizedResponse({ type: ApiErrorDto, description: 'Missing or wrong signature, secret or token, or a timestamp more than 5 minutes off; nothing stored' })
  @ApiNotFoundResponse({ type: ApiErrorDto, description: 'No such source' })
  receive(@Param('id') id: string, @Req() req: Request) {
    return this.receiver.receive({ sourceId: id, token: null, headers: req.headers, body: rawBody(req) });
  }

  @Post(':token')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: `Valohai's receive URL: the last segment is the source's token, shown once at creation. ${RECEIVE_SUMMARY}` })
  @ApiParam({ name: 'id', description: 'The source id' })
  @ApiParam({ name: 'token', description: 'The token shown when the Valohai source was created' })
  @ApiConsumes('application/json')
  @ApiOkResponse({ type: ReceiveResultDto })
  @ApiBadRequestResponse({ type: ApiErrorDto, description: 'The body is not a Valohai notification; nothing stored' })
  @ApiUnauthorizedResponse({ type: ApiErrorDto, description: 'Wrong token; nothing stored' })
  @ApiNotFoundResponse({ type: ApiErrorDto, description: 'No such source' })
  receiveWithToken(@Param('id') id: string, @Param('token') token: string, @Req() req: Request) {
    return this.receiver.receive({ sourceId: id, token, headers: req.headers, body: rawBody(req) });
  }
}

/** The raw bytes the receive route's body parser kept (see isReceivePath in app.factory.ts). */
function rawBody(req: Request): Buffer | undefined {
  return Buffer.isBuffer(req.body) ? req.body : undefined;
}
