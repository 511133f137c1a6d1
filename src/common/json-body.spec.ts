import { ApiError } from './errors/api-error';
import { MAX_JSON_DEPTH, isDecompressionError, jsonTextDepth, parseJsonBody } from './json-body';
import { gunzipSync } from 'node:zlib';

function refusal(run: () => unknown): { status: number; details: unknown } {
  try {
    run();
  } catch (error) {
    if (error instanceof ApiError) return { status: error.getStatus(), details: error.details };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('parseJsonBody', () => {
  const json = 'application/json';

  it('reads UTF-8 JSON objects and arrays, with or without a BOM', () => {
    expect(parseJsonBody(Buffer.from('{"a":[1,"é"]}'), json)).toEqual({ a: [1, 'é'] });
    expect(parseJsonBody(Buffer.from('\ufeff[1]'), 'application/json; charset=utf-8')).toEqual([1]);
    expect(parseJsonBody(Buffer.from(' {}'), 'application/vnd.herald+json')).toEqual({});
  });

  it('answers an empty body as nothing, or {} when declared JSON', () => {
    expect(parseJsonBody(Buffer.alloc(0), undefined)).toBeUndefined();
    expect(parseJsonBody(Buffer.alloc(0), 'text/plain')).toBeUndefined();
    expect(parseJsonBody(Buffer.alloc(0), json)).toEqual({});
  });

  it('refuses other media types and charsets (415) naming application/json', () => {
    expect(refusal(() => parseJsonBody(Buffer.from('{}'), 'text/plain'))).toEqual({ status: 415, details: [{ field: 'body', reason: 'must be sent as application/json' }] });
    expect(refusal(() => parseJsonBody(Buffer.from('{}'), undefined)).status).toBe(415);
    expect(refusal(() => parseJsonBody(Buffer.from('{}'), 'application/json; charset=utf-16le'))).toEqual({ status: 415, details: [{ field: 'body', reason: 'must be UTF-8' }] });
  });

  it('refuses bytes that are not UTF-8 (415), not decoding them as U+FFFD', () => {
    for (const bad of [[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82]]) {
      const body = Buffer.concat([Buffer.from('{"a":"'), Buffer.from(bad), Buffer.from('"}')]);
      expect(refusal(() => parseJsonBody(body, json))).toEqual({ status: 415, details: [{ field: 'body', reason: 'is not valid UTF-8' }] });
    }
  });

  it('refuses malformed JSON and scalars (400)', () => {
    for (const text of ['{"a":', '"text"', '42', 'null', '{"a":1}x']) {
      expect(refusal(() => parseJsonBody(Buffer.from(text), json))).toEqual({ status: 400, details: [{ field: 'body', reason: 'is not valid JSON' }] });
    }
  });

  it(`refuses nesting deeper than ${MAX_JSON_DEPTH} levels (400) without recursing`, () => {
    const deep = (n: number, open: string, close: string) => open.repeat(n) + close.repeat(n);
    expect(parseJsonBody(Buffer.from(deep(MAX_JSON_DEPTH, '[', ']')), json)).toBeDefined();
    for (const text of [deep(MAX_JSON_DEPTH + 1, '[', ']'), '['.repeat(3000), '{"a":'.repeat(3000), deep(1_000_000, '[', ']')]) {
      expect(refusal(() => parseJsonBody(Buffer.from(text), json))).toEqual({
        status: 400,
        details: [{ field: 'body', reason: `nests deeper than ${MAX_JSON_DEPTH} levels` }],
      });
    }
  });
});

describe('jsonTextDepth', () => {
  it('counts brackets outside strings only', () => {
    expect(jsonTextDepth('{"a":[{"b":"[[[{{{"}]}')).toBe(3);
    expect(jsonTextDepth('["\\"[[[", []]')).toBe(2);
    expect(jsonTextDepth('["\\\\", [[]]]')).toBe(3);
    expect(jsonTextDepth('[[[[[[', 3)).toBe(4);
  });
});

describe('isDecompressionError', () => {
  it('recognises zlib errors only', () => {
    let zlibError: unknown;
    try {
      gunzipSync(Buffer.from('nope'));
    } catch (error) {
      zlibError = error;
    }
    expect(isDecompressionError(zlibError)).toBe(true);
    expect(isDecompressionError(new Error('x'))).toBe(false);
    expect(isDecompressionError(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(false);
  });
});
