import { Body, Controller, Get, Header, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { AuthContext } from '../auth/auth-context';
import { Auth, Public } from '../auth/decorators';
import { ApiStandardErrors } from '../common/api-docs';
import { AsCodeService } from './as-code.service';
import { ConfigValidDto, ValidateConfigDto } from './dto/validate-config.dto';

@ApiTags('Configuration as code')
@Controller()
export class AsCodeController {
  constructor(private readonly asCode: AsCodeService) {}

  @Get('v1/schema/config.json')
  @Public()
  @Header('Cache-Control', 'no-cache')
  @ApiOperation({ summary: 'The JSON Schema of configuration files (herald export/plan/apply); no API key needed, so editors can fetch it' })
  @ApiOkResponse({ description: 'A JSON Schema (draft-07)', schema: { type: 'object' } })
  schema() {
    return this.asCode.schema();
  }

  @Post('v1/config/validate')
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiStandardErrors()
  @ApiOperation({
    summary:
      'Check a whole configuration file against the team with the rules of the create endpoints, writing nothing (admin). ' +
      'Every problem is a 400 detail whose field is the path in the file: webhooks[0].url, automations[2].trigger.window',
  })
  @ApiOkResponse({ type: ConfigValidDto })
  @ApiBody({ type: ValidateConfigDto, description: 'A configuration file (as herald export writes it), parsed to JSON' })
  validate(@Auth() auth: AuthContext, @Body() body: ValidateConfigDto) {
    return this.asCode.validate(auth, body);
  }
}
