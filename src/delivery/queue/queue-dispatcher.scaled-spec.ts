import type { Repository } from 'typeorm';
import { newQueuePrefix, requireRedis } from '../../../test/support/services';
import { Clock } from '../../common/clock';
import type { HeraldConfig } from '../../config/config';
import type { DeliveryStore, DueCursor } from '../delivery-store';
import type { DeliveryEntity } from '../delivery.entity';
import { type DueDelivery, jobIdOf } from '../dispatcher';
import { QueueDispatcher } from './queue-dispatcher';
import { RedisConnections } from './redis-connections';

/** The due rows the sweep reads: a stand-in for DeliveryStore.dueAfter (its keyset scan is checked on both databases by delivery-store.medium-spec.ts). */
class DueRows {
  rows: Pick<DeliveryEntity, 'id' | 'series' | 'attemptCount' | 'nextAttemptAt'>[] = [];
  dueAfter = jest.fn(async (_em: unknown, dueBy: number, after: DueCursor | null, max: number): Promise<DueDelivery[]> =>
    this.rows
      .map((r) => ({ id: r.id, series: r.series, attempt: r.attemptCount + 1, dueAt: r.nextAttemptAt! }))
      .filter((d) => d.dueAt <= dueBy && (!after || d.dueAt > after.at || (d.dueAt === after.at && d.id > after.id)))
      .sort((a, b) => a.dueAt - b.dueAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .slice(0, max),
  );
}

describe('QueueDispatcher (real Redis): batch jobs and the sweep', () => {
  const config = { redisUrl: requireRedis(), queuePrefix: newQueuePrefix('dispatch') } as HeraldConfig;
  const redis = new RedisConnections(config);
  const table = new DueRows();
  const dispatcher = new QueueDispatcher(config, redis, new Clock(), table as unknown as DeliveryStore, { manager: {} } as Repository<DeliveryEntity>);

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

  it('the sweep reads the due rows page after page, each once, pages ending inside a due time', async () => {
    const at = Date.now() - 10_000;
    table.rows = Array.from({ length: 2001 }, (_, i) => ({ id: `msg_page_${String(i).padStart(4, '0')}`, series: 1, attemptCount: 0, nextAttemptAt: at }));
    table.dueAfter.mockClear();
    expect(await dispatcher.sweep()).toBe(2001);
    expect(table.dueAfter.mock.calls.map(([, , after]) => after)).toEqual([null, { at, id: 'msg_page_0999' }, { at, id: 'msg_page_1999' }]);
    expect(await dispatcher.sweep()).toBe(0);
    table.rows = [];
  });

  it('the clean-up removes the entries of a batch gone at two clean-ups in a row, and no other', async () => {
    await dispatcher.cleanBatched(); // what earlier tests left
    const entries = () => redis.shared().hgetall(dispatcher.batchedKey);
    await redis.shared().del(dispatcher.batchedKey);
    table.rows = [];
    // A batch BullMQ failed as stalled (its job removed, never run again), one still queued, and
    // one listed by a process about to add its job.
    dispatcher.dispatch([due('msg_lost_a'), due('msg_lost_b')]);
    await settle();
    const lost = (await dispatcher.queue.getJobs(['waiting'])).find((j) => j.name === 'batch' && 'attempts' in j.data && j.data.attempts[0].id === 'msg_lost_a')!;
    await lost.remove();
    dispatcher.dispatch([due('msg_kept_a'), due('msg_kept_b')]);
    await settle();
    await redis.shared().hset(dispatcher.batchedKey, jobIdOf(due('msg_adding')), 'batch_being_added');
    const listed = await entries();
    expect(Object.keys(listed)).toHaveLength(5);

    expect(await dispatcher.cleanBatched()).toBe(0); // gone once: maybe not added yet
    // Meanwhile the job being added lands; and one lost attempt is listed again under a new
    // batch while the clean-up runs, after it read the hash and before it removes entries.
    await dispatcher.queue.add('batch', { attempts: [{ id: 'msg_adding', series: 1, attempt: 1 }] }, { jobId: 'batch_being_added' });
    const shared = redis.shared();
    let relisted = false;
    const evalSpy = jest.spyOn(shared, 'eval').mockImplementationOnce(async (...args: Parameters<typeof shared.eval>) => {
      await shared.hset(dispatcher.batchedKey, jobIdOf(due('msg_lost_b')), 'batch_being_added');
      relisted = true;
      evalSpy.mockRestore();
      return shared.eval(...args);
    });

    expect(await dispatcher.cleanBatched()).toBe(1);
    expect(relisted).toBe(true);
    const left = await entries();
    expect(left[jobIdOf(due('msg_lost_a'))]).toBeUndefined();
    expect(left[jobIdOf(due('msg_lost_b'))]).toBe('batch_being_added');
    expect(left[jobIdOf(due('msg_adding'))]).toBe('batch_being_added');
    expect(left[jobIdOf(due('msg_kept_a'))]).toBe(listed[jobIdOf(due('msg_kept_a'))]);
    expect(Object.keys(left)).toHaveLength(4);
    expect(await dispatcher.cleanBatched()).toBe(0);
  });

  it('a processed batch leaves the hash; an attempt that must wait gets a job of its own', async () => {
    const attempts = [due('msg_x'), due('msg_y')];
    await dispatcher.enqueueEach([{ ...attempts[1], dueAt: Date.now() + 60_000 }]);
    await dispatcher.unlist(attempts);
    expect(await redis.shared().hmget(dispatcher.batchedKey, ...attempts.map(jobIdOf))).toEqual([null, null]);
    expect(await dispatcher.queue.getJob(jobIdOf(attempts[1]))).toBeDefined();
  });
});
