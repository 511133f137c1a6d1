import { REDACTED } from '../common/logging/redactor';
import {
  BodyTooLargeError,
  MAX_TEMPLATE_PROBLEMS,
  PayloadTemplateError,
  type SecretLookup,
  type TemplateValidation,
  UnresolvedSecretError,
  compileTemplate,
  formatPath,
  maskedSecrets,
  renderTemplate,
  resolveDeferredSecrets,
  validateTemplate,
} from './payload-template';
import type { PayloadVariables } from './render-context';
import { MAX_TEMPLATE_DEPTH } from './template-program';

function variables(overrides: Partial<PayloadVariables> = {}): PayloadVariables {
  return {
    event_type: 'RUN_METRICS',
    event_id: 'evt_1',
    event_author: 'alice',
    timestamp: '2026-11-22T08:00:00.000Z',
    project_name: 'llm-finetune',
    entity_name: 'default',
    automation_name: 'loss-alert',
    delivery_id: 'msg_1',
    run_id: 'r42',
    run_name: 'bert-base',
    run_state: 'RUNNING',
    run_url: null,
    run_group: 'sweep-7',
    run_tags: 'a,b',
    run_config: { lr: 0.001, 'opt.name': 'adam' },
    group_runs_total: null,
    group_runs_finished: null,
    group_runs_failed: null,
    run_last_seen: null,
    stale_seconds: null,
    metric_name: 'val/loss',
    metric_value: 0.18,
    metric_threshold: 0.2,
    metric_change: null,
    metric_zscore: null,
    metric_step: 1200,
    log_line: null,
    alert_title: null,
    alert_text: null,
    alert_level: null,
    alias: null,
    tag: null,
    artifact_collection_name: null,
    collection_type: null,
    artifact_version: null,
    artifact_version_string: null,
    artifact_metadata: null,
    webhook_id: null,
    webhook_name: null,
    disabled_reason: null,
    attempts: null,
    status_code: null,
    error: null,
    ...overrides,
  };
}

const SECRETS: Record<string, string> = { MY_SECRET: 's3cr"t\\', ACCESS_TOKEN: 'tok$en', TOKEN: 'T' };
const lookup: SecretLookup = (name) => SECRETS[name];

function renderJson(template: unknown, vars = variables(), secrets = lookup): unknown {
  return JSON.parse(compileTemplate(template).render(vars, secrets));
}

function twoPhase(template: unknown, vars = variables(), secrets = lookup): string {
  return resolveDeferredSecrets(compileTemplate(template).renderDeferringSecrets(vars), secrets);
}

function problemsOf(result: TemplateValidation): { field: string; reason: string }[] {
  if (result.ok) throw new Error('expected problems');
  return result.problems;
}

describe('compileTemplate', () => {
  it('compiles objects and arrays in object form and strings in text form', () => {
    expect(compileTemplate({}).form).toBe('object');
    expect(compileTemplate([]).form).toBe('object');
    expect(compileTemplate(Object.create(null)).form).toBe('object');
    expect(compileTemplate('{}').form).toBe('text');
  });

  it.each([null, 1, true, undefined, new Date(0), new Map()])('refuses %p as a template', (template) => {
    expect(() => compileTemplate(template)).toThrow(PayloadTemplateError);
  });

  it('renders an object template without references as JSON.stringify would', () => {
    const template = { a: [1, -0.5, true, null, { b: 'é "q" \n' }], 'c d': {}, e: [] };
    expect(compileTemplate(template).render(variables(), lookup)).toBe(JSON.stringify(template));
  });

  it('skips undefined properties as JSON.stringify does', () => {
    expect(compileTemplate({ a: undefined, b: 1 }).render(variables(), lookup)).toBe('{"b":1}');
  });

  it.each([
    [{ a: Number.NaN }, 'a', 'NaN is not a JSON number'],
    [{ a: [1, undefined] }, 'a[1]', 'undefined is not a JSON value'],
    [{ a: () => 1 }, 'a', 'function is not a JSON value'],
    [{ a: new Date(0) }, 'a', 'object is not a JSON value'],
    [{ a: BigInt(1) }, 'a', 'bigint is not a JSON value'],
    [{ a: [1, , 3] }, 'a', 'is a sparse array'],
  ])('refuses %p at %s', (template, field, reason) => {
    expect(problemsOf(validateTemplate(template, { secrets: [] }))).toEqual([{ field: `payload.${field}`, reason }]);
  });

  it('reports every non-JSON value of an object template', () => {
    expect(() => compileTemplate({ a: Number.NaN, b: [Number.POSITIVE_INFINITY] })).toThrow(
      'Invalid payload template: NaN is not a JSON number; Infinity is not a JSON number',
    );
  });

  it(`accepts ${MAX_TEMPLATE_DEPTH} nested containers in an object template and refuses more`, () => {
    const nest = (levels: number): unknown => (levels === 1 ? {} : { a: nest(levels - 1) });
    expect(() => compileTemplate(nest(MAX_TEMPLATE_DEPTH))).not.toThrow();
    const problems = problemsOf(validateTemplate(nest(MAX_TEMPLATE_DEPTH + 1), { secrets: [] }));
    expect(problems).toEqual([{ field: `payload${'.a'.repeat(MAX_TEMPLATE_DEPTH)}`, reason: `nests deeper than ${MAX_TEMPLATE_DEPTH} levels` }]);
  });

  it('lists used variables and secrets once each, in order of first use', () => {
    const compiled = compileTemplate({
      a: '${run_name} $TOKEN ${artifact_metadata.k}',
      b: ['${run_name}', '${ACCESS_TOKEN}', '${nope}', '$TOKEN'],
    });
    expect(compiled.usedVariables).toEqual(['run_name', 'artifact_metadata.k']);
    expect(compiled.usedSecrets).toEqual(['TOKEN', 'ACCESS_TOKEN']);
  });
});

