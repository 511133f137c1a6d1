import type { FieldProblem } from '../common/errors/api-error';
import { type AutomationInput, type NormalizedAutomation, actionProblems, normalizeAutomation } from './automation-rules';
import type { Trigger } from './automation.types';
import { effectiveCooldownSeconds, isArtifactTrigger, isRunTrigger } from './triggers';

const base: AutomationInput = {
  name: 'promote-to-prod',
  scope: { type: 'project', name: 'llm-finetune' },
  trigger: { event: 'ADD_ARTIFACT_ALIAS', aliasRegex: '^prod$' },
  action: { webhookId: 'wh_1' },
};

const RE2_REASON = expect.stringMatching(/^is not a valid RE2 pattern/);

function normalized(change: Record<string, unknown> = {}): NormalizedAutomation {
  const result = normalizeAutomation({ ...base, ...change });
  if (!result.ok) throw new Error(`refused: ${JSON.stringify(result.problems)}`);
  return result.automation;
}

function problems(change: Record<string, unknown>): FieldProblem[] {
  const result = normalizeAutomation({ ...base, ...change } as AutomationInput);
  if (result.ok) throw new Error('accepted');
  return result.problems;
}

/** The problems of `trigger` in a team scope (so every trigger is allowed). */
function triggerProblems(trigger: Record<string, unknown>): FieldProblem[] {
  return problems({ scope: { type: 'team' }, trigger });
}

function triggerOf(trigger: Record<string, unknown>): Trigger {
  return normalized({ scope: { type: 'team' }, trigger }).trigger;
}

describe('normalizeAutomation: top-level fields', () => {
  it('fills the defaults', () => {
    expect(normalized()).toEqual({
      name: 'promote-to-prod',
      description: '',
      enabled: true,
      scope: { type: 'project', name: 'llm-finetune' },
      trigger: { event: 'ADD_ARTIFACT_ALIAS', aliasRegex: '^prod$' },
      runFilter: null,
      filter: null,
      action: { webhookId: 'wh_1' },
      cooldownSeconds: null,
    });
  });

  it('takes RUN_STALE with staleSeconds from 1 to 604800, and a run filter', () => {
    expect(normalized({ scope: { type: 'team' }, trigger: { event: 'RUN_STALE', staleSeconds: 604_800 }, runFilter: { user: 'alice' } })).toMatchObject({
      trigger: { event: 'RUN_STALE', staleSeconds: 604_800 },
      runFilter: { user: 'alice' },
    });
    for (const staleSeconds of [0, 604_801, 1.5, '60']) {
      expect(problems({ scope: { type: 'team' }, trigger: { event: 'RUN_STALE', staleSeconds } })).toEqual([
        { field: 'trigger.staleSeconds', reason: 'must be an integer from 1 to 604800' },
      ]);
    }
    expect(problems({ scope: { type: 'team' }, trigger: { event: 'RUN_STALE' } })).toEqual([{ field: 'trigger.staleSeconds', reason: 'is required' }]);
  });

  it('takes an attribute filter on any trigger, null or absent meaning none', () => {
    const filter = { 'artifact.metadata.acc': { $gte: 0.9 }, $or: [{ author: 'alice' }, { 'artifact.tags': { $contains: 'nlp' } }] };
    expect(normalized({ filter }).filter).toEqual(filter);
    expect(normalized({ filter: null }).filter).toBeNull();
    expect(normalized({ scope: { type: 'team' }, trigger: { event: 'DELIVERY_FAILED' }, filter: { project: 'llm' } }).filter).toEqual({ project: 'llm' });
  });

  it('names the path and the reason of every problem of a filter, with the other problems', () => {
    expect(problems({ filter: { 'run.config.lr': { $gt: 'x', $near: 1 }, owner: 1 }, cooldownSeconds: -1 })).toEqual([
      { field: 'filter.run.config.lr.$near', reason: expect.stringContaining('is not an operator') },
      { field: 'filter.owner', reason: expect.stringContaining('is not a known path') },
      { field: 'cooldownSeconds', reason: expect.any(String) },
    ]);
    expect(problems({ filter: [] })).toEqual([{ field: 'filter', reason: expect.stringContaining('must be an object') }]);
  });

  it('keeps the values given', () => {
    const automation = normalized({ description: 'ship it', enabled: false, cooldownSeconds: 60 });
    expect(automation).toMatchObject({ description: 'ship it', enabled: false, cooldownSeconds: 60 });
  });

  it('treats null description and cooldownSeconds as absent (PATCH cleared them)', () => {
    expect(normalized({ description: null, cooldownSeconds: null })).toMatchObject({ description: '', cooldownSeconds: null });
  });

  it.each(['a', 'deploy-on-prod', 'Deploy prod_2', 'two  spaces', 'x'.repeat(64)])('accepts name %p', (name) => {
    expect(normalized({ name }).name).toBe(name);
  });

  it.each(['', ' lead', 'trail ', 'dots.no', 'tab\tsep', 'x'.repeat(65), 42])('refuses name %p', (name) => {
    expect(problems({ name })).toEqual([{ field: 'name', reason: 'must be 1–64 letters, digits, _ or -, words separated by spaces' }]);
  });

  it('requires name, scope, trigger and action', () => {
    expect(normalizeAutomation({} as AutomationInput)).toEqual({
      ok: false,
      problems: [
        { field: 'name', reason: 'is required' },
        { field: 'scope', reason: 'is required' },
        { field: 'trigger', reason: 'is required' },
        { field: 'action', reason: 'is required' },
      ],
    });
  });

  it('limits description to 1024 characters', () => {
    expect(normalized({ description: 'd'.repeat(1024) }).description).toHaveLength(1024);
    expect(problems({ description: 'd'.repeat(1025) })).toEqual([
      { field: 'description', reason: 'must be a string of at most 1024 characters' },
    ]);
  });

  it('refuses an enabled that is not a boolean', () => {
    expect(problems({ enabled: 'yes' })).toEqual([{ field: 'enabled', reason: 'must be a boolean' }]);
  });

  it.each([0, 1, 31_536_000])('accepts cooldownSeconds %p', (cooldownSeconds) => {
    expect(normalized({ cooldownSeconds }).cooldownSeconds).toBe(cooldownSeconds);
  });

  it.each([-1, 1.5, 31_536_001, '60'])('refuses cooldownSeconds %p', (cooldownSeconds) => {
    expect(problems({ cooldownSeconds })).toEqual([
      { field: 'cooldownSeconds', reason: 'must be an integer from 0 to 31536000, or null for the default' },
    ]);
  });

  it('refuses fields it does not know', () => {
    expect(problems({ id: 'aut_1', colour: 'red' })).toEqual([
      { field: 'id', reason: 'is not an allowed field' },
      { field: 'colour', reason: 'is not an allowed field' },
    ]);
  });

  it('refuses an input that is not an object', () => {
    expect(normalizeAutomation([] as unknown as AutomationInput)).toEqual({
      ok: false,
      problems: [{ field: 'automation', reason: 'must be an object' }],
    });
  });

  it('accepts a class instance (what the ValidationPipe hands over)', () => {
    class Dto {
      name = 'from-dto';
      scope = { type: 'team' };
      trigger = { event: 'RUN_STATE', states: ['FAILED'] };
      action = { webhookId: 'wh_1' };
      description: string | undefined = undefined;
    }
    expect(normalizeAutomation(new Dto()).ok).toBe(true);
  });

  it('reports problems of every part at once', () => {
    const found = problems({ name: '', scope: { type: 'org' }, trigger: { event: 'NOPE' }, action: { webhookId: 3 } });
    expect(found.map((p) => p.field)).toEqual(['name', 'scope.type', 'trigger.event', 'action.webhookId']);
  });
});

