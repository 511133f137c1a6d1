import { type Reference, scanString } from './placeholder-syntax';
import { type SecretLookup, UnresolvedSecretError } from './payload-template';

/**
 * Webhook header values (docs/design.md › Webhooks: "values may use ${SECRET}"). They share the
 * payload's `$` syntax — `${NAME}` or `$NAME` for a secret, `$$` for `$`, any other `$`
 * literal — but take secrets only: a header is sent as is, so event variables (free text
 * chosen by whoever posts events) could smuggle line breaks into it.
 */

/** A header value would break the HTTP message (CR, LF or NUL). Never includes a secret value. */
export class HeaderValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HeaderValueError';
  }
}

/**
 * The secrets a header value uses (ACCESS_TOKEN included, in order of first use, each once)
 * and what is wrong with its syntax. Whether the secrets are bound is the caller's check.
 */
export function headerTemplateSecrets(value: string): { secrets: string[]; problems: string[] } {
  const { parts, malformed } = scanString(value);
  const secrets = new Set<string>();
  const problems: string[] = [];
  for (const part of parts) {
    if (part.type !== 'reference') continue;
    if (part.reference.kind === 'secret') secrets.add(part.reference.name);
    else problems.push(referenceProblem(part.reference));
  }
  for (const excerpt of malformed) {
    problems.push(`'${excerpt}' is not a valid reference: write \${SECRET_NAME}, or $\${ for a literal '\${'`);
  }
  return { secrets: [...secrets], problems };
}

/**
 * The header value to send, secrets substituted. Throws UnresolvedSecretError when a secret
 * has no value, and HeaderValueError when the value uses a variable (refused when the webhook
 * was saved) or the result holds CR, LF or NUL (a secret's value could, and would split the
 * header).
 */
export function renderHeaderValue(value: string, secrets: SecretLookup): string {
  let out = '';
  for (const part of scanString(value).parts) {
    if (part.type === 'literal') {
      out += part.text;
      continue;
    }
    const { reference } = part;
    if (reference.kind !== 'secret') throw new HeaderValueError(`Header value: ${referenceProblem(reference)}`);
    const secret = secrets(reference.name);
    if (secret === undefined) throw new UnresolvedSecretError(reference.name);
    if (FORBIDDEN_IN_HEADER.test(secret)) {
      throw new HeaderValueError(`Header value: secret ${reference.name} contains CR, LF or NUL, which a header cannot carry`);
    }
    out += secret;
  }
  if (FORBIDDEN_IN_HEADER.test(out)) throw new HeaderValueError('Header value contains CR, LF or NUL');
  return out;
}

const FORBIDDEN_IN_HEADER = /[\r\n\0]/;

function referenceProblem(reference: Reference): string {
  if (reference.kind === 'unknown') {
    return `${reference.raw} is not a secret name: header values may use secrets only (\${SECRET_NAME})`;
  }
  return `${reference.raw} is a payload variable: header values may use secrets only (\${SECRET_NAME})`;
}
