import * as dns from 'node:dns';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex, Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import type { AddressPolicy } from './address-policy';
import { MAX_BODY_BYTES } from '../webhooks/webhook-kinds';
import { headerProblem } from './http-fields';
import { classifyResponse } from './response-classifier';
import type { AttemptErrorClass } from './delivery-failures';

/**
 * Sends one attempt over HTTP (docs/design.md › Delivery, HTTP and SSRF guard). Never throws: every
 * failure becomes a SendOutcome. The SSRF guard works at three points, because Node 20 skips
 * the agent's `lookup` for IP-literal hosts:
 *   1. an IP-literal host is checked before anything is sent;
 *   2. the agents' `lookup` checks every address a name resolves to, and fails if any is refused;
 *   3. each new socket's `remoteAddress` is checked on connect, before a byte is written.
 */
export interface OutboundRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  /**
   * Makes the history's excerpt from the response bytes read (up to maxResponseBytes;
   * `complete` false when the body went on or broke off): DeliverySender redacts the webhook's
   * secrets there, before the cut, so no value straddles it. Default: the first 2 KiB as is.
   */
  excerpt?: ResponseExcerpt;
}

/** Headers every request carries before the delivery's own (a delivery's headers may replace them). */
export const EXECUTOR_HEADERS: Readonly<Record<string, string>> = { accept: 'application/json, text/plain, */*', 'accept-encoding': 'gzip, deflate, br' };

export type ResponseExcerpt = (bytes: Buffer, complete: boolean) => string;

const plainExcerpt: ResponseExcerpt = (bytes) => utf8Excerpt(bytes, RESPONSE_EXCERPT_BYTES);

export interface SendOutcome {
  kind: 'success' | 'retryable' | 'final';
  statusCode: number | null;
  durationMs: number;
  /** The first 2 KiB of the response body, as UTF-8, never cut inside a character. */
  responseExcerpt: string;
  /** One of ATTEMPT_ERROR_CLASSES (delivery-failures.ts); null when a response arrived. */
  errorClass: AttemptErrorClass | null;
  errorMessage: string | null;
  retryAfterMs: number | null;
  gone: boolean;
}

/**
 * An exchange's outcome before its excerpt is made: the response bytes read (up to
 * maxResponseBytes; none when no response came) and whether they are the whole body.
 */
export interface Exchange extends Omit<SendOutcome, 'responseExcerpt'> {
  responseBytes: Buffer;
  responseComplete: boolean;
}

/** The outcome of an exchange, its excerpt made by `excerpt` (OutboundRequest.excerpt). */
export function withExcerpt(exchange: Exchange, excerpt: ResponseExcerpt = plainExcerpt): SendOutcome {
  const { responseBytes, responseComplete, ...outcome } = exchange;
  return { ...outcome, responseExcerpt: responseBytes.length === 0 ? '' : excerpt(responseBytes, responseComplete) };
}

/**
 * What sends a delivery's request: the executor in this thread (HttpExecutor) or on a thread of
 * its own (sender-thread.ts, SenderThread). The provider DeliverySender is given.
 */
export abstract class HttpSender {
  abstract send(request: OutboundRequest): Promise<SendOutcome>;
  /** Ends its connections (and its thread); sends in flight end as failures. */
  abstract close(): void | Promise<void>;
}

export interface HttpExecutorOptions {
  addressPolicy: AddressPolicy;
  /** TCP (and TLS handshake) connect timeout of each new socket; default 5000. */
  connectTimeoutMs?: number;
  /** Total deadline covering connect, headers and body; default 15000. */
  deadlineMs?: number;
  /** The response body is read up to this many bytes, then the connection is closed; default 65536. */
  maxResponseBytes?: number;
}

export const RESPONSE_EXCERPT_BYTES = 2048;
/** Rendered payloads are far smaller, and bounded when rendered (bodyLimitBytes); this only stops a runaway body. */
export const MAX_REQUEST_BYTES = MAX_BODY_BYTES;

const REFUSED_CODE = 'EHERALD_REFUSED_ADDRESS';
const CONNECT_TIMEOUT_CODE = 'EHERALD_CONNECT_TIMEOUT';

/** A connection Herald will not make; the message starts with "Refused: ". */
export class RefusedAddressError extends Error {
  override readonly name = 'RefusedAddressError';
  readonly code = REFUSED_CODE;
}

export class ConnectTimeoutError extends Error {
  override readonly name = 'ConnectTimeoutError';
  readonly code = CONNECT_TIMEOUT_CODE;
}