describe('normalizeAutomation: scope', () => {
  it.each([
    [{ type: 'project', name: 'p' }],
    [{ type: 'registry', name: 'model-registry' }],
    [{ type: 'team' }],
  ])('accepts %j', (scope) => {
    expect(normalized({ scope }).scope).toEqual(scope);
  });

  it('refuses a scope that is not an object', () => {
    expect(problems({ scope: 'team' })).toEqual([
      { field: 'scope', reason: 'must be an object: {type: "project" | "registry", name} or {type: "team"}' },
    ]);
  });

  it('requires a known type', () => {
    expect(problems({ scope: {} })).toEqual([{ field: 'scope.type', reason: 'is required' }]);
    expect(problems({ scope: { type: 'org', name: 'x' } })).toEqual([
      { field: 'scope.type', reason: 'must be one of project, registry, team' },
    ]);
  });

  it('requires a name for project and registry scopes', () => {
    expect(problems({ scope: { type: 'project' } })).toEqual([{ field: 'scope.name', reason: 'is required' }]);
    expect(problems({ scope: { type: 'registry', name: '' } })).toEqual([
      { field: 'scope.name', reason: 'must be a string of 1 to 256 characters' },
    ]);
  });

  it('refuses control characters in a scope name (a project or collection, as events name them)', () => {
    for (const name of ['a\u0000b', 'p\n', 'x\u007f']) {
      expect(problems({ scope: { type: 'project', name } })).toEqual([
        { field: 'scope.name', reason: 'must not contain control characters (U+0000–U+001F, U+007F)' },
      ]);
    }
  });

  it('refuses a name on a team scope and unknown scope fields', () => {
    expect(problems({ scope: { type: 'team', name: 'x' } })).toEqual([
      { field: 'scope.name', reason: 'is not an allowed field for a team scope' },
    ]);
    expect(problems({ scope: { type: 'project', name: 'p', owner: 'x' } })).toEqual([
      { field: 'scope.owner', reason: 'is not an allowed field for a project scope' },
    ]);
  });

  it('takes artifact triggers only on a registry scope', () => {
    const scope = { type: 'registry', name: 'reg' };
    expect(normalized({ scope, trigger: { event: 'LINK_ARTIFACT' } }).scope).toEqual(scope);
    expect(problems({ scope, trigger: { event: 'RUN_STATE', states: ['FAILED'] } })).toEqual([
      {
        field: 'trigger.event',
        reason:
          'must be an artifact event for a registry scope (CREATE_ARTIFACT, LINK_ARTIFACT, UNLINK_ARTIFACT, ADD_ARTIFACT_ALIAS, REMOVE_ARTIFACT_ALIAS, ADD_ARTIFACT_TAG, REMOVE_ARTIFACT_TAG, ADD_COLLECTION_TAG, REMOVE_COLLECTION_TAG)',
      },
    ]);
  });
});

