import { CONTROL_CHARACTER_REASON } from '../common/identifiers';
import { getMetadataStorage } from 'class-validator';
import { DECORATORS } from '@nestjs/swagger/dist/constants';
import type { JsonSchema } from '../automations/automation-rules';

/**
 * The JSON Schema of a request DTO, read from its class-validator decorators (the rules the
 * API enforces) and its @ApiProperty descriptions. The configuration file's schema is built
 * this way for webhooks and sources, so a limit changed in a DTO changes the published schema
 * too. A decorator this function does not know is left out of the schema — it then says less
 * than the API checks, never something else, and the server still checks it — and is listed
 * by `dtoSchemaGaps`, which a unit test requires to be empty, so a new rule gets its
 * translation here rather than being forgotten.
 */
export function dtoSchema(dto: new () => object): JsonSchema {
  return describe(dto, []);
}

/** The decorators of this DTO (and the DTOs nested in it) that dtoSchema cannot express: `Class.field @rule`. */
export function dtoSchemaGaps(dto: new () => object): string[] {
  const gaps: string[] = [];
  describe(dto, gaps);
  return gaps;
}

function describe(dto: new () => object, gaps: string[]): JsonSchema {
  const storage = getMetadataStorage();
  const metadatas = storage.getTargetValidationMetadatas(dto, '', true, false);
  const properties: Record<string, JsonSchema> = {};
  const optional = new Set<string>();
  const nullable = new Set<string>();
  const order: string[] = [];
  for (const meta of metadatas) {
    const name = meta.propertyName;
    if (!order.includes(name)) order.push(name);
    const property = (properties[name] ??= {});
    const items = () => (property.items ??= {}) as JsonSchema;
    const target = meta.each ? items() : property;
    const type: string = meta.type;
    if (type === 'conditionalValidation') {
      // @IsOptional: may be left out; a bare @ValidateIf is Herald's `null clears` rule.
      if (meta.name === 'isOptional') optional.add(name);
      else nullable.add(name);
      continue;
    }
    if (type === 'nestedValidation') {
      // The declared class of the property (emitted by TypeScript's decorator metadata).
      const nested: unknown = Reflect.getMetadata('design:type', dto.prototype, name);
      if (typeof nested === 'function' && nested !== Object) Object.assign(property, describe(nested as new () => object, gaps));
      else gaps.push(`${dto.name}.${name} @ValidateNested (no class type to describe)`);
      continue;
    }
    const constraint = type === 'customValidation' ? (storage.getTargetValidatorConstraints(meta.constraintCls)[0]?.name ?? '') : type;
    if (!applyConstraint(target, constraint, meta.constraints ?? [])) gaps.push(`${dto.name}.${name} @${constraint}`);
    if (meta.each) property.type = 'array';
  }
  for (const name of order) {
    const doc = Reflect.getMetadata(DECORATORS.API_MODEL_PROPERTIES, dto.prototype, name) as
      | { description?: string; additionalProperties?: unknown }
      | undefined;
    const property = properties[name];
    if (doc?.description) property.description = doc.description;
    if (property.type === 'object' && doc?.additionalProperties !== undefined) property.additionalProperties = doc.additionalProperties;
    if (nullable.has(name) && typeof property.type === 'string') property.type = [property.type, 'null'];
  }
  const required = order.filter((name) => !optional.has(name));
  return {
    type: 'object',
    properties: Object.fromEntries(order.map((name) => [name, properties[name]])),
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: false,
  };
}

/** Adds the rule to the property's schema; false when it has no JSON Schema translation here. */
function applyConstraint(target: JsonSchema, constraint: string, args: unknown[]): boolean {
  switch (constraint) {
    case 'isString':
      target.type = 'string';
      return true;
    case 'isBoolean':
      target.type = 'boolean';
      return true;
    case 'isInt':
      target.type = 'integer';
      return true;
    case 'isNumber':
      target.type ??= 'number';
      return true;
    case 'isObject':
      target.type = 'object';
      return true;
    case 'isArray':
      target.type = 'array';
      return true;
    case 'isIn':
      target.enum = [...(args[0] as unknown[])];
      return true;
    case 'matches':
      target.pattern = (args[0] as RegExp).source;
      return true;
    case 'maxLength':
      target.maxLength = args[0];
      return true;
    case 'minLength':
      target.minLength = args[0];
      return true;
    case 'min':
      target.minimum = args[0];
      return true;
    case 'max':
      target.maximum = args[0];
      return true;
    case 'arrayMaxSize':
      target.maxItems = args[0];
      return true;
    case 'arrayMinSize':
      target.minItems = args[0];
      return true;
    case 'arrayUnique':
    case 'uniqueItems':
      target.uniqueItems = true;
      return true;
    case 'noControlCharacters':
      target.not = { pattern: '[\\u0000-\\u001f\\u007f]', description: CONTROL_CHARACTER_REASON };
      return true;
    case 'isPositive':
      target.exclusiveMinimum = 0;
      return true;
    case 'arrayNotEmpty':
      target.minItems = 1;
      return true;
    case 'isNotEmpty':
      target.minLength = 1;
      return true;
    case 'isDefined':
      return true;
    case 'isEnum':
      target.enum = Object.values(args[0] as object);
      return true;
    case 'equals':
      target.const = args[0];
      return true;
    default:
      return false;
  }
}
