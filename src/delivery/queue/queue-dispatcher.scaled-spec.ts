import type { Repository } from 'typeorm';
import { newQueuePrefix, requireRedis } from '../../../test/support/services';
import { Clock } from '../../common/clock';
import type { HeraldConfig } from '../../config/config';
import type { DeliveryEntity } from '../delivery.entity';
import { jobIdOf } from '../dispatcher';
import { QueueDispatcher } from './queue-dispatcher';
import { RedisConnections } from './redis-connections';

/** The due rows the sweep reads: a stand-in for the deliveries table (the sweep's one query). */
class DueRows {
  rows: Pick<DeliveryEntity, 'id' | 'series' | 'attemptCount' | 'nextAttemptAt'>[] = [];
  find = jest.fn(async ({ skip = 0, take }: { skip?: number; take: number }) => this.rows.slice(skip, skip + take));
}

describe('QueueDispatcher (real Redis): batch jobs and the sweep', () => {
  const config = { redisUrl: requireRedis(), queuePrefix: newQueuePrefix('dispatch') } as HeraldConfig;
  const redis = new RedisConnections(config);
  const table = new DueRows();
  const dispatcher = new QueueDispatcher(config, redis, new Clock(), table as unknown as Repository<DeliveryEntity>);

  afterAll(async () => {
    const keys = await redis.shared().keys(`${config.queuePrefix}:*`);
    if (keys.length > 0) await redis.shared().del(...keys);
    await dispatcher.queue.close();
    await redis.onApplicationShutdown();
  });

  const due = (id: string, dueAt = Date.now()) => ({ id, series: 1, attempt: 1, dueAt });
  const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

  it('sends the attempts due in one turn as one job, which the sweep counts as theirs until it is gone', async () => {
    dispatcher.dispatch([due('msg_a'), due('msg_b')]);
    dispatcher.dispatch([due('msg_c'), due('msg_later', Date.now() + 60_000)]);
    await settle();

    const jobs = await dispatcher.queue.getJobs(['waiting', 'delayed']);
    const batch = jobs.find((j) => j.name === 'batch')!;
    expect(jobs).toHaveLength(2);
    expect(batch.data).toEqual({ attempts: ['msg_a', 'msg_b', 'msg_c'].map((id) => ({ id, series: 1, attempt: 1 })) });
    // A retry (due later) is a delayed job of its own, under its attempt's id.
    expect(jobs.find((j) => j.name === 'attempt')!.id).toBe(jobIdOf(due('msg_later')));

    table.rows = ['msg_a', 'msg_b', 'msg_c'].map((id) => ({ id, series: 1, attemptCount: 0, nextAttemptAt: Date.now() - 10_000 }));
    expect(await dispatcher.sweep()).toBe(0);

    // The batch job lost (a worker killed mid-batch whose job then failed, or FLUSHDB): the sweep re-adds its attempts.
    await batch.remove();
    expect(await dispatcher.sweep()).toBe(3);
    expect(await dispatcher.sweep()).toBe(0);
  });

  it('a processed batch leaves the hash; an attempt that must wait gets a job of its own', async () => {
    const attempts = [due('msg_x'), due('msg_y')];
    await dispatcher.enqueueEach([{ ...attempts[1], dueAt: Date.now() + 60_000 }]);
    await dispatcher.unlist(attempts);
    expect(await redis.shared().hmget(dispatcher.batchedKey, ...attempts.map(jobIdOf))).toEqual([null, null]);
    expect(await dispatcher.queue.getJob(jobIdOf(attempts[1]))).toBeDefined();
  });
});
