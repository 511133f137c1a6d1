import { type SecretLookup, compileTemplate, resolveDeferredSecrets } from './payload-template';
import type { PayloadVariables } from './render-context';

/**
 * Property-style checks of the renderer over random values and templates. A fixed seed keeps
 * every run the same; a failure prints the seed and iteration to replay.
 */

const RUNS = 400;

/** xorshift32: small, seeded, good enough to pick test inputs. */
class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 1;
  }

  next(): number {
    let x = this.state;
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 0x1_0000_0000;
  }

  int(below: number): number {
    return Math.floor(this.next() * below);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
}

// What values and templates are made of: everything JSON must escape, every `$` form, and
// unicode of every width, lone surrogates included.
const PIECES = [
  'abc',
  ' ',
  'A',
  '_',
  '5',
  '"',
  '\\',
  '\\"',
  '\n',
  '\r\n',
  '\t',
  '\u0000',
  '\u0001',
  '\u001f',
  '\u007f',
  '/',
  '{',
  '}',
  '$',
  '$$',
  '$$$',
  '${',
  '${run_name}',
  '${alert_text}',
  '${metric_value}',
  '${artifact_metadata.k}',
  '${artifact_metadata.constructor}',
  '${nope}',
  '${ run_name }',
  '$TOKEN',
  '$MY_SECRET',
  '${MY_SECRET}',
  '${ACCESS_TOKEN}',
  '\\u0024{run_name}',
  'é',
  '中文',
  '😀',
  '𝄞',
  '\ud800',
  '\udbff',
  '\udc00',
  '\u2028',
  '\u2029',
  '\ufeff',
  '\uffff',
];

function randomString(random: Random): string {
  const length = random.int(8);
  let out = '';
  for (let i = 0; i < length; i++) out += random.pick(PIECES);
  // Now and then a very long value.
  if (random.int(40) === 0) out += random.pick(PIECES).repeat(2000 + random.int(8000));
  return out;
}

const NUMBERS = [0, 1, -1, 0.18, -2.5e-8, 1e21, 1e300, 5e-324, Number.MAX_SAFE_INTEGER, Number.NaN, Infinity, -Infinity];

function randomNumber(random: Random): number {
  return random.int(3) === 0 ? random.pick(NUMBERS) : (random.next() - 0.5) * 10 ** random.int(30);
}

/** A value JSON can carry (as event metadata is), of every shape. */
function randomJson(random: Random, depth = 0): unknown {
  const kind = random.int(depth > 4 ? 4 : 6);
  if (kind === 0) return null;
  if (kind === 1) return random.int(2) === 0;
  if (kind === 2) return JSON.parse(JSON.stringify(randomNumber(random))) as unknown; // non-finite → null, -0 → 0
  if (kind === 3) return randomString(random);
  if (kind === 4) return Array.from({ length: random.int(4) }, () => randomJson(random, depth + 1));
  const object: Record<string, unknown> = {};
  for (let i = random.int(4); i > 0; i--) object[randomString(random)] = randomJson(random, depth + 1);
  return object;
}

function randomVariables(random: Random): PayloadVariables {
  const metadata = { k: randomJson(random) };
  return {
    event_type: 'ALERT',
    event_id: randomString(random),
    event_author: null,
    timestamp: '2026-11-22T08:00:00.000Z',
    project_name: 'p',
    entity_name: 't',
    automation_name: randomString(random),
    delivery_id: 'msg_1',
    run_id: null,
    run_name: randomString(random),
    run_state: null,
    run_url: null,
    run_group: null,
    run_tags: null,
    run_config: null,
    group_runs_total: null,
    group_runs_finished: null,
    group_runs_failed: null,
    run_last_seen: null,
    stale_seconds: null,
    metric_name: null,
    metric_value: random.int(5) === 0 ? null : randomNumber(random),
    metric_threshold: null,
    metric_change: null,
    metric_zscore: null,
    metric_step: null,
    log_line: null,
    alert_title: null,
    alert_text: random.int(4) === 0 ? null : randomString(random),
    alert_level: null,
    alias: null,
    tag: null,
    artifact_collection_name: null,
    collection_type: null,
    artifact_version: null,
    artifact_version_string: null,
    artifact_metadata: metadata,
    webhook_id: null,
    webhook_name: null,
    disabled_reason: null,
    attempts: null,
    status_code: null,
    error: null,
  };
}

