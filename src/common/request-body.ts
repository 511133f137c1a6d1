import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Request, type Response } from 'express';
import { bodyParserError, type AllExceptionsFilter } from './errors/all-exceptions.filter';
import { ApiError, type ApiErrorBody } from './errors/api-error';
import { isDecompressionError, parseJsonBody, undecodableBody } from './json-body';

/** A request whose body has been read: a parsed JSON value, or undefined when there was none. */
export type RequestWithBody = IncomingMessage & { body?: unknown };

/**
 * Reads a request's body as Herald's API takes it: at most `limit` bytes (after any
 * Content-Encoding: gzip, deflate, br), then parseJsonBody (src/common/json-body.ts). Calls
 * `done` with the error if the body is too large, undecodable or not JSON; then `req.body`
 * holds the value (undefined without a body). Works on a plain node:http request, so Express
 * (src/app.factory.ts) and the raw POST /v1/events route (src/events/ingest-route.ts) read
 * bodies alike.
 */
export function jsonBodyReader(limit: number): (req: RequestWithBody, res: ServerResponse, done: (error?: unknown) => void) => void {
  // body-parser's raw reader: the limit, Content-Encoding and aborted requests, as Express applied them.
  const readRaw = express.raw({ type: () => true, limit });
  return (req, res, done) => {
    readRaw(req as Request, res as Response, (error?: unknown) => {
      if (error) return done(error);
      if (!Buffer.isBuffer(req.body)) return done();
      try {
        req.body = parseJsonBody(req.body, req.headers['content-type']);
        done();
      } catch (parseError) {
        done(parseError);
      }
    });
  };
}

/**
 * Herald's answer (400, 413 or 415 in its error shape) to an error from jsonBodyReader, or
 * null for an error that is not about the body.
 */
export function bodyErrorAnswer(error: unknown, req: IncomingMessage, filter: AllExceptionsFilter): ApiErrorBody | null {
  if (isDecompressionError(error)) error = undecodableBody(String(req.headers['content-encoding']), error.message);
  return error instanceof ApiError ? filter.toBody(error) : bodyParserError(error);
}
