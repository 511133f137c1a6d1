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
import { ListQueryDto, NamedListQueryDto } from '../common/pagination/pagination';
import { CreateSourceDto, ReceiptPageDto, SourceDto, SourcePageDto, UpdateSourceDto } from './dto/source.dto';
import { SourcesService } from './sources.service';

@ApiTags('Sources')
@ApiBearerAuth()
@ApiStandardErrors()
@Controller('v1/sources')
@UseInterceptors(EtagHeader)
export class SourcesController {
  constructor(private readonly sources: SourcesService) {}

  @Get()
  @Roles('member')
  @ApiOperation({ summary: 'List sources (member)' })
  @ApiOkResponse({ type: SourcePageDto })
  list(@Auth() auth: AuthContext, @Query() query: NamedListQueryDto) {
    return this.sources.list(auth, query);
  }

  @Post()
  @ApiOperation({
    summary: 'Create a source: a platform whose webhooks become Herald events (admin). For valohai the receive URL\'s token is shown in this answer only.',
  })
  @ApiCreatedResponse({ type: SourceDto })
  @ApiConflictResponse({ type: ApiErrorDto, description: 'A source of that name exists' })
  @ApiBody({ type: CreateSourceDto, description: 'The source: its name, kind, project and secret' })
  create(@Auth() auth: AuthContext, @Body() body: unknown) {
    return this.sources.create(auth, body);
  }

  @Get(':id')
  @Roles('member')
  @ApiOperation({ summary: 'One source (member)' })
  @ApiOkResponse({ type: SourceDto })
  @ApiIdParam('The source id (src_…)')
  get(@Auth() auth: AuthContext, @Param('id') id: string) {
    return this.sources.get(auth, id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change a source\'s name, project or secret (admin); its kind cannot change' })
  @ApiOkResponse({ type: SourceDto })
  @ApiConflictResponse({ type: ApiErrorDto, description: 'A source of that name exists' })
  @ApiIfMatch()
  @ApiIdParam('The source id (src_…)')
  @ApiBody({ type: UpdateSourceDto, description: 'The fields to change' })
  update(@Auth() auth: AuthContext, @Param('id') id: string, @Body() body: unknown, @IfMatch() ifMatch: IfMatchTags) {
    return this.sources.update(auth, id, body, ifMatch);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a source and its receipts (admin); the events it stored stay' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiIfMatch()
  @ApiIdParam('The source id (src_…)')
  delete(@Auth() auth: AuthContext, @Param('id') id: string, @IfMatch() ifMatch: IfMatchTags) {
    return this.sources.delete(auth, id, ifMatch);
  }

  @Get(':id/receipts')
  @Roles('member')
  @ApiOperation({ summary: 'The last receipts of a source, newest first: accepted (event ids), ignored or refused, and why (member)' })
  @ApiOkResponse({ type: ReceiptPageDto })
  @ApiIdParam('The source id (src_…)')
  receipts(@Auth() auth: AuthContext, @Param('id') id: string, @Query() query: ListQueryDto) {
    return this.sources.receipts(auth, id, query);
  }
}
