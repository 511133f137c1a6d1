import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { AuthContext } from '../auth/auth-context';
import { Auth, Roles } from '../auth/decorators';
import { ApiIdParam, ApiStandardErrors } from '../common/api-docs';
import { EventListQueryDto } from './dto/event-query.dto';
import { EventDetailDto, EventDto, EventPageDto, IngestResponseDto } from './dto/event.dto';
import { MAX_BATCH } from './event-validation';
import { EventsService } from './events.service';
import { IngestionService } from './ingestion.service';

@ApiTags('Events')
@ApiBearerAuth()
@ApiStandardErrors()
@Controller('v1/events')
export class EventsController {
  constructor(
    private readonly ingestion: IngestionService,
    private readonly events: EventsService,
  ) {}

  @Post()
  @HttpCode(200)
  @Roles('ingest')
  @ApiOperation({
    summary: 'Post one event or an array of up to 1000 (ingest, admin); validated whole, stored, matched, delivered',
  })
  @ApiExtraModels(EventDto)
  @ApiBody({
    description: `One event, or an array of 1 to ${MAX_BATCH} validated whole: one invalid event refuses the batch, each problem named events[i].field`,
    schema: {
      oneOf: [
        { $ref: getSchemaPath(EventDto) },
        { type: 'array', items: { $ref: getSchemaPath(EventDto) }, minItems: 1, maxItems: MAX_BATCH, description: 'A batch, stored and matched in order' },
      ],
    },
  })
  @ApiOkResponse({ type: IngestResponseDto })
  // Served by IngestRoute (src/events/ingest-route.ts) before Express routes: this method
  // documents the endpoint and declares its roles, which the route reads from here.
  ingest(@Auth() auth: AuthContext, @Body() body: unknown) {
    return this.ingestion.ingest(auth, body);
  }

  @Get()
  @Roles('member')
  @ApiOperation({ summary: 'Stored events, newest first (member)' })
  @ApiOkResponse({ type: EventPageDto })
  list(@Auth() auth: AuthContext, @Query() query: EventListQueryDto) {
    return this.events.list(auth, query);
  }

  @Get(':id')
  @Roles('member')
  @ApiOperation({ summary: 'One event with the automations it matched, was suppressed by or failed, and their deliveries (member)' })
  @ApiOkResponse({ type: EventDetailDto })
  @ApiIdParam('The event id: the client id, or the evt_… Herald assigned')
  get(@Auth() auth: AuthContext, @Param('id') id: string) {
    return this.events.get(auth, id);
  }
}