/** dns.lookup with `{ all: true }`, injectable so tests need no resolver. */
export type ResolveAll = (
  hostname: string,
  options: dns.LookupAllOptions,
  callback: (error: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void,
) => void;

const systemResolveAll: ResolveAll = (hostname, options, callback) => dns.lookup(hostname, options, callback);

/**
 * An agent `lookup` that resolves every address of `hostname` and refuses them all if any is
 * refused (a name pointing at both a public and a private address is not half-trusted).
 * Node 20 calls it with `options.all = true` (autoSelectFamily) and then expects the array form.
 */
export function guardedLookup(policy: AddressPolicy, resolveAll: ResolveAll = systemResolveAll): net.LookupFunction {
  return (hostname, rawOptions, callback) => {
    const options: dns.LookupOptions =
      typeof rawOptions === 'number' ? { family: rawOptions } : { ...(rawOptions as dns.LookupOptions | undefined) };
    resolveAll(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, options.all ? [] : '', undefined);
      if (addresses.length === 0) {
        const empty: NodeJS.ErrnoException = new Error(`${hostname} resolved to no address`);
        empty.code = 'ENOTFOUND';
        return callback(empty, options.all ? [] : '', undefined);
      }
      for (const { address } of addresses) {
        const reason = policy.check(address);
        if (reason !== null) {
          return callback(new RefusedAddressError(`Refused: ${hostname} resolves to ${address}: ${reason}`), options.all ? [] : '', undefined);
        }
      }
      if (options.all) callback(null, addresses);
      else callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

/**
 * Checks a socket's peer once it is connected and destroys it before anything is written if
 * the policy refuses the address. Returns the reason, or null when the peer is allowed.
 */
export function refuseConnectedSocket(socket: Pick<net.Socket, 'remoteAddress' | 'destroy'>, policy: AddressPolicy): string | null {
  const address = socket.remoteAddress;
  // A socket whose peer cannot be told is refused too.
  const reason = address ? policy.check(address) : 'the peer address of the connection is unknown';
  if (reason !== null) socket.destroy(new RefusedAddressError(`Refused: connected to ${address ?? 'an unknown address'}: ${reason}`));
  return reason;
}

/**
 * Guards a socket the agent just created: the peer check runs first among the 'connect'
 * listeners (before the request's queued writes are flushed, before the TLS handshake starts),
 * and the socket is destroyed if `readyEvent` has not come within `connectTimeoutMs`.
 */
export function guardNewSocket(
  socket: net.Socket,
  policy: AddressPolicy,
  connectTimeoutMs: number,
  readyEvent: 'connect' | 'secureConnect',
): void {
  const timer = setTimeout(() => {
    socket.destroy(new ConnectTimeoutError(`Could not connect within ${connectTimeoutMs} ms`));
  }, connectTimeoutMs);
  const clear = (): void => clearTimeout(timer);
  socket.prependOnceListener('connect', () => {
    if (refuseConnectedSocket(socket, policy) !== null) clear();
  });
  socket.once(readyEvent, clear);
  socket.once('close', clear);
}

class GuardedHttpAgent extends http.Agent {
  constructor(
    options: http.AgentOptions,
    private readonly guard: (socket: net.Socket) => void,
  ) {
    super(options);
  }

  override createConnection(
    options: http.ClientRequestArgs,
    callback?: (error: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const socket = super.createConnection(options, callback);
    if (socket) this.guard(socket as net.Socket);
    return socket;
  }
}

class GuardedHttpsAgent extends https.Agent {
  constructor(
    options: https.AgentOptions,
    private readonly guard: (socket: net.Socket) => void,
  ) {
    super(options);
  }

  override createConnection(
    options: https.RequestOptions,
    callback?: (error: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const socket = super.createConnection(options, callback);
    if (socket) this.guard(socket as net.Socket);
    return socket;
  }
}

/** Idle sockets kept per origin (see createGuardedAgents). */
export const IDLE_SOCKETS_PER_ORIGIN = 64;

/** Both agents of an executor, exported so the socket check can be tested on its own. */
export function createGuardedAgents(
  policy: AddressPolicy,
  connectTimeoutMs: number,
  resolveAll: ResolveAll = systemResolveAll,
): { http: http.Agent; https: https.Agent } {
  const lookup = guardedLookup(policy, resolveAll);
  // Idle keep-alive sockets kept per origin: at least the sends a worker has in flight at once
  // (32), or every burst to one receiver closes the sockets it just used and opens new ones.
  const common = { keepAlive: true, lookup, maxFreeSockets: IDLE_SOCKETS_PER_ORIGIN };
  return {
    http: new GuardedHttpAgent(common, (socket) => guardNewSocket(socket, policy, connectTimeoutMs, 'connect')),
    https: new GuardedHttpsAgent(common, (socket) => guardNewSocket(socket, policy, connectTimeoutMs, 'secureConnect')),
  };
}

/** The first `maxBytes` of `bytes` as UTF-8 text, moved back so no character is split. */
export function utf8Excerpt(bytes: Buffer, maxBytes: number): string {
  let end = Math.min(bytes.length, maxBytes);
  if (end < bytes.length) {
    // bytes[end] is the first byte left out; if it continues a character (10xxxxxx), leave
    // out that whole character too. A UTF-8 character is at most 4 bytes long.
    const floor = Math.max(0, end - 3);
    while (end > floor && (bytes[end] & 0xc0) === 0x80) end--;
  }
  return bytes.toString('utf8', 0, end);
}

interface BodyRead {
  bytes: Buffer;
  /** The body was read to its end (false: cut at the limit, or broken off). */
  complete: boolean;
  /** Why the body could not be read to its end (or to the limit); null when it could. */
  error: Error | null;
}

class DeadlineError extends Error {}

/**
 * An exchange's deadline: one timer that, when it fires, calls what the exchange registered
 * last (destroy the request, then once the response came, stop reading its body). It replaces
 * AbortSignal.timeout and the request's `signal`, whose listeners, stream hooks and timer
 * registry cost ~5 KiB of garbage per exchange (docs/performance.md › Memory, sixth round).
 */
class Deadline {
  aborted = false;
  private handler: (() => void) | null = null;
  private readonly timer: NodeJS.Timeout;

  constructor(ms: number) {
    this.timer = setTimeout(() => {
      this.aborted = true;
      const handler = this.handler;
      this.handler = null;
      handler?.();
    }, ms);
    this.timer.unref();
  }

  /** Calls `handler` when the deadline passes (at once if it has), instead of the one set before. */
  onAbort(handler: () => void): void {
    if (this.aborted) handler();
    else this.handler = handler;
  }

  clear(): void {
    clearTimeout(this.timer);
    this.handler = null;
  }
}

function readLimited(stream: Readable, maxBytes: number, deadline: Deadline): Promise<BodyRead> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let settled = false;
    const finish = (error: Error | null, complete = error === null): void => {
      if (settled) return;
      settled = true;
      resolve({ bytes: Buffer.concat(chunks, total), complete, error });
    };
    const onAbort = (): void => {
      finish(new DeadlineError());
      stream.destroy();
    };
    // Errors after we stop listening (the stream is destroyed on purpose) must not go unhandled.
    stream.on('error', (error) => finish(error));
    stream.on('data', (chunk: Buffer) => {
      if (settled) return;
      const room = maxBytes - total;
      if (chunk.length >= room) {
        chunks.push(chunk.subarray(0, room));
        total += room;
        // Enough: stop the transfer rather than drain a large or endless body.
        finish(null, false); // more may follow: not known to be complete
        stream.destroy();
        return;
      }
      chunks.push(chunk);
      total += chunk.length;
    });
    stream.once('end', () => finish(null));
    // 'close' follows every 'end': build the error (and its stack trace) only when it is one.
    stream.once('close', () => {
      if (!settled) finish(new Error('The connection closed before the response body ended'));
    });
    deadline.onAbort(onAbort);
  });
}

function* errorChain(error: unknown, depth = 0): Generator<NodeJS.ErrnoException> {
  // Not `instanceof Error`: errors from Node's own modules may come from another realm (a test sandbox).
  if (typeof error !== 'object' || error === null || depth > 8) return;
  yield error as NodeJS.ErrnoException;
  yield* errorChain((error as { cause?: unknown }).cause, depth + 1);
  const nested = (error as { errors?: unknown }).errors;
  if (Array.isArray(nested)) for (const inner of nested) yield* errorChain(inner, depth + 1);
}

const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'ENODATA']);
const TLS_CODES = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'HOSTNAME_MISMATCH',
]);
const INVALID_REQUEST_CODES = new Set(['ERR_INVALID_CHAR', 'ERR_INVALID_HTTP_TOKEN', 'ERR_HTTP_INVALID_HEADER_VALUE']);

