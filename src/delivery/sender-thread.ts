import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { type Exchange, HttpSender, type OutboundRequest, type ResponseExcerpt, type SendOutcome, withExcerpt } from './http-executor';

/** What the sender thread is started with (structured-cloned: plain data only). */
export interface SenderThreadOptions {
  /** HERALD_ALLOWED_NETWORKS, canonical (AddressPolicy.networks). */
  networks: readonly string[];
  connectTimeoutMs: number;
  deadlineMs: number;
}

/** One request, as it crosses to the thread. */
export interface SendMessage {
  id: number;
  url: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * The sender thread's young generation, in MB (V8's default is sized for a main thread: 16 MB
 * semi-spaces), when node's command line sets none. A command-line --max-semi-space-size
 * (`npm start`'s 4) sizes every isolate, this one too, over resourceLimits: 8 MB then. Making
 * the thread honour 3 or 6 MB there saved 4–6 MB of RSS for 7–13 % more CPU measured alone and
 * 25 % in the app (6 MB): not kept (docs/performance.md › Memory, sixth round).
 */
const SENDER_YOUNG_GENERATION_MB = 3;

/** An exchange as it crosses back: a Buffer arrives as a plain Uint8Array. */
type CrossingExchange = Omit<Exchange, 'responseBytes'> & { responseBytes: Uint8Array };

type Answer = { id: number; exchange: CrossingExchange } | { id: number; error: string };

/**
 * The thread's answer to a send, and what to transfer with it. The response's bytes go in an
 * ArrayBuffer of their own, moved rather than copied: a small Buffer is a view of Node's shared
 * 8 KiB pool, and a cloned view carries its whole buffer, so a 2-byte answer crossed as 8 KiB
 * (and was held as such on the main thread until its excerpt was made).
 */
export function answerOf(id: number, exchange: Exchange): { answer: Answer; transfer: ArrayBuffer[] } {
  const bytes = new Uint8Array(exchange.responseBytes);
  return { answer: { id, exchange: { ...exchange, responseBytes: bytes } }, transfer: [bytes.buffer] };
}

interface Running {
  worker: Worker;
  /** Sends answered by this thread's answers, by id; each makes its own excerpt here. */
  pending: Map<number, { resolve: (outcome: SendOutcome) => void; excerpt: ResponseExcerpt | undefined }>;
}

/**
 * Sends on a thread of its own (HERALD_SENDER_THREAD, docs/design.md › Delivery): the HTTP
 * exchange — sockets, the request and response, the SSRF guard, the deadline — runs in a
 * worker thread with an HttpExecutor of its own, so Herald's main thread (requests, matching,
 * the database) and the exchanges use both cores. Everything that touches a secret stays on
 * the caller's thread: the request crosses already signed, and the response's bytes come
 * back for the caller's excerpt, where its secrets are redacted. A thread that fails ends its
 * sends in flight as retryable network failures (their deliveries are retried) and the next
 * send starts a new one. The thread keeps the process alive only while sends are in flight.
 */
export class SenderThread extends HttpSender {
  private running: Running | null = null;
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: SenderThreadOptions) {
    super();
  }

  send(request: OutboundRequest): Promise<SendOutcome> {
    if (this.closed) return Promise.resolve(stopped('Herald is shutting down'));
    const running = this.running ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve) => {
      if (running.pending.size === 0) running.worker.ref();
      running.pending.set(id, { resolve, excerpt: request.excerpt });
      const message: SendMessage = { id, url: request.url, headers: request.headers, body: request.body };
      running.worker.postMessage(message);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const running = this.running;
    if (!running) return;
    this.running = null;
    this.fail(running, 'Herald is shutting down');
    running.worker.postMessage('close');
    await running.worker.terminate();
  }

  private start(): Running {
    // dist/ runs the compiled .js; the test suites run the sources through ts-node.
    const ext = extname(__filename);
    const worker = new Worker(join(__dirname, `sender-thread-main${ext}`), {
      workerData: this.options,
      execArgv: ext === '.ts' ? ['-r', 'ts-node/register/transpile-only'] : [],
      // Its live objects are few (sockets, the requests in flight): a small young generation
      // keeps its share of the process's memory small. The old generation is left unbounded: a
      // thread that ran out of memory would fail every send in flight again and again.
      resourceLimits: { maxYoungGenerationSizeMb: SENDER_YOUNG_GENERATION_MB },
    });
    const running: Running = { worker, pending: new Map() };
    worker.on('message', (answer: Answer) => {
      const waiting = running.pending.get(answer.id);
      if (!waiting) return;
      running.pending.delete(answer.id);
      if (running.pending.size === 0) worker.unref();
      if ('error' in answer) return waiting.resolve(stopped(`The sender thread failed: ${answer.error}`));
      const bytes = answer.exchange.responseBytes;
      waiting.resolve(withExcerpt({ ...answer.exchange, responseBytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) }, waiting.excerpt));
    });
    worker.on('error', (error) => this.ended(running, `The sender thread failed: ${error.message}`));
    worker.on('exit', () => this.ended(running, 'The sender thread stopped'));
    worker.unref();
    this.running = running;
    return running;
  }

  private ended(running: Running, message: string): void {
    if (this.running === running) this.running = null;
    this.fail(running, message);
  }

  private fail(running: Running, message: string): void {
    for (const { resolve } of running.pending.values()) resolve(stopped(message));
    running.pending.clear();
  }
}

/** A send that never reached the receiver, or whose answer was lost with its thread: retried. */
function stopped(message: string): SendOutcome {
  return { kind: 'retryable', statusCode: null, durationMs: 0, responseExcerpt: '', errorClass: 'network', errorMessage: message, retryAfterMs: null, gone: false };
}