describe('render: values', () => {
  it('keeps every string a string in an object template', () => {
    expect(renderJson({ x: '${metric_value}', s: '${metric_step}', t: 'step ${metric_step}' })).toEqual({
      x: '0.18',
      s: '1200',
      t: 'step 1200',
    });
  });

  it('inserts a whole value of a JSON-text template as its JSON value', () => {
    expect(renderJson('{"x": ${metric_value}, "s": ${metric_step}, "n": ${run_name}, "q": "${metric_value}"}')).toEqual({
      x: 0.18,
      s: 1200,
      n: 'bert-base',
      q: '0.18',
    });
  });

  it.each([
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    [Number.NEGATIVE_INFINITY, '-Infinity'],
  ])('writes the non-finite %p as the string %s', (value, text) => {
    const vars = variables({ metric_value: value });
    expect(renderJson('{"x": ${metric_value}, "y": "${metric_value}"}', vars)).toEqual({ x: text, y: text });
    expect(renderJson({ y: '${metric_value}' }, vars)).toEqual({ y: text });
  });

  it('renders a variable that does not apply as "" in a string and null as a whole value', () => {
    const vars = variables({ alias: null });
    expect(renderJson('{"a": ${alias}, "b": "[${alias}]"}', vars)).toEqual({ a: null, b: '[]' });
    expect(renderJson({ b: '[${alias}]', c: '${alias}' }, vars)).toEqual({ b: '[]', c: '' });
  });

  it('renders an unknown name like a variable that does not apply', () => {
    expect(renderJson('{"a": ${nope}, "b": "x${nope}"}')).toEqual({ a: null, b: 'x' });
  });

  it('JSON-escapes inserted values', () => {
    const vars = variables({ run_name: 'a"b\\c\nd\u0001\u2028' });
    expect(renderJson({ v: '<${run_name}>' }, vars)).toEqual({ v: '<a"b\\c\nd\u0001\u2028>' });
    expect(renderJson('{"v": "<${run_name}>", "w": ${run_name}}', vars)).toEqual({
      v: '<a"b\\c\nd\u0001\u2028>',
      w: 'a"b\\c\nd\u0001\u2028',
    });
  });

  it('writes lone surrogates as \\u escapes that parse back to the same string', () => {
    const vars = variables({ run_name: 'a\ud800b\udc00😀' });
    for (const template of [{ v: '${run_name}' }, '{"v": "${run_name}"}', '{"v": ${run_name}}']) {
      const body = compileTemplate(template).render(vars, lookup);
      expect(body).toContain('a\\ud800b\\udc00😀');
      expect(JSON.parse(body)).toEqual({ v: 'a\ud800b\udc00😀' });
    }
  });

  it('never expands an inserted value again', () => {
    const vars = variables({ run_name: '${MY_SECRET} $TOKEN $$ ${run_id}' });
    expect(renderJson({ v: '${run_name}' }, vars)).toEqual({ v: '${MY_SECRET} $TOKEN $$ ${run_id}' });
    expect(renderJson('[${run_name}, "${run_name}"]', vars)).toEqual([
      '${MY_SECRET} $TOKEN $$ ${run_id}',
      '${MY_SECRET} $TOKEN $$ ${run_id}',
    ]);
  });

  it('never substitutes object keys', () => {
    expect(renderJson({ '${run_name}': '${run_name}', $TOKEN: '$$', '$$': 1 })).toEqual({
      '${run_name}': 'bert-base',
      $TOKEN: '$',
      '$$': 1,
    });
  });

  it('reads $$ as $ and any $ not starting a reference as literal', () => {
    expect(renderJson({ v: 'cost $5, $$TOKEN, $x, $, $${run_name}' })).toEqual({ v: 'cost $5, $TOKEN, $x, $, ${run_name}' });
  });

  it('keeps a malformed ${ literally when rendering', () => {
    expect(renderJson({ v: '${ run_name }' })).toEqual({ v: '${ run_name }' });
  });
});