/** Every secret name has a value, itself full of `$`, quotes and references. */
function randomSecrets(random: Random): SecretLookup {
  const values = new Map<string, string>();
  return (name) => {
    if (!values.has(name)) values.set(name, randomString(random));
    return values.get(name);
  };
}

function forEachRun(seed: number, check: (random: Random, run: number) => void): void {
  const random = new Random(seed);
  for (let run = 0; run < RUNS; run++) {
    try {
      check(random, run);
    } catch (error) {
      throw new Error(`seed ${seed}, run ${run}: ${(error as Error).message}`);
    }
  }
}

// A lone surrogate in a body would not survive UTF-8 encoding; the renderer writes \uDXXX.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function expectValidBody(body: string): unknown {
  expect(LONE_SURROGATE.test(body)).toBe(false);
  return JSON.parse(body);
}

/** The text of a value inside a string, written independently of the renderer. */
function textOf(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** The whole JSON value a `${…}` stands for. */
function jsonOf(value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return value ?? null;
}

/**
 * What a template string renders to, by a regex over the rendering rules (docs/design.md › Payload rendering): `$$` is `$`, `${name}`
 * and `$NAME` are references, any other `$` literal; unknown names are empty.
 */
function expectedText(template: string, vars: PayloadVariables, secrets: SecretLookup): string {
  return template.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_./-]+)?)\}|\$([A-Z][A-Z0-9_]*)/g,
    (match, braced: string | undefined, bare: string | undefined) => {
      if (match === '$$') return '$';
      const name = braced ?? bare ?? '';
      if (/^[A-Z][A-Z0-9_]*$/.test(name)) return secrets(name) ?? '';
      if (name === 'artifact_metadata.k') return textOf(vars.artifact_metadata?.k);
      return textOf(Object.hasOwn(vars, name) && name !== 'artifact_metadata' ? vars[name as keyof PayloadVariables] : null);
    },
  );
}

describe('rendering random values', () => {
  it('renders any string value into valid JSON that parses back to the value', () => {
    forEachRun(1, (random) => {
      const vars = randomVariables(random);
      const secrets = randomSecrets(random);
      const objectBody = compileTemplate({ a: '${run_name}', b: ['<${alert_text}>'] }).render(vars, secrets);
      expect(expectValidBody(objectBody)).toEqual({ a: vars.run_name, b: [`<${vars.alert_text ?? ''}>`] });
      const textBody = compileTemplate('{"a": "${run_name}", "w": ${run_name}, "b": ["<${alert_text}>", ${alert_text}]}').render(
        vars,
        secrets,
      );
      expect(expectValidBody(textBody)).toEqual({
        a: vars.run_name,
        w: vars.run_name,
        b: [`<${vars.alert_text ?? ''}>`, vars.alert_text],
      });
    });
  });

  it('inserts numbers, non-finite numbers and null as whole values and as text', () => {
    forEachRun(2, (random) => {
      const vars = randomVariables(random);
      const value = vars.metric_value;
      const body = compileTemplate('{"n": ${metric_value}, "s": "${metric_value}"}').render(vars, randomSecrets(random));
      const parsed = expectValidBody(body) as { n: unknown; s: string };
      expect(parsed.n).toEqual(jsonOf(value));
      expect(parsed.s).toBe(textOf(value));
      expect(expectValidBody(compileTemplate({ s: '${metric_value}' }).render(vars, randomSecrets(random)))).toEqual({
        s: textOf(value),
      });
    });
  });

  it('inserts metadata values of every JSON shape', () => {
    forEachRun(3, (random) => {
      const vars = randomVariables(random);
      const metadata = vars.artifact_metadata?.k;
      const body = compileTemplate('{"m": ${artifact_metadata.k}, "s": "${artifact_metadata.k}", "p": ${artifact_metadata.constructor}}').render(
        vars,
        randomSecrets(random),
      );
      expect(expectValidBody(body)).toEqual({ m: metadata, s: textOf(metadata), p: null });
    });
  });
});