interface Failure {
  kind: SendOutcome['kind'];
  errorClass: AttemptErrorClass;
  errorMessage: string;
}

const NO_BODY = { bytes: Buffer.alloc(0), complete: true };

/** URLs whose check HttpExecutor remembers at most (the oldest goes first). */
const MAX_TARGETS = 1024;

export class HttpExecutor extends HttpSender {
  private readonly policy: AddressPolicy;
  private readonly connectTimeoutMs: number;
  private readonly deadlineMs: number;
  private readonly maxResponseBytes: number;
  private readonly agents: { http: http.Agent; https: https.Agent };
  /** checkTarget's answers by URL (a webhook's URL is sent to again and again; the policy does not change). */
  private readonly targets = new Map<string, URL | Failure>();

  constructor(options: HttpExecutorOptions) {
    super();
    this.policy = options.addressPolicy;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.deadlineMs = options.deadlineMs ?? 15000;
    this.maxResponseBytes = options.maxResponseBytes ?? 65536;
    this.agents = createGuardedAgents(this.policy, this.connectTimeoutMs);
  }

  async send(request: OutboundRequest): Promise<SendOutcome> {
    return withExcerpt(await this.exchange(request), request.excerpt);
  }

  /** The exchange of `send`, its excerpt not made yet (a sender thread answers this; the caller's thread makes the excerpt). */
  async exchange(request: Omit<OutboundRequest, 'excerpt'>): Promise<Exchange> {
    const deadline = new Deadline(this.deadlineMs);
    try {
      return await this.exchangeBy(request, deadline);
    } finally {
      deadline.clear();
    }
  }

