import { echoForms } from './echo-forms';

export const REDACTED = '••••••';

/** Field names whose values are never written to a log, whatever they hold. */
const SENSITIVE_KEY = /authorization|cookie|secret|token|password|passphrase|apikey|api_key|^key$|^value$/i;

/**
 * Removes secret material from anything about to leave the process in text form (logs,
 * delivery history, previews, error messages): values of sensitive-looking fields, and every
 * occurrence of a secret value this process has handled.
 *
 * One instance per process, shared by the logger and the services that decrypt secrets.
 */
export class SecretRedactor {
  /** Values shorter than this are not scrubbed from free text: "a" would mangle every line. */
  static readonly MIN_LENGTH = 6;
  /** Oldest values are forgotten past this many, so rotations cannot grow memory without bound. */
  static readonly MAX_VALUES = 10_000;
  private readonly values = new Set<string>();
  /** Remembered values, longest first, so a secret that contains another is replaced whole. */
  private ordered: string[] | null = null;

  /** Remembers a secret value so it is scrubbed from all later output. */
  remember(value: string): void {
    if (value.length < SecretRedactor.MIN_LENGTH || this.values.has(value)) return;
    this.values.add(value);
    if (this.values.size > SecretRedactor.MAX_VALUES) this.values.delete(this.values.values().next().value!);
    this.ordered = null;
  }

  /** How many bound-secret sets keep their prepared redaction (SecretRedactor.bound). */
  static readonly BOUND_CACHE_SIZE = 256;
  private readonly boundCache = new Map<string, BoundRedaction>();

  /**
   * The redaction of one webhook's bound secrets in every form a receiver may echo them
   * (echoForms), whatever their length; prepared once per set of values and cached, since
   * every attempt asks for it.
   */
  bound(values: readonly string[]): BoundRedaction {
    if (values.length === 0) return BoundRedaction.EMPTY;
    const key = JSON.stringify([...values].sort());
    let redaction = this.boundCache.get(key);
    if (redaction) {
      this.boundCache.delete(key); // most recently used last
    } else {
      redaction = new BoundRedaction(values);
      if (this.boundCache.size >= SecretRedactor.BOUND_CACHE_SIZE) this.boundCache.delete(this.boundCache.keys().next().value!);
    }
    this.boundCache.set(key, redaction);
    return redaction;
  }

  forget(value: string): void {
    if (this.values.delete(value)) this.ordered = null;
  }

  /**
   * Replaces every remembered secret value inside a string. Plain substring search, not one
   * big alternation regex: values may be 64 KiB each, far beyond what a RegExp accepts.
   */
  redactText(text: string): string {
    if (this.values.size === 0 || text.length < SecretRedactor.MIN_LENGTH) return text;
    this.ordered ??= [...this.values].sort((a, b) => b.length - a.length);
    let out = text;
    for (const value of this.ordered) {
      if (value.length <= out.length && out.includes(value)) out = out.split(value).join(REDACTED);
    }
    return out;
  }

  /** A deep copy of `value` with sensitive fields and remembered secret values redacted. */
  redact<T>(value: T): T {
    return this.walk(value, new WeakSet()) as T;
  }

  private walk(value: unknown, seen: WeakSet<object>): unknown {
    if (typeof value === 'string') return this.redactText(value);
    if (value === null || typeof value !== 'object') return value;
    if (seen.has(value)) return '[circular]';
    seen.add(value);
    if (value instanceof Error) {
      return { name: value.name, message: this.redactText(value.message), stack: this.redactText(value.stack ?? '') };
    }
    if (Array.isArray(value)) return value.map((item) => this.walk(item, seen));
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = SENSITIVE_KEY.test(key) && item !== null && item !== undefined ? REDACTED : this.walk(item, seen);
    }
    return out;
  }
}

/**
 * Redaction of one set of bound secrets in every echo form, prepared once per set
 * (SecretRedactor.bound caches it): forms longest first, so a form that contains another is
 * replaced whole.
 */
export class BoundRedaction {
  static readonly EMPTY = new BoundRedaction([]);
  private readonly forms: string[];
  /** The longest form's length: a response cut by the read limit may end with a prefix of one. */
  readonly longest: number;

  constructor(values: readonly string[]) {
    const forms = new Set<string>();
    for (const value of values) for (const form of echoForms(value)) forms.add(form);
    this.forms = [...forms].sort((a, b) => b.length - a.length);
    this.longest = this.forms.length === 0 ? 0 : this.forms[0].length;
  }

  redact(text: string): string {
    let out = text;
    for (const form of this.forms) {
      if (form.length <= out.length && out.includes(form)) out = out.split(form).join(REDACTED);
    }
    return out;
  }

  /**
   * `text` redacted; when it is only the start of something longer (`complete` false), its
   * last `longest` characters are dropped too: a value cut by the read limit would leave a
   * prefix that no search recognises.
   */
  redactPrefix(text: string, complete: boolean): string {
    const out = this.redact(text);
    return complete ? out : out.slice(0, Math.max(0, out.length - this.longest));
  }
}
