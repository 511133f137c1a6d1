import { compileSafeRegex } from '../common/safe-regex';
import { MAX_REMEMBERED_ANSWERS, literalPattern, sharedRegex } from './pattern-cache';

const PATTERNS = [
  '',
  '^',
  '$',
  '^$',
  'prod',
  '^prod$',
  '^prod',
  'prod$',
  '^bert-',
  'lora$',
  'CUDA out of memory',
  'a/b:c@d#e%f&g=h,i;j<k>l!m~n`o"p\'q',
  '^(prod|production)$',
  'lr\\d',
  'a.b',
  'a+',
  '(?i)nan',
  '^v[0-9]+$',
  'é',
  '^é$',
  'a$b',
  'a^b',
  '\\^prod',
];
const INPUTS = [
  '',
  'prod',
  'production',
  'preprod',
  'prod\n',
  '\nprod',
  'PROD',
  'bert-base-lr3e-4',
  'llama-lora',
  'RuntimeError: CUDA out of memory. Tried',
  'a/b:c@d#e%f&g=h,i;j<k>l!m~n`o"p\'q',
  'lr3',
  'axb',
  'aaa',
  'NaN loss',
  'v12',
  'é',
  'e\u0301',
  'prod\ud800',
  '\ud800prod',
  'a$b',
  'a^b',
  '^prod',
];

describe('literalPattern', () => {
  it('turns plain ASCII text, optionally anchored, into a string test', () => {
    for (const pattern of ['', '^', '$', '^$', 'prod', '^prod$', '^prod', 'prod$', 'CUDA out of memory', 'a/b-c_d:e']) {
      expect(literalPattern(pattern)?.source).toBe(pattern);
    }
  });

  it('leaves anything with regex syntax or outside printable ASCII to RE2', () => {
    for (const pattern of ['^(prod|production)$', 'lr\\d', 'a.b', 'a+', 'a?', 'a*', '[ab]', 'a{2}', 'a|b', '(?i)nan', 'a$b', 'a^b', '\\^prod', 'é', 'a\tb']) {
      expect(literalPattern(pattern)).toBeNull();
    }
  });
});

describe('sharedRegex', () => {
  it('answers exactly as the pattern compiled with RE2 does', () => {
    for (const pattern of PATTERNS) {
      const reference = compileSafeRegex(pattern);
      const shared = sharedRegex(pattern);
      expect(shared.ok).toBe(reference.ok);
      if (!reference.ok || !shared.ok) continue;
      expect(shared.regex.source).toBe(pattern);
      for (const input of INPUTS) {
        // Twice: the second answer may come from the remembered last input.
        expect([pattern, input, shared.regex.test(input)]).toEqual([pattern, input, reference.regex.test(input)]);
        expect([pattern, input, shared.regex.test(input)]).toEqual([pattern, input, reference.regex.test(input)]);
      }
    }
  });

  it('shares one compiled regex per pattern', () => {
    const first = sharedRegex('^shared-(a|b)$');
    const second = sharedRegex('^shared-(a|b)$');
    expect(first.ok && second.ok && first.regex === second.regex).toBe(true);
  });

  it('refuses what compileSafeRegex refuses, with its reason', () => {
    for (const pattern of ['(?=lookahead)', '(a)\\1', '[unclosed', 'x'.repeat(1025)]) {
      const reference = compileSafeRegex(pattern);
      expect(reference.ok).toBe(false);
      expect(sharedRegex(pattern)).toEqual(reference);
    }
  });

  it('remembers answers for many inputs, past its overall budget too, always as RE2 answers', () => {
    const pattern = '^run-(\\d+)-(a|b)$';
    const compiled = sharedRegex(pattern);
    const reference = compileSafeRegex(pattern);
    if (!compiled.ok || !reference.ok) throw new Error('pattern refused');
    // More distinct inputs than MAX_REMEMBERED_ANSWERS, each asked twice (the second from memory
    // unless a new generation began in between), and inputs too long to remember.
    for (let i = 0; i < MAX_REMEMBERED_ANSWERS + 1000; i += 7) {
      for (const input of [`run-${i}-a`, `run-${i}-c`, `run-${i}-b${'x'.repeat(i % 300)}`]) {
        expect(compiled.regex.test(input)).toBe(reference.regex.test(input));
        expect(compiled.regex.test(input)).toBe(reference.regex.test(input));
      }
    }
  });

  it('remembers only the last input, so alternating inputs still get their own answers', () => {
    const compiled = sharedRegex('^(x|y)\\d$');
    if (!compiled.ok) throw new Error('pattern refused');
    const answers = ['x1', 'z1', 'x1', 'y2', 'y2', 'yy'].map((input) => compiled.regex.test(input));
    expect(answers).toEqual([true, false, true, true, true, false]);
  });
});