describe('normalizeAutomation: trigger basics', () => {
  it('refuses a trigger that is not an object or has no known event', () => {
    expect(triggerProblems(null as unknown as Record<string, unknown>)).toEqual([
      { field: 'trigger', reason: 'must be an object with an event and its fields' },
    ]);
    expect(triggerProblems({})).toEqual([{ field: 'trigger.event', reason: 'is required' }]);
    expect(triggerProblems({ event: 'RUN_METRICS' })).toEqual([
      { field: 'trigger.event', reason: expect.stringMatching(/^must be one of CREATE_ARTIFACT, .*, ALERT, WEBHOOK_DISABLED, DELIVERY_FAILED$/) },
    ]);
  });

  it('keeps only the fields of the trigger, in table order', () => {
    const trigger = triggerOf({ threshold: 1, op: '>', window: 3, agg: 'MAX', metric: 'loss', event: 'RUN_METRIC_THRESHOLD' });
    expect(Object.keys(trigger)).toEqual(['event', 'metric', 'agg', 'window', 'op', 'threshold']);
  });

  it('refuses fields of other triggers, naming the trigger', () => {
    expect(triggerProblems({ event: 'RUN_LOG_MATCH', lineRegex: 'OOM', aliasRegex: 'x', states: ['FAILED'] })).toEqual([
      { field: 'trigger.aliasRegex', reason: 'is not an allowed field for RUN_LOG_MATCH' },
      { field: 'trigger.states', reason: 'is not an allowed field for RUN_LOG_MATCH' },
    ]);
  });
});

describe('normalizeAutomation: artifact triggers', () => {
  it.each(['CREATE_ARTIFACT', 'LINK_ARTIFACT', 'UNLINK_ARTIFACT'])('%s takes an optional collectionRegex only', (event) => {
    expect(triggerOf({ event })).toEqual({ event });
    expect(triggerOf({ event, collectionRegex: '^llm-' })).toEqual({ event, collectionRegex: '^llm-' });
    expect(triggerProblems({ event, aliasRegex: 'x' })).toEqual([
      { field: 'trigger.aliasRegex', reason: `is not an allowed field for ${event}` },
    ]);
  });

  it.each(['ADD_ARTIFACT_ALIAS', 'REMOVE_ARTIFACT_ALIAS'])('%s requires aliasRegex', (event) => {
    expect(triggerOf({ event, aliasRegex: '^prod$', collectionRegex: 'c' })).toEqual({ event, aliasRegex: '^prod$', collectionRegex: 'c' });
    expect(triggerProblems({ event })).toEqual([{ field: 'trigger.aliasRegex', reason: 'is required' }]);
    expect(triggerProblems({ event, aliasRegex: 'x', tagRegex: 'y' })).toEqual([
      { field: 'trigger.tagRegex', reason: `is not an allowed field for ${event}` },
    ]);
  });

  it.each(['ADD_ARTIFACT_TAG', 'REMOVE_ARTIFACT_TAG'])('%s requires tagRegex', (event) => {
    expect(triggerOf({ event, tagRegex: 'reviewed' })).toEqual({ event, tagRegex: 'reviewed' });
    expect(triggerProblems({ event })).toEqual([{ field: 'trigger.tagRegex', reason: 'is required' }]);
  });

  it('refuses a lookahead in aliasRegex with the RE2 reason, naming the field', () => {
    expect(triggerProblems({ event: 'ADD_ARTIFACT_ALIAS', aliasRegex: '^(?=prod)' })).toEqual([
      { field: 'trigger.aliasRegex', reason: RE2_REASON },
    ]);
  });

  it.each([
    ['collectionRegex', { event: 'CREATE_ARTIFACT', collectionRegex: '(a)\\1' }],
    ['tagRegex', { event: 'ADD_ARTIFACT_TAG', tagRegex: '(?<!x)y' }],
    ['lineRegex', { event: 'RUN_LOG_MATCH', lineRegex: '[unclosed' }],
    ['titleRegex', { event: 'ALERT', levels: ['WARN'], titleRegex: '(?!a)b' }],
  ])('refuses an invalid %s', (field, trigger) => {
    expect(triggerProblems(trigger)).toEqual([{ field: `trigger.${field}`, reason: RE2_REASON }]);
  });

  it('refuses a regex that is not a string or is over 1024 characters', () => {
    const reason = 'must be a string of at most 1024 characters';
    expect(triggerProblems({ event: 'ADD_ARTIFACT_TAG', tagRegex: 5 })).toEqual([{ field: 'trigger.tagRegex', reason }]);
    expect(triggerProblems({ event: 'ADD_ARTIFACT_TAG', tagRegex: 'a'.repeat(1025) })).toEqual([{ field: 'trigger.tagRegex', reason }]);
  });

  it('accepts an empty regex (matches everything)', () => {
    expect(triggerOf({ event: 'ADD_ARTIFACT_TAG', tagRegex: '' })).toEqual({ event: 'ADD_ARTIFACT_TAG', tagRegex: '' });
  });
});

