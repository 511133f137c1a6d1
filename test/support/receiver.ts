import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The exact bytes received, as UTF-8. */
  body: string;
  /** When it arrived (Date.now()). */
  at: number;
}

export type ReceiverReply =
  | {
      status: number;
      headers?: Record<string, string>;
      /** The answer's body, or a function of the request (a receiver that echoes what it got). */
      body?: string | ((request: ReceivedRequest) => string);
      /** answer after this long */ delayMs?: number;
      /** answer once this settles (the test holds the sender's connection until then) */ after?: Promise<unknown>;
    }
  /** Never answer (the sender's deadline must end it). */
  | 'hang'
  /** Destroy the connection without an answer. */
  | 'reset';

/**
 * A real HTTP receiver on 127.0.0.1 (never any other address): records what arrives and
 * answers with the reply set for the next requests (200 "ok" by default).
 */
export class TestReceiver {
  readonly requests: ReceivedRequest[] = [];
  /** TCP connections accepted, including ones that never sent a request. */
  connections = 0;
  private reply: ReceiverReply = { status: 200, body: 'ok' };
  /** Replies used once each, in order, before `reply`. */
  private queue: ReceiverReply[] = [];

  private constructor(private readonly server: Server, readonly port: number) {}

  static async start(host = '127.0.0.1'): Promise<TestReceiver> {
    let receiver!: TestReceiver;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const received: ReceivedRequest = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          at: Date.now(),
        };
        receiver.requests.push(received);
        const reply = receiver.queue.shift() ?? receiver.reply;
        if (reply === 'reset') req.socket.destroy();
        else if (reply !== 'hang') {
          const answer = () => {
            if (res.destroyed) return;
            res.writeHead(reply.status, { 'content-type': 'text/plain', ...reply.headers });
            res.end(typeof reply.body === 'function' ? reply.body(received) : (reply.body ?? ''));
          };
          if (reply.after) void reply.after.finally(answer);
          else if (reply.delayMs) setTimeout(answer, reply.delayMs);
          else answer();
        }
      });
    });
    server.on('connection', () => receiver.connections++);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, resolve);
    });
    receiver = new TestReceiver(server, (server.address() as AddressInfo).port);
    return receiver;
  }

  url(path = '/hook', host = '127.0.0.1'): string {
    return `http://${host}:${this.port}${path}`;
  }

  respondWith(reply: ReceiverReply): void {
    this.reply = reply;
    this.queue = [];
  }

  /** Answers the next requests with these replies, in order, then as `respondWith` says. */
  respondSequence(replies: ReceiverReply[]): void {
    this.queue = [...replies];
  }

  /** Waits (polling) until `count` requests arrived, or fails after `timeoutMs`. */
  async waitForRequests(count: number, timeoutMs = 20_000, path?: string): Promise<ReceivedRequest[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = path === undefined ? this.requests : this.requests.filter((r) => r.path === path);
      if (got.length >= count) return got;
      if (Date.now() > deadline) throw new Error(`expected ${count} requests${path ? ` on ${path}` : ''}, got ${got.length}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** The X-Herald-Delivery ids received, in arrival order (repeats included). */
  deliveryIds(which: (r: ReceivedRequest) => boolean = () => true): string[] {
    return this.requests.filter(which).map((r) => String(r.headers['x-herald-delivery']));
  }

  /** How many times each delivery id arrived. */
  deliveryCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const id of this.deliveryIds()) counts.set(id, (counts.get(id) ?? 0) + 1);
    return counts;
  }

  last(): ReceivedRequest {
    const last = this.requests[this.requests.length - 1];
    if (!last) throw new Error('the receiver got no request');
    return last;
  }

  clear(): void {
    this.requests.length = 0;
    this.connections = 0;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
