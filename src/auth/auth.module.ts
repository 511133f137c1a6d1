import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DatabaseModule } from '../database/database.module';
import { RedisModule } from '../delivery/queue/redis.module';
import { ApiKeyEntity } from './api-key.entity';
import { ApiKeyGuard } from './api-key.guard';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysService } from './api-keys.service';
import { BootstrapService } from './bootstrap.service';
import { TeamEntity } from './team.entity';
import { TeamsService } from './teams.service';

@Module({
  imports: [DatabaseModule, RedisModule, TypeOrmModule.forFeature([TeamEntity, ApiKeyEntity])],
  controllers: [ApiKeysController],
  providers: [ApiKeysService, TeamsService, BootstrapService, { provide: APP_GUARD, useClass: ApiKeyGuard }],
  exports: [ApiKeysService, TeamsService],
})
export class AuthModule {}