describe('normalizeAutomation: RUN_STATE and ALERT', () => {
  it('RUN_STATE takes a non-empty list of distinct states', () => {
    expect(triggerOf({ event: 'RUN_STATE', states: ['FAILED', 'CRASHED'] })).toEqual({ event: 'RUN_STATE', states: ['FAILED', 'CRASHED'] });
    const all = ['RUNNING', 'FINISHED', 'FAILED', 'CRASHED', 'KILLED'];
    expect(triggerOf({ event: 'RUN_STATE', states: all })).toEqual({ event: 'RUN_STATE', states: all });
  });

  it.each([
    [[], 'trigger.states', 'must be a non-empty list of distinct values from RUNNING, FINISHED, FAILED, CRASHED, KILLED'],
    ['FAILED', 'trigger.states', 'must be a non-empty list of distinct values from RUNNING, FINISHED, FAILED, CRASHED, KILLED'],
    [['FAILED', 'failed'], 'trigger.states[1]', 'must be one of RUNNING, FINISHED, FAILED, CRASHED, KILLED'],
    [['FAILED', 'FAILED'], 'trigger.states[1]', 'repeats FAILED'],
    [Array.from({ length: 6 }, () => 'FAILED'), 'trigger.states', expect.stringMatching(/^must be a non-empty list/)],
  ])('RUN_STATE refuses states %j', (states, field, reason) => {
    expect(triggerProblems({ event: 'RUN_STATE', states })).toEqual([{ field, reason }]);
  });

  it('RUN_STATE requires states', () => {
    expect(triggerProblems({ event: 'RUN_STATE' })).toEqual([{ field: 'trigger.states', reason: 'is required' }]);
  });

  it('ALERT takes levels and an optional titleRegex', () => {
    expect(triggerOf({ event: 'ALERT', levels: ['ERROR'] })).toEqual({ event: 'ALERT', levels: ['ERROR'] });
    expect(triggerOf({ event: 'ALERT', levels: ['INFO', 'WARN'], titleRegex: 'diverged' })).toEqual({
      event: 'ALERT',
      levels: ['INFO', 'WARN'],
      titleRegex: 'diverged',
    });
  });

  it('ALERT refuses missing, empty or unknown levels', () => {
    expect(triggerProblems({ event: 'ALERT' })).toEqual([{ field: 'trigger.levels', reason: 'is required' }]);
    expect(triggerProblems({ event: 'ALERT', levels: [] })).toEqual([
      { field: 'trigger.levels', reason: 'must be a non-empty list of distinct values from INFO, WARN, ERROR' },
    ]);
    expect(triggerProblems({ event: 'ALERT', levels: ['DEBUG'] })).toEqual([
      { field: 'trigger.levels[0]', reason: 'must be one of INFO, WARN, ERROR' },
    ]);
  });
});

