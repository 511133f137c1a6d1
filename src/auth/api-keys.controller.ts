import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConflictResponse, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrorDto, ApiIdParam, ApiStandardErrors } from '../common/api-docs';
import { ListQueryDto } from '../common/pagination/pagination';
import { ApiKeysService } from './api-keys.service';
import type { AuthContext } from './auth-context';
import { Auth } from './decorators';
import { ApiKeyPageDto, CreateApiKeyDto, CreatedApiKeyDto } from './dto/api-key.dto';

@ApiTags('API keys')
@ApiBearerAuth()
@ApiStandardErrors()
@Controller('v1/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Get()
  @ApiOperation({ summary: 'List the team\'s active API keys (admin)' })
  @ApiOkResponse({ type: ApiKeyPageDto })
  list(@Auth() auth: AuthContext, @Query() query: ListQueryDto) {
    return this.keys.list(auth, query);
  }

  @Post()
  @ApiOperation({ summary: 'Create an API key (admin); the key is shown only in this answer' })
  @ApiCreatedResponse({ type: CreatedApiKeyDto })
  @ApiBody({ type: CreateApiKeyDto, description: 'The new key: its name, role and projects' })
  create(@Auth() auth: AuthContext, @Body() body: CreateApiKeyDto) {
    return this.keys.create(auth, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke an API key (admin); effective from the next request' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiConflictResponse({ type: ApiErrorDto, description: 'The team\'s last admin key cannot be revoked' })
  @ApiIdParam('The API key id (key_…)')
  revoke(@Auth() auth: AuthContext, @Param('id') id: string) {
    return this.keys.revoke(auth, id);
  }
}
