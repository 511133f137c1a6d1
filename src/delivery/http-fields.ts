/** HTTP field syntax (RFC 9110), shared by the request builder and the executor. Pure. */

// § 5.6.2 token characters: what a header name may be made of.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// § 5.5 field value: visible characters, space, tab and obs-text; never CR, LF or NUL.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export function isHeaderName(name: string): boolean {
  return TOKEN.test(name);
}

export function isHeaderValue(value: string): boolean {
  return FIELD_VALUE.test(value);
}

/**
 * null when every header can be sent as given, else why not. Values are never echoed: they
 * may hold secrets.
 */
export function headerProblem(headers: Record<string, string>): string | null {
  for (const [name, value] of Object.entries(headers)) {
    if (!isHeaderName(name)) return `${JSON.stringify(name)} is not a valid HTTP header name`;
    if (typeof value !== 'string' || !isHeaderValue(value)) {
      return `The value of header ${name} contains a line break or control character (check the secret it uses for a trailing newline)`;
    }
  }
  return null;
}
