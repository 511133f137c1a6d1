import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

/** One delivery as it arrived. */
export interface Arrival {
  path: string;
  deliveryId: string;
  /** The payload's `title` (the end-to-end events' `<tag>:<seq>`), when it has one. */
  title: string | null;
  /** performance.now() of this process when the request body had arrived. */
  at: number;
}

/**
 * The webhook receiver every scenario delivers to: a plain Node server on 127.0.0.1 (never any
 * other address) that answers 200 at once and counts deliveries by X-Herald-Delivery, so a
 * redelivered attempt is not counted twice.
 */
export class BenchReceiver {
  private readonly seen = new Set<string>();
  private readonly listeners = new Set<(arrival: Arrival) => void>();
  requests = 0;
  duplicates = 0;
  /** TCP connections accepted: few means the senders kept their connections alive. */
  connections = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(): Promise<BenchReceiver> {
    let receiver!: BenchReceiver;
    const server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const at = performance.now();
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
        res.end('ok');
        receiver.record(req.url ?? '', String(req.headers['x-herald-delivery'] ?? ''), Buffer.concat(chunks).toString('utf8'), at);
      });
    });
    server.on('connection', () => receiver.connections++);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    receiver = new BenchReceiver(server, (server.address() as AddressInfo).port);
    return receiver;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Calls `listener` for every first arrival of a delivery id; returns a function that stops it. */
  listen(listener: (arrival: Arrival) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private record(path: string, deliveryId: string, body: string, at: number): void {
    this.requests++;
    if (deliveryId !== '') {
      if (this.seen.has(deliveryId)) {
        this.duplicates++;
        return;
      }
      this.seen.add(deliveryId);
    }
    let title: string | null = null;
    try {
      const parsed = JSON.parse(body) as { title?: unknown };
      if (typeof parsed.title === 'string') title = parsed.title;
    } catch {
      // Not every payload (presets, test sends) is one of the bench's own.
    }
    const arrival: Arrival = { path, deliveryId, title, at };
    for (const listener of this.listeners) listener(arrival);
  }
}
