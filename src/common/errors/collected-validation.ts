import type { Type } from '@nestjs/common';
import { isPlainObject } from '../plain-object';
import { ApiError, type FieldProblem } from './api-error';
import { createValidationPipe } from './validation';

/**
 * A body checked against its DTO by the same pipe as every request, without throwing: the
 * service can then run its own checks (secrets exist, templates compile) and answer every
 * problem in one 400. `value` is the DTO instance when `problems` is empty; otherwise the body
 * without the top-level fields at fault, for the checks that can still be run on the rest.
 */
export interface CollectedBody<T> {
  value: T;
  problems: FieldProblem[];
  /** Top-level fields with a problem: later checks skip them, so no field is reported twice. */
  faulty: ReadonlySet<string>;
}

const pipe = createValidationPipe();

export async function collectBodyProblems<T extends object>(metatype: Type<T>, body: unknown): Promise<CollectedBody<T>> {
  try {
    const value = (await pipe.transform(body, { type: 'body', metatype, data: undefined })) as T;
    return { value, problems: [], faulty: new Set() };
  } catch (error) {
    if (!(error instanceof ApiError) || error.details === undefined) throw error;
    const problems = error.details;
    const faulty = new Set(problems.map((p) => topLevelField(p.field)));
    const rest: Record<string, unknown> = {};
    if (isPlainObject(body)) {
      for (const [key, item] of Object.entries(body)) if (!faulty.has(key)) rest[key] = item;
    }
    return { value: rest as T, problems, faulty };
  }
}

/** The problems of later checks that are not about a field already reported. */
export function withoutFaulty(problems: FieldProblem[], faulty: ReadonlySet<string>): FieldProblem[] {
  return problems.filter((p) => !faulty.has(topLevelField(p.field)));
}

/** `delivery.scheduleSeconds[2]` → `delivery`; `headers.X-Team` → `headers`. */
export function topLevelField(field: string): string {
  const match = /^[^.[]+/.exec(field);
  return match ? match[0] : field;
}
