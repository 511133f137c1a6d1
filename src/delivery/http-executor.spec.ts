import * as zlib from 'node:zlib';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { AddressPolicy } from './address-policy';
import {
  ConnectTimeoutError,
  HttpExecutor,
  RefusedAddressError,
  createGuardedAgents,
  guardNewSocket,
  guardedLookup,
  refuseConnectedSocket,
  utf8Excerpt,
  type ResolveAll,
} from './http-executor';

// Every socket in this file is on 127.0.0.1 or ::1. Private and metadata refusals are shown by
// the classifier's unit tests and by guards that refuse before any connection is made.

interface ReceivedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

interface Receiver {
  server: http.Server;
  host: string;
  port: number;
  connections: number;
  requests: ReceivedRequest[];
  url(path?: string): string;
  close(): Promise<void>;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void;

async function startReceiver(handler: Handler, host = '127.0.0.1'): Promise<Receiver> {
  const server = http.createServer();
  const receiver: Receiver = {
    server,
    host,
    port: 0,
    connections: 0,
    requests: [],
    url: (path = '/hook') => `http://${host.includes(':') ? `[${host}]` : host}:${receiver.port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server.on('connection', () => receiver.connections++);
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      receiver.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  receiver.port = (server.address() as AddressInfo).port;
  return receiver;
}

/** A raw TCP listener that counts connections and every byte it receives. */
async function startTcpCounter(): Promise<{ port: number; connections: number; bytes: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const counter = { port: 0, connections: 0, bytes: 0, close: async () => {} };
  const server = net.createServer((socket) => {
    counter.connections++;
    sockets.add(socket);
    socket.on('data', (chunk) => (counter.bytes += chunk.length));
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  counter.port = (server.address() as AddressInfo).port;
  counter.close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return counter;
}

async function ipv6LoopbackAvailable(): Promise<boolean> {
  const probe = net.createServer();
  return new Promise((resolve) => {
    probe.once('error', () => resolve(false));
    probe.listen(0, '::1', () => probe.close(() => resolve(true)));
  });
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const LOOPBACK = AddressPolicy.parse('127.0.0.1/32,::1/128');

describe('HttpExecutor against loopback receivers', () => {
  const receivers: Receiver[] = [];
  const executors: HttpExecutor[] = [];
  const receiver = async (handler: Handler, host?: string) => {
    const started = await startReceiver(handler, host);
    receivers.push(started);
    return started;
  };
  const executor = (options: Partial<ConstructorParameters<typeof HttpExecutor>[0]> = {}) => {
    const created = new HttpExecutor({ addressPolicy: LOOPBACK, ...options });
    executors.push(created);
    return created;
  };

  afterEach(async () => {
    for (const e of executors.splice(0)) e.close();
    await Promise.all(receivers.splice(0).map((r) => r.close()));
  });

  it('delivers the exact body and headers and reports a 2xx as success', async () => {
    const target = await receiver((_req, res) => {
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.end('accepted ✓');
    });
    const body = '  {"name":"bert-ü","note":"trailing whitespace stays"}\n';
    const outcome = await executor().send({
      url: target.url('/hook?x=1'),
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'Herald/1.2.3', 'X-Custom': 'v a l' },
      body,
    });

    expect(outcome).toEqual({
      kind: 'success',
      statusCode: 200,
      durationMs: expect.any(Number),
      responseExcerpt: 'accepted ✓',
      errorClass: null,
      errorMessage: null,
      retryAfterMs: null,
      gone: false,
    });
    expect(target.requests).toHaveLength(1);
    const [received] = target.requests;
    expect(received.method).toBe('POST');
    expect(received.url).toBe('/hook?x=1');
    expect(received.body.equals(Buffer.from(body, 'utf8'))).toBe(true);
    expect(received.headers['content-type']).toBe('application/json');
    expect(received.headers['user-agent']).toBe('Herald/1.2.3');
    expect(received.headers['x-custom']).toBe('v a l');
    expect(received.headers['content-length']).toBe(String(Buffer.byteLength(body)));
  });

  it.each([
    ['gzip', (b: Buffer) => zlib.gzipSync(b)],
    ['deflate', (b: Buffer) => zlib.deflateSync(b)],
    ['br', (b: Buffer) => zlib.brotliCompressSync(b)],
  ])('offers compression and reads a %s-encoded answer as text', async (encoding, compress) => {
    const target = await receiver((_req, res) => {
      res.writeHead(500, { 'Content-Encoding': encoding, 'Content-Type': 'text/plain' });
      res.end(compress(Buffer.from('the receiver is down: ✗', 'utf8')));
    });
    const outcome = await executor().send({ url: target.url('/'), headers: {}, body: '{}' });
    expect(outcome).toMatchObject({ kind: 'retryable', statusCode: 500, responseExcerpt: 'the receiver is down: ✗', errorClass: null });
    expect(target.requests[0].headers['accept-encoding']).toBe('gzip, deflate, br');
  });

  it('sends an Accept-Encoding the caller set instead of its own', async () => {
    const target = await receiver((_req, res) => res.end('plain'));
    await executor().send({ url: target.url('/'), headers: { 'Accept-Encoding': 'identity' }, body: '{}' });
    expect(target.requests[0].headers['accept-encoding']).toBe('identity');
  });

  it('reuses one keep-alive connection across sends', async () => {
    const target = await receiver((_req, res) => res.end('ok'));
    const sender = executor();
    for (let i = 0; i < 3; i++) {
      expect((await sender.send({ url: target.url(), headers: {}, body: '{}' })).kind).toBe('success');
    }
    expect(target.requests).toHaveLength(3);
    expect(target.connections).toBe(1);
  });

  it('reports a 500 as retryable with the response excerpt', async () => {
    const target = await receiver((_req, res) => {
      res.statusCode = 500;
      res.end('database down');
    });
    const outcome = await executor().send({ url: target.url(), headers: {}, body: '{}' });
    expect(outcome).toMatchObject({ kind: 'retryable', statusCode: 500, responseExcerpt: 'database down', errorClass: null, gone: false });
  });

  it('takes the delay from Retry-After on a 429', async () => {
    const target = await receiver((_req, res) => {
      res.writeHead(429, { 'Retry-After': '30' });
      res.end();
    });
    const outcome = await executor().send({ url: target.url(), headers: {}, body: '{}' });
    expect(outcome).toMatchObject({ kind: 'retryable', statusCode: 429, retryAfterMs: 30_000, gone: false });
  });

  it('reports a 410 as final and gone', async () => {
    const target = await receiver((_req, res) => {
      res.statusCode = 410;
      res.end('this hook was deleted');
    });
    const outcome = await executor().send({ url: target.url(), headers: {}, body: '{}' });
    expect(outcome).toMatchObject({ kind: 'final', statusCode: 410, gone: true, responseExcerpt: 'this hook was deleted' });
  });

  it('does not follow a redirect: a 302 is final and its target receives nothing', async () => {
    const elsewhere = await receiver((_req, res) => res.end('should not be reached'));
    const target = await receiver((_req, res) => {
      res.writeHead(302, { Location: elsewhere.url('/stolen') });
      res.end();
    });
    const outcome = await executor().send({ url: target.url(), headers: { Authorization: 'Bearer t' }, body: '{}' });
    expect(outcome).toMatchObject({ kind: 'final', statusCode: 302, errorClass: null });
    await delay(50);
    expect(elsewhere.connections).toBe(0);
    expect(elsewhere.requests).toHaveLength(0);
  });

  it('cuts a large response: a 2 KiB excerpt not split inside a character, and the stream stopped', async () => {
    let serverStopped!: () => void;
    const stopped = new Promise<void>((resolve) => (serverStopped = resolve));
    let bytesWritten = 0;
    const target = await receiver((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
      // An endless body: 'a' then two-byte characters, so byte 2048 falls inside 'é'.
      const chunk = Buffer.from('é'.repeat(32 * 1024), 'utf8');
      res.write('a');
      const pump = () => {
        while (!res.destroyed) {
          bytesWritten += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      res.on('close', () => serverStopped());
      pump();
    });
    const outcome = await executor({ deadlineMs: 10_000 }).send({ url: target.url(), headers: {}, body: '{}' });

    expect(outcome.kind).toBe('success');
    expect(outcome.errorClass).toBeNull();
    expect(Buffer.byteLength(outcome.responseExcerpt)).toBe(2047);
    expect(outcome.responseExcerpt).toBe('a' + 'é'.repeat(1023));
    await stopped; // the receiver saw its response closed: we stopped reading, not the deadline
    expect(outcome.durationMs).toBeLessThan(10_000);
    expect(bytesWritten).toBeLessThan(256 * 1024 * 1024);
  });

  it('gives up at the deadline when the receiver never answers', async () => {
    const target = await receiver(() => {
      /* never answers */
    });
    const outcome = await executor({ deadlineMs: 300 }).send({ url: target.url(), headers: {}, body: '{}' });
    expect(outcome).toMatchObject({
      kind: 'retryable',
      statusCode: null,
      errorClass: 'timeout',
      errorMessage: 'No complete response within 300 ms',
    });
    expect(outcome.durationMs).toBeGreaterThanOrEqual(250);
    expect(outcome.durationMs).toBeLessThan(3000);
    expect(target.requests).toHaveLength(1);
  });

  it('counts the body in the deadline: headers then silence is a retryable timeout', async () => {
    const target = await receiver((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('partial');
    });
    const outcome = await executor({ deadlineMs: 300 }).send({ url: target.url(), headers: {}, body: '{}' });
    expect(outcome).toMatchObject({ kind: 'retryable', statusCode: 200, errorClass: 'timeout', responseExcerpt: 'partial' });
  });

  it('reports a body cut off by the receiver closing the connection as a retryable network error', async () => {
    const target = await receiver((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '100' });
      res.write('partial', () => res.socket?.destroy());
    });
    const outcome = await executor().send({ url: target.url(), headers: {}, body: '{}' });
    expect(outcome).toMatchObject({ kind: 'retryable', statusCode: 200, errorClass: 'network' });
    expect(outcome.errorMessage).toBeTruthy();
  });

  it('completes a whole body without an error when the connection closes after it', async () => {
    const target = await receiver((_req, res) => {
      res.setHeader('Connection', 'close');
      res.end('done');
    });
    const outcome = await executor().send({ url: target.url(), headers: {}, body: '{}' });
    expect(outcome).toMatchObject({ kind: 'success', statusCode: 200, responseExcerpt: 'done', errorClass: null, errorMessage: null });
  });

  it('reports a refused connection as a retryable network error', async () => {
    const closed = await startReceiver(() => {});
    const url = closed.url();
    await closed.close();
    const outcome = await executor().send({ url, headers: {}, body: '{}' });
    expect(outcome).toMatchObject({ kind: 'retryable', statusCode: null, errorClass: 'network' });
    expect(outcome.errorMessage).toMatch(/ECONNREFUSED/);
  });

  it.each([
    ['not a url', 'Invalid URL'],
    ['ftp://127.0.0.1/file', 'Only http and https URLs are allowed, not ftp:'],
    ['file:///etc/passwd', 'Only http and https URLs are allowed, not file:'],
  ])('refuses %s as a final invalid_url without throwing', async (url, message) => {
    await expect(executor().send({ url, headers: {}, body: '{}' })).resolves.toMatchObject({
      kind: 'final',
      errorClass: 'invalid_url',
      errorMessage: message,
      statusCode: null,
    });
  });

  it('reports a header value Node refuses as a final invalid_request', async () => {
    const target = await receiver((_req, res) => res.end());
    const outcome = await executor().send({ url: target.url(), headers: { 'X-Bad': 'a\r\nInjected: 1' }, body: '{}' });
    expect(outcome).toMatchObject({ kind: 'final', errorClass: 'invalid_request' });
    expect(target.requests).toHaveLength(0);
  });

  describe('SSRF guard', () => {
    let v6: boolean;
    beforeAll(async () => {
      v6 = await ipv6LoopbackAvailable();
    });

    it('with no allowed network, refuses loopback targets without ever connecting', async () => {
      const v4Target = await receiver((_req, res) => res.end('reached'));
      const v6Target = v6 ? await receiver((_req, res) => res.end('reached'), '::1') : null;
      const guarded = executor({ addressPolicy: AddressPolicy.NONE });
      const cases: Array<[string, RegExp]> = [
        [`http://127.0.0.1:${v4Target.port}/`, /^Refused: 127\.0\.0\.1 is a loopback address; add it to HERALD_ALLOWED_NETWORKS to allow it$/],
        [`http://[::ffff:127.0.0.1]:${v4Target.port}/`, /^Refused: ::ffff:7f00:1 \(IPv4-mapped 127\.0\.0\.1\) is a loopback address/],
        [`http://localhost:${v4Target.port}/`, /^Refused: localhost resolves to (127\.0\.0\.1|::1): .* is a loopback address/],
        [`https://127.0.0.1:${v4Target.port}/`, /^Refused: 127\.0\.0\.1 is a loopback address/],
        [`http://2130706433:${v4Target.port}/`, /^Refused: 127\.0\.0\.1 is a loopback/], // WHATWG URL normalises it
      ];
      if (v6Target) cases.push([`http://[::1]:${v6Target.port}/`, /^Refused: ::1 is a loopback address/]);

      for (const [url, message] of cases) {
        const outcome = await guarded.send({ url, headers: {}, body: '{}' });
        expect(outcome).toMatchObject({ kind: 'final', statusCode: null, errorClass: 'refused_address', gone: false });
        expect(outcome.errorMessage).toMatch(message);
      }
      await delay(50);
      expect(v4Target.connections).toBe(0);
      expect(v6Target?.connections ?? 0).toBe(0);
      if (!v6) console.warn('IPv6 loopback unavailable: the [::1] case was not run');
    });

    it('with loopback allowed, the same targets are reached', async () => {
      const v4Target = await receiver((_req, res) => res.end('reached'));
      const v6Target = v6 ? await receiver((_req, res) => res.end('reached'), '::1') : null;
      const allowed = executor({ addressPolicy: LOOPBACK });
      const urls = [`http://127.0.0.1:${v4Target.port}/`, `http://localhost:${v4Target.port}/`];
      if (v6Target) urls.push(`http://[::ffff:127.0.0.1]:${v4Target.port}/`, `http://[::1]:${v6Target.port}/`);
      for (const url of urls) {
        const outcome = await allowed.send({ url, headers: {}, body: '{}' });
        expect({ url, ...outcome }).toMatchObject({ url, kind: 'success', statusCode: 200, responseExcerpt: 'reached' });
      }
      expect(v4Target.requests).toHaveLength(v6 ? 3 : 2);
      expect(v6Target?.requests.length ?? 0).toBe(v6 ? 1 : 0);
    });
  });
});

