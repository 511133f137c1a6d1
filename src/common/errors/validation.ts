import { type ArgumentMetadata, ValidationPipe } from '@nestjs/common';
import type { ValidationError } from 'class-validator';
import { MAX_JSON_DEPTH, tooDeep } from '../json-body';
import { RESERVED_KEYS, RESERVED_KEY_REASON } from '../plain-object';
import { ApiError, type FieldProblem } from './api-error';

/** Flattens class-validator's tree into `{field, reason}` rows with paths like `events[3].run.name`. */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldProblem[] {
  const problems: FieldProblem[] = [];
  for (const error of errors) {
    const field = joinPath(parent, error.property);
    for (const reason of Object.values(error.constraints ?? {})) {
      problems.push({ field, reason: stripPropertyName(reason, error.property) });
    }
    if (error.children?.length) problems.push(...flattenValidationErrors(error.children, field));
  }
  return problems;
}

export function validationException(errors: ValidationError[]): ApiError {
  return ApiError.invalid(flattenValidationErrors(errors));
}

/**
 * The pipe every request body goes through (STYLE.md §5: unknown fields refused); also used on
 * its own where a body holds several objects of other endpoints (POST /v1/config/validate).
 */
export function createValidationPipe(): ValidationPipe {
  return new HeraldValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true, exceptionFactory: validationException });
}

/**
 * Nest's pipe, after one linear, non-recursive look at the value: nesting past MAX_JSON_DEPTH
 * is a 400 before class-transformer or class-validator recurse into it (the body parser bounds
 * bodies already; this holds for any value the pipe is given), and reserved keys in a DTO's
 * value are a 400 naming each, rather than dropped.
 */
class HeraldValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    checkJsonShape(value, metadata.type === 'body' ? '' : (metadata.data ?? ''), this.toValidate(metadata));
    return super.transform(value, metadata);
  }
}

/** Throws the 400 for too deep a value, or for every reserved key in it when `refuseReservedKeys`. */
export function checkJsonShape(value: unknown, field: string, refuseReservedKeys: boolean): void {
  const problems: FieldProblem[] = [];
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: field, depth: 0 }];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (typeof node.value !== 'object' || node.value === null) continue;
    const depth = node.depth + 1;
    if (depth > MAX_JSON_DEPTH) throw tooDeep(node.path || 'body');
    if (Array.isArray(node.value)) {
      for (let i = node.value.length - 1; i >= 0; i--) {
        const item: unknown = node.value[i];
        if (typeof item === 'object' && item !== null) stack.push({ value: item, path: `${node.path}[${i}]`, depth });
      }
      continue;
    }
    const children: typeof stack = [];
    for (const [key, item] of Object.entries(node.value)) {
      const path = node.path ? `${node.path}.${key}` : key;
      if (refuseReservedKeys && RESERVED_KEYS.has(key)) problems.push({ field: path, reason: RESERVED_KEY_REASON });
      if (typeof item === 'object' && item !== null) children.push({ value: item, path, depth });
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
  if (problems.length > 0) throw ApiError.invalid(problems);
}

function joinPath(parent: string, property: string): string {
  if (/^\d+$/.test(property)) return `${parent}[${property}]`;
  return parent ? `${parent}.${property}` : property;
}

/** class-validator messages start with the property name ("name must be …"); the field says it already. */
function stripPropertyName(reason: string, property: string): string {
  if (reason === `property ${property} should not exist`) return 'is not an allowed field';
  return reason.startsWith(property + ' ') ? reason.slice(property.length + 1) : reason;
}
