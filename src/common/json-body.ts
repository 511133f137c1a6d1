import { HttpStatus } from '@nestjs/common';
import { ApiError } from './errors/api-error';

/**
 * How deep a request body may nest (objects and arrays). The one bound on nesting for every
 * JSON body: checked on the text before it is parsed, and again by the validation pipe
 * (src/common/errors/validation.ts) on any value it is given, so nothing downstream (class-
 * transformer, class-validator, template checks) recurses further than this. Payload
 * templates nest at most 64 levels (MAX_TEMPLATE_DEPTH) inside a few levels of request.
 */
export const MAX_JSON_DEPTH = 100;

/** The media type JSON bodies must declare (`application/*+json` is accepted too). */
export const JSON_MEDIA_TYPE = 'application/json';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads a request body as Herald's API takes it: UTF-8 JSON, an object or an array, at most
 * MAX_JSON_DEPTH levels deep. An empty body is `undefined` (and `{}` when declared as JSON,
 * as Express's JSON parser answered). Throws an ApiError with the real reason otherwise:
 * 415 for another media type, another charset or bytes that are not UTF-8; 400 for text that
 * is not JSON or nests too deep.
 */
export function parseJsonBody(raw: Buffer, contentType: string | undefined): unknown {
  const { mediaType, charset } = parseContentType(contentType);
  const declaredJson = mediaType === JSON_MEDIA_TYPE || /^application\/[a-z0-9.!#$&^_-]+\+json$/.test(mediaType);
  if (raw.length === 0) return declaredJson ? {} : undefined;
  if (!declaredJson) {
    const sent = mediaType === '' ? 'no Content-Type' : `Content-Type ${mediaType}`;
    throw unsupported(`Unsupported media type: the body was sent with ${sent}; send it as ${JSON_MEDIA_TYPE}`, `must be sent as ${JSON_MEDIA_TYPE}`);
  }
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw unsupported(`Unsupported charset ${charset}; send UTF-8 JSON`, 'must be UTF-8');
  }
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw unsupported('The body is not valid UTF-8; send UTF-8 JSON', 'is not valid UTF-8');
  }
  const first = text.trimStart()[0];
  if (first !== '{' && first !== '[') throw malformed();
  if (jsonTextDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) throw tooDeep('body');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw malformed();
  }
}

/**
 * The deepest nesting of `[`/`{` in JSON text, outside strings; stops counting once past
 * `limit`. One linear pass, no recursion: safe on any input (malformed text gives some number,
 * and JSON.parse refuses it afterwards).
 */
export function jsonTextDepth(text: string, limit = Infinity): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/** The 400 for a value nested deeper than MAX_JSON_DEPTH. */
export function tooDeep(field: string): ApiError {
  return ApiError.invalidField(field, `nests deeper than ${MAX_JSON_DEPTH} levels`);
}

/** A Content-Encoding the body could not be decoded with (corrupt or truncated gzip, deflate, br). */
export function undecodableBody(encoding: string, reason: string): ApiError {
  return ApiError.badRequest(`The body could not be decompressed (Content-Encoding: ${encoding}): ${reason}`, [
    { field: 'body', reason: `is not valid ${encoding} data: ${reason}` },
  ]);
}

/** zlib's errors (gzip, deflate: `Z_*`; brotli: `ERR__ERROR_*`, `ERR_BROTLI_*`; zstd: `ERR_ZSTD_*`). */
export function isDecompressionError(error: unknown): error is { code: string; message: string } {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return typeof code === 'string' && typeof message === 'string' && /^(Z_|ERR__ERROR_|ERR_BROTLI|ERR_ZSTD)/.test(code);
}

function parseContentType(header: string | undefined): { mediaType: string; charset?: string } {
  if (!header) return { mediaType: '' };
  const [type, ...params] = header.split(';');
  let charset: string | undefined;
  for (const param of params) {
    const [name, value] = param.split('=');
    if (name?.trim().toLowerCase() === 'charset' && value !== undefined) charset = value.trim().replace(/^"|"$/g, '').toLowerCase();
  }
  return { mediaType: type.trim().toLowerCase(), charset };
}

function unsupported(message: string, reason: string): ApiError {
  return new ApiError(HttpStatus.UNSUPPORTED_MEDIA_TYPE, message, [{ field: 'body', reason }]);
}

function malformed(): ApiError {
  return ApiError.badRequest('Malformed JSON body', [{ field: 'body', reason: 'is not valid JSON' }]);
}
