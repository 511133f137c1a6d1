import { applyDecorators } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiParam,
  ApiProperty,
  ApiPropertyOptional,
  ApiUnauthorizedResponse,
  type OpenAPIObject,
} from '@nestjs/swagger';

export class FieldProblemDto {
  @ApiProperty({ description: 'The field at fault, as a path: name, trigger.window, events[3].run.name', example: 'name' })
  field!: string;

  @ApiProperty({ description: 'What is wrong with it', example: 'must match ^[A-Z][A-Z0-9_]{0,63}$' })
  reason!: string;
}

/** The one error shape (documented once, referenced by every endpoint). */
export class ApiErrorDto {
  @ApiProperty({ description: 'The HTTP status, repeated', example: 400 })
  statusCode!: number;

  @ApiProperty({ description: 'The HTTP status text', example: 'Bad Request' })
  error!: string;

  @ApiProperty({ description: 'What went wrong, in words (secret values never appear)', example: 'Invalid input: name must match ^[A-Z][A-Z0-9_]{0,63}$' })
  message!: string;

  @ApiPropertyOptional({ description: 'For a 400: every problem of the request, each naming its field (all at once)', type: [FieldProblemDto] })
  details?: FieldProblemDto[];
}

/** The answers every authenticated endpoint can give besides its own. */
export function ApiStandardErrors(): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiBadRequestResponse({ type: ApiErrorDto, description: 'Invalid input; `details` names each field' }),
    ApiUnauthorizedResponse({ type: ApiErrorDto, description: 'Missing, unknown or revoked API key' }),
    ApiForbiddenResponse({ type: ApiErrorDto, description: 'The key\'s role may not call this endpoint' }),
    ApiNotFoundResponse({ type: ApiErrorDto, description: 'No such resource in the caller\'s team' }),
  );
}

/*
 * Error examples. Every error answer of the document gets an example in the error shape that
 * fits its operation: the 400 names a field of that operation's own input, the 403 the role its
 * summary states, the 404 the resource of its path, the others the answer's own description.
 * completeErrorExamples runs on the built document (app.factory.ts), so a new endpoint gets
 * them without a decorator per status; an operation that cannot answer 400 (no body, query or
 * named path parameter) or 404 (no path parameter) loses the standard answer it cannot give.
 */

type Schema = { $ref?: string; properties?: Record<string, Schema>; required?: string[]; allOf?: Schema[] };
type Media = { schema?: Schema; example?: unknown };
type Operation = {
  summary?: string;
  security?: unknown[];
  parameters?: { name: string; in: string }[];
  requestBody?: { content?: Record<string, Media> };
  responses?: Record<string, { description?: string; content?: Record<string, Media> }>;
};
interface DocumentParts {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, unknown> };
}

const STATUS_TEXT: Record<string, string> = {
  '400': 'Bad Request',
  '401': 'Unauthorized',
  '403': 'Forbidden',
  '404': 'Not Found',
  '409': 'Conflict',
  '412': 'Precondition Failed',
  '413': 'Payload Too Large',
  '429': 'Too Many Requests',
  '503': 'Service Unavailable',
};

/** The resource a path's `{id}` / `{name}` names, as the services word their 404s. */
const RESOURCES: Record<string, string> = {
  'api-keys': 'API key',
  automations: 'Automation',
  deliveries: 'Delivery',
  events: 'Event',
  secrets: 'Secret',
  sources: 'Source',
  webhooks: 'Webhook',
};
const EXAMPLE_IDS: Record<string, string> = {
  'api-keys': 'key_01JDA8W3M2Q0000000000000000',
  automations: 'aut_01JDA8W3M2Q0000000000000000',
  deliveries: 'msg_01JDA8W3M2Q0000000000000000',
  events: 'evt_01JDA8W3M2Q0000000000000000',
  secrets: 'GITHUB_TOKEN',
  sources: 'src_01JDA8W3M2Q0000000000000000',
  webhooks: 'wh_01JDA8W3M2Q0000000000000000',
};

/** Adds the error examples (see above) to every operation of `document`, in place. */
export function completeErrorExamples(openApi: OpenAPIObject): void {
  const document = openApi as unknown as DocumentParts;
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const operation of Object.values(operations)) {
      const responses = operation.responses ?? {};
      const pathParams = (operation.parameters ?? []).filter((p) => p.in === 'path');
      const query = (operation.parameters ?? []).filter((p) => p.in === 'query');
      const body = bodyField(document, operation);
      if (responses['400'] && !body && query.length === 0 && !pathParams.some((p) => p.name !== 'id')) delete responses['400'];
      if (responses['404'] && pathParams.length === 0) delete responses['404'];
      for (const [status, shared] of Object.entries(responses)) {
        if (!/^[45]/.test(status)) continue;
        // Class-level decorators share one response object between operations: give each its own.
        const response = (responses[status] = structuredClone(shared));
        const content = (response.content ??= { 'application/json': { schema: { $ref: '#/components/schemas/ApiErrorDto' } } });
        for (const media of Object.values(content)) {
          media.example ??= errorExample(status, path, operation, response.description ?? '', body ?? query[0]?.name ?? pathParams[0]?.name);
        }
      }
    }
  }
}

function errorExample(status: string, path: string, operation: Operation, description: string, field: string | undefined) {
  const error = STATUS_TEXT[status] ?? 'Error';
  const base = { statusCode: Number(status), error };
  const secured = (operation.security ?? []).length > 0;
  switch (status) {
    case '400': {
      const reason = field === 'limit' ? 'must not be greater than 200' : 'is required';
      const problem = { field: field ?? 'body', reason };
      return { ...base, message: `Invalid input: ${problem.field} ${problem.reason}`, details: [problem] };
    }
    case '401':
      return { ...base, message: secured ? 'Missing API key: send "Authorization: Bearer <key>"' : description };
    case '403': {
      const role = /\((?:[a-z]+, )*(admin|member|ingest)[^)]*\)\s*$/.exec(operation.summary ?? '')?.[1] ?? 'admin';
      const holder = role === 'admin' ? 'member' : 'ingest';
      return { ...base, message: `This endpoint needs a key with role ${role}; this key's role is ${holder}` };
    }
    case '404': {
      const collection = /^\/v1\/([a-z-]+)\/\{/.exec(path)?.[1] ?? '';
      const what = RESOURCES[collection];
      // The receive URLs do not say which id they did not find (senders learn nothing).
      const id = path.includes('/receive') ? '' : ` ${EXAMPLE_IDS[collection]}`;
      return { ...base, message: what ? `${what}${id} not found` : `${description || 'Resource'}` };
    }
    default:
      return { ...base, message: description || error };
  }
}

/** The first required (else first) top-level field of the operation's JSON body, if it has one. */
function bodyField(document: DocumentParts, operation: Operation): string | undefined {
  const media = operation.requestBody?.content?.['application/json'];
  if (!media?.schema) return operation.requestBody ? 'body' : undefined;
  let schema: Schema | undefined = media.schema;
  for (let hops = 0; schema && hops < 4; hops++) {
    if (schema.$ref) schema = document.components?.schemas?.[schema.$ref.split('/').pop()!] as Schema | undefined;
    else if (schema.allOf?.length === 1) schema = schema.allOf[0];
    else break;
  }
  const names = Object.keys(schema?.properties ?? {});
  return schema?.required?.[0] ?? names[0] ?? 'body';
}

/** Documents the `:id` path parameter of a resource, e.g. ApiIdParam('The webhook id (wh_…)'). */
export function ApiIdParam(description: string): MethodDecorator {
  return ApiParam({ name: 'id', description });
}
