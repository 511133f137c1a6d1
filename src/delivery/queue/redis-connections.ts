import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { ioredis } from './lazy-modules';
import { HeraldConfig } from '../../config/config';

/**
 * Redis connections of this process (REDIS_URL), opened on first use and closed at shutdown.
 * BullMQ workers block on their connection, so each Queue and Worker gets its own
 * (`maxRetriesPerRequest: null`, as BullMQ requires); `shared()` serves short commands.
 */
@Injectable()
export class RedisConnections implements OnApplicationShutdown {
  private readonly opened: Redis[] = [];
  private sharedClient: Redis | null = null;

  constructor(private readonly config: HeraldConfig) {}

  get enabled(): boolean {
    return this.config.redisUrl !== null;
  }

  /** A dedicated connection (a BullMQ Queue or Worker). */
  open(): Redis {
    if (!this.config.redisUrl) throw new Error('REDIS_URL is not set');
    const client = new (ioredis().Redis)(this.config.redisUrl, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
    // ioredis reconnects by itself; without a listener an outage would be an unhandled 'error' event.
    client.on('error', () => undefined);
    this.opened.push(client);
    return client;
  }

  shared(): Redis {
    this.sharedClient ??= this.open();
    return this.sharedClient;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.opened.map((client) => client.quit().catch(() => client.disconnect())));
    this.opened.length = 0;
    this.sharedClient = null;
  }
}
