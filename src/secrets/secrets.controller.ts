import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import type { AuthContext } from '../auth/auth-context';
import { Auth, Roles } from '../auth/decorators';
import { ApiErrorDto, ApiStandardErrors } from '../common/api-docs';
import { ListQueryDto } from '../common/pagination/pagination';
import {
  CreateSecretDto,
  GeneratedSecretDto,
  GenerateSecretDto,
  PublicKeyDto,
  RotateSecretDto,
  SecretDto,
  SecretPageDto,
} from './dto/secret.dto';
import { SecretNamePipe } from './secret-name.pipe';
import { SecretsService } from './secrets.service';

@ApiTags('Secrets')
@ApiBearerAuth()
@ApiStandardErrors()
@Controller('v1/secrets')
export class SecretsController {
  constructor(private readonly secrets: SecretsService) {}

  @Get()
  @Roles('member')
  @ApiOperation({ summary: 'List the team\'s secrets: names, times and usage, never values (member)' })
  @ApiOkResponse({ type: SecretPageDto })
  list(@Auth() auth: AuthContext, @Query() query: ListQueryDto) {
    return this.secrets.list(auth, query);
  }

  @Post()
  @ApiOperation({ summary: 'Store a secret, encrypted at rest (admin). The value is never shown again.' })
  @ApiCreatedResponse({ type: SecretDto })
  @ApiConflictResponse({ type: ApiErrorDto, description: 'A secret of that name exists' })
  @ApiBody({ type: CreateSecretDto, description: 'The secret: its name and value' })
  create(@Auth() auth: AuthContext, @Body() body: CreateSecretDto) {
    return this.secrets.create(auth, body.name, body.value);
  }

  @Post('generate')
  @ApiOperation({
    summary: 'Create a random signing secret and show it once, or an Ed25519 key pair and show its public key (admin)',
  })
  @ApiCreatedResponse({ type: GeneratedSecretDto })
  @ApiConflictResponse({ type: ApiErrorDto, description: 'A secret of that name exists' })
  @ApiBody({ type: GenerateSecretDto, description: 'The name and the format of the secret to generate' })
  generate(@Auth() auth: AuthContext, @Body() body: GenerateSecretDto) {
    return this.secrets.generate(auth, body.name, body.format);
  }

  @Put(':name')
  @ApiOperation({
    summary:
      'Rotate a secret: replace its value (admin). The replaced value keeps signing beside the new one for previousValidForSeconds (standard scheme).',
  })
  @ApiParam({ name: 'name', example: 'GITHUB_TOKEN', description: 'The secret name' })
  @ApiOkResponse({ type: SecretDto })
  @ApiBody({ type: RotateSecretDto, description: 'The new value, and how long the replaced one keeps signing' })
  rotate(@Auth() auth: AuthContext, @Param('name', SecretNamePipe) name: string, @Body() body: RotateSecretDto) {
    return this.secrets.rotate(auth, name, body.value, body.previousValidForSeconds);
  }

  @Delete(':name/previous')
  @ApiOperation({ summary: 'End a rotation\'s overlap now: replaced values stop signing (admin)' })
  @ApiParam({ name: 'name', example: 'WEBHOOK_SIGNING_SECRET', description: 'The secret name' })
  @ApiOkResponse({ type: SecretDto })
  endOverlap(@Auth() auth: AuthContext, @Param('name', SecretNamePipe) name: string) {
    return this.secrets.endOverlap(auth, name);
  }

  @Get(':name/public-key')
  @Roles('member')
  @ApiOperation({ summary: 'The public key (whpk_…) of an Ed25519 signing secret; it is not secret (member)' })
  @ApiParam({ name: 'name', example: 'WEBHOOK_SIGNING_KEY', description: 'The name of an Ed25519 signing secret' })
  @ApiOkResponse({ type: PublicKeyDto })
  @ApiConflictResponse({ type: ApiErrorDto, description: 'The secret is not an Ed25519 key' })
  publicKey(@Auth() auth: AuthContext, @Param('name', SecretNamePipe) name: string) {
    return this.secrets.publicKey(auth, name);
  }

  @Delete(':name')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a secret (admin); refused while a webhook refers to it' })
  @ApiParam({ name: 'name', example: 'GITHUB_TOKEN', description: 'The secret name' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiConflictResponse({ type: ApiErrorDto, description: 'The secret is in use' })
  delete(@Auth() auth: AuthContext, @Param('name', SecretNamePipe) name: string) {
    return this.secrets.delete(auth, name);
  }
}
