import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TeamEntity } from '../auth/team.entity';
import { AutomationEntity } from '../automations/automation.entity';
import { AutomationsModule } from '../automations/automations.module';
import { DatabaseModule } from '../database/database.module';
import { DeliveryEntity } from '../delivery/delivery.entity';
import { DeliveryModule } from '../delivery/delivery.module';
import { RenderingModule } from '../rendering/rendering.module';
import { EventEntity } from './event.entity';
import { EventsController } from './events.controller';
import { EventPruner } from './event-pruner';
import { EventsService } from './events.service';
import { IngestionService } from './ingestion.service';
import { IngestionStore } from './ingestion-store';
import { OperationalEvents } from './operational-events.service';
import { RunStaleness } from './run-staleness';

@Module({
  imports: [DatabaseModule, TypeOrmModule.forFeature([EventEntity, DeliveryEntity, TeamEntity, AutomationEntity]), AutomationsModule, DeliveryModule, RenderingModule],
  controllers: [EventsController],
  providers: [IngestionService, IngestionStore, EventsService, EventPruner, OperationalEvents, RunStaleness],
  exports: [IngestionService],
})
export class EventsModule {}
