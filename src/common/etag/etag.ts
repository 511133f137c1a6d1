import { createHash } from 'node:crypto';
import {
  type CallHandler,
  type ExecutionContext,
  HttpStatus,
  Injectable,
  type NestInterceptor,
  applyDecorators,
  createParamDecorator,
} from '@nestjs/common';
import { ApiHeader, ApiPreconditionFailedResponse } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { type Observable, tap } from 'rxjs';
import { ApiErrorDto } from '../api-docs';
import { ApiError } from '../errors/api-error';

/**
 * Optimistic concurrency for team resources (webhooks, automations, sources): each answer
 * carries `etag`, a hash of the resource's configuration, also sent as the `ETag` header;
 * PATCH and DELETE with `If-Match` change the resource only while it still has that etag
 * (412 otherwise), so a client that read it cannot silently overwrite a concurrent edit.
 *
 * A content hash rather than a version counter or `updatedAt`: it needs no column, it is
 * exact when two edits fall in the same millisecond, and runtime fields (delivery health, fire
 * counts) are left out, so firing or failing never invalidates what a person read.
 */
export function contentEtag(configuration: unknown): string {
  return createHash('sha256').update(stableJson(configuration)).digest('base64url').slice(0, 27);
}

/** JSON with object keys sorted, so the hash does not depend on the order columns were read in. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** A parsed If-Match header: the tags it lists, `*`, or undefined when absent. */
export type IfMatchTags = string[] | '*' | undefined;

/**
 * The entity tags of an `If-Match` header (RFC 9110 § 13.1.1): `*`, or a list of quoted tags.
 * Weak tags (`W/"…"`) never match (If-Match compares strongly); a bare unquoted tag is
 * accepted for convenience. undefined when the header is absent.
 */
export function parseIfMatch(header: string | undefined): IfMatchTags {
  if (header === undefined) return undefined;
  const trimmed = header.trim();
  if (trimmed === '*') return '*';
  const tags: string[] = [];
  for (const part of trimmed.split(',')) {
    const tag = part.trim();
    if (tag === '' || tag.startsWith('W/')) continue;
    tags.push(tag.startsWith('"') && tag.endsWith('"') && tag.length >= 2 ? tag.slice(1, -1) : tag);
  }
  return tags;
}

/** Throws a 412 when `If-Match` was given and names none of the resource's current etag. */
export function checkIfMatch(ifMatch: IfMatchTags, current: string, what: string): void {
  if (ifMatch === undefined || ifMatch === '*' || ifMatch.includes(current)) return;
  throw new ApiError(
    HttpStatus.PRECONDITION_FAILED,
    `${what} has changed since it was read (If-Match does not match its etag "${current}"); read it again`,
    [{ field: 'If-Match', reason: `does not match the current etag "${current}"` }],
  );
}

/** The parsed `If-Match` header of the request. */
export const IfMatch = createParamDecorator((_: unknown, ctx: ExecutionContext) =>
  parseIfMatch(ctx.switchToHttp().getRequest<Request>().header('if-match')),
);

/** Sets the `ETag` header of an answer whose body carries an `etag` (one resource, not a list). */
@Injectable()
export class EtagHeader implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const response = context.switchToHttp().getResponse<Response>();
    return next.handle().pipe(
      tap((body: unknown) => {
        const etag = (body as { etag?: unknown } | null | undefined)?.etag;
        if (typeof etag === 'string' && !response.headersSent) response.setHeader('ETag', `"${etag}"`);
      }),
    );
  }
}

/** OpenAPI: the optional If-Match header of PATCH and DELETE, and its 412. */
export function ApiIfMatch(): MethodDecorator {
  return applyDecorators(
    ApiHeader({
      name: 'If-Match',
      required: false,
      description: 'The `etag` (or ETag header) last read: the change is made only if the resource still has it, else 412',
    }),
    ApiPreconditionFailedResponse({ type: ApiErrorDto, description: 'If-Match was given and the resource has changed since' }),
  );
}
