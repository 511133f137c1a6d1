import { ValidateBy, type ValidationOptions, buildMessage } from 'class-validator';
import { CONTROL_CHARACTER_REASON, hasControlCharacter } from './identifiers';

/**
 * Every item of the array differs from the others (strict equality), checked in one pass with
 * a Set. Used instead of class-validator's ArrayUnique, whose indexOf scan is quadratic: an
 * array of 100 000 names took seconds to refuse while the event loop waited.
 */
export function UniqueItems(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'uniqueItems',
      validator: {
        validate: (value: unknown) => Array.isArray(value) && new Set(value).size === value.length,
        defaultMessage: buildMessage((eachPrefix) => `${eachPrefix}must not repeat an item`, options),
      },
    },
    options,
  );
}

/** A string (or, with `each`, strings) without control characters: src/common/identifiers.ts. */
export function NoControlCharacters(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'noControlCharacters',
      validator: {
        validate: (value: unknown) => typeof value !== 'string' || !hasControlCharacter(value),
        defaultMessage: buildMessage((eachPrefix) => `${eachPrefix}$property ${CONTROL_CHARACTER_REASON}`, options),
      },
    },
    options,
  );
}
