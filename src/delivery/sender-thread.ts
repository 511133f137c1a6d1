import { join } from 'node:path';
import type { BackgroundThread, ThreadJob } from '../common/background-thread';
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
  job: ThreadJob;
  /** Sends answered by this thread's answers, by id; each makes its own excerpt here. */
  pending: Map<number, { resolve: (outcome: SendOutcome) => void; excerpt: ResponseExcerpt | undefined }>;
}

/**
 * Sends on the background thread (HERALD_SENDER_THREAD, docs/design.md › Delivery): the HTTP
 * exchange — sockets, the request and response, the SSRF guard, the deadline — runs as a job
 * of the process's worker thread (BackgroundThread) with an HttpExecutor of its own, so
 * Herald's main thread (requests, matching, the database) and the exchanges use both cores.
 * Everything that touches a secret stays on the caller's thread: the request crosses already
 * signed, and the response's bytes come back for the caller's excerpt, where its secrets are
 * redacted. A thread that fails ends its
 * sends in flight as retryable network failures (their deliveries are retried) and the next
 * send attaches again (starting a new thread). The job keeps the process alive only while
 * sends are in flight.
 */
export class SenderThread extends HttpSender {
  private running: Running | null = null;
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly thread: BackgroundThread,
    private readonly options: SenderThreadOptions,
  ) {
    super();
  }

  send(request: OutboundRequest): Promise<SendOutcome> {
    if (this.closed) return Promise.resolve(stopped('Herald is shutting down'));
    const running = this.running ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve) => {
      if (running.pending.size === 0) running.job.port.ref();
      running.pending.set(id, { resolve, excerpt: request.excerpt });
      const message: SendMessage = { id, url: request.url, headers: request.headers, body: request.body };
      running.job.port.postMessage(message);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const running = this.running;
    if (!running) return;
    this.running = null;
    this.fail(running, 'Herald is shutting down');
    await running.job.detach();
  }

  private start(): Running {
    const job = this.thread.attach(join(__dirname, 'sender-thread-main'), this.options, (error) =>
      this.ended(running, error ? `The sender thread failed: ${error.message}` : 'The sender thread stopped'),
    );
    const running: Running = { job, pending: new Map() };
    const port = job.port;
    port.on('message', (answer: Answer) => {
      const waiting = running.pending.get(answer.id);
      if (!waiting) return;
      running.pending.delete(answer.id);
      if (running.pending.size === 0) port.unref();
      if ('error' in answer) return waiting.resolve(stopped(`The sender thread failed: ${answer.error}`));
      const bytes = answer.exchange.responseBytes;
      waiting.resolve(withExcerpt({ ...answer.exchange, responseBytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) }, waiting.excerpt));
    });
    port.unref();
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
