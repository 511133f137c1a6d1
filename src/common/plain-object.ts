/** A JSON object as parsed (prototype Object.prototype or null): not an array, not a class instance. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * Keys refused in the JSON objects of requests (DTO bodies: src/common/errors/validation.ts;
 * payload templates: src/rendering/payload-template.ts): class-transformer drops `__proto__`
 * and `constructor` while copying, and assigning `__proto__` changes a prototype, so they are
 * refused with a 400 naming the field rather than changed silently; `prototype` goes with them.
 * Events keep their own rule (src/events/event-validation.ts: `__proto__` refused).
 */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
export const RESERVED_KEY_REASON = 'is a reserved key: __proto__, constructor and prototype are refused';
