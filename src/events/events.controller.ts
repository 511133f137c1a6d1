import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthContext } from '../auth/auth-context';
import { Auth, Roles } from '../auth/decorators';
import { ApiStandardErrors } from '../common/api-docs';
import { EventListQueryDto } from './dto/event-query.dto';
import { EventDto, IngestResponseDto } from './dto/event.dto';
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
  @ApiBody({ type: EventDto, description: 'One event, or an array of them' })
  @ApiOkResponse({ type: IngestResponseDto })
  ingest(@Auth() auth: AuthContext, @Body() body: unknown) {
    return this.ingestion.ingest(auth, body);
  }

  @Get()
  @Roles('member')
  @ApiOperation({ summary: 'Stored events, newest first (member)' })
  list(@Auth() auth: AuthContext, @Query() query: EventListQueryDto) {
    return this.events.list(auth, query);
  }

  @Get(':id')
  @Roles('member')
  @ApiOperation({ summary: 'One event with the automations it matched, was suppressed by or failed, and their deliveries (member)' })
  get(@Auth() auth: AuthContext, @Param('id') id: string) {
    return this.events.get(auth, id);
  }
}
