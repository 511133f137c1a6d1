import { applyDecorators } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiProperty,
  ApiPropertyOptional,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';

export class FieldProblemDto {
  @ApiProperty({ example: 'name' })
  field!: string;

  @ApiProperty({ example: 'must match ^[A-Z][A-Z0-9_]{0,63}$' })
  reason!: string;
}

/** The one error shape (documented once, referenced by every endpoint). */
export class ApiErrorDto {
  @ApiProperty({ example: 400 })
  statusCode!: number;

  @ApiProperty({ example: 'Bad Request' })
  error!: string;

  @ApiProperty({ example: 'Invalid input: name must match ^[A-Z][A-Z0-9_]{0,63}$' })
  message!: string;

  @ApiPropertyOptional({ type: [FieldProblemDto] })
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
