import type { Reference } from './placeholder-syntax';
import {
  PayloadTemplateError,
  TemplateProgramBuilder,
  escapeStringContent,
  renderProgram,
  valueAsJson,
  valueAsText,
} from './template-program';

const runName: Reference = { kind: 'variable', name: 'run_name', raw: '${run_name}' };
const secret: Reference = { kind: 'secret', name: 'MY_SECRET', raw: '$MY_SECRET' };

describe('valueAsText', () => {
  it.each([
    [null, ''],
    [undefined, ''],
    ['', ''],
    ['a"b', 'a"b'],
    [0.18, '0.18'],
    [-0, '0'],
    [1e21, '1e+21'],
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    [Number.NEGATIVE_INFINITY, '-Infinity'],
    [true, 'true'],
    [false, 'false'],
    [{ a: [1, 'x'] }, '{"a":[1,"x"]}'],
    [[], '[]'],
  ])('writes %p as %j', (value, text) => {
    expect(valueAsText(value)).toBe(text);
  });
});

describe('valueAsJson', () => {
  it.each([
    [null, 'null'],
    [undefined, 'null'],
    [0.18, '0.18'],
    [-3, '-3'],
    [Number.NaN, '"NaN"'],
    [Number.POSITIVE_INFINITY, '"Infinity"'],
    [Number.NEGATIVE_INFINITY, '"-Infinity"'],
    ['a"b\n', '"a\\"b\\n"'],
    [true, 'true'],
    [{ a: null }, '{"a":null}'],
    [() => 1, 'null'],
  ])('writes %p as %s', (value, json) => {
    expect(valueAsJson(value)).toBe(json);
  });

  it('doubles dollars in string values, not keys, when deferred', () => {
    expect(valueAsJson({ $KEY: ['$A', 'b$'], n: 1 }, true)).toBe('{"$KEY":["$$A","b$$"],"n":1}');
    expect(valueAsJson('$X', true)).toBe('"$$X"');
  });
});

describe('escapeStringContent', () => {
  it.each([
    ['plain', 'plain'],
    ['"', '\\"'],
    ['\\', '\\\\'],
    ['\n\r\t', '\\n\\r\\t'],
    ['\u0000\u001f', '\\u0000\\u001f'],
    ['\ud800', '\\ud800'],
    ['😀', '😀'],
    ['\u2028', '\u2028'],
  ])('escapes %j', (text, escaped) => {
    expect(escapeStringContent(text)).toBe(escaped);
  });
});

describe('renderProgram', () => {
  function program(): ReturnType<TemplateProgramBuilder['build']> {
    const builder = new TemplateProgramBuilder();
    builder.structure('{"a":"');
    builder.stringContent('cost $5 ');
    builder.hole(runName, 'in-string');
    builder.structure('","b":');
    builder.hole(runName, 'whole-value');
    builder.structure(',"c":"');
    builder.hole(secret, 'in-string');
    builder.structure('"}');
    return builder.build();
  }

  it('keeps one more literal than holes', () => {
    const built = program();
    expect(built.literals).toHaveLength(built.holes.length + 1);
    expect(built.deferredLiterals).toHaveLength(built.holes.length + 1);
  });

  it('inserts values escaped in strings and as JSON as whole values', () => {
    const body = renderProgram(program(), (reference) => (reference.kind === 'secret' ? 's"' : 'x"y'));
    expect(JSON.parse(body)).toEqual({ a: 'cost $5 x"y', b: 'x"y', c: 's"' });
  });

  it('renders null and undefined as empty in strings and null as whole values', () => {
    expect(JSON.parse(renderProgram(program(), () => undefined))).toEqual({ a: 'cost $5 ', b: null, c: '' });
  });

  it('keeps secret references and doubles other dollars when deferring', () => {
    const body = renderProgram(program(), () => '$V', true);
    expect(body).toBe('{"a":"cost $$5 $$V","b":"$$V","c":"${MY_SECRET}"}');
  });

  it('never asks for a secret value when deferring', () => {
    const valueOf = jest.fn((reference: Reference) => (reference.kind === 'secret' ? 'leak' : 'v'));
    expect(renderProgram(program(), valueOf, true)).not.toContain('leak');
  });
});

describe('PayloadTemplateError', () => {
  it('joins the reasons in its message and keeps the issues', () => {
    const error = new PayloadTemplateError([
      { path: ['a'], reason: 'one' },
      { path: [], reason: 'two' },
    ]);
    expect(error.message).toBe('Invalid payload template: one; two');
    expect(error.issues).toHaveLength(2);
    expect(error.name).toBe('PayloadTemplateError');
    expect(error).toBeInstanceOf(Error);
  });
});
