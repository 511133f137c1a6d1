import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MessageChannel } from 'node:worker_threads';
import { BackgroundThread } from '../common/background-thread';
import { AddressPolicy } from './address-policy';
import { type Exchange, HttpExecutor } from './http-executor';
import { SenderThread, answerOf } from './sender-thread';

/** A loopback receiver: records each request, answers with `reply` (or never, for 'hang'). */
async function receiver(reply: { status: number; body: string } | 'hang') {
  const requests: { headers: IncomingHttpHeaders; body: string }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (reply !== 'hang') res.writeHead(reply.status, { 'content-type': 'text/plain' }).end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, requests, close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))) };
}

const options = { networks: ['127.0.0.1/32'], connectTimeoutMs: 2000, deadlineMs: 3000 };

describe('SenderThread (a real worker thread, loopback receivers)', () => {
  let background: BackgroundThread;
  let thread: SenderThread;
  const closers: (() => Promise<void>)[] = [];
  beforeEach(() => {
    background = new BackgroundThread();
    thread = new SenderThread(background, options);
  });
  afterEach(async () => {
    await thread.close();
    for (const close of closers.splice(0)) await close();
  });
  const start = async (reply: Parameters<typeof receiver>[0]) => {
    const started = await receiver(reply);
    closers.push(started.close);
    return started;
  };

  it('sends exactly what the caller built and answers what the executor in this thread would', async () => {
    const target = await start({ status: 503, body: 'busy: the token tok-123 is wrong' });
    const request = { url: target.url, headers: { 'content-type': 'application/json', 'x-signature': 'v1,abc' }, body: '{"n":"ü"}' };
    const excerpt = (bytes: Buffer, complete: boolean) => `${complete}:${bytes.toString('utf8').replace('tok-123', '[secret]')}`;
    const threaded = await thread.send({ ...request, excerpt });
    const local = new HttpExecutor({ addressPolicy: AddressPolicy.parse(options.networks.join(',')), ...options });
    try {
      const inThread = await local.send({ ...request, excerpt });
      expect({ ...threaded, durationMs: 0 }).toEqual({ ...inThread, durationMs: 0 });
    } finally {
      local.close();
    }
    // The excerpt is made on the caller's thread, by the caller's function (where secrets are redacted).
    expect(threaded).toMatchObject({ kind: 'retryable', statusCode: 503, responseExcerpt: 'true:busy: the token [secret] is wrong', errorClass: null });
    expect(target.requests).toHaveLength(2);
    expect(target.requests[0]).toMatchObject({ body: '{"n":"ü"}', headers: { 'x-signature': 'v1,abc', 'content-type': 'application/json' } });
  });

  it('keeps the SSRF policy it was given: an address outside HERALD_ALLOWED_NETWORKS is refused', async () => {
    const outcome = await thread.send({ url: 'http://127.0.0.2:9/hook', headers: {}, body: '{}' });
    expect(outcome).toMatchObject({ kind: 'final', errorClass: 'refused_address' });
  });

  it('sends in flight when the thread dies end as retryable network failures; the next send starts a new thread', async () => {
    const hanging = await start('hang');
    const inFlight = thread.send({ url: hanging.url, headers: {}, body: '{}' });
    await waitFor(() => hanging.requests.length === 1);
    await (background as unknown as { running: { worker: { terminate(): Promise<number> } } }).running.worker.terminate();
    expect(await inFlight).toMatchObject({ kind: 'retryable', errorClass: 'network', errorMessage: 'The sender thread stopped' });

    const ok = await start({ status: 200, body: 'ok' });
    expect(await thread.send({ url: ok.url, headers: {}, body: '{}' })).toMatchObject({ kind: 'success', statusCode: 200, responseExcerpt: 'ok' });
  });

  it('close ends the sends in flight as retryable failures and refuses new ones the same way', async () => {
    const hanging = await start('hang');
    const inFlight = thread.send({ url: hanging.url, headers: {}, body: '{}' });
    await waitFor(() => hanging.requests.length === 1);
    await thread.close();
    expect(await inFlight).toMatchObject({ kind: 'retryable', errorClass: 'network', errorMessage: 'Herald is shutting down' });
    expect(await thread.send({ url: hanging.url, headers: {}, body: '{}' })).toMatchObject({ kind: 'retryable', errorClass: 'network' });
  });
});

describe('answerOf', () => {
  const exchange = (responseBytes: Buffer): Exchange => ({
    kind: 'success', statusCode: 200, durationMs: 3, errorClass: null, errorMessage: null, retryAfterMs: null, gone: false, responseBytes, responseComplete: true,
  });
  const cross = async (id: number, ex: Exchange) => {
    const { port1, port2 } = new MessageChannel();
    try {
      const received = new Promise<{ exchange: { responseBytes: Uint8Array } }>((resolve) => port2.once('message', resolve));
      const { answer, transfer } = answerOf(id, ex);
      port1.postMessage(answer, transfer);
      return (await received).exchange.responseBytes;
    } finally {
      port1.close();
    }
  };

  it("carries only the response's bytes, not the pooled buffer a small Buffer is a view of", async () => {
    const pooled = Buffer.concat([Buffer.from('ok')]);
    expect(pooled.buffer.byteLength).toBeGreaterThan(2); // the premise: Node's 8 KiB pool
    const bytes = await cross(1, exchange(pooled));
    expect(bytes.buffer.byteLength).toBe(2);
    expect(Buffer.from(bytes).toString('utf8')).toBe('ok');
    expect(pooled.toString('utf8')).toBe('ok'); // the pool's bytes are copied, never moved away
  });

  it('carries an empty response and keeps the rest of the exchange as it was', async () => {
    const { answer } = answerOf(7, exchange(Buffer.alloc(0)));
    expect(answer).toEqual({ id: 7, exchange: { ...exchange(Buffer.alloc(0)), responseBytes: new Uint8Array(0) } });
    expect((await cross(7, exchange(Buffer.alloc(0)))).byteLength).toBe(0);
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
