import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The exact bytes received, as UTF-8. */
  body: string;
}

export interface ReceiverReply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * A real HTTP receiver on 127.0.0.1 (never any other address): records what arrives and
 * answers with the reply set for the next requests (200 "ok" by default).
 */
export class TestReceiver {
  readonly requests: ReceivedRequest[] = [];
  /** TCP connections accepted, including ones that never sent a request. */
  connections = 0;
  private reply: ReceiverReply = { status: 200, body: 'ok' };
  private waiters: (() => void)[] = [];

  private constructor(private readonly server: Server, readonly port: number) {}

  static async start(host = '127.0.0.1'): Promise<TestReceiver> {
    let receiver!: TestReceiver;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        receiver.requests.push({
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        const { status, headers, body } = receiver.reply;
        res.writeHead(status, { 'content-type': 'text/plain', ...headers });
        res.end(body ?? '');
        for (const wake of receiver.waiters.splice(0)) wake();
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