describe('rendering random templates', () => {
  interface RandomTemplate {
    a: string;
    list: [string, number, null, { b: string }];
    keys: Record<string, string>;
  }

  function randomTemplate(random: Random): RandomTemplate {
    return {
      a: randomString(random),
      list: [randomString(random), 1, null, { b: randomString(random) }],
      keys: { [randomString(random)]: '$$' },
    };
  }

  it('renders object templates by the rules, into valid JSON', () => {
    forEachRun(4, (random) => {
      const template = randomTemplate(random);
      const vars = randomVariables(random);
      const secrets = randomSecrets(random);
      const [key] = Object.keys(template.keys);
      const expected = {
        a: expectedText(template.a, vars, secrets),
        list: [expectedText(template.list[0], vars, secrets), 1, null, { b: expectedText(template.list[3].b, vars, secrets) }],
        keys: { [key]: '$' },
      };
      expect(expectValidBody(compileTemplate(template).render(vars, secrets))).toEqual(expected);
    });
  });

  it('renders a template written as JSON text like the same template as an object', () => {
    forEachRun(5, (random) => {
      const template = randomTemplate(random);
      const vars = randomVariables(random);
      const secrets = randomSecrets(random);
      const asObject = compileTemplate(template).render(vars, secrets);
      const asText = compileTemplate(JSON.stringify(template, null, random.int(3))).render(vars, secrets);
      expect(expectValidBody(asText)).toEqual(JSON.parse(asObject));
    });
  });
});

describe('two-phase rendering', () => {
  const TEXT_TEMPLATES = [
    '{"a": "${run_name} $MY_SECRET", "b": ${run_name}, "c": ${ACCESS_TOKEN}, "d": ${artifact_metadata.k}, "e": ${metric_value}}',
    '["$$ ${alert_text} $5 $TOKEN", $TOKEN, {"$k": "${MY_SECRET}${run_name}$$"}]',
    '"${MY_SECRET}"',
    '$MY_SECRET',
  ];

  it('gives the body the one-phase render gives', () => {
    forEachRun(6, (random) => {
      const vars = randomVariables(random);
      const secrets = randomSecrets(random);
      const template =
        random.int(2) === 0
          ? random.pick(TEXT_TEMPLATES)
          : { a: randomString(random), [randomString(random)]: [randomString(random)] };
      const compiled = compileTemplate(template);
      const oneBody = compiled.render(vars, secrets);
      const deferred = compiled.renderDeferringSecrets(vars);
      expect(resolveDeferredSecrets(deferred, secrets)).toBe(oneBody);
    });
  });

  it('never resolves a secret named inside a value', () => {
    forEachRun(7, (random) => {
      const vars = randomVariables(random);
      const noSecret: SecretLookup = (name) => {
        throw new Error(`looked up ${name}`);
      };
      const compiled = compileTemplate('{"a": "${run_name}", "b": ${alert_text}, "c": ${artifact_metadata.k}}');
      const body = resolveDeferredSecrets(compiled.renderDeferringSecrets(vars), noSecret);
      expect(body).toBe(compiled.render(vars, noSecret));
    });
  });

  it('resolves bodies with deeply nested metadata', () => {
    forEachRun(8, (random) => {
      let deep: unknown = randomString(random);
      for (let level = random.int(300); level > 0; level--) deep = random.int(2) === 0 ? [deep] : { [randomString(random)]: deep };
      const vars = randomVariables(random);
      vars.artifact_metadata = { k: deep };
      const secrets = randomSecrets(random);
      const compiled = compileTemplate('{"d": ${artifact_metadata.k}, "s": "$MY_SECRET"}');
      expect(resolveDeferredSecrets(compiled.renderDeferringSecrets(vars), secrets)).toBe(compiled.render(vars, secrets));
    });
  });
});
