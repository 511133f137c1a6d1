import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import { ApiError, type ApiErrorBody } from './api-error';
import { NameTakenError } from './domain-errors';

/**
 * The one catch-all filter: HttpExceptions keep their status in Herald's error shape, domain
 * errors get theirs (NameTakenError: 409); anything else is logged with an error id and
 * answered as a 500 that leaks nothing.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const body = this.toBody(exception);
    if (response.headersSent) return;
    response.status(body.statusCode).json(body);
  }

  toBody(exception: unknown): ApiErrorBody {
    // Domain errors from below the HTTP layer: a taken name is a 409 naming the field.
    if (exception instanceof NameTakenError) exception = ApiError.fromNameTaken(exception);
    if (exception instanceof ApiError) {
      return shape(exception.getStatus(), exception.message, exception.details);
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      let message = exception.message;
      if (typeof response === 'object' && response !== null && 'message' in response) {
        const m = (response as { message: unknown }).message;
        message = Array.isArray(m) ? m.join('; ') : String(m);
      }
      return shape(status, message);
    }
    const bodyError = bodyParserError(exception);
    if (bodyError) return bodyError;
    const errorId = randomUUID();
    this.logger.error({ msg: 'unexpected error', errorId, err: exception });
    return shape(500, `Internal error (reference ${errorId})`);
  }
}

function shape(statusCode: number, message: string, details?: ApiErrorBody['details']): ApiErrorBody {
  const body: ApiErrorBody = { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message };
  if (details && details.length > 0) body.details = details;
  return body;
}

/** Errors raised by the JSON body parser (before Nest's pipeline) carry a `type`. */
export function bodyParserError(exception: unknown): ApiErrorBody | null {
  if (typeof exception !== 'object' || exception === null || !('type' in exception)) return null;
  const err = exception as { type: string; limit?: number; message?: string };
  switch (err.type) {
    case 'entity.parse.failed':
      return shape(400, 'Malformed JSON body', [{ field: 'body', reason: 'is not valid JSON' }]);
    case 'entity.too.large':
      return shape(413, `Request body is larger than the limit of ${err.limit} bytes`, [
        { field: 'body', reason: `exceeds ${err.limit} bytes` },
      ]);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return shape(415, 'Unsupported body encoding; send UTF-8 JSON');
    case 'request.aborted':
      return shape(400, 'Request aborted by the client');
    default:
      return null;
  }
}
