import type { HeraldEvent } from '../events/event.types';
import {
  ABSENT,
  type ClauseVerdict,
  type FilterNode,
  MAX_FILTER_BYTES,
  MAX_FILTER_CLAUSES,
  MAX_FILTER_DEPTH,
  compileFilter,
  explainFilter,
  filterDocument,
  testFilter,
} from './attribute-filter';

const run = { id: 'r1', name: 'bert-lr3e-4', state: 'RUNNING' as const, group: 'sweep-7', tags: ['baseline', 'a100'], config: { lr: 0.001, opt: { name: 'adam' }, layers: [1, 2] } };

function metricsEvent(overrides: Partial<HeraldEvent> = {}): HeraldEvent {
  return {
    id: 'e1',
    type: 'RUN_METRICS',
    occurredAt: '2026-11-22T08:00:00.000Z',
    project: 'llm',
    author: 'alice',
    run,
    step: 10,
    metrics: { 'val/loss': 0.2, 'eval.f1': 0.9, weird: 'NaN' },
    ...overrides,
  };
}

function compiled(filter: unknown): FilterNode {
  const result = compileFilter(filter);
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result.problems)}`);
  return result.filter;
}

function problems(filter: unknown): { field: string; reason: string }[] {
  const result = compileFilter(filter);
  if (result.ok) throw new Error('accepted');
  return result.problems;
}

/** testFilter and explainFilter must agree; answers their common result. */
function passes(filter: unknown, event: HeraldEvent = metricsEvent()): boolean {
  const node = compiled(filter);
  const doc = filterDocument(event, null);
  const tested = testFilter(node, doc);
  const verdicts: ClauseVerdict[] = [];
  expect(explainFilter(node, doc, verdicts)).toBe(tested);
  return tested;
}

describe('attribute filter: operators', () => {
  it('$eq, also as a bare literal', () => {
    expect(passes({ 'run.group': 'sweep-7' })).toBe(true);
    expect(passes({ 'run.group': { $eq: 'sweep-7' } })).toBe(true);
    expect(passes({ 'run.group': 'sweep-8' })).toBe(false);
    expect(passes({ author: { $eq: 'bob' } })).toBe(false);
    expect(passes({ 'run.config.lr': 0.001 })).toBe(true);
    expect(passes({ 'run.config.lr': '0.001' })).toBe(false);
  });

  it('$ne, true for a missing path', () => {
    expect(passes({ author: { $ne: 'bob' } })).toBe(true);
    expect(passes({ author: { $ne: 'alice' } })).toBe(false);
    expect(passes({ 'run.config.missing': { $ne: 1 } })).toBe(true);
  });

  it.each([
    ['$gt', 0.001, false],
    ['$gte', 0.001, true],
    ['$lt', 0.01, true],
    ['$lte', 0.0001, false],
    ['$gt', 0.0001, true],
  ])('%s %p on run.config.lr = 0.001 is %p', (op, value, expected) => {
    expect(passes({ 'run.config.lr': { [op]: value } })).toBe(expected);
  });

  it('orders strings with strings', () => {
    expect(passes({ 'run.name': { $gt: 'a' } })).toBe(true);
    expect(passes({ 'run.name': { $lt: 'a' } })).toBe(false);
  });

  it('$in and $nin', () => {
    expect(passes({ author: { $in: ['alice', 'bob'] } })).toBe(true);
    expect(passes({ author: { $in: ['carol'] } })).toBe(false);
    expect(passes({ author: { $nin: ['carol'] } })).toBe(true);
    expect(passes({ author: { $nin: ['alice'] } })).toBe(false);
    expect(passes({ 'run.config.none': { $in: [null] } })).toBe(false);
    expect(passes({ 'run.config.none': { $nin: ['x'] } })).toBe(true);
  });

  it('$exists', () => {
    expect(passes({ 'run.config.lr': { $exists: true } })).toBe(true);
    expect(passes({ 'run.config.lr': { $exists: false } })).toBe(false);
    expect(passes({ 'run.config.nope': { $exists: false } })).toBe(true);
    expect(passes({ 'artifact.type': { $exists: true } })).toBe(false);
  });

  it('$regex (RE2, unanchored), strings only', () => {
    expect(passes({ 'run.name': { $regex: '^bert-' } })).toBe(true);
    expect(passes({ 'run.name': { $regex: 'lr3e' } })).toBe(true);
    expect(passes({ 'run.name': { $regex: '^gpt' } })).toBe(false);
    expect(passes({ 'run.config.lr': { $regex: '0' } })).toBe(false);
  });

  it('$contains: array membership', () => {
    expect(passes({ 'run.tags': { $contains: 'baseline' } })).toBe(true);
    expect(passes({ 'run.tags': { $contains: 'h100' } })).toBe(false);
    expect(passes({ 'run.config.layers': { $contains: 2 } })).toBe(true);
    expect(passes({ 'run.group': { $contains: 'sweep' } })).toBe(false);
  });

  it('several operators on one path are ANDed', () => {
    expect(passes({ 'run.config.lr': { $gt: 0.0001, $lt: 0.01 } })).toBe(true);
    expect(passes({ 'run.config.lr': { $gt: 0.0001, $lt: 0.0005 } })).toBe(false);
  });

  it('$and, $or, $not and several keys', () => {
    expect(passes({ $and: [{ author: 'alice' }, { 'run.tags': { $contains: 'a100' } }] })).toBe(true);
    expect(passes({ $and: [{ author: 'alice' }, { 'run.tags': { $contains: 'h100' } }] })).toBe(false);
    expect(passes({ $or: [{ author: 'bob' }, { 'run.group': 'sweep-7' }] })).toBe(true);
    expect(passes({ $or: [{ author: 'bob' }, { 'run.group': 'sweep-8' }] })).toBe(false);
    expect(passes({ $not: { author: 'bob' } })).toBe(true);
    expect(passes({ $not: { author: 'alice' } })).toBe(false);
    expect(passes({ author: 'alice', 'run.group': 'sweep-8' })).toBe(false);
    expect(passes({ author: 'alice', $or: [{ 'run.config.lr': { $lt: 0.01 } }, { 'run.tags': { $contains: 'x' } }] })).toBe(true);
  });
});

describe('attribute filter: type mismatches and missing paths', () => {
  it('never matches a value of another type than the operand', () => {
    expect(passes({ 'run.config.lr': { $gt: '0' } })).toBe(false);
    expect(passes({ 'run.name': { $gt: 1 } })).toBe(false);
    expect(passes({ 'run.config.opt': { $eq: 'adam' } })).toBe(false);
    expect(passes({ 'run.tags': 'baseline' })).toBe(false);
    expect(passes({ 'run.config.opt': { $in: ['adam'] } })).toBe(false);
    expect(passes({ 'metrics.weird': { $gt: 0 } })).toBe(false);
  });

  it('fails every operator but $ne, $nin and $exists: false on a missing path', () => {
    for (const op of [{ $eq: 1 }, { $gt: 1 }, { $gte: 1 }, { $lt: 1 }, { $lte: 1 }, { $in: [1] }, { $regex: '' }, { $contains: 1 }, { $exists: true }]) {
      expect(passes({ 'run.config.absent': op })).toBe(false);
    }
    for (const op of [{ $ne: 1 }, { $nin: [1] }, { $exists: false }]) expect(passes({ 'run.config.absent': op })).toBe(true);
  });

  it('does not walk through arrays, scalars or prototypes', () => {
    expect(passes({ 'run.config.layers.0': 1 })).toBe(false);
    expect(passes({ 'run.config.lr.x': { $exists: true } })).toBe(false);
    expect(passes({ 'run.config.constructor': { $exists: true } })).toBe(false);
    expect(passes({ 'run.config.toString': { $exists: true } })).toBe(false);
  });

  it('reads metrics by their whole name, dots and slashes included', () => {
    expect(passes({ 'metrics.val/loss': { $lt: 0.3 } })).toBe(true);
    expect(passes({ 'metrics.eval.f1': { $gte: 0.9 } })).toBe(true);
    expect(passes({ 'metrics.weird': 'NaN' })).toBe(true);
  });

  it('reads the alert, the artifact and the run context Herald keeps', () => {
    const alert: HeraldEvent = { id: 'a', type: 'ALERT', occurredAt: '2026-11-22T08:00:00.000Z', project: 'llm', title: 'Disk', level: 'ERROR' };
    expect(passes({ 'alert.level': 'ERROR', 'alert.title': { $regex: 'Disk' } }, alert)).toBe(true);
    expect(passes({ 'alert.text': { $exists: true } }, alert)).toBe(false);
    const artifact: HeraldEvent = {
      id: 'b',
      type: 'ADD_ARTIFACT_ALIAS',
      occurredAt: '2026-11-22T08:00:00.000Z',
      project: 'llm',
      alias: 'prod',
      artifact: { name: 'm', version: 'v1', collection: 'c', type: 'model', metadata: { acc: { top1: 0.93 } }, aliases: ['prod'] },
    };
    expect(passes({ 'artifact.type': 'model', 'artifact.metadata.acc.top1': { $gt: 0.9 }, 'artifact.aliases': { $contains: 'prod' }, alias: 'prod' }, artifact)).toBe(true);
    const bare = metricsEvent({ run: { id: 'r1', name: 'n' } });
    const node = compiled({ 'run.group': 'sweep-7', 'run.config.lr': 0.1 });
    expect(testFilter(node, filterDocument(bare, null))).toBe(false);
    expect(testFilter(node, filterDocument(bare, { group: 'sweep-7', tags: null, config: { lr: 0.1 } }))).toBe(true);
    // The event's own run fields win over the stored ones.
    expect(testFilter(node, filterDocument(metricsEvent({ run: { id: 'r1', name: 'n', group: 'other' } }), { group: 'sweep-7', tags: null, config: { lr: 0.1 } }))).toBe(false);
  });
});

describe('attribute filter: verdicts', () => {
  it('gives one verdict per clause, naming its path, and evaluates every clause', () => {
    const verdicts: ClauseVerdict[] = [];
    const node = compiled({ 'run.config.lr': { $lt: 0.0005 }, 'run.tags': { $contains: 'baseline' }, author: 'bob', 'run.group': { $exists: true } });
    expect(explainFilter(node, filterDocument(metricsEvent(), null), verdicts)).toBe(false);
    expect(verdicts).toEqual([
      { filter: 'filter.run.config.lr.$lt', passed: false, actual: 0.001, expected: { $lt: 0.0005 } },
      { filter: 'filter.run.tags.$contains', passed: true, actual: ['baseline', 'a100'], expected: { $contains: 'baseline' } },
      { filter: 'filter.author', passed: false, actual: 'alice', expected: { $eq: 'bob' } },
      { filter: 'filter.run.group.$exists', passed: true, actual: 'sweep-7', expected: { $exists: true } },
    ]);
  });

  it('names the branches of $or and the filter of $not, and shows a missing path as absent', () => {
    const verdicts: ClauseVerdict[] = [];
    const node = compiled({ $or: [{ 'run.config.beta': 1 }, { $not: { author: 'alice' } }] });
    expect(explainFilter(node, filterDocument(metricsEvent(), null), verdicts)).toBe(false);
    expect(verdicts.map((v) => [v.filter, v.passed, v.actual])).toEqual([
      ['filter.$or[0].run.config.beta', false, ABSENT],
      ['filter.$or[1].$not.author', true, 'alice'],
      ['filter.$or[1].$not', false, 'the filter inside passed'],
      ['filter.$or', false, 'no branch passed'],
    ]);
  });
});

describe('attribute filter: validation', () => {
  it('refuses a filter that is not an object, and an empty one', () => {
    expect(problems([])[0]).toMatchObject({ field: 'filter' });
    expect(problems('x')[0]).toMatchObject({ field: 'filter' });
    expect(problems({})).toEqual([{ field: 'filter', reason: 'must hold at least one path or $and, $or, $not' }]);
  });

  it('names every unknown path and operator at once', () => {
    expect(problems({ owner: 'x', 'run.foo': 1, 'run.name.x': 1, 'metrics.': 1, 'run.config.lr': { $gt: 1, $like: 'x' }, $where: 'x', run: 1 })).toEqual([
      { field: 'filter.owner', reason: expect.stringContaining('is not a known path: paths start with type, project, author') },
      { field: 'filter.run.foo', reason: expect.stringContaining('is not a known path: run has id, name') },
      { field: 'filter.run.name.x', reason: 'is not a known path: run.name has no fields' },
      { field: 'filter.metrics.', reason: 'must name a metric: metrics.<name>' },
      { field: 'filter.run.config.lr.$like', reason: expect.stringContaining('is not an operator: use $eq, $ne') },
      { field: 'filter.$where', reason: 'is not a filter operator here: a filter takes paths and $and, $or, $not' },
      { field: 'filter.run', reason: expect.stringContaining('must name a field of run') },
    ]);
  });

  it('checks each operand type', () => {
    expect(problems({ author: { $gt: true, $in: 'x', $exists: 1, $regex: 3, $contains: [1], $eq: { a: 1 } } })).toEqual([
      { field: 'filter.author.$gt', reason: 'must be a number or a string' },
      { field: 'filter.author.$in', reason: 'must be an array of at most 100 strings, numbers, booleans or nulls' },
      { field: 'filter.author.$exists', reason: 'must be true or false' },
      { field: 'filter.author.$regex', reason: 'must be a string of at most 1024 characters' },
      { field: 'filter.author.$contains', reason: 'must be a string, a number, a boolean or null (an array holding it matches)' },
      { field: 'filter.author.$eq', reason: 'must be a string, a number, a boolean or null' },
    ]);
    expect(problems({ author: ['a'] })).toEqual([{ field: 'filter.author', reason: 'must be a string, a number, a boolean or null' }]);
  });

  it('refuses a regex RE2 cannot run, naming the path', () => {
    const [problem] = problems({ 'run.name': { $regex: '(a)\\1' } });
    expect(problem.field).toBe('filter.run.name.$regex');
  });

  it('refuses a __proto__ path segment', () => {
    expect(problems(JSON.parse('{"run.config.__proto__.x": 1}'))[0]).toMatchObject({ field: 'filter.run.config.__proto__.x' });
  });

  it('bounds the nesting depth', () => {
    let deep: unknown = { author: 'a' };
    for (let i = 0; i < MAX_FILTER_DEPTH - 1; i++) deep = { $not: deep };
    expect(compileFilter(deep).ok).toBe(true);
    const tooDeep = { $not: deep };
    expect(problems(tooDeep)[0].reason).toBe(`nests deeper than ${MAX_FILTER_DEPTH} levels of $and, $or and $not`);
  });

  it('bounds the clauses, the size and the lists', () => {
    const many = Object.fromEntries(Array.from({ length: MAX_FILTER_CLAUSES }, (_, i) => [`run.config.k${i}`, i]));
    expect(compileFilter(many).ok).toBe(true);
    expect(problems({ ...many, author: 'x' })).toEqual([{ field: 'filter', reason: `must hold at most ${MAX_FILTER_CLAUSES} clauses (has ${MAX_FILTER_CLAUSES + 1})` }]);
    expect(problems({ author: 'x'.repeat(MAX_FILTER_BYTES) })).toEqual([{ field: 'filter', reason: `must be at most ${MAX_FILTER_BYTES} bytes as JSON text` }]);
    expect(problems({ author: { $in: Array.from({ length: 101 }, (_, i) => i) } })[0].field).toBe('filter.author.$in');
    expect(problems({ $or: [] })).toEqual([{ field: 'filter.$or', reason: 'must be an array of 1 to 100 filters' }]);
    expect(problems({ $and: [{ author: 'a' }, 3] })).toEqual([{ field: 'filter.$and[1]', reason: 'must be an object of paths and operators' }]);
  });

  it('prefixes problems with the field given', () => {
    expect(compileFilter({ nope: 1 }, 'automation.filter')).toMatchObject({ ok: false, problems: [{ field: 'automation.filter.nope' }] });
  });
});
