import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Response } from 'express';
import type { DataSource } from 'typeorm';
import { Public } from '../auth/decorators';
import { HeraldConfig } from '../config/config';

export class HealthDto {
  @ApiProperty({ description: 'ok when the database answers', enum: ['ok', 'unavailable'] })
  status!: 'ok' | 'unavailable';

  @ApiProperty({ description: 'Whether the database answered', enum: ['up', 'down'] })
  database!: 'up' | 'down';

  @ApiProperty({ description: 'Herald\'s version', example: '0.1.0' })
  version!: string;
}

@ApiTags('Operations')
@Controller('health')
export class HealthController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: HeraldConfig,
  ) {}

  @Get()
  @Public()
  @ApiOperation({ summary: 'Liveness and readiness: 200 when the database answers, 503 otherwise' })
  @ApiOkResponse({ type: HealthDto })
  @ApiServiceUnavailableResponse({ type: HealthDto })
  async check(@Res({ passthrough: true }) res: Response): Promise<HealthDto> {
    let database: HealthDto['database'] = 'up';
    try {
      await this.dataSource.query('SELECT 1');
    } catch {
      database = 'down';
    }
    if (database === 'down') res.status(HttpStatus.SERVICE_UNAVAILABLE);
    return { status: database === 'up' ? 'ok' : 'unavailable', database, version: this.config.version };
  }
}