describe('the connected-socket check (the last line, behind the literal and lookup checks)', () => {
  // These go straight to the agents with an IP literal, which skips both earlier checks, so
  // only the socket's remoteAddress check stands between the request and the receiver.
  let counter: Awaited<ReturnType<typeof startTcpCounter>>;
  beforeEach(async () => {
    counter = await startTcpCounter();
  });
  afterEach(() => counter.close());

  const post = (agent: http.Agent, secure: boolean) =>
    new Promise<Error | null>((resolve) => {
      const request = (secure ? https : http).request({
        host: '127.0.0.1',
        port: counter.port,
        method: 'POST',
        agent,
        rejectUnauthorized: false,
      });
      request.on('error', (error) => resolve(error));
      request.on('socket', () => setTimeout(() => resolve(null), 300));
      request.end('{"secret":"payload"}');
    });

  it.each([
    ['http', false],
    ['https', true],
  ])('destroys a refused %s socket on connect, before a byte is written', async (_name, secure) => {
    const agents = createGuardedAgents(AddressPolicy.NONE, 5000);
    try {
      const error = await post(secure ? agents.https : agents.http, secure);
      expect(error).toBeInstanceOf(RefusedAddressError);
      expect(error?.message).toBe(
        'Refused: connected to 127.0.0.1: 127.0.0.1 is a loopback address; add it to HERALD_ALLOWED_NETWORKS to allow it',
      );
      await delay(50);
      expect(counter.connections).toBe(1); // TCP was accepted by the kernel…
      expect(counter.bytes).toBe(0); // …but not one byte (request or TLS ClientHello) followed
    } finally {
      agents.http.destroy();
      agents.https.destroy();
    }
  });

  it.each([
    ['http', false],
    ['https', true],
  ])('lets an allowed %s socket write', async (_name, secure) => {
    const agents = createGuardedAgents(LOOPBACK, 5000);
    try {
      await post(secure ? agents.https : agents.http, secure);
      await delay(50);
      expect(counter.bytes).toBeGreaterThan(0);
    } finally {
      agents.http.destroy();
      agents.https.destroy();
    }
  });

  it('refuseConnectedSocket judges the remote address, including mapped and missing ones', () => {
    const fake = (remoteAddress: string | undefined) => ({ remoteAddress, destroy: jest.fn() });
    const allowed = fake('8.8.8.8');
    expect(refuseConnectedSocket(allowed, AddressPolicy.NONE)).toBeNull();
    expect(allowed.destroy).not.toHaveBeenCalled();
    for (const address of ['10.0.0.1', '::ffff:169.254.169.254', 'fe80::1', undefined]) {
      const socket = fake(address);
      expect(refuseConnectedSocket(socket, AddressPolicy.NONE)).not.toBeNull();
      expect(socket.destroy).toHaveBeenCalledWith(expect.any(RefusedAddressError));
    }
  });
});

