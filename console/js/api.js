// @ts-check
/**
 * The console's only way to Herald: the public /v1 API on this origin, with the signed-in
 * key in the Authorization header (never in a URL, never logged).
 */

/** @typedef {{field: string, reason: string}} FieldProblem */

/** A failed call, in Herald's error shape `{statusCode, error, message, details}`. */
export class ApiProblem extends Error {
  /**
   * @param {number} statusCode 0 when Herald could not be reached
   * @param {string} message
   * @param {FieldProblem[]} [details]
   */
  constructor(statusCode, message, details = []) {
    super(message);
    this.name = 'ApiProblem';
    this.statusCode = statusCode;
    this.details = details;
  }
}

/**
 * Builds an API path, percent-encoding every interpolated value: api.get(path`/webhooks/${id}`).
 * @param {TemplateStringsArray} strings
 * @param {...(string | number)} values
 */
export function path(strings, ...values) {
  return strings.reduce((out, part, i) => out + part + (i < values.length ? encodeURIComponent(String(values[i])) : ''), '');
}

/** @typedef {Record<string, string | number | null | undefined>} Query */

/**
 * @typedef {object} RequestOptions
 * @property {Query} [query]
 * @property {unknown} [body]
 * @property {AbortSignal} [signal]
 * @property {boolean} [quiet401] answer a 401 as a problem only, without signing out (sign-in's probe)
 */

/**
 * @template T
 * @typedef {{items: T[], nextCursor: string | null}} Page
 */

export class Api {
  /**
   * @param {string} key the API key
   * @param {(message: string) => void} onUnauthorized called when Herald no longer knows the key
   */
  constructor(key, onUnauthorized) {
    this.key = key;
    this.onUnauthorized = onUnauthorized;
  }

  /**
   * @param {string} method
   * @param {string} apiPath a path under /v1, built with `path`
   * @param {RequestOptions} [options]
   * @returns {Promise<any>} the parsed answer, null for 204
   */
  async request(method, apiPath, options = {}) {
    const url = new URL(`/v1${apiPath}`, window.location.origin);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, String(value));
    }
    /** @type {Record<string, string>} */
    const headers = { Accept: 'application/json', Authorization: `Bearer ${this.key}` };
    /** @type {string | undefined} */
    let body;
    if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    /** @type {Response} */
    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body,
        cache: 'no-store',
        credentials: 'omit',
        referrerPolicy: 'no-referrer',
        signal: options.signal,
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new ApiProblem(0, 'Herald could not be reached. Check that the server is running, then try again.');
    }
    if (response.status === 204) return null;
    const text = await response.text();
    /** @type {any} */
    let data = null;
    try {
      data = text === '' ? null : JSON.parse(text);
    } catch {
      data = null;
    }
    if (response.ok) return data;
    const problem = toProblem(response.status, response.statusText, data);
    if (response.status === 401 && !options.quiet401) this.onUnauthorized(problem.message);
    throw problem;
  }

  /** @param {string} apiPath @param {Query} [query] @param {AbortSignal} [signal] */
  get(apiPath, query, signal) {
    return this.request('GET', apiPath, { query, signal });
  }

  /** @param {string} apiPath @param {unknown} [body] */
  post(apiPath, body) {
    return this.request('POST', apiPath, { body: body ?? {} });
  }

  /** @param {string} apiPath @param {unknown} body */
  put(apiPath, body) {
    return this.request('PUT', apiPath, { body });
  }

  /** @param {string} apiPath @param {unknown} body */
  patch(apiPath, body) {
    return this.request('PATCH', apiPath, { body });
  }

  /** @param {string} apiPath */
  delete(apiPath) {
    return this.request('DELETE', apiPath);
  }

  /**
   * Every item of a list, following nextCursor (for pickers: secret names, webhooks,
   * automations). Stops after `max` items so a huge team cannot stall the page.
   * @param {string} apiPath
   * @param {number} [max]
   * @returns {Promise<any[]>}
   */
  async all(apiPath, max = 2000) {
    /** @type {any[]} */
    const items = [];
    /** @type {string | null} */
    let cursor = null;
    do {
      /** @type {Page<any>} */
      const page = await this.get(apiPath, { limit: 200, cursor });
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor && items.length < max);
    return items;
  }
}

/**
 * @param {number} status
 * @param {string} statusText
 * @param {any} data
 */
function toProblem(status, statusText, data) {
  if (data && typeof data === 'object' && typeof data.message === 'string') {
    const details = Array.isArray(data.details)
      ? data.details.filter(
          (/** @type {any} */ d) => d && typeof d.field === 'string' && typeof d.reason === 'string',
        )
      : [];
    return new ApiProblem(status, data.message, details);
  }
  return new ApiProblem(status, `Herald answered ${status} ${statusText}`.trim());
}

/**
 * The message to show for any error a page catches.
 * @param {unknown} error
 */
export function messageOf(error) {
  if (error instanceof ApiProblem) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