describe('render: secrets', () => {
  it('resolves ${NAME} and $NAME, escaping their values', () => {
    expect(renderJson({ a: '${MY_SECRET}', b: 'Bearer $ACCESS_TOKEN!' })).toEqual({ a: 's3cr"t\\', b: 'Bearer tok$en!' });
    expect(renderJson('{"a": $MY_SECRET, "b": ${TOKEN}}')).toEqual({ a: 's3cr"t\\', b: 'T' });
  });

  it('does not expand a secret value', () => {
    expect(renderJson({ a: '$ACCESS_TOKEN' }, variables(), (name) => (name === 'ACCESS_TOKEN' ? '${MY_SECRET}' : 'x'))).toEqual({
      a: '${MY_SECRET}',
    });
  });

  it('ends a bare secret name at the first character outside [A-Z0-9_]', () => {
    expect(renderJson({ a: '$TOKENs' })).toEqual({ a: 'Ts' });
  });

  it('throws UnresolvedSecretError naming a secret without a value', () => {
    const compiled = compileTemplate({ a: 'x $GONE' });
    expect(() => compiled.render(variables(), lookup)).toThrow(UnresolvedSecretError);
    try {
      compiled.render(variables(), lookup);
    } catch (error) {
      expect((error as UnresolvedSecretError).secretName).toBe('GONE');
      expect((error as Error).message).toBe('Secret GONE is not bound to the webhook');
    }
  });

  it('masks every secret with maskedSecrets', () => {
    expect(maskedSecrets('ANY')).toBe(REDACTED);
    expect(renderJson({ a: '$MY_SECRET', b: '${ACCESS_TOKEN}' }, variables(), maskedSecrets)).toEqual({ a: '••••••', b: '••••••' });
  });

  it('renders in one call with renderTemplate', () => {
    expect(JSON.parse(renderTemplate({ a: '${run_id}' }, variables(), lookup))).toEqual({ a: 'r42' });
  });
});

describe('render: run context', () => {
  it('inserts run_group, run_tags and a top-level key of run_config', () => {
    expect(renderJson('[${run_group}, ${run_tags}, ${run_config.lr}, ${run_config.opt.name}, ${run_config.x}]')).toEqual(['sweep-7', 'a,b', 0.001, 'adam', null]);
    expect(renderJson({ t: 'lr=${run_config.lr}' })).toEqual({ t: 'lr=0.001' });
    expect(renderJson('[${run_config.constructor}]', variables({ run_config: null }))).toEqual([null]);
  });

  it('accepts run_config.<KEY> at save and points a bare run_config to a key', () => {
    expect(validateTemplate({ a: '${run_config.lr}' }, { secrets: [] }, 'action.payload').ok).toBe(true);
    const problems = problemsOf(validateTemplate({ a: '${run_config}' }, { secrets: [] }, 'action.payload'));
    expect(problems[0].reason).toContain('(name a key: ${run_config.<KEY>})');
  });
});