  private async exchangeBy(request: Omit<OutboundRequest, 'excerpt'>, deadline: Deadline): Promise<Exchange> {
    const startedAt = performance.now();
    const elapsed = (): number => Math.round(performance.now() - startedAt);
    const failed = (failure: Failure, statusCode: number | null = null, body: { bytes: Buffer; complete: boolean } = NO_BODY): Exchange => ({
      ...failure,
      statusCode,
      durationMs: elapsed(),
      responseBytes: body.bytes,
      responseComplete: body.complete,
      retryAfterMs: null,
      gone: false,
    });

    const target = this.checkTarget(request.url);
    if ('errorClass' in target) return failed(target);
    // Refuse a value Node would reject or a proxy could split, naming the header.
    const invalidHeader = headerProblem(request.headers);
    if (invalidHeader !== null) return failed({ kind: 'final', errorClass: 'invalid_request', errorMessage: invalidHeader });

    const bytes = Buffer.from(request.body, 'utf8');
    if (bytes.length > MAX_REQUEST_BYTES) {
      return failed({ kind: 'final', errorClass: 'invalid_request', errorMessage: `The body is larger than ${MAX_REQUEST_BYTES} bytes` });
    }
    let response: http.IncomingMessage;
    try {
      response = await this.post(target, request.headers, bytes, deadline);
    } catch (error) {
      return failed(this.describeFailure(error, deadline, target.hostname));
    }

    const statusCode = response.statusCode ?? 0;
    const body = await readLimited(decoded(response), this.maxResponseBytes, deadline);
    const read = { bytes: body.bytes, complete: body.complete && body.error === null };
    const classification = classifyResponse(statusCode, response.headers, Date.now());
    if (body.error !== null && classification.kind !== 'final') {
      // The answer did not arrive whole: the receiver may not have finished; try again.
      return failed(this.describeFailure(body.error, deadline, target.hostname), statusCode, read);
    }
    return {
      ...classification,
      statusCode,
      durationMs: elapsed(),
      responseBytes: read.bytes,
      responseComplete: read.complete,
      errorClass: null,
      errorMessage: null,
    };
  }

