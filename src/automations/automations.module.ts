import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DatabaseModule } from '../database/database.module';
import { RedisModule } from '../delivery/queue/redis.module';
import { RenderingModule } from '../rendering/rendering.module';
import { TeamEntity } from '../auth/team.entity';
import { AutomationCatalog } from './automation-catalog';
import { AutomationEntity } from './automation.entity';
import { AutomationsController } from './automations.controller';
import { AutomationsService } from './automations.service';

@Module({
  imports: [DatabaseModule, RedisModule, TypeOrmModule.forFeature([AutomationEntity, TeamEntity]), RenderingModule],
  controllers: [AutomationsController],
  providers: [AutomationsService, AutomationCatalog],
  exports: [AutomationCatalog],
})
export class AutomationsModule {}
