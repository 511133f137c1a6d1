import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { BenchReceiver } from './receiver';
import { type LatencySummary, summarize } from './stats';
import { type PostedEvent, e2eEvent } from './workload';

export interface ApiAnswer {
  statusCode: number;
  body: unknown;
}

/** A keep-alive JSON client for Herald's API (or the ceiling's) on 127.0.0.1. */
export class ApiClient {
  private agent: Agent;

  constructor(
    private readonly base: string,
    private readonly key: string,
    maxSockets = 64,
  ) {
    if (!/^http:\/\/(127\.0\.0\.1|\[::1\]):\d+$/.test(base)) throw new Error(`The bench only talks to 127.0.0.1 or ::1, not ${base}`);
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  post(path: string, body: unknown): Promise<ApiAnswer> {
    return this.send('POST', path, JSON.stringify(body));
  }

  get(path: string): Promise<ApiAnswer> {
    return this.send('GET', path, null);
  }

  /** POST that fails unless the answer is 2xx; returns the parsed body. */
  async create<T>(path: string, body: unknown): Promise<T> {
    const answer = await this.post(path, body);
    if (answer.statusCode < 200 || answer.statusCode > 299) {
      throw new Error(`POST ${path}: ${answer.statusCode} ${JSON.stringify(answer.body).slice(0, 500)}`);
    }
    return answer.body as T;
  }

  /**
   * Drops pooled connections, so a scenario never reuses one the server is about to close for
   * idleness (Node servers close keep-alive connections idle for 5 s; reusing one as it closes
   * fails the request with ECONNRESET).
   */
  freshConnections(): void {
    const { maxSockets } = this.agent;
    this.agent.destroy();
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  close(): void {
    this.agent.destroy();
  }

  private send(method: string, path: string, payload: string | null): Promise<ApiAnswer> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { authorization: `Bearer ${this.key}`, accept: 'application/json' };
      if (payload !== null) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = String(Buffer.byteLength(payload));
      }
      const req = request(`${this.base}${path}`, { method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = text === '' ? null : JSON.parse(text);
          } catch {
            // Not JSON: keep the text.
          }
          resolve({ statusCode: res.statusCode ?? 0, body });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(payload ?? undefined);
    });
  }
}

/** Runs `count` tasks with at most `inFlight` of them pending at once. */
export async function closedLoop(count: number, inFlight: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, lane));
}

export interface DeliveryRun {
  events: number;
  /** Events actually posted (fewer than `events` when the budget ran out first). */
  posted: number;
  eventsPerRequest: number;
  requests: number;
  /** Requests answered with anything but 200, or failing. */
  requestErrors: number;
  /** The first few of those errors, as text. */
  errorSamples: string[];
  delivered: number;
  /** Deliveries per second: delivered / (last arrival − first send). */
  deliveriesPerSecond: number;
  /** Events acknowledged per second by the server: events / (last answer − first send). */
  acceptedPerSecond: number;
  /**
   * ms from the event's send (closed loop) or intended send (fixed rate) to its arrival at the
   * receiver. An event sent but not delivered by the end counts with its time until the end
   * (a lower bound; `latencyCensored` says how many), so missing deliveries never flatter it.
   */
  latencyMs: LatencySummary;
  latencyCensored: number;
  /** Requests still unanswered when the budget ended (not counted as errors). */
  unanswered: number;
  elapsedMs: number;
  timedOut: boolean;
  /** New TCP connections the receiver accepted during the run (keep-alive keeps this low). */
  receiverConnections: number;
}

/** Collects the receiver's arrivals of one scenario's events (titles `<tag>:<seq>`). */
class ArrivalBook {
  readonly arrivals: Float64Array;
  delivered = 0;
  lastArrival = 0;
  private done: (() => void) | null = null;
  private readonly stop: () => void;

  constructor(receiver: BenchReceiver, path: string, tag: string, readonly count: number) {
    this.arrivals = new Float64Array(count).fill(Number.NaN);
    const prefix = `${tag}:`;
    this.stop = receiver.listen((arrival) => {
      if (arrival.path !== path || arrival.title === null || !arrival.title.startsWith(prefix)) return;
      const seq = Number(arrival.title.slice(prefix.length));
      if (!(seq >= 0 && seq < count) || !Number.isNaN(this.arrivals[seq])) return;
      this.arrivals[seq] = arrival.at;
      this.delivered++;
      this.lastArrival = arrival.at;
      if (this.delivered === count) this.done?.();
    });
  }

  /** Resolves true once every event arrived, false after `timeoutMs`. */
  wait(timeoutMs: number): Promise<boolean> {
    if (this.delivered === this.count) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.done = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }

  close(): void {
    this.stop();
  }

  /** Latencies of the events sent (`from[i]` not NaN); undelivered ones count until `end`. */
  latencies(from: Float64Array, end: number): { samples: number[]; censored: number } {
    const samples: number[] = [];
    let censored = 0;
    for (let i = 0; i < this.count; i++) {
      if (Number.isNaN(from[i])) continue;
      if (!Number.isNaN(this.arrivals[i])) samples.push(this.arrivals[i] - from[i]);
      else {
        samples.push(end - from[i]);
        censored++;
      }
    }
    return { samples, censored };
  }
}

/** Keeps the first few distinct request errors, to be reported. */
class ErrorLog {
  count = 0;
  readonly samples: string[] = [];

  add(what: string): void {
    this.count++;
    if (this.samples.length < 5 && !this.samples.includes(what)) this.samples.push(what);
  }

  check(answer: ApiAnswer, events: number): void {
    if (!checkAnswer(answer, events)) this.add(`HTTP ${answer.statusCode}: ${JSON.stringify(answer.body).slice(0, 300)}`);
  }
}

