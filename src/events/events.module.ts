import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
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

@Module({
  imports: [DatabaseModule, TypeOrmModule.forFeature([EventEntity, DeliveryEntity]), AutomationsModule, DeliveryModule, RenderingModule],
  controllers: [EventsController],
  providers: [IngestionService, IngestionStore, EventsService, EventPruner],
  exports: [IngestionService],
})
export class EventsModule {}
