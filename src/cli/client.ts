import type { ApiErrorBody } from '../common/errors/api-error';

import { CliError, EXIT, UsageError } from './exit-codes';
import type { CliIo } from './io';

/** An answer of Herald other than 2xx, in its error shape. */
export class ApiRequestError extends CliError {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: ApiErrorBody | null,
  ) {
    super(`${method} ${path}: ${status} ${body?.message ?? 'no error message'}`, EXIT.FAILED);
    this.name = 'ApiRequestError';
  }
}

export interface Answer<T> {
  status: number;
  body: T;
}

/**
 * Herald's HTTP API for the command: JSON in and out, the key as a Bearer token. The key is
 * never part of a message: errors name the method, the path and Herald's answer only.
 */
export class HeraldClient {
  constructor(
    readonly baseUrl: string,
    private readonly key: string,
  ) {}

  /** From --url/--key, else HERALD_URL/HERALD_API_KEY. */
  static from(values: { url?: string; key?: string }, io: CliIo, command: string): HeraldClient {
    const url = values.url ?? io.env.HERALD_URL;
    const key = values.key ?? io.env.HERALD_API_KEY;
    if (!url) throw new UsageError('no Herald address: set HERALD_URL or pass --url', command);
    if (!key) throw new UsageError('no API key: set HERALD_API_KEY or pass --key', command);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UsageError(`--url/HERALD_URL is not a URL: ${url}`, command);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError('--url/HERALD_URL must be http or https', command);
    return new HeraldClient(parsed.origin + parsed.pathname.replace(/\/+$/, ''), key);
  }

  async request<T>(method: string, path: string, options: { body?: unknown; ifMatch?: string } = {}): Promise<Answer<T>> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.key}`, accept: 'application/json' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.ifMatch !== undefined) headers['if-match'] = `"${options.ifMatch}"`;
    let response: Response;
    try {
      response = await fetch(this.baseUrl + path, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        redirect: 'manual',
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(`cannot reach Herald at ${this.baseUrl}: ${cause?.code ?? cause?.message ?? (error as Error).message}`, EXIT.FAILED);
    }
    const text = await response.text();
    let body: unknown = null;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        body = null;
      }
    }
    if (!response.ok) throw new ApiRequestError(method, path, response.status, isErrorBody(body) ? body : null);
    return { status: response.status, body: body as T };
  }

  async get<T>(path: string): Promise<T> {
    return (await this.request<T>('GET', path)).body;
  }

  async post<T>(path: string, body: unknown = {}): Promise<T> {
    return (await this.request<T>('POST', path, { body })).body;
  }

  /** Every item of a list, following its cursors. */
  async listAll<T>(path: string): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page: { items: T[]; nextCursor: string | null } = await this.get(`${path}${path.includes('?') ? '&' : '?'}${query}`);
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return items;
  }
}

function isErrorBody(body: unknown): body is ApiErrorBody {
  return typeof body === 'object' && body !== null && typeof (body as { message?: unknown }).message === 'string';
}


