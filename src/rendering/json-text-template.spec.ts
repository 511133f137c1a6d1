import { compileJsonText, malformedReason } from './json-text-template';
import { MAX_TEMPLATE_DEPTH, PayloadTemplateError, type TemplateIssue, renderProgram } from './template-program';

/** Renders with every reference's value given by name. */
function render(text: string, values: Record<string, unknown>): string {
  return renderProgram(compileJsonText(text).program, (reference) => values[reference.name]);
}

function issueOf(text: string): TemplateIssue {
  try {
    compileJsonText(text);
  } catch (error) {
    if (error instanceof PayloadTemplateError) return error.issues[0];
    throw error;
  }
  throw new Error(`compiled: ${text}`);
}

describe('compileJsonText: accepted JSON', () => {
  it.each([
    '{}',
    '[]',
    '0',
    '-0.5e+10',
    '"text"',
    'true',
    'false',
    'null',
    ' \t\r\n{ "a" : [ 1 , 2 ] } \n',
    '{"a":{"b":[{"c":null}]}}',
    '"\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\uD83D\\uDE00"',
    '"é 😀 \u2028"',
  ])('renders %j unchanged', (text) => {
    expect(render(text, {})).toBe(text);
  });

  it('keeps the author layout around references', () => {
    expect(render('{\n  "x": ${metric_value},\n  "y": "${run_name}"\n}', { metric_value: 1.5, run_name: 'r' })).toBe(
      '{\n  "x": 1.5,\n  "y": "r"\n}',
    );
  });
});

describe('compileJsonText: references', () => {
  it('finds whole-value and in-string references with their paths and positions', () => {
    const { references } = compileJsonText('{\n  "a": ${metric_value},\n  "b": ["x ${run_name}", $TOKEN]\n}');
    expect(references).toEqual([
      {
        reference: { kind: 'variable', name: 'metric_value', raw: '${metric_value}' },
        mode: 'whole-value',
        path: ['a'],
        position: { line: 2, column: 8 },
      },
      {
        reference: { kind: 'variable', name: 'run_name', raw: '${run_name}' },
        mode: 'in-string',
        path: ['b', 0],
        position: { line: 3, column: 12 },
      },
      {
        reference: { kind: 'secret', name: 'TOKEN', raw: '$TOKEN' },
        mode: 'whole-value',
        path: ['b', 1],
        position: { line: 3, column: 26 },
      },
    ]);
  });

  it('inserts whole values as JSON and in-string values escaped', () => {
    const body = render('{"n": ${metric_value}, "s": "v=${metric_value}", "o": ${artifact_metadata.o}}', {
      metric_value: 0.18,
      'artifact_metadata.o': { k: ['"'] },
    });
    expect(JSON.parse(body)).toEqual({ n: 0.18, s: 'v=0.18', o: { k: ['"'] } });
  });

  it('accepts a reference as the whole template', () => {
    expect(render('${metric_value}', { metric_value: 3 })).toBe('3');
    expect(render(' $TOKEN ', { TOKEN: 'a"b' })).toBe(' "a\\"b" ');
  });

  it('never substitutes keys', () => {
    const compiled = compileJsonText('{"${run_name}": "$$", "$TOKEN": 1}');
    expect(compiled.references).toEqual([]);
    expect(renderProgram(compiled.program, () => 'X')).toBe('{"${run_name}": "$", "$TOKEN": 1}');
  });

  it('keeps literal dollars and turns $$ into $ inside strings', () => {
    expect(JSON.parse(render('"$5 $$ $a $ $${run_name}"', {}))).toBe('$5 $ $a $ ${run_name}');
    expect(JSON.parse(render('"$$${run_name}"', { run_name: 'r' }))).toBe('$r');
  });

  it('does not read an escaped \\u0024 as a reference', () => {
    const compiled = compileJsonText('"\\u0024{run_name}"');
    expect(compiled.references).toEqual([]);
    expect(JSON.parse(renderProgram(compiled.program, () => 'X'))).toBe('${run_name}');
  });

  it('keeps a malformed ${ in a string literal and reports where it is', () => {
    const compiled = compileJsonText('{\n "a": "x ${ nope }"}');
    expect(compiled.invalidPlaceholders).toEqual([
      { path: ['a'], reason: malformedReason('${ nope }'), position: { line: 2, column: 10 } },
    ]);
    expect(JSON.parse(renderProgram(compiled.program, () => null))).toEqual({ a: 'x ${ nope }' });
  });

  it('writes lone surrogates of values and keys as \\u escapes', () => {
    const body = render('{"k\ud800": "a\udc00b"}', {});
    expect(body).toBe('{"k\\ud800": "a\\udc00b"}');
    expect(JSON.parse(body)).toEqual({ 'k\ud800': 'a\udc00b' });
  });

  it('keeps surrogate pairs as they are', () => {
    expect(render('"😀"', {})).toBe('"😀"');
  });

  it('names the path of a reference under keys with odd characters', () => {
    expect(compileJsonText('{"a b": {"c\\"": ${run_id}}}').references[0].path).toEqual(['a b', 'c"']);
  });
});

