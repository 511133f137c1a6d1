/**
 * Completeness rules for Herald's OpenAPI document (served at /docs/json), so that a client
 * generated from it is typed and every field explains itself:
 * - every operation has a summary and, for each 2xx answer that has a body, a response schema;
 * - every error answer (4xx, 5xx) carries an example in the error shape with that status;
 * - every parameter, every schema and every property (nested ones included) has a description.
 * Returns one line per problem, empty when the document is complete.
 */
export function auditOpenApi(document: OpenApiDocument): string[] {
  const problems: string[] = [];
  for (const [path, operations] of Object.entries(document.paths ?? {})) {
    for (const [method, operation] of Object.entries(operations)) {
      if (!HTTP_METHODS.has(method)) continue;
      const where = `${method.toUpperCase()} ${path}`;
      if (!operation.summary && !operation.description) problems.push(`${where}: no summary`);
      for (const parameter of operation.parameters ?? []) {
        if (!parameter.description) problems.push(`${where}: parameter ${parameter.in} ${parameter.name} has no description`);
        if (parameter.schema) auditSchema(parameter.schema, `${where} parameter ${parameter.name}`, problems, false);
      }
      if (operation.requestBody) {
        const body = operation.requestBody;
        if (!body.description) problems.push(`${where}: request body has no description`);
        for (const [type, media] of Object.entries(body.content ?? {})) {
          if (!media.schema) problems.push(`${where}: request body ${type} has no schema`);
          else auditSchema(media.schema, `${where} request body`, problems, false);
        }
      }
      const responses = Object.entries(operation.responses ?? {});
      if (!responses.some(([status]) => status.startsWith('2'))) problems.push(`${where}: no success response`);
      for (const [status, response] of responses) {
        if (status === '204' || status === '304') continue;
        const media = Object.entries(response.content ?? {});
        if (media.length === 0) {
          problems.push(`${where} ${status}: no response schema`);
          continue;
        }
        for (const [type, content] of media) {
          if (!content.schema) problems.push(`${where} ${status} ${type}: no response schema`);
          else auditSchema(content.schema, `${where} ${status}`, problems, false);
          if (/^[45]/.test(status)) {
            const examples = [content.example, ...Object.values(content.examples ?? {}).map((e) => e.value)].filter(
              (e): e is Record<string, unknown> => typeof e === 'object' && e !== null,
            );
            if (examples.length === 0) problems.push(`${where} ${status}: no error example`);
            for (const example of examples) {
              if (example.statusCode !== Number(status)) {
                problems.push(`${where} ${status}: example has statusCode ${String(example.statusCode)}`);
              }
              if (typeof example.message !== 'string' || example.message === '') problems.push(`${where} ${status}: example has no message`);
            }
          }
        }
      }
    }
  }
  for (const [name, schema] of Object.entries(document.components?.schemas ?? {})) {
    auditSchema(schema, `schema ${name}`, problems, false);
  }
  return problems;
}

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options']);

/** Walks a schema: each property needs a description (a $ref's description may sit beside it). */
function auditSchema(schema: OpenApiSchema, where: string, problems: string[], needsDescription: boolean): void {
  if (needsDescription && !schema.description) problems.push(`${where}: no description`);
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    auditSchema(property, `${where}.${name}`, problems, true);
  }
  if (schema.items) auditSchema(schema.items, `${where}[]`, problems, false);
  for (const key of ['oneOf', 'anyOf', 'allOf'] as const) {
    (schema[key] ?? []).forEach((part, i) => auditSchema(part, `${where} ${key}[${i}]`, problems, false));
  }
  if (typeof schema.additionalProperties === 'object') {
    auditSchema(schema.additionalProperties, `${where}{}`, problems, false);
  }
}

export interface OpenApiSchema {
  $ref?: string;
  type?: string;
  description?: string;
  properties?: Record<string, OpenApiSchema>;
  items?: OpenApiSchema;
  oneOf?: OpenApiSchema[];
  anyOf?: OpenApiSchema[];
  allOf?: OpenApiSchema[];
  additionalProperties?: boolean | OpenApiSchema;
  enum?: unknown[];
  discriminator?: { propertyName: string; mapping?: Record<string, string> };
  required?: string[];
  [key: string]: unknown;
}

interface MediaType {
  schema?: OpenApiSchema;
  example?: unknown;
  examples?: Record<string, { value?: unknown }>;
}

export interface OpenApiOperation {
  summary?: string;
  description?: string;
  parameters?: { name: string; in: string; description?: string; schema?: OpenApiSchema }[];
  requestBody?: { description?: string; content?: Record<string, MediaType> };
  responses?: Record<string, { description?: string; content?: Record<string, MediaType> }>;
}

export interface OpenApiDocument {
  paths?: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, OpenApiSchema> };
}
