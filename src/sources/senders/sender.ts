import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { normalizeTimestamp, type PostedEvent } from '../../events/event-validation';

/**
 * What a sender adapter is: the sender's own authentication and the mapping of its payloads
 * to Herald events. Pure functions over the request as received: no Nest, no database, no
 * clock of their own (the caller passes the time), so each sender is unit-tested with the
 * payloads its own documentation and test fixtures show.
 */

/** One inbound request: the headers (lower-cased by Node) and the exact body as UTF-8 text. */
export interface InboundRequest {
  headers: IncomingHttpHeaders;
  /** The raw body, decoded strictly (it re-encodes to the same bytes the sender signed). */
  body: string;
  /** The token in the receive URL (Valohai), or null. */
  token: string | null;
}

export type Authentication = { ok: true } | { ok: false; reason: string };

/** What a mapping needs to know of the source. */
export interface MapContext {
  sourceId: string;
  /** The source's Herald project (a payload naming its own project may override it: see each sender). */
  project: string;
}

/** The sender's name for what happened (MLflow `model_version.created`, Determined `TASK_LOG`, …). */
export interface SenderFacts {
  /** The sender's delivery or event id, or the id Herald derived when it sends none. */
  senderId: string | null;
  senderEvent: string | null;
}

export type Mapping =
  | (SenderFacts & { outcome: 'events'; events: PostedEvent[] })
  /** Understood, but Herald has no equivalent: answered 2xx so the sender does not retry. */
  | (SenderFacts & { outcome: 'ignored'; reason: string })
  /** Not the sender's format: a 400. */
  | (SenderFacts & { outcome: 'invalid'; reason: string });

export interface Sender {
  /** What authenticates a request: a team secret's value, or the hash of the receive URL's token. */
  credential: 'secret' | 'token';
  authenticate(request: InboundRequest, credential: string, nowSeconds: number): Authentication;
  /** The sender's id of this delivery as its headers state it, for receipts of refused requests. */
  claimedId(request: InboundRequest): string | null;
  map(payload: unknown, request: InboundRequest, context: MapContext): Mapping;
}

/** A signed timestamp further than this from Herald's clock is refused as a replay. */
export const REPLAY_WINDOW_SECONDS = 300;

const UNIX_SECONDS = /^\d{1,12}$/;
/** Herald event ids: 1 to 128 printable ASCII characters without spaces (see event-validation). */
const EVENT_ID = /^[\x21-\x7e]{1,128}$/;
const MAX_CLAIMED_ID_CHARS = 128;

/** A header's value (the first, when repeated), or undefined. */
export function headerOf(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Null when `value` is a unix time within the replay window of `nowSeconds`; otherwise the
 * reason it is refused, naming the header.
 */
export function timestampProblem(header: string, value: string | undefined, nowSeconds: number): string | null {
  if (value === undefined || value === '') return `the ${header} header is missing`;
  if (!UNIX_SECONDS.test(value)) return `the ${header} header is not a unix time in seconds`;
  const skew = Math.abs(nowSeconds - Number(value));
  if (skew > REPLAY_WINDOW_SECONDS) {
    return `the ${header} header is ${skew} s away from Herald's clock (more than ${REPLAY_WINDOW_SECONDS} s): a replayed request, or a sender clock out of sync`;
  }
  return null;
}

/** The sender's own id as the Herald event id when it is a valid one; otherwise a hash of it. */
export function senderEventId(prefix: string, id: string): string {
  return EVENT_ID.test(id) ? id : derivedEventId(prefix, [id]);
}

/**
 * An event id for a sender that sends no delivery id: a hash of the identifying fields, so the
 * sender's retries and replays (which carry the same fields) are duplicates in Herald.
 */
export function derivedEventId(prefix: string, parts: readonly unknown[]): string {
  return `${prefix}-${createHash('sha256').update(JSON.stringify(parts), 'utf8').digest('hex').slice(0, 40)}`;
}

/** A header value fit to show in a receipt: printable ASCII, bounded. */
export function claimedIdOf(value: string | undefined): string | null {
  if (value === undefined) return null;
  const printable = value.replace(/[^\x20-\x7e]/g, '?').trim();
  return printable === '' ? null : printable.slice(0, MAX_CLAIMED_ID_CHARS);
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-empty string, or undefined (senders render an absent value as "" or null). */
export function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A string or a finite number as text (ids and versions arrive as either), or undefined. */
export function idText(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return text(value);
}

/** An ISO-8601 time as Herald stores it, or undefined (Herald then uses the time received). */
export function isoTime(value: unknown): string | undefined {
  return typeof value === 'string' ? normalizeTimestamp(value) : undefined;
}

/** A unix time in seconds as ISO-8601, or undefined. */
export function unixTime(value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > 253_402_300_799) return undefined;
  return new Date(value * 1000).toISOString();
}

/**
 * Copies string-valued entries of a sender's object (tags) into `into`. Only own string
 * values; `__proto__` is skipped, so the copy can never change its prototype.
 */
export function copyStrings(from: unknown, into: Record<string, unknown>): void {
  if (!isObject(from)) return;
  for (const [key, value] of Object.entries(from)) {
    if (key !== '__proto__' && typeof value === 'string') into[key] = value;
  }
}

/** Cuts text to at most `maxBytes` of UTF-8, whole characters only (Herald's log lines are ≤ 8 KiB). */
export function truncateUtf8(value: string, maxBytes: number): string {
  if (Buffer.byteLength(value, 'utf8') <= maxBytes) return value;
  let bytes = 0;
  let end = 0;
  for (const char of value) {
    const size = Buffer.byteLength(char, 'utf8');
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += char.length;
  }
  return value.slice(0, end);
}

/** `table[key]` for the table's own keys only (a sender's "constructor" must not find Object's). */
export function lookup<T>(table: Readonly<Record<string, T>>, key: string | undefined): T | undefined {
  return key !== undefined && Object.hasOwn(table, key) ? table[key] : undefined;
}
