import { classifyName, readDollar, scanString } from './placeholder-syntax';

describe('readDollar', () => {
  it('reads $$ as one escaped dollar', () => {
    expect(readDollar('a$$b', 1)).toEqual({ type: 'escaped-dollar', end: 3 });
  });

  it('reads a braced variable', () => {
    expect(readDollar('${run_name}!', 0)).toEqual({
      type: 'reference',
      reference: { kind: 'variable', name: 'run_name', raw: '${run_name}' },
      end: 11,
    });
  });

  it('reads a bare secret name greedily over [A-Z0-9_]', () => {
    expect(readDollar('$MY_TOKEN_2x', 0)).toEqual({
      type: 'reference',
      reference: { kind: 'secret', name: 'MY_TOKEN_2', raw: '$MY_TOKEN_2' },
      end: 11,
    });
  });

  it.each(['$', '$5', '$ x', '$x', '$_A', '$"', '$\\n'])('treats %j as a literal dollar', (text) => {
    expect(readDollar(text, 0)).toEqual({ type: 'literal-dollar', end: 1 });
  });

  it('reads a braced secret and ACCESS_TOKEN', () => {
    expect(readDollar('${ACCESS_TOKEN}', 0)).toMatchObject({ reference: { kind: 'secret', name: 'ACCESS_TOKEN' } });
    expect(readDollar('$ACCESS_TOKEN', 0)).toMatchObject({ reference: { kind: 'secret', name: 'ACCESS_TOKEN' } });
  });

  it.each(['${', '${}', '${ run_name }', '${run-name}', '${1abc}', '${run_name', '${artifact_metadata.}', '${a b}'])(
    'reports %j as malformed, consuming only the $',
    (text) => {
      const token = readDollar(text, 0);
      expect(token.type).toBe('malformed');
      expect(token.end).toBe(1);
    },
  );

  it('gives a malformed excerpt up to the closing brace', () => {
    expect(readDollar('x ${ oops } y', 2)).toEqual({ type: 'malformed', excerpt: '${ oops }', end: 3 });
  });

  it('stops a malformed excerpt before a quote or a line break', () => {
    expect(readDollar('"${ oops", "b": "}"', 1)).toMatchObject({ excerpt: '${ oops' });
    expect(readDollar('${ oops\nnext}', 0)).toMatchObject({ excerpt: '${ oops' });
  });

  it('shortens a long malformed excerpt with an ellipsis', () => {
    const token = readDollar(`\${ ${'x'.repeat(100)}}`, 0);
    expect(token).toMatchObject({ type: 'malformed', excerpt: `\${ ${'x'.repeat(37)}…` });
  });

  it('does not cut a surrogate pair when shortening an excerpt', () => {
    const token = readDollar(`\${ ${'x'.repeat(36)}😀tail`, 0);
    if (token.type !== 'malformed') throw new Error('expected malformed');
    expect(token.excerpt).toBe(`\${ ${'x'.repeat(36)}…`);
  });

  it('keeps a short malformed excerpt at the end of the text whole', () => {
    expect(readDollar('${ab', 0)).toMatchObject({ excerpt: '${ab' });
  });

  it('reports every malformed ${ of a text full of them, with bounded excerpts', () => {
    // Searching the rest of the text for a `}` after each `${` was quadratic (seconds here);
    // speed is for benchmarks, so this checks the bounded excerpts that make it linear.
    const text = '${'.repeat(200_000) + 'x'.repeat(1_600_000);
    const { malformed } = scanString(text);
    expect(malformed).toHaveLength(200_000);
    expect(malformed.every((excerpt) => excerpt.length <= 41)).toBe(true);
  });
});

describe('classifyName', () => {
  it.each([
    ['run_name', 'variable'],
    ['metric_value', 'variable'],
    ['artifact_metadata.val/loss', 'metadata'],
    ['artifact_metadata.eval.f1', 'metadata'],
    ['artifact_metadata.a-b_c', 'metadata'],
    ['artifact_metadata', 'unknown'],
    ['ACCESS_TOKEN', 'secret'],
    ['MY_SECRET', 'secret'],
    ['RUN_NAME', 'secret'],
    ['runName', 'unknown'],
    ['Run_name', 'unknown'],
    ['run_name.x', 'unknown'],
    ['constructor', 'unknown'],
    ['__proto__', 'unknown'],
    ['toString', 'unknown'],
  ])('classifies %s as %s', (name, kind) => {
    expect(classifyName(name).kind).toBe(kind);
  });

  it('writes the raw form as ${name} by default', () => {
    expect(classifyName('run_id').raw).toBe('${run_id}');
  });
});

describe('scanString', () => {
  it('returns one literal for text without $', () => {
    expect(scanString('plain')).toEqual({ parts: [{ type: 'literal', text: 'plain' }], malformed: [] });
  });

  it('returns no parts for an empty string', () => {
    expect(scanString('')).toEqual({ parts: [], malformed: [] });
  });

  it('splits text around references', () => {
    expect(scanString('run ${run_name} by $BOT!').parts).toEqual([
      { type: 'literal', text: 'run ' },
      { type: 'reference', reference: { kind: 'variable', name: 'run_name', raw: '${run_name}' } },
      { type: 'literal', text: ' by ' },
      { type: 'reference', reference: { kind: 'secret', name: 'BOT', raw: '$BOT' } },
      { type: 'literal', text: '!' },
    ]);
  });

  it('turns $$ into $ and keeps other dollars literal', () => {
    expect(scanString('$$5 and $5 and $$ $').parts).toEqual([{ type: 'literal', text: '$5 and $5 and $ $' }]);
  });

  it('reads $$$ followed by a name as a dollar and a reference', () => {
    expect(scanString('$$${run_id}').parts).toEqual([
      { type: 'literal', text: '$' },
      { type: 'reference', reference: { kind: 'variable', name: 'run_id', raw: '${run_id}' } },
    ]);
  });

  it('writes $${name} as a literal ${name}', () => {
    expect(scanString('$${run_name}').parts).toEqual([{ type: 'literal', text: '${run_name}' }]);
  });

  it('keeps a malformed ${ literal and reports it', () => {
    expect(scanString('a ${ b')).toEqual({ parts: [{ type: 'literal', text: 'a ${ b' }], malformed: ['${ b'] });
  });

  it('ends a bare secret name at the first character outside [A-Z0-9_]', () => {
    expect(scanString('$ABCdef').parts).toEqual([
      { type: 'reference', reference: { kind: 'secret', name: 'ABC', raw: '$ABC' } },
      { type: 'literal', text: 'def' },
    ]);
  });

  it('reads adjacent references', () => {
    expect(scanString('${run_id}${run_name}').parts.map((part) => part.type)).toEqual(['reference', 'reference']);
  });
});
