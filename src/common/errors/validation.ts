import { type ArgumentMetadata, ValidationPipe } from '@nestjs/common';
import { type ValidationError, getMetadataStorage } from 'class-validator';
import { MAX_JSON_DEPTH, tooDeep } from '../json-body';
import { RESERVED_KEYS, RESERVED_KEY_REASON } from '../plain-object';
import { CONTROL_CHARACTER_REASON, hasControlCharacter } from '../identifiers';
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
 * How many items any array in a DTO's value may hold when the DTO states no lower bound
 * (`@ArrayMaxSize`) for it; the largest a DTO states is 1000 (a configuration file's section).
 */
export const MAX_ARRAY_ITEMS = 1000;

/**
 * Nest's pipe, after one linear, non-recursive look at the value: nesting past MAX_JSON_DEPTH
 * is a 400 before class-transformer or class-validator recurse into it (the body parser bounds
 * bodies already; this holds for any value the pipe is given). In a DTO's value, reserved keys
 * are a 400 naming each rather than dropped, and an array longer than its field's
 * `@ArrayMaxSize` (MAX_ARRAY_ITEMS for fields that state none) is a 400 before any of its items
 * is transformed or validated: class-validator would check every item first.
 */
class HeraldValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const dto = this.toValidate(metadata) ? metadata.metatype : undefined;
    checkJsonShape(value, metadata.type === 'body' ? '' : (metadata.data ?? ''), dto);
    if (metadata.type === 'param' || metadata.type === 'query') checkParameterText(value, metadata.data);
    return super.transform(value, metadata);
  }
}

/**
 * Throws the 400 for too deep a value; with a DTO class, also for every reserved key and every
 * array over its bound (all of them at once). One pass with an explicit stack: no recursion.
 */
export function checkJsonShape(value: unknown, field: string, dto?: Function): void {
  const problems: FieldProblem[] = [];
  type Node = { value: unknown; path: string; depth: number; dto?: Function };
  const stack: Node[] = [{ value, path: field, depth: 0, dto }];
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
    const limits = node.dto ? arrayLimitsOf(node.dto) : undefined;
    const children: Node[] = [];
    for (const [key, item] of Object.entries(node.value)) {
      const path = node.path ? `${node.path}.${key}` : key;
      if (dto && RESERVED_KEYS.has(key)) problems.push({ field: path, reason: RESERVED_KEY_REASON });
      if (typeof item !== 'object' || item === null) continue;
      if (dto && Array.isArray(item)) {
        const max = limits?.get(key) ?? MAX_ARRAY_ITEMS;
        if (item.length > max) {
          problems.push({ field: path, reason: `must contain no more than ${max} elements` });
          continue;
        }
      }
      children.push({ value: item, path, depth, dto: node.dto ? nestedDtoOf(node.dto, key) : undefined });
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
  if (problems.length > 0) throw ApiError.invalid(problems);
}

/**
 * Path and query parameters name things (ids, names, projects, cursors), and no identifier
 * holds a control character (src/common/identifiers.ts): one is a 400 naming the parameter,
 * before a database sees it (PostgreSQL refuses NUL in text).
 */
function checkParameterText(value: unknown, name: string | undefined): void {
  const problems: FieldProblem[] = [];
  const check = (text: unknown, field: string) => {
    const texts = Array.isArray(text) ? text : [text];
    if (texts.some((t) => typeof t === 'string' && hasControlCharacter(t))) problems.push({ field, reason: CONTROL_CHARACTER_REASON });
  };
  if (name !== undefined) check(value, name);
  else if (typeof value === 'object' && value !== null) for (const [key, item] of Object.entries(value)) check(item, key);
  if (problems.length > 0) throw ApiError.invalid(problems);
}

const arrayLimits = new WeakMap<Function, Map<string, number>>();

/** The `@ArrayMaxSize` of each property of a DTO class. */
function arrayLimitsOf(dto: Function): Map<string, number> {
  let limits = arrayLimits.get(dto);
  if (!limits) {
    limits = new Map();
    for (const rule of getMetadataStorage().getTargetValidationMetadatas(dto, '', true, false)) {
      if (rule.name === 'arrayMaxSize' && typeof rule.constraints?.[0] === 'number') limits.set(rule.propertyName, rule.constraints[0]);
    }
    arrayLimits.set(dto, limits);
  }
  return limits;
}

/** The DTO class a property holds (its declared type), if it is one: nested DTOs state their own bounds. */
function nestedDtoOf(dto: Function, property: string): Function | undefined {
  const type: unknown = Reflect.getMetadata('design:type', dto.prototype as object, property);
  return typeof type === 'function' && type !== Object && type !== Array && arrayLimitsOf(type).size > 0 ? type : undefined;
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
