import { HttpException, HttpStatus } from '@nestjs/common';
import type { NameTakenError } from './domain-errors';

/** One problem with the input: `field` is a path such as `events[3].run.name`. */
export interface FieldProblem {
  field: string;
  reason: string;
}

/** The single error shape every endpoint answers with. */
export interface ApiErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details?: FieldProblem[];
}

/** An HTTP error in Herald's shape, optionally naming the fields at fault. */
export class ApiError extends HttpException {
  constructor(status: number, message: string, readonly details?: FieldProblem[]) {
    super(message, status);
  }

  static badRequest(message: string, details?: FieldProblem[]): ApiError {
    return new ApiError(HttpStatus.BAD_REQUEST, message, details);
  }

  /** A 400 about one field, with the message built from it. */
  static invalidField(field: string, reason: string): ApiError {
    return new ApiError(HttpStatus.BAD_REQUEST, `Invalid input: ${field} ${reason}`, [{ field, reason }]);
  }

  /** A 400 listing every problem, each naming its field. */
  static invalid(problems: FieldProblem[]): ApiError {
    const message = `Invalid input: ${problems.map((p) => `${p.field} ${p.reason}`).join('; ')}`;
    return new ApiError(HttpStatus.BAD_REQUEST, message, problems);
  }

  static notFound(what: string): ApiError {
    return new ApiError(HttpStatus.NOT_FOUND, `${what} not found`);
  }

  static conflict(message: string, details?: FieldProblem[]): ApiError {
    return new ApiError(HttpStatus.CONFLICT, message, details);
  }

  /** The 409 of a NameTakenError from the database layer, naming the field. */
  static fromNameTaken(error: NameTakenError): ApiError {
    return ApiError.conflict(error.message, [{ field: 'name', reason: 'already exists' }]);
  }
}