describe('normalizeAutomation: RUN_METRIC_THRESHOLD', () => {
  const threshold = { event: 'RUN_METRIC_THRESHOLD', metric: 'val/loss', agg: 'AVERAGE', window: 5, op: '>', threshold: 2.5 };

  it('accepts every aggregation and comparison', () => {
    for (const agg of ['MIN', 'MAX', 'AVERAGE', 'LAST']) {
      for (const op of ['>', '>=', '<', '<=', '==', '!=']) expect(triggerOf({ ...threshold, agg, op })).toEqual({ ...threshold, agg, op });
    }
  });

  it('requires every field', () => {
    expect(triggerProblems({ event: 'RUN_METRIC_THRESHOLD' }).map((p) => [p.field, p.reason])).toEqual([
      ['trigger.metric', 'is required'],
      ['trigger.agg', 'is required'],
      ['trigger.window', 'is required'],
      ['trigger.op', 'is required'],
      ['trigger.threshold', 'is required'],
    ]);
  });

  it.each([
    ['metric', '', 'must be a metric name of 1 to 256 characters'],
    ['metric', 'm'.repeat(257), 'must be a metric name of 1 to 256 characters'],
    ['agg', 'MEDIAN', 'must be one of MIN, MAX, AVERAGE, LAST'],
    ['op', '=>', 'must be one of >, >=, <, <=, ==, !=, NON_FINITE'],
    ['window', 0, 'must be an integer from 1 to 1000'],
    ['window', 1001, 'must be an integer from 1 to 1000'],
    ['window', 2.5, 'must be an integer from 1 to 1000'],
    ['window', '5', 'must be an integer from 1 to 1000'],
    ['threshold', Number.POSITIVE_INFINITY, 'must be a finite number'],
    ['threshold', '2.5', 'must be a finite number'],
  ])('refuses %s %p', (key, value, reason) => {
    expect(triggerProblems({ ...threshold, [key]: value })).toEqual([{ field: `trigger.${key}`, reason }]);
  });

  it('accepts window 1 and 1000, a 256-character metric and a negative threshold', () => {
    expect(triggerOf({ ...threshold, window: 1 })).toMatchObject({ window: 1 });
    expect(triggerOf({ ...threshold, window: 1000, metric: 'm'.repeat(256), threshold: -3 })).toMatchObject({ window: 1000, threshold: -3 });
  });

  it('op NON_FINITE takes metric only', () => {
    const nonFinite = { event: 'RUN_METRIC_THRESHOLD', metric: 'loss', op: 'NON_FINITE' };
    expect(triggerOf(nonFinite)).toEqual(nonFinite);
    expect(triggerProblems({ ...nonFinite, agg: 'LAST', window: 1, threshold: 0 })).toEqual([
      { field: 'trigger.agg', reason: 'is not allowed with op NON_FINITE' },
      { field: 'trigger.window', reason: 'is not allowed with op NON_FINITE' },
      { field: 'trigger.threshold', reason: 'is not allowed with op NON_FINITE' },
    ]);
    expect(triggerProblems({ ...nonFinite, direction: 'ANY' })).toEqual([
      { field: 'trigger.direction', reason: 'is not an allowed field for RUN_METRIC_THRESHOLD' },
    ]);
    expect(triggerProblems({ event: 'RUN_METRIC_THRESHOLD', op: 'NON_FINITE' })).toEqual([
      { field: 'trigger.metric', reason: 'is required' },
    ]);
  });
});

describe('normalizeAutomation: RUN_METRIC_CHANGE', () => {
  const change = {
    event: 'RUN_METRIC_CHANGE',
    metric: 'val/acc',
    agg: 'AVERAGE',
    window: 3,
    priorWindow: 10,
    changeType: 'RELATIVE',
    direction: 'DECREASE',
    amount: 0.1,
  };

  it('accepts a complete trigger, amount 0 and every changeType and direction', () => {
    expect(triggerOf(change)).toEqual(change);
    for (const changeType of ['ABSOLUTE', 'RELATIVE']) {
      for (const direction of ['INCREASE', 'DECREASE', 'ANY']) {
        expect(triggerOf({ ...change, changeType, direction, amount: 0 })).toMatchObject({ changeType, direction, amount: 0 });
      }
    }
  });

  it.each([
    ['priorWindow', 0, 'must be an integer from 1 to 1000'],
    ['priorWindow', 1001, 'must be an integer from 1 to 1000'],
    ['changeType', 'PERCENT', 'must be one of ABSOLUTE, RELATIVE'],
    ['direction', 'UP', 'must be one of INCREASE, DECREASE, ANY'],
    ['amount', -0.1, 'must be a finite number ≥ 0'],
    ['amount', Number.NaN, 'must be a finite number ≥ 0'],
  ])('refuses %s %p', (key, value, reason) => {
    expect(triggerProblems({ ...change, [key]: value })).toEqual([{ field: `trigger.${key}`, reason }]);
  });

  it('requires priorWindow, changeType, direction and amount', () => {
    const rest: Record<string, unknown> = { ...change };
    for (const key of ['priorWindow', 'changeType', 'direction', 'amount']) delete rest[key];
    expect(triggerProblems(rest).map((p) => p.field)).toEqual([
      'trigger.priorWindow',
      'trigger.changeType',
      'trigger.direction',
      'trigger.amount',
    ]);
  });

  it('refuses op and threshold', () => {
    expect(triggerProblems({ ...change, op: '>', threshold: 1 }).map((p) => p.reason)).toEqual([
      'is not an allowed field for RUN_METRIC_CHANGE',
      'is not an allowed field for RUN_METRIC_CHANGE',
    ]);
  });
});

