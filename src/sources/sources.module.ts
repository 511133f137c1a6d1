import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { TeamEntity } from '../auth/team.entity';
import { DatabaseModule } from '../database/database.module';
import { EventsModule } from '../events/events.module';
import { SecretsModule } from '../secrets/secrets.module';
import { SourceReceiptEntity } from './source-receipt.entity';
import { SourceReceiveController } from './source-receive.controller';
import { SourceReceiver } from './source-receiver';
import { SourceReceipts } from './source-receipts';
import { SourceEntity } from './source.entity';
import { SourcesController } from './sources.controller';
import { SourcesService } from './sources.service';

@Module({
  imports: [DatabaseModule, TypeOrmModule.forFeature([SourceEntity, SourceReceiptEntity, TeamEntity]), SecretsModule, EventsModule],
  controllers: [SourcesController, SourceReceiveController],
  providers: [SourcesService, SourceReceiver, SourceReceipts],
  exports: [SourcesService],
})
export class SourcesModule {}
