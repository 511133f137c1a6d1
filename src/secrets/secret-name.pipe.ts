import { Injectable, type PipeTransform } from '@nestjs/common';
import { ApiError } from '../common/errors/api-error';
import { SECRET_NAME_PATTERN, SECRET_NAME_RULE } from './dto/secret.dto';

/** Validates the `:name` path parameter as a secret name. */
@Injectable()
export class SecretNamePipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!SECRET_NAME_PATTERN.test(value)) throw ApiError.invalidField('name', SECRET_NAME_RULE);
    return value;
  }
}
