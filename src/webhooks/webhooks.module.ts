import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DatabaseModule } from '../database/database.module';
import { DeliveryModule } from '../delivery/delivery.module';
import { RenderingModule } from '../rendering/rendering.module';
import { SecretsModule } from '../secrets/secrets.module';
import { WebhookEntity } from './webhook.entity';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';
import { WebhookRecoveryService } from './webhook-recovery.service';

@Module({
  imports: [DatabaseModule, TypeOrmModule.forFeature([WebhookEntity]), SecretsModule, DeliveryModule, RenderingModule],
  controllers: [WebhooksController],
  providers: [WebhooksService, WebhookRecoveryService],
  exports: [WebhooksService],
})
export class WebhooksModule {}
