import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { BackgroundThread, type ThreadJob } from './background-thread';

const PROBE = join(__dirname, '../../test/support/thread-probe-job');

type Answer = { name: string; threadId: number };

function ask(job: ThreadJob): Promise<Answer> {
  return new Promise((resolve) => {
    job.port.once('message', resolve);
    job.port.postMessage('who');
  });
}

/** Attaches a probe job and records how it ended, if it did. */
function probe(thread: BackgroundThread, name: string, failAtStart: boolean) {
  let endedWith: Error | undefined | 'not ended' = 'not ended';
  let resolveEnded: () => void = () => undefined;
  const ended = new Promise<void>((resolve) => (resolveEnded = resolve));
  const job = thread.attach(PROBE, { name, failAtStart }, (error) => {
    endedWith = error;
    resolveEnded();
  });
  return { job, ended, endedWith: () => endedWith };
}

describe('BackgroundThread (a real worker thread)', () => {
  let thread: BackgroundThread;
  const attached: ThreadJob[] = [];
  beforeEach(() => {
    thread = new BackgroundThread();
  });
  afterEach(async () => {
    for (const job of attached.splice(0)) await job.detach();
  });
  const start = (name: string, failAtStart = false) => {
    const handle = probe(thread, name, failAtStart);
    attached.push(handle.job);
    return handle;
  };

  it('runs every job in one thread, not the caller’s', async () => {
    const sender = start('sender');
    const checkpointer = start('checkpointer');
    const [a, b] = await Promise.all([ask(sender.job), ask(checkpointer.job)]);
    expect(a).toEqual({ name: 'sender', threadId: b.threadId });
    expect(b.name).toBe('checkpointer');
    expect(a.threadId).not.toBe(threadId);
  });

  it('stops the thread after the last job detached, and starts another for the next job', async () => {
    const first = start('first');
    const second = start('second');
    const { threadId: before } = await ask(first.job);
    await first.job.detach();
    expect((await ask(second.job)).threadId).toBe(before); // still running for the other job
    await second.job.detach();
    const third = start('third');
    expect((await ask(third.job)).threadId).not.toBe(before);
    expect([first.endedWith(), second.endedWith()]).toEqual(['not ended', 'not ended']);
  });

  it('a job that cannot start ends with its error; the thread and its other jobs go on', async () => {
    const healthy = start('healthy');
    const { threadId: before } = await ask(healthy.job);
    const broken = start('broken', true);
    await broken.ended;
    expect(broken.endedWith()).toEqual(new Error('broken cannot start'));
    expect(await ask(healthy.job)).toEqual({ name: 'healthy', threadId: before });
  });

  it('a thread that fails ends every job with its error; the next job starts a new thread', async () => {
    const a = start('a');
    const b = start('b');
    const { threadId: before } = await ask(a.job);
    a.job.port.postMessage('crash');
    await Promise.all([a.ended, b.ended]);
    expect(a.endedWith()).toEqual(new Error('the thread crashed'));
    expect(b.endedWith()).toEqual(new Error('the thread crashed'));
    const c = start('c');
    expect((await ask(c.job)).threadId).not.toBe(before);
  });
});