describe('guardNewSocket connect timeout', () => {
  it('destroys a socket that has not connected in time', async () => {
    const socket = new net.Socket(); // never connected: nothing is dialled
    const failed = new Promise<Error>((resolve) => socket.once('error', resolve));
    guardNewSocket(socket, AddressPolicy.NONE, 50, 'connect');
    const error = await failed;
    expect(error).toBeInstanceOf(ConnectTimeoutError);
    expect(error.message).toBe('Could not connect within 50 ms');
    expect(socket.destroyed).toBe(true);
  });
});

describe('guardedLookup', () => {
  const resolver =
    (addresses: Array<{ address: string; family: number }>, error: NodeJS.ErrnoException | null = null): ResolveAll =>
    (_hostname, options, callback) => {
      expect(options.all).toBe(true); // every address is always fetched, whatever Node asked for
      callback(error, addresses);
    };
  const lookupOnce = (resolve: ResolveAll, all: boolean) =>
    new Promise<{ error: Error | null; address: unknown; family?: number }>((done) =>
      guardedLookup(AddressPolicy.NONE, resolve)('receiver.example', { all }, (error, address, family) =>
        done({ error, address, family }),
      ),
    );

  it('answers in the array form when asked with all: true, and the single form otherwise', async () => {
    const addresses = [
      { address: '2606:4700::1111', family: 6 },
      { address: '1.1.1.1', family: 4 },
    ];
    await expect(lookupOnce(resolver(addresses), true)).resolves.toEqual({ error: null, address: addresses, family: undefined });
    await expect(lookupOnce(resolver(addresses), false)).resolves.toEqual({ error: null, address: '2606:4700::1111', family: 6 });
  });

  it('refuses the name when any one of its addresses is refused', async () => {
    const addresses = [
      { address: '1.1.1.1', family: 4 },
      { address: '10.0.0.1', family: 4 },
    ];
    for (const all of [true, false]) {
      const { error } = await lookupOnce(resolver(addresses), all);
      expect(error).toBeInstanceOf(RefusedAddressError);
      expect(error?.message).toBe(
        'Refused: receiver.example resolves to 10.0.0.1: 10.0.0.1 is a private address; add it to HERALD_ALLOWED_NETWORKS to allow it',
      );
    }
    const { error } = await lookupOnce(resolver([{ address: '::ffff:169.254.169.254', family: 6 }]), true);
    expect(error?.message).toMatch(/cloud metadata address/);
  });

  it('passes resolver errors through and treats an empty answer as not found', async () => {
    const notFound: NodeJS.ErrnoException = Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    await expect(lookupOnce(resolver([], notFound), true)).resolves.toMatchObject({ error: notFound });
    const empty = await lookupOnce(resolver([]), false);
    expect((empty.error as NodeJS.ErrnoException).code).toBe('ENOTFOUND');
  });
});

describe('utf8Excerpt', () => {
  it('never splits a character', () => {
    expect(utf8Excerpt(Buffer.from('abc'), 2048)).toBe('abc');
    expect(utf8Excerpt(Buffer.from('aé'), 2)).toBe('a');
    expect(utf8Excerpt(Buffer.from('aé'), 3)).toBe('aé');
    expect(utf8Excerpt(Buffer.from('a🚀b'), 4)).toBe('a');
    expect(utf8Excerpt(Buffer.from('a🚀b'), 5)).toBe('a🚀');
    expect(utf8Excerpt(Buffer.from('€€'), 4)).toBe('€');
    expect(utf8Excerpt(Buffer.alloc(0), 10)).toBe('');
  });
});