describe('render: artifact metadata', () => {
  const metadata = JSON.parse(
    '{"val/loss": 0.2, "eval.f1": "0.9", "nested": {"a": [1, {"b": null}]}, "list": [true, "x"], "flag": false, "none": null, "__proto__": {"own": 1}}',
  ) as Record<string, unknown>;
  const vars = variables({ artifact_metadata: metadata });

  it('inserts a top-level key of every JSON shape as a whole value', () => {
    expect(
      renderJson(
        '[${artifact_metadata.val/loss}, ${artifact_metadata.eval.f1}, ${artifact_metadata.nested}, ${artifact_metadata.list}, ${artifact_metadata.flag}, ${artifact_metadata.none}]',
        vars,
      ),
    ).toEqual([0.2, '0.9', { a: [1, { b: null }] }, [true, 'x'], false, null]);
  });

  it('writes metadata inside a string as text, objects as compact JSON', () => {
    expect(renderJson({ a: '${artifact_metadata.nested}|${artifact_metadata.val/loss}|${artifact_metadata.none}' }, vars)).toEqual({
      a: '{"a":[1,{"b":null}]}|0.2|',
    });
  });

  it('does not reach into nested objects with dots', () => {
    expect(renderJson('[${artifact_metadata.nested.a}]', vars)).toEqual([null]);
  });

  it.each(['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'])(
    'gives null for the prototype key %s',
    (key) => {
      expect(renderJson(`[\${artifact_metadata.${key}}, "\${artifact_metadata.${key}}"]`, vars)).toEqual([null, '']);
    },
  );

  it('gives null for __proto__ unless the metadata has it as its own key', () => {
    expect(renderJson('[${artifact_metadata.__proto__}]', variables({ artifact_metadata: { a: 1 } }))).toEqual([null]);
    expect(renderJson('[${artifact_metadata.__proto__}]', vars)).toEqual([{ own: 1 }]);
  });

  it('gives null for a missing key and for events without an artifact', () => {
    expect(renderJson('[${artifact_metadata.missing}]', vars)).toEqual([null]);
    expect(renderJson('[${artifact_metadata.val/loss}]', variables({ artifact_metadata: null }))).toEqual([null]);
  });

  it('works on metadata without a prototype', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { k: 'v' });
    expect(renderJson('[${artifact_metadata.k}, ${artifact_metadata.constructor}]', variables({ artifact_metadata: bare }))).toEqual([
      'v',
      null,
    ]);
  });
});

describe('renderDeferringSecrets and resolveDeferredSecrets', () => {
  it('keeps secret references and doubles every other dollar', () => {
    const compiled = compileTemplate({ a: '$MY_SECRET', b: 'cost $5 ${run_name}', $k: '$$' });
    const deferred = compiled.renderDeferringSecrets(variables({ run_name: '$X' }));
    expect(deferred).toBe('{"a":"${MY_SECRET}","b":"cost $$5 $$X","$k":"$$"}');
  });

  it('never looks a secret up in the first phase', () => {
    const secrets = jest.fn(lookup);
    compileTemplate({ a: '$MY_SECRET' }).renderDeferringSecrets(variables());
    expect(secrets).not.toHaveBeenCalled();
  });

  it('gives the same body as the one-phase render', () => {
    const template = '{"a": $MY_SECRET, "b": "x ${ACCESS_TOKEN} $$ ${run_name}", "$c": ${metric_value}, "d": [${TOKEN}]}';
    const vars = variables({ run_name: '${MY_SECRET} $TOKEN' });
    expect(twoPhase(template, vars)).toBe(compileTemplate(template).render(vars, lookup));
  });

  it('does not resolve a secret named in an inserted value', () => {
    const vars = variables({ run_name: '${MY_SECRET} $TOKEN', artifact_metadata: { m: { k: ['$ACCESS_TOKEN'] } } });
    const body = twoPhase('{"a": "${run_name}", "b": ${run_name}, "c": ${artifact_metadata.m}}', vars);
    expect(JSON.parse(body)).toEqual({ a: '${MY_SECRET} $TOKEN', b: '${MY_SECRET} $TOKEN', c: { k: ['$ACCESS_TOKEN'] } });
  });

  it('leaves keys of inserted metadata alone', () => {
    const vars = variables({ artifact_metadata: { m: { $TOKEN: '$TOKEN', '${MY_SECRET}': 1 } } });
    expect(JSON.parse(twoPhase('{"c": ${artifact_metadata.m}}', vars))).toEqual({ c: { $TOKEN: '$TOKEN', '${MY_SECRET}': 1 } });
  });

  it('resolves a body whose inserted metadata nests deeper than templates may', () => {
    // The second phase used to re-parse the body as a template, which refused this.
    const deep = JSON.parse(`${'['.repeat(200)}"$"${']'.repeat(200)}`) as unknown;
    const vars = variables({ artifact_metadata: { deep } });
    const template = '{"deep": ${artifact_metadata.deep}, "s": "$MY_SECRET"}';
    expect(twoPhase(template, vars)).toBe(compileTemplate(template).render(vars, lookup));
  });

  it('returns a body without $ unchanged', () => {
    expect(resolveDeferredSecrets('{"a":1}', lookup)).toBe('{"a":1}');
  });

  it('throws UnresolvedSecretError when a secret has lost its value', () => {
    const deferred = compileTemplate({ a: '$GONE' }).renderDeferringSecrets(variables());
    expect(() => resolveDeferredSecrets(deferred, lookup)).toThrow(UnresolvedSecretError);
  });

  it.each(['{"a": "${run_name}"}', '{"a": ${run_name}}', '{"a": $x}', '[$$]'])(
    'refuses a body with a reference other than a secret: %s',
    (body) => {
      expect(() => resolveDeferredSecrets(body, lookup)).toThrow('A deferred body may only reference secrets');
    },
  );

  it('refuses a body with an unterminated string', () => {
    expect(() => resolveDeferredSecrets('{"a": "$$', lookup)).toThrow('unterminated string');
  });

  it('tells keys from values across escaped quotes and whitespace', () => {
    const body = '{"k\\"$TOKEN" \n : "v\\\\$TOKEN", "x\\\\": ["\\"$TOKEN"]}';
    expect(JSON.parse(resolveDeferredSecrets(body, lookup))).toEqual({ 'k"$TOKEN': 'v\\T', 'x\\': ['"T'] });
  });

  it('keeps the masked preview and the stored body free of secret values', () => {
    const compiled = compileTemplate({ a: '$MY_SECRET' });
    expect(compiled.renderDeferringSecrets(variables())).not.toContain('s3cr');
    expect(compiled.render(variables(), maskedSecrets)).not.toContain('s3cr');
  });
});

