import { Module } from '@nestjs/common';
import { CacheToken } from './cache-token';
import { RedisConnections } from './redis-connections';

/**
 * This process's Redis connections and the scaled mode's cache token, one instance of each
 * for the delivery queue, the API-key lookup and the automation catalog (none of them opens a
 * connection unless REDIS_URL is set).
 */
@Module({
  providers: [RedisConnections, CacheToken],
  exports: [RedisConnections, CacheToken],
})
export class RedisModule {}