describe('compileJsonText: errors', () => {
  it.each([
    ['', 'unexpected end of text, expected a JSON value', 1, 1],
    ['{"a": 1,}', "unexpected '}', expected a string key", 1, 9],
    ['{"a" 1}', "unexpected '1', expected ':'", 1, 6],
    ['{"a": 1 "b": 2}', "unexpected '\"', expected ',' or '}'", 1, 9],
    ['[1 2]', "unexpected '2', expected ',' or ']'", 1, 4],
    ['[1,]', "unexpected ']', expected a JSON value", 1, 4],
    ['{}\n  x', "unexpected 'x' after the JSON value", 2, 3],
    ['{\n"a": "abc', 'unterminated string', 2, 6],
    ['"a\nb"', 'control characters inside strings must be escaped', 1, 3],
    ['"\\x"', 'invalid escape sequence', 1, 2],
    ['"\\u12G4"', 'invalid escape sequence', 1, 2],
    ['-', 'invalid number', 1, 1],
    ['.5', "unexpected '.', expected a JSON value", 1, 1],
    ['01', "unexpected '1' after the JSON value", 1, 2],
    ['tru', "unexpected 't', expected a JSON value", 1, 1],
    ["{'a': 1}", "unexpected ''', expected a string key", 1, 2],
    ['{${run_name}: 1}', "unexpected '$', expected a string key (keys cannot be placeholders)", 1, 2],
    ['{"a": $$}', "unexpected '$': outside a string", 1, 7],
    ['{"a": $x}', "unexpected '$': outside a string", 1, 7],
    ['{"a": ${ x }}', "'${ x }' is not a valid reference", 1, 7],
    ['\ufeff{}', "unexpected '\ufeff', expected a JSON value", 1, 1],
    ['{"a":\u0001}', 'unexpected character U+0001', 1, 6],
    ['{"a": ${run_name}x}', "unexpected 'x', expected ',' or '}'", 1, 18],
  ])('refuses %j: %s at %i:%i', (text, reason, line, column) => {
    const issue = issueOf(text);
    expect(issue.reason).toContain(`not valid JSON text: ${reason}`);
    expect(issue.position).toEqual({ line, column });
  });

  it('names the path of the value where parsing stopped', () => {
    expect(issueOf('{"a": {"b": [1, tru]}}').path).toEqual(['a', 'b', 1]);
  });

  it(`accepts ${MAX_TEMPLATE_DEPTH} nested levels and refuses one more`, () => {
    const nest = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
    expect(() => compileJsonText(nest(MAX_TEMPLATE_DEPTH))).not.toThrow();
    expect(issueOf(nest(MAX_TEMPLATE_DEPTH + 1)).reason).toContain(`nests deeper than ${MAX_TEMPLATE_DEPTH} levels`);
    const objects = (levels: number) => '{"a":'.repeat(levels - 1) + '{}' + '}'.repeat(levels - 1);
    expect(() => compileJsonText(objects(MAX_TEMPLATE_DEPTH))).not.toThrow();
    expect(issueOf(objects(MAX_TEMPLATE_DEPTH + 1)).position).toEqual({ line: 1, column: 5 * MAX_TEMPLATE_DEPTH + 1 });
  });

  it('refuses very deep nesting without overflowing the stack', () => {
    expect(issueOf('['.repeat(100_000)).reason).toContain('nests deeper');
  });
});
