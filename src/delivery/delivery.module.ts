import { Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { HeraldConfig } from '../config/config';
import { SecretsModule } from '../secrets/secrets.module';
import { AddressPolicy } from './address-policy';
import { DatabaseModule } from '../database/database.module';
import { DeliverySender } from './delivery-sender';
import { DeliveryWorker } from './delivery-worker';
import { HttpExecutor } from './http-executor';

/** Closes the executor's keep-alive sockets when the app stops. */
@Injectable()
class ExecutorShutdown implements OnApplicationShutdown {
  constructor(private readonly executor: HttpExecutor) {}

  onApplicationShutdown(): void {
    this.executor.close();
  }
}

@Module({
  imports: [DatabaseModule, SecretsModule],
  providers: [
    {
      provide: HttpExecutor,
      inject: [HeraldConfig],
      useFactory: (config: HeraldConfig) => new HttpExecutor({ addressPolicy: AddressPolicy.parse(config.allowedNetworks) }),
    },
    ExecutorShutdown,
    DeliverySender,
    DeliveryWorker,
  ],
  exports: [HttpExecutor, DeliverySender, DeliveryWorker],
})
export class DeliveryModule {}
