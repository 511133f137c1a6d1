import { Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { HeraldConfig } from '../config/config';
import { BackgroundThread } from '../common/background-thread';
import { SecretsModule } from '../secrets/secrets.module';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DatabaseModule } from '../database/database.module';
import { DeliveriesController } from './deliveries.controller';
import { DeliveriesService } from './deliveries.service';
import { DeliveryAttemptEntity } from './delivery-attempt.entity';
import { DeliveryEntity } from './delivery.entity';
import { DeliverySender } from './delivery-sender';
import { DeliveryWorker } from './delivery-worker';
import { HttpExecutor, HttpSender } from './http-executor';
import { SenderThread } from './sender-thread';
import { AttemptRunner } from './attempt-runner';
import { DeliveryFailureFeed } from './delivery-failures';
import { DeliveryStore } from './delivery-store';
import { DeliveryDispatcher } from './dispatcher';
import { QueueDispatcher } from './queue/queue-dispatcher';
import { QueueWorker } from './queue/queue-worker';
import { RedisModule } from './queue/redis.module';
import { WebhookEntity } from '../webhooks/webhook.entity';

/** Closes the sender's keep-alive sockets (and its job in the background thread) when the app stops, after the sends in flight were recorded. */
@Injectable()
class SenderShutdown implements OnApplicationShutdown {
  constructor(private readonly sender: HttpSender) {}

  async onApplicationShutdown(): Promise<void> {
    await this.sender.close();
  }
}

@Module({
  imports: [DatabaseModule, TypeOrmModule.forFeature([DeliveryEntity, DeliveryAttemptEntity, WebhookEntity]), SecretsModule, RedisModule],
  controllers: [DeliveriesController],
  providers: [
    {
      provide: HttpSender,
      inject: [HeraldConfig, BackgroundThread],
      useFactory: (config: HeraldConfig, thread: BackgroundThread): HttpSender =>
        config.senderThread
          ? new SenderThread(thread, { networks: config.addressPolicy.networks, connectTimeoutMs: config.httpConnectTimeoutMs, deadlineMs: config.httpDeadlineMs })
          : new HttpExecutor({ addressPolicy: config.addressPolicy, connectTimeoutMs: config.httpConnectTimeoutMs, deadlineMs: config.httpDeadlineMs }),
    },
    SenderShutdown,
    DeliverySender,
    AttemptRunner,
    DeliveryFailureFeed,
    DeliveryStore,
    DeliveryWorker,
    QueueDispatcher,
    QueueWorker,
    {
      // Embedded: the in-process worker. REDIS_URL: the BullMQ queue, whatever the role.
      provide: DeliveryDispatcher,
      inject: [HeraldConfig, DeliveryWorker, QueueDispatcher],
      useFactory: (config: HeraldConfig, embedded: DeliveryWorker, queued: QueueDispatcher) => (config.redisUrl ? queued : embedded),
    },
    DeliveriesService,
  ],
  exports: [HttpSender, DeliverySender, DeliveryWorker, DeliveryDispatcher, DeliveryStore, DeliveryFailureFeed, RedisModule],
})
export class DeliveryModule {}