describe('normalizeAutomation: RUN_METRIC_ZSCORE', () => {
  const zscore = { event: 'RUN_METRIC_ZSCORE', metric: 'loss', window: 20, threshold: 3, direction: 'ANY' };

  it('accepts a complete trigger', () => {
    expect(triggerOf(zscore)).toEqual(zscore);
  });

  it.each([0, -1, Number.POSITIVE_INFINITY])('refuses threshold %p (must be > 0)', (threshold) => {
    expect(triggerProblems({ ...zscore, threshold })).toEqual([{ field: 'trigger.threshold', reason: 'must be a finite number > 0' }]);
  });

  it('refuses agg', () => {
    expect(triggerProblems({ ...zscore, agg: 'LAST' })).toEqual([
      { field: 'trigger.agg', reason: 'is not an allowed field for RUN_METRIC_ZSCORE' },
    ]);
  });

  it('requires metric, window, threshold and direction', () => {
    expect(triggerProblems({ event: 'RUN_METRIC_ZSCORE' }).map((p) => p.field)).toEqual([
      'trigger.metric',
      'trigger.window',
      'trigger.threshold',
      'trigger.direction',
    ]);
  });
});

describe('normalizeAutomation: RUN_LOG_MATCH', () => {
  it('requires lineRegex', () => {
    expect(triggerOf({ event: 'RUN_LOG_MATCH', lineRegex: 'out of memory' })).toEqual({ event: 'RUN_LOG_MATCH', lineRegex: 'out of memory' });
    expect(triggerProblems({ event: 'RUN_LOG_MATCH' })).toEqual([{ field: 'trigger.lineRegex', reason: 'is required' }]);
  });
});

describe('normalizeAutomation: WEBHOOK_DISABLED and DELIVERY_FAILED', () => {
  it.each(['WEBHOOK_DISABLED', 'DELIVERY_FAILED'])('takes %s with a team scope and no trigger fields', (event) => {
    expect(triggerOf({ event })).toEqual({ event });
    expect(triggerProblems({ event, reasons: ['gone'] })).toEqual([{ field: 'trigger.reasons', reason: `is not an allowed field for ${event}` }]);
  });

  it('refuses a project or registry scope, naming scope.type', () => {
    expect(problems({ scope: { type: 'project', name: 'p' }, trigger: { event: 'DELIVERY_FAILED' } })).toEqual([
      { field: 'scope.type', reason: expect.stringMatching(/^must be team for DELIVERY_FAILED/) },
    ]);
    expect(problems({ scope: { type: 'registry', name: 'r' }, trigger: { event: 'WEBHOOK_DISABLED' } })).toEqual([
      { field: 'trigger.event', reason: expect.stringMatching(/artifact event for a registry scope/) },
      { field: 'scope.type', reason: expect.stringMatching(/^must be team for WEBHOOK_DISABLED/) },
    ]);
  });

  it('refuses a run filter', () => {
    expect(problems({ scope: { type: 'team' }, trigger: { event: 'WEBHOOK_DISABLED' }, runFilter: { user: 'alice' } })).toEqual([
      { field: 'runFilter', reason: expect.stringMatching(/not allowed for WEBHOOK_DISABLED/) },
    ]);
  });

  it('defaults their cooldown to 0', () => {
    expect(effectiveCooldownSeconds({ event: 'DELIVERY_FAILED' }, null)).toBe(0);
    expect(isRunTrigger('DELIVERY_FAILED')).toBe(false);
    expect(isArtifactTrigger('WEBHOOK_DISABLED')).toBe(false);
  });
});

