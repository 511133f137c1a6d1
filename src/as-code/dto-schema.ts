import { getMetadataStorage } from 'class-validator';
import { DECORATORS } from '@nestjs/swagger/dist/constants';
import type { JsonSchema } from '../automations/automation-rules';

/**
 * The JSON Schema of a request DTO, read from its class-validator decorators (the rules the
 * API enforces) and its @ApiProperty descriptions. The configuration file's schema is built
 * this way for webhooks and sources, so a limit changed in a DTO changes the published schema
 * too. A decorator this function does not know throws: the schema must never silently
 * say less than the API checks (a unit test builds it).
 */
export function dtoSchema(dto: new () => object): JsonSchema {
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
      if (typeof nested !== 'function' || nested === Object) throw new Error(`dtoSchema: ${dto.name}.${name} is nested without a class type`);
      Object.assign(property, dtoSchema(nested as new () => object));
      continue;
    }
    if (type !== 'customValidation') throw new Error(`dtoSchema: ${dto.name}.${name} uses ${type}, which has no JSON Schema rule`);
    const constraint = storage.getTargetValidatorConstraints(meta.constraintCls)[0]?.name ?? '';
    applyConstraint(target, constraint, meta.constraints ?? [], `${dto.name}.${name}`);
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

function applyConstraint(target: JsonSchema, constraint: string, args: unknown[], where: string): void {
  switch (constraint) {
    case 'isString':
      target.type = 'string';
      return;
    case 'isBoolean':
      target.type = 'boolean';
      return;
    case 'isInt':
      target.type = 'integer';
      return;
    case 'isNumber':
      target.type ??= 'number';
      return;
    case 'isObject':
      target.type = 'object';
      return;
    case 'isArray':
      target.type = 'array';
      return;
    case 'isIn':
      target.enum = [...(args[0] as unknown[])];
      return;
    case 'matches':
      target.pattern = (args[0] as RegExp).source;
      return;
    case 'maxLength':
      target.maxLength = args[0];
      return;
    case 'minLength':
      target.minLength = args[0];
      return;
    case 'min':
      target.minimum = args[0];
      return;
    case 'max':
      target.maximum = args[0];
      return;
    case 'arrayMaxSize':
      target.maxItems = args[0];
      return;
    case 'arrayMinSize':
      target.minItems = args[0];
      return;
    case 'arrayUnique':
      target.uniqueItems = true;
      return;
    default:
      throw new Error(`dtoSchema: ${where} uses @${constraint}, which has no JSON Schema rule yet: add one here`);
  }
}