  /**
   * One POST of exactly these bytes (what was signed) through the guarded agents: no proxy, no
   * redirect followed, resolved with the response head (its body is read by readLimited).
   */
  private post(url: URL, headers: Record<string, string>, body: Buffer, deadline: Deadline): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const outgoing: http.OutgoingHttpHeaders = { ...EXECUTOR_HEADERS };
      // The caller's names win, whatever their case.
      for (const name of Object.keys(headers)) delete outgoing[name.toLowerCase()];
      Object.assign(outgoing, headers, { 'content-length': body.length });
      try {
        const secure = url.protocol === 'https:';
        const req = (secure ? https : http).request(url, { method: 'POST', headers: outgoing, agent: secure ? this.agents.https : this.agents.http }, resolve);
        req.on('error', reject);
        deadline.onAbort(() => req.destroy(new DeadlineError()));
        req.end(body);
      } catch (error) {
        reject(error); // an invalid header name or value, thrown before anything is sent
      }
    });
  }

  /** Destroys both agents and their pooled sockets. */
  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /** The URL to send to, or why not; remembered for the last MAX_TARGETS URLs (neither answer changes for a URL). */
  private checkTarget(rawUrl: string): URL | Failure {
    let target = this.targets.get(rawUrl);
    if (target === undefined) {
      target = this.parseTarget(rawUrl);
      if (this.targets.size >= MAX_TARGETS) this.targets.delete(this.targets.keys().next().value!);
      this.targets.set(rawUrl, target);
    }
    return target;
  }

  private parseTarget(rawUrl: string): URL | Failure {
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      return { kind: 'final', errorClass: 'invalid_url', errorMessage: 'Invalid URL' };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      return { kind: 'final', errorClass: 'invalid_url', errorMessage: `Only http and https URLs are allowed, not ${url.protocol}` };
    }
    // Node connects to an IP literal without calling lookup, so it is checked here.
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    if (net.isIP(host) !== 0) {
      const reason = this.policy.check(host);
      if (reason !== null) return { kind: 'final', errorClass: 'refused_address', errorMessage: `Refused: ${reason}` };
    }
    return url;
  }

  private describeFailure(error: unknown, deadline: Deadline, hostname: string): Failure {
    const chain = [...errorChain(error)];
    const refused = chain.find((e) => e.code === REFUSED_CODE);
    if (refused) return { kind: 'final', errorClass: 'refused_address', errorMessage: refused.message };
    if (deadline.aborted || chain.some((e) => e instanceof DeadlineError)) {
      return { kind: 'retryable', errorClass: 'timeout', errorMessage: `No complete response within ${this.deadlineMs} ms` };
    }
    const connectTimeout = chain.find((e) => e.code === CONNECT_TIMEOUT_CODE);
    if (connectTimeout) return { kind: 'retryable', errorClass: 'connect_timeout', errorMessage: connectTimeout.message };

    const codes = chain.map((e) => e.code).filter((code): code is string => typeof code === 'string');
    const innermost = chain[chain.length - 1];
    const detail = innermost?.message || codes[0] || 'unknown error';
    const dnsCode = codes.find((code) => DNS_CODES.has(code));
    if (dnsCode) return { kind: 'retryable', errorClass: 'dns', errorMessage: `Could not resolve ${hostname} (${dnsCode})` };
    if (codes.some((code) => TLS_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_'))) {
      return { kind: 'retryable', errorClass: 'tls', errorMessage: `TLS failure: ${detail}` };
    }
    if (codes.some((code) => INVALID_REQUEST_CODES.has(code))) {
      return { kind: 'final', errorClass: 'invalid_request', errorMessage: `Invalid request: ${detail}` };
    }
    const code = codes.find((c) => /^E[A-Z]+$/.test(c));
    return { kind: 'retryable', errorClass: 'network', errorMessage: code && !detail.includes(code) ? `${code}: ${detail}` : detail };
  }
}

/** Decoders of the encodings the request offers (`Accept-Encoding: gzip, deflate, br`). */
const DECODERS: Readonly<Record<string, () => zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress>> = {
  gzip: () => zlib.createGunzip(),
  'x-gzip': () => zlib.createGunzip(),
  deflate: () => zlib.createInflate(),
  br: () => zlib.createBrotliDecompress(),
};

/** The response body, decompressed when the receiver compressed it (as the request allowed). */
function decoded(response: http.IncomingMessage): Readable {
  const encoding = String(response.headers['content-encoding'] ?? '').trim().toLowerCase();
  const decoder = Object.hasOwn(DECODERS, encoding) ? DECODERS[encoding]() : null;
  if (!decoder) return response;
  response.on('error', (error) => decoder.destroy(error));
  // Destroying the decoded stream (enough read, or the deadline) also ends the transfer.
  decoder.on('close', () => response.destroy());
  return response.pipe(decoder);
}

/** What redacts a response before it is cut (SecretRedactor.bound's BoundRedaction). */
export interface PrefixRedaction {
  redactPrefix(text: string, complete: boolean): string;
}

/**
 * The history's excerpt with secrets redacted before the cut (docs/security.md › Delivery
 * history): the whole response read is decoded and redacted, then its first `maxBytes` kept.
 * Cutting first would leave a value straddling the cut unrecognised.
 */
export function redactedExcerpt(redaction: PrefixRedaction, maxBytes = RESPONSE_EXCERPT_BYTES): ResponseExcerpt {
  return (bytes, complete) => {
    if (bytes.length === 0) return '';
    const redacted = redaction.redactPrefix(bytes.toString('utf8'), complete);
    return utf8Excerpt(Buffer.from(redacted, 'utf8'), maxBytes);
  };
}