describe('normalizeAutomation: runFilter', () => {
  const runTrigger = { event: 'RUN_STATE', states: ['FAILED'] };

  it.each([
    { event: 'RUN_STATE', states: ['FAILED'] },
    { event: 'RUN_METRIC_THRESHOLD', metric: 'loss', op: 'NON_FINITE' },
    { event: 'RUN_METRIC_ZSCORE', metric: 'loss', window: 5, threshold: 2, direction: 'ANY' },
    { event: 'RUN_LOG_MATCH', lineRegex: 'OOM' },
    { event: 'ALERT', levels: ['ERROR'] },
  ])('is accepted on $event', (trigger) => {
    const runFilter = { nameRegex: '^bert-', user: 'alice' };
    expect(normalized({ scope: { type: 'team' }, trigger, runFilter }).runFilter).toEqual(runFilter);
  });

  it.each(['CREATE_ARTIFACT', 'ADD_ARTIFACT_ALIAS', 'REMOVE_ARTIFACT_TAG'])('is a 400 on %s', (event) => {
    const trigger = event === 'CREATE_ARTIFACT' ? { event } : event === 'ADD_ARTIFACT_ALIAS' ? { event, aliasRegex: 'x' } : { event, tagRegex: 'x' };
    expect(problems({ trigger, runFilter: { user: 'alice' } })).toEqual([
      { field: 'runFilter', reason: `is not allowed for ${event}: run filters apply to run triggers and ALERT` },
    ]);
  });

  it('is null when absent, null or empty', () => {
    expect(normalized({ trigger: runTrigger }).runFilter).toBeNull();
    expect(normalized({ trigger: runTrigger, runFilter: null }).runFilter).toBeNull();
    expect(normalized({ trigger: runTrigger, runFilter: {} }).runFilter).toBeNull();
    expect(normalized({ runFilter: null }).runFilter).toBeNull();
  });

  it('keeps just one of the two fields', () => {
    expect(normalized({ trigger: runTrigger, runFilter: { user: 'bob' } }).runFilter).toEqual({ user: 'bob' });
  });

  it('refuses an invalid nameRegex with the RE2 reason', () => {
    expect(problems({ trigger: runTrigger, runFilter: { nameRegex: '(?=bert)' } })).toEqual([
      { field: 'runFilter.nameRegex', reason: RE2_REASON },
    ]);
  });

  it('refuses a bad user, unknown fields and a non-object', () => {
    expect(problems({ trigger: runTrigger, runFilter: { user: '', project: 'x' } })).toEqual([
      { field: 'runFilter.user', reason: 'must be a string of 1 to 256 characters' },
      { field: 'runFilter.project', reason: 'is not an allowed field' },
    ]);
    expect(problems({ trigger: runTrigger, runFilter: '^bert' })).toEqual([
      { field: 'runFilter', reason: 'must be an object: {nameRegex?, user?}' },
    ]);
  });
});

describe('normalizeAutomation: action', () => {
  it('accepts a payload object, array or JSON text, a preset, or neither', () => {
    const payload = { event_type: 'DEPLOY', client_payload: { v: '${artifact_version_string}' } };
    expect(normalized({ action: { webhookId: 'wh_1', payload } }).action).toEqual({ webhookId: 'wh_1', payload });
    expect(normalized({ action: { webhookId: 'wh_1', payload: [1] } }).action.payload).toEqual([1]);
    expect(normalized({ action: { webhookId: 'wh_1', payload: '{"v": ${metric_value}}' } }).action.payload).toBe('{"v": ${metric_value}}');
    expect(normalized({ action: { webhookId: 'wh_1', template: 'slack' } }).action).toEqual({ webhookId: 'wh_1', template: 'slack' });
    expect(normalized({ action: { webhookId: 'wh_1' } }).action).toEqual({ webhookId: 'wh_1' });
  });

  it('treats payload or template null as absent', () => {
    expect(normalized({ action: { webhookId: 'wh_1', payload: null, template: 'discord' } }).action).toEqual({
      webhookId: 'wh_1',
      template: 'discord',
    });
  });

  it('refuses both payload and template', () => {
    expect(problems({ action: { webhookId: 'wh_1', payload: { a: 1 }, template: 'slack' } })).toEqual([
      { field: 'action', reason: 'takes at most one of payload (a custom template) and template (a preset name), not both' },
    ]);
  });

  it('refuses a template that is not a preset', () => {
    expect(problems({ action: { webhookId: 'wh_1', template: 'fancy' } })).toEqual([
      {
        field: 'action.template',
        reason: 'must be one of the presets: slack, teams, teams-messagecard, github-repository-dispatch, discord, determined, valohai, generic',
      },
    ]);
  });

  it.each([3, true])('refuses payload %p', (payload) => {
    expect(problems({ action: { webhookId: 'wh_1', payload } })).toEqual([
      { field: 'action.payload', reason: 'must be a JSON object, an array, or a string of JSON text' },
    ]);
  });

  it('requires a webhookId string and refuses other action fields', () => {
    expect(problems({ action: {} })).toEqual([{ field: 'action.webhookId', reason: 'is required' }]);
    expect(problems({ action: { webhookId: 7, url: 'https://x' } })).toEqual([
      { field: 'action.url', reason: 'is not an allowed field' },
      { field: 'action.webhookId', reason: 'must be a webhook id' },
    ]);
    expect(problems({ action: 'wh_1' })).toEqual([
      { field: 'action', reason: 'must be an object: {webhookId, payload?} or {webhookId, template?}' },
    ]);
  });
});