describe('validateTemplate', () => {
  const allowed = { secrets: ['MY_SECRET', 'ACCESS_TOKEN'] };

  it('accepts known variables, metadata keys and bound secrets', () => {
    expect(
      validateTemplate({ a: '${run_name} ${artifact_metadata.val/loss} $MY_SECRET ${ACCESS_TOKEN} $5 $$' }, allowed),
    ).toEqual({ ok: true, usedVariables: ['run_name', 'artifact_metadata.val/loss'], usedSecrets: ['MY_SECRET', 'ACCESS_TOKEN'] });
  });

  it('accepts a variable that does not apply to the trigger (it renders empty)', () => {
    expect(validateTemplate({ a: '${alias}' }, { secrets: [] }).ok).toBe(true);
  });

  it('names the field path of an unknown variable and lists the allowed names', () => {
    const [problem] = problemsOf(validateTemplate({ client_payload: { v: '${runName}' } }, allowed));
    expect(problem.field).toBe('payload.client_payload.v');
    expect(problem.reason).toMatch(/^unknown variable \$\{runName\}; allowed: event_type, event_id, /);
    expect(problem.reason).toContain('status_code, error, artifact_metadata.<KEY>, run_config.<KEY>, MY_SECRET, ACCESS_TOKEN');
  });

  it('suggests the variable an upper-case name was meant to be', () => {
    const [problem] = problemsOf(validateTemplate({ v: '${RUN_NAME}' }, allowed));
    expect(problem.reason).toBe(
      'secret ${RUN_NAME} is not bound to this webhook (did you mean ${run_name}?); bound secrets: MY_SECRET, ACCESS_TOKEN',
    );
  });

  it('tells how to name a metadata key', () => {
    const [problem] = problemsOf(validateTemplate({ v: '${artifact_metadata}' }, allowed));
    expect(problem.reason).toContain('(name a key: ${artifact_metadata.<KEY>})');
  });

  it('reports an unbound secret, with a hint for a bare $NAME', () => {
    expect(problemsOf(validateTemplate({ v: ['Price: $USD'] }, { secrets: [] }))).toEqual([
      {
        field: 'payload.v[0]',
        reason: "secret $USD is not bound to this webhook (write $$ for a literal '$'); no secret is bound",
      },
    ]);
  });

  it('refuses ACCESS_TOKEN when the webhook has no access token', () => {
    expect(problemsOf(validateTemplate({ v: '${ACCESS_TOKEN}' }, { secrets: ['MY_SECRET'] }))[0].reason).toBe(
      'secret ${ACCESS_TOKEN} is not bound to this webhook; bound secrets: MY_SECRET',
    );
  });

  it('reports a malformed ${', () => {
    expect(problemsOf(validateTemplate({ v: 'x ${ run_name }' }, allowed))).toEqual([
      {
        field: 'payload.v',
        reason: "'${ run_name }' is not a valid reference: write ${name} with a variable or secret name, or $${ for a literal '${'",
      },
    ]);
  });

  it('reports JSON-text problems with line and column', () => {
    const problems = problemsOf(validateTemplate('{\n  "a": {"b": ${nope}}\n}', allowed, 'action.payload'));
    expect(problems).toHaveLength(1);
    expect(problems[0].field).toBe('action.payload.a.b');
    expect(problems[0].reason).toMatch(/^unknown variable \$\{nope\}; allowed: .* \(line 2, column 14\)$/);
  });

  it('reports a JSON-text syntax error with line and column', () => {
    expect(problemsOf(validateTemplate('{\n  "a": [1,\n  ]\n}', allowed))).toEqual([
      { field: 'payload.a[1]', reason: "not valid JSON text: unexpected ']', expected a JSON value (line 3, column 3)" },
    ]);
  });

  it('reports a value that is not a template at the field itself', () => {
    expect(problemsOf(validateTemplate(42, allowed))).toEqual([
      { field: 'payload', reason: 'must be a JSON object, an array, or a string of JSON text' },
    ]);
  });

  it(`reports at most ${MAX_TEMPLATE_PROBLEMS} problems`, () => {
    const template = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, '${nope}']));
    const problems = problemsOf(validateTemplate(template, allowed));
    expect(problems).toHaveLength(MAX_TEMPLATE_PROBLEMS);
    expect(problems[0].field).toBe('payload.k0');
    expect(problems[MAX_TEMPLATE_PROBLEMS - 1]).toEqual({ field: 'payload', reason: `and ${500 - MAX_TEMPLATE_PROBLEMS + 1} more problems` });
  });

  it('reports every problem when there are few', () => {
    expect(problemsOf(validateTemplate({ a: '${x}', b: '$NOPE', c: '${' }, allowed)).map((problem) => problem.field)).toEqual([
      'payload.c',
      'payload.a',
      'payload.b',
    ]);
  });
});