function checkAnswer(answer: ApiAnswer, events: number): boolean {
  if (answer.statusCode !== 200) return false;
  const results = (answer.body as { results?: { deliveries?: unknown[] }[] } | null)?.results;
  return Array.isArray(results) && results.length === events && results.every((r) => Array.isArray(r.deliveries) && r.deliveries.length === 1);
}

/**
 * Closed loop: `events` matching events posted `perRequest` at a time with `inFlight` requests
 * pending, until every delivery arrived at the receiver. The whole scenario gets `budgetMs`:
 * past it, nothing more is posted and the run reports what arrived (timedOut).
 */
export async function saturate(options: {
  client: ApiClient;
  receiver: BenchReceiver;
  path: string;
  tag: string;
  events: number;
  perRequest: number;
  inFlight: number;
  budgetMs: number;
}): Promise<DeliveryRun> {
  const { client, receiver, path, tag, events, perRequest, inFlight } = options;
  const book = new ArrivalBook(receiver, path, tag, events);
  const sentAt = new Float64Array(events).fill(Number.NaN);
  const requests = Math.ceil(events / perRequest);
  const errors = new ErrorLog();
  client.freshConnections();
  const connectionsBefore = receiver.connections;
  const started = performance.now();
  const deadline = started + options.budgetMs;
  await closedLoop(requests, inFlight, async (r) => {
    if (performance.now() > deadline) return;
    const first = r * perRequest;
    const batch: PostedEvent[] = [];
    for (let seq = first; seq < Math.min(events, first + perRequest); seq++) batch.push(e2eEvent(tag, seq));
    const now = performance.now();
    for (let seq = first; seq < first + batch.length; seq++) sentAt[seq] = now;
    try {
      errors.check(await client.post('/v1/events', perRequest === 1 ? batch[0] : batch), batch.length);
    } catch (error) {
      errors.add(String(error));
    }
  });
  const answered = performance.now();
  const complete = await book.wait(Math.max(0, deadline - performance.now()));
  book.close();
  const now = performance.now();
  const end = complete ? book.lastArrival : now;
  const latency = book.latencies(sentAt, now);
  return {
    events,
    eventsPerRequest: perRequest,
    requests,
    requestErrors: errors.count,
    errorSamples: errors.samples,
    delivered: book.delivered,
    deliveriesPerSecond: (book.delivered * 1000) / (end - started),
    acceptedPerSecond: (events * 1000) / (answered - started),
    latencyMs: summarize(latency.samples),
    latencyCensored: latency.censored,
    unanswered: 0,
    posted: latency.samples.length,
    elapsedMs: end - started,
    timedOut: !complete,
    receiverConnections: receiver.connections - connectionsBefore,
  };
}

/**
 * Open loop at a fixed rate, one event per request: event i is due at start + i/rate and its
 * latency runs from that intended time, not from when it could actually be sent, so a
 * stalled server cannot hide its stall (no coordinated omission). Deliveries are awaited until
 * `budgetMs` after the start.
 */
export async function fixedRate(options: {
  client: ApiClient;
  receiver: BenchReceiver;
  path: string;
  tag: string;
  ratePerSecond: number;
  events: number;
  budgetMs: number;
}): Promise<DeliveryRun> {
  const { client, receiver, path, tag, ratePerSecond, events } = options;
  const book = new ArrivalBook(receiver, path, tag, events);
  const intended = new Float64Array(events);
  const interval = 1000 / ratePerSecond;
  const started = performance.now() + 20;
  for (let i = 0; i < events; i++) intended[i] = started + i * interval;
  const errors = new ErrorLog();
  let errorsOpen = true;
  client.freshConnections();
  const connectionsBefore = receiver.connections;
  let answers = 0;
  let lastAnswer = started;
  let allAnswered!: () => void;
  const answeredAll = new Promise<void>((resolve) => (allAnswered = resolve));
  const send = (seq: number): void => {
    client.post('/v1/events', e2eEvent(tag, seq)).then(
      (answer) => errorsOpen && errors.check(answer, 1),
      (error: unknown) => errorsOpen && errors.add(String(error)),
    ).finally(() => {
      lastAnswer = performance.now();
      if (++answers === events) allAnswered();
    });
  };
  await new Promise<void>((resolve) => {
    let next = 0;
    const tick = (): void => {
      const now = performance.now();
      while (next < events && intended[next] <= now) send(next++);
      if (next === events) return resolve();
      setTimeout(tick, Math.max(0, Math.min(interval, intended[next] - now)));
    };
    setTimeout(tick, 20);
  });
  const deadline = started + options.budgetMs;
  await Promise.race([answeredAll, new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - performance.now())))]);
  const complete = await book.wait(Math.max(0, deadline - performance.now()));
  book.close();
  // Answers still due when the budget ended are not errors: Herald is stopped next, which
  // fails them (ECONNRESET); count them apart.
  const unanswered = events - answers;
  errorsOpen = false;
  const now = performance.now();
  const end = complete ? book.lastArrival : now;
  const latency = book.latencies(intended, now);
  return {
    events,
    eventsPerRequest: 1,
    requests: events,
    requestErrors: errors.count,
    errorSamples: errors.samples,
    delivered: book.delivered,
    deliveriesPerSecond: (book.delivered * 1000) / (end - started),
    acceptedPerSecond: (answers * 1000) / (lastAnswer - started),
    latencyMs: summarize(latency.samples),
    latencyCensored: latency.censored,
    unanswered,
    posted: events,
    elapsedMs: end - started,
    timedOut: !complete,
    receiverConnections: receiver.connections - connectionsBefore,
  };
}
