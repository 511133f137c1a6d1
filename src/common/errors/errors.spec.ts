import { type ArgumentMetadata, BadRequestException, ForbiddenException, Logger } from '@nestjs/common';
import { IsObject, IsString, type ValidationError } from 'class-validator';
import { MAX_JSON_DEPTH } from '../json-body';
import { AllExceptionsFilter, bodyParserError } from './all-exceptions.filter';
import { ApiError } from './api-error';
import { RESERVED_KEY_REASON } from '../plain-object';
import { createValidationPipe, flattenValidationErrors, validationException } from './validation';

describe('flattenValidationErrors', () => {
  it('turns nested and array errors into field paths and strips the repeated property name', () => {
    const errors: ValidationError[] = [
      { property: 'name', constraints: { matches: 'name must match ^x$' }, children: [] },
      {
        property: 'events',
        children: [
          {
            property: '3',
            children: [{ property: 'run', children: [{ property: 'name', constraints: { isString: 'name must be a string' } }] }],
          },
        ],
      },
      { property: 'extra', constraints: { whitelistValidation: 'property extra should not exist' } },
    ];
    expect(flattenValidationErrors(errors)).toEqual([
      { field: 'name', reason: 'must match ^x$' },
      { field: 'events[3].run.name', reason: 'must be a string' },
      { field: 'extra', reason: 'is not an allowed field' },
    ]);
  });

  it('builds a 400 whose message lists every field', () => {
    const error = validationException([
      { property: 'a', constraints: { x: 'a is bad' } },
      { property: 'b', constraints: { y: 'b is worse' } },
    ]);
    expect(error.getStatus()).toBe(400);
    expect(error.message).toBe('Invalid input: a is bad; b is worse');
    expect(error.details).toHaveLength(2);
  });
});

describe('AllExceptionsFilter', () => {
  const filter = new AllExceptionsFilter();

  it('keeps ApiError details', () => {
    expect(filter.toBody(ApiError.invalidField('cursor', 'is wrong'))).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'Invalid input: cursor is wrong',
      details: [{ field: 'cursor', reason: 'is wrong' }],
    });
    expect(filter.toBody(ApiError.conflict('taken'))).toEqual({ statusCode: 409, error: 'Conflict', message: 'taken' });
  });

  it('flattens Nest HttpExceptions to a string message', () => {
    expect(filter.toBody(new BadRequestException(['one', 'two']))).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'one; two',
    });
    expect(filter.toBody(new ForbiddenException())).toMatchObject({ statusCode: 403, error: 'Forbidden' });
  });

  it('answers anything else with a 500 that leaks nothing, and logs it with the same reference', () => {
    const logged: unknown[] = [];
    const spy = jest.spyOn(Logger.prototype, 'error').mockImplementation((entry: unknown) => void logged.push(entry));
    const body = filter.toBody(new Error('SQLITE_CORRUPT at /var/lib/herald/data/herald.db'));
    spy.mockRestore();
    expect(body.statusCode).toBe(500);
    expect(body.message).not.toMatch(/SQLITE|herald\.db/);
    const reference = /reference ([0-9a-f-]{36})/.exec(body.message)![1];
    expect(logged).toEqual([expect.objectContaining({ errorId: reference })]);
  });

  it('maps body-parser failures to 400, 413 and 415', () => {
    expect(bodyParserError({ type: 'entity.parse.failed' })).toMatchObject({ statusCode: 400, message: 'Malformed JSON body' });
    expect(bodyParserError({ type: 'entity.too.large', limit: 1024 })).toMatchObject({
      statusCode: 413,
      details: [{ field: 'body', reason: 'exceeds 1024 bytes' }],
    });
    expect(bodyParserError({ type: 'charset.unsupported' })).toMatchObject({ statusCode: 415 });
    expect(bodyParserError(new Error('x'))).toBeNull();
  });
});

describe('createValidationPipe: depth and reserved keys', () => {
  class TemplateDto {
    @IsString() name!: string;
    @IsObject() template!: Record<string, unknown>;
  }
  const pipe = createValidationPipe();
  const asBody = { type: 'body' as const, metatype: TemplateDto };
  const refusal = async (value: unknown, metadata: ArgumentMetadata = asBody) => {
    const error: unknown = await pipe.transform(value, metadata).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    return { status: (error as ApiError).getStatus(), details: (error as ApiError).details };
  };
  const nested = (levels: number, wrap: (inner: unknown) => unknown) => {
    let value: unknown = 1;
    for (let i = 0; i < levels; i++) value = wrap(value);
    return value;
  };

  it.each([
    ['arrays', (inner: unknown) => [inner]],
    ['objects', (inner: unknown) => ({ a: inner })],
  ])(`answers %s nested 3000 deep with a 400, not a RangeError`, async (_, wrap) => {
    expect(await refusal({ name: 'x', template: nested(3000, wrap) })).toEqual({
      status: 400,
      details: [{ field: expect.stringMatching(/^template/), reason: `nests deeper than ${MAX_JSON_DEPTH} levels` }],
    });
    expect(await refusal(nested(3000, wrap))).toMatchObject({ status: 400 });
    // Also for values the pipe does not validate against a DTO (events' `unknown` body).
    expect(await refusal(nested(3000, wrap), { type: 'body', metatype: Object })).toMatchObject({ status: 400 });
  });

  it('lets a value just within the bound through', async () => {
    const value = { name: 'x', template: { deep: nested(MAX_JSON_DEPTH - 2, (inner) => [inner]) } };
    await expect(pipe.transform(value, asBody)).resolves.toBeInstanceOf(TemplateDto);
  });

  it('refuses constructor, prototype and __proto__ keys anywhere, naming each, rather than dropping them', async () => {
    const template = JSON.parse('{"ok":{"constructor":1},"list":[{"prototype":{"__proto__":2}}]}');
    expect(await refusal({ name: 'x', template })).toEqual({
      status: 400,
      details: [
        { field: 'template.ok.constructor', reason: RESERVED_KEY_REASON },
        { field: 'template.list[0].prototype', reason: RESERVED_KEY_REASON },
        { field: 'template.list[0].prototype.__proto__', reason: RESERVED_KEY_REASON },
      ],
    });
  });

  it('keeps other keys as given, and leaves values it does not validate against a DTO alone', async () => {
    const kept = (await pipe.transform({ name: 'x', template: { 'a.constructor': 1, Constructor: [2] } }, asBody)) as TemplateDto;
    expect(kept.template).toEqual({ 'a.constructor': 1, Constructor: [2] });
    const raw = { constructor: 1 };
    await expect(pipe.transform(raw, { type: 'body', metatype: Object })).resolves.toBe(raw);
  });
});