describe('formatPath', () => {
  it.each([
    [[], 'payload'],
    [['client_payload', 'v'], 'payload.client_payload.v'],
    [['a', 0, 'b'], 'payload.a[0].b'],
    [['a-b'], 'payload["a-b"]'],
    [['1x'], 'payload["1x"]'],
    [['a"b'], 'payload["a\\"b"]'],
    [[''], 'payload[""]'],
  ] as const)('formats %j as %s', (path, field) => {
    expect(formatPath('payload', path)).toBe(field);
  });
});

describe('rendering within a size limit', () => {
  const variablesWithRunName = (name: string) => ({ run_name: name }) as unknown as PayloadVariables;

  it('refuses 3 000 `${run_name}` × 1 MiB by its size, without building the body', () => {
    // 3 000 × 1 MiB is ~3.1 billion characters: past V8's longest string, so building the body
    // first would throw a RangeError, not this error with the body's exact size.
    const template = compileTemplate({ n: '${run_name}'.repeat(3000) });
    const variables = variablesWithRunName('r'.repeat(1024 * 1024));
    expect(() => template.renderDeferringSecrets(variables, 16 * 1024 * 1024)).toThrow(BodyTooLargeError);
    expect(() => template.render(variables, () => 'x', 16 * 1024 * 1024)).toThrow(/would be 3145728008 bytes, over this webhook's limit of 16777216 bytes/);
  });

  it('renders exactly what it would without a limit when the body fits, to the byte', () => {
    const template = compileTemplate({ a: '${run_name}é${run_name}', b: ['${run_name}', '$$'] });
    const variables = variablesWithRunName('ü"');
    const body = template.renderDeferringSecrets(variables);
    const bytes = Buffer.byteLength(body);
    expect(template.renderDeferringSecrets(variables, bytes)).toBe(body);
    expect(() => template.renderDeferringSecrets(variables, bytes - 1)).toThrow(new BodyTooLargeError(bytes, bytes - 1));
  });
});
