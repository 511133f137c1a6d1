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