describe('actionProblems', () => {
  it('is empty for a payload using variables and bound secrets', () => {
    const payload = { event_type: 'DEPLOY', token: '${GITHUB_TOKEN}', client_payload: { v: '${artifact_version_string}' } };
    expect(actionProblems({ webhookId: 'wh_1', payload }, ['GITHUB_TOKEN'])).toEqual([]);
  });

  it('is empty for a preset or no template at all', () => {
    expect(actionProblems({ webhookId: 'wh_1', template: 'github-repository-dispatch' }, [])).toEqual([]);
    expect(actionProblems({ webhookId: 'wh_1' }, [])).toEqual([]);
  });

  it('names the payload path of an unbound secret', () => {
    const payload = { client_payload: { v: '${GITHUB_TOKEN}' } };
    const found = actionProblems({ webhookId: 'wh_1', payload }, []);
    expect(found).toHaveLength(1);
    expect(found[0].field).toBe('action.payload.client_payload.v');
  });

  it('names the payload path of an unknown variable', () => {
    const found = actionProblems({ webhookId: 'wh_1', payload: { text: 'loss is ${metric_valu}' } }, []);
    expect(found).toHaveLength(1);
    expect(found[0].field).toBe('action.payload.text');
  });

  it('refuses both payload and template, and an unknown template', () => {
    expect(actionProblems({ webhookId: 'wh_1', payload: { a: 1 }, template: 'slack' }, []).map((p) => p.field)).toEqual(['action']);
    expect(actionProblems({ webhookId: 'wh_1', template: 'nope' }, []).map((p) => p.field)).toEqual(['action.template']);
  });
});

describe('trigger classification and cooldown', () => {
  it.each(['RUN_STATE', 'RUN_METRIC_THRESHOLD', 'RUN_METRIC_CHANGE', 'RUN_METRIC_ZSCORE', 'RUN_LOG_MATCH'])('%s is a run trigger', (event) => {
    expect(isRunTrigger(event)).toBe(true);
    expect(isArtifactTrigger(event)).toBe(false);
  });

  it.each(['CREATE_ARTIFACT', 'LINK_ARTIFACT', 'UNLINK_ARTIFACT', 'ADD_ARTIFACT_ALIAS', 'REMOVE_ARTIFACT_ALIAS', 'ADD_ARTIFACT_TAG', 'REMOVE_ARTIFACT_TAG'])(
    '%s is an artifact trigger',
    (event) => {
      expect(isArtifactTrigger(event)).toBe(true);
      expect(isRunTrigger(event)).toBe(false);
    },
  );

  it('ALERT and unknown names are neither', () => {
    for (const event of ['ALERT', 'RUN_METRICS', '']) {
      expect(isRunTrigger(event)).toBe(false);
      expect(isArtifactTrigger(event)).toBe(false);
    }
  });

  it.each<[Trigger, number]>([
    [{ event: 'RUN_METRIC_THRESHOLD', metric: 'm', op: 'NON_FINITE' }, 86_400],
    [{ event: 'RUN_METRIC_CHANGE', metric: 'm', agg: 'LAST', window: 1, priorWindow: 1, changeType: 'ABSOLUTE', direction: 'ANY', amount: 1 }, 86_400],
    [{ event: 'RUN_METRIC_ZSCORE', metric: 'm', window: 5, threshold: 2, direction: 'ANY' }, 86_400],
    [{ event: 'RUN_LOG_MATCH', lineRegex: 'x' }, 86_400],
    [{ event: 'RUN_STATE', states: ['FAILED'] }, 0],
    [{ event: 'ALERT', levels: ['ERROR'] }, 0],
    [{ event: 'ADD_ARTIFACT_ALIAS', aliasRegex: 'x' }, 0],
  ])('defaults the cooldown of %j to %d s', (trigger, seconds) => {
    expect(effectiveCooldownSeconds(trigger, null)).toBe(seconds);
  });

  it('keeps a cooldown that was set, 0 included', () => {
    expect(effectiveCooldownSeconds({ event: 'RUN_LOG_MATCH', lineRegex: 'x' }, 0)).toBe(0);
    expect(effectiveCooldownSeconds({ event: 'RUN_STATE', states: ['FAILED'] }, 600)).toBe(600);
  });
});
