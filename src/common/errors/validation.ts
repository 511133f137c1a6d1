import { ValidationPipe } from '@nestjs/common';
import type { ValidationError } from 'class-validator';
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
  return new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true, exceptionFactory: validationException });
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
