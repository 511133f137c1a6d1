import type { AttributeFilter, MatchableAutomation, RunFilter, Scope, Trigger } from '../automations/automation.types';
import type { AlertLevel, EventType, HeraldEvent, RunContext, RunState } from '../events/event.types';
import { NotFiredList } from '../events/event-outcome';
import { everyQuiet, storedFrom, storedOf } from '../../test/support/not-fired';
// A seeded PRNG (mulberry32), so a failure names a reproducible seed.
import { pick, seededRandom as prng } from '../../test/support/random';
import { EventProgram } from './event-program';
import { AutomationIndex, type CompiledAutomation, type Decision, type NotFiredReason, type SubjectState, compileAutomation, decide, subjectFor } from './matcher';
import { SubjectStates } from './subject-states';

const subset = <T>(random: () => number, items: readonly T[]): T[] => {
  const chosen = items.filter(() => random() < 0.5);
  return chosen.length > 0 ? chosen : [pick(random, items)];
};
const STATES: readonly RunState[] = ['RUNNING', 'FINISHED', 'FAILED', 'CRASHED', 'KILLED'];
const LEVELS: readonly AlertLevel[] = ['INFO', 'WARN', 'ERROR'];
const LINES = ['step 1 loss 0.2', 'CUDA out of memory', 'WARN slow checkpoint', 'Traceback (most recent call last):', 'done'];
const TITLES = ['OOM on node 3', 'disk full', 'NaN in loss', 'preempted'];
const ALIASES = ['prod', 'staging', 'v3', 'latest'];
const TAGS = ['release-1', 'approved', 'wip'];
const COLLECTIONS = ['bert-models', 'gpt-small', 'resnet'];

function trigger(random: () => number): Trigger {
  const collectionRegex = random() < 0.5 ? pick(random, ['^bert', 'models$', 'gpt']) : undefined;
  const withCollection = <T extends object>(t: T): T => (collectionRegex === undefined ? t : { ...t, collectionRegex });
  switch (Math.floor(random() * 14)) {
    case 0:
    case 1:
      return { event: 'RUN_STATE', states: subset(random, STATES) };
    case 2:
    case 3:
      return { event: 'RUN_LOG_MATCH', lineRegex: pick(random, ['CUDA out of memory', '^WARN', 'Traceback', 'never']) };
    case 4:
    case 5:
      return random() < 0.6 ? { event: 'ALERT', levels: subset(random, LEVELS), titleRegex: pick(random, ['^OOM', 'disk', '(?i)nan']) } : { event: 'ALERT', levels: subset(random, LEVELS) };
    case 6:
      return { event: 'RUN_STALE', staleSeconds: pick(random, [60, 600]) };
    case 7:
      return { event: pick(random, ['WEBHOOK_DISABLED', 'DELIVERY_FAILED'] as const) };
    case 8:
      return withCollection({ event: pick(random, ['ADD_ARTIFACT_ALIAS', 'REMOVE_ARTIFACT_ALIAS'] as const), aliasRegex: pick(random, ['^prod$', 'v\\d', 'stag']) });
    case 9:
      return withCollection({ event: pick(random, ['ADD_ARTIFACT_TAG', 'REMOVE_ARTIFACT_TAG'] as const), tagRegex: pick(random, ['^release', 'approved']) });
    case 10:
      return withCollection({ event: pick(random, ['ADD_COLLECTION_TAG', 'REMOVE_COLLECTION_TAG'] as const), tagRegex: pick(random, ['^release', 'wip']) });
    default:
      return withCollection({ event: pick(random, ['CREATE_ARTIFACT', 'LINK_ARTIFACT', 'UNLINK_ARTIFACT'] as const) });
  }
}

function runFilter(random: () => number): RunFilter | null {
  switch (Math.floor(random() * 5)) {
    case 0:
      return { nameRegex: pick(random, ['^bert', 'lr\\d', 'gpt$']) };
    case 1:
      return { user: pick(random, ['alice', 'bob']) };
    case 2:
      return { nameRegex: pick(random, ['^bert', 'lr\\d']), user: 'alice' };
    case 3:
      return {};
    default:
      return null;
  }
}

function attributeFilter(random: () => number): AttributeFilter | null {
  switch (Math.floor(random() * 6)) {
    case 0:
      return { 'run.config.lr': { $lt: 0.01 } };
    case 1:
      return { 'run.tags': { $contains: 'baseline' } };
    case 2:
      return { $or: [{ 'run.group': 'sweep-1' }, { author: 'bob' }] };
    default:
      return null;
  }
}

function event(random: () => number, n: number, type: EventType): HeraldEvent {
  const base: HeraldEvent = {
    id: `e${n}`,
    type,
    occurredAt: '2026-11-22T08:00:00Z',
    project: pick(random, ['llm', 'llm', 'cv', 'other']),
    registry: pick(random, [true, false, undefined]),
  };
  if (random() < 0.8) base.author = pick(random, ['alice', 'bob']);
  const run = { id: pick(random, ['r1', 'r2', 'r3']), name: pick(random, ['bert-lr3', 'gpt', 'bert']) };
  switch (type) {
    case 'RUN_STATE':
      return { ...base, run: { ...run, state: pick(random, STATES) } };
    case 'RUN_LOG':
      return { ...base, run, lines: Array.from({ length: Math.floor(random() * 4) }, () => pick(random, LINES)) };
    case 'ALERT':
      return { ...base, ...(random() < 0.8 ? { run } : {}), level: pick(random, LEVELS), title: pick(random, TITLES) };
    case 'RUN_STALE':
      return { ...base, run: { ...run, state: 'RUNNING' }, staleSeconds: pick(random, [60, 600]) };
    case 'WEBHOOK_DISABLED':
    case 'DELIVERY_FAILED':
      return base;
    case 'ADD_COLLECTION_TAG':
    case 'REMOVE_COLLECTION_TAG':
      return { ...base, collection: { name: pick(random, COLLECTIONS) }, tag: pick(random, TAGS) };
    default: {
      const collection = pick(random, COLLECTIONS);
      const artifact = { name: `${collection}:v1`, version: 'v1', collection };
      return { ...base, artifact, ...(random() < 0.7 ? { alias: pick(random, ALIASES) } : {}), ...(random() < 0.7 ? { tag: pick(random, TAGS) } : {}) };
    }
  }
}

const TYPES: readonly EventType[] = [
  'RUN_STATE', 'RUN_LOG', 'ALERT', 'RUN_STALE', 'WEBHOOK_DISABLED', 'DELIVERY_FAILED', 'CREATE_ARTIFACT', 'LINK_ARTIFACT', 'UNLINK_ARTIFACT',
  'ADD_ARTIFACT_ALIAS', 'REMOVE_ARTIFACT_ALIAS', 'ADD_ARTIFACT_TAG', 'REMOVE_ARTIFACT_TAG', 'ADD_COLLECTION_TAG', 'REMOVE_COLLECTION_TAG',
];

describe('EventProgram', () => {
  it.each([1, 2, 3, 4, 5, 6])('decides exactly as decide does, event after event (seed %i)', (seed) => {
    const random = prng(seed);
    const scopes: Scope[] = [{ type: 'project', name: 'llm' }, { type: 'team' }, { type: 'project', name: 'cv' }, { type: 'registry', name: 'llm' }];
    const automations: CompiledAutomation[] = [];
    for (let i = 0; i < 150; i++) {
      const t = trigger(random);
      const a: MatchableAutomation = {
        id: `a_${i}`,
        name: `a${i}`,
        scope: pick(random, scopes),
        trigger: t,
        runFilter: runFilter(random),
        filter: attributeFilter(random),
        cooldownSeconds: pick(random, [0, 0, 60, 3600]),
        triggerVersion: pick(random, [1, 1, 2]),
      };
      automations.push(compileAutomation(a));
    }
    const index = new AutomationIndex(automations);
    // Each path keeps its own edge/cooldown state by subject (decide's by automation id, the
    // program's in columns by slot, as ingestion keeps them: subject-states.ts), and run states.
    const expectedStates = new Map<string, Map<string, SubjectState>>();
    const programStates = new Map<string, SubjectStates>();
    const runStates = new Map<string, RunState>();
    let now = 1_000_000;
    let nonQuiet = 0;
    let fired = 0;
    let programmed = 0;
    let overflowed = 0;
    const reasons = new Set<string>();
    for (let n = 0; n < 2500; n++) {
      now += pick(random, [1000, 30_000, 1_000_000]);
      const e = event(random, n, pick(random, TYPES));
      const runKey = e.run ? `${e.project}/${e.run.id}` : null;
      const previousRunState = runKey ? (runStates.get(runKey) ?? null) : null;
      if (runKey && e.type === 'RUN_STATE') runStates.set(runKey, e.run!.state!);
      const runContext: RunContext = {
        group: pick(random, ['sweep-1', 'sweep-2', null]),
        tags: pick(random, [['baseline'], ['x'], null]),
        config: pick(random, [{ lr: 0.001 }, { lr: 0.1 }, null]),
      };

      // The index hands out the program of the event's own list.
      const program0 = index.eventProgram(e);
      if (index.candidates(e).length > 0) expect(program0).toBe(EventProgram.of(index.candidates(e), (id) => index.slotOf(id)));
      // The reference: decide on every candidate of a list, as ingestion does. Mostly the event's
      // own; sometimes another project's (or the registry's), so the scope gate fails too.
      const donor = random() < 0.7 ? e : { ...e, project: pick(random, ['llm', 'cv', 'other']), registry: pick(random, [true, false]) };
      const expected: [string, Decision][] = [];
      const expectedQuiet: [string, NotFiredReason][] = [];
      const candidates = index.candidates(donor);
      for (const compiled of candidates) {
        const states = stateMap(expectedStates, subjectFor(compiled.facts.artifact, e));
        const d = decide(compiled, e, { windows: {}, previousRunState, state: states.get(compiled.automation.id) ?? null, nowMs: now, runContext });
        if (d.nextState) states.set(compiled.automation.id, d.nextState);
        if (d.fires || d.suppressedBy !== null || d.nextState !== null) expected.push([compiled.automation.id, d]);
        else if (d.notFired) expectedQuiet.push([compiled.automation.id, d.notFired]);
      }
      const program = index.eventProgram(donor);
      if (candidates.length > 0) expect(program).not.toBeNull();
      if (!program) continue;
      programmed++;
      const got: [string, Decision][] = [];
      const gotQuiet: [string, NotFiredReason][] = [];
      // The subject is the event's, laid out for its project (another list's program reads it through the same slots).
      const subject = subjectFor(program.artifact, e);
      let states = programStates.get(subject);
      if (!states) programStates.set(subject, (states = new SubjectStates(index.stateLayout(e.project))));
      const before = states.clone();
      program.decide(e, previousRunState, states, now, (compiled, d) => got.push([compiled.automation.id, d]), runContext, everyQuiet(gotQuiet));
      expect(got).toStrictEqual(expected);
      // The program set each next state in its automation's slot: the subject's states are decide's.
      expect(states.toMap()).toStrictEqual(expectedStates.get(subject) ?? new Map());
      expect(gotQuiet).toStrictEqual(expectedQuiet);
      // Again from the same states, into a NotFiredList as ingestion does (past the cap the
      // program counts the `condition` ones itself): the same decisions, the same stored outcome.
      const list = new NotFiredList();
      const again: [string, Decision][] = [];
      program.decide(e, previousRunState, before, now, (compiled, d) => again.push([compiled.automation.id, d]), runContext, list);
      expect(again).toStrictEqual(expected);
      const stored = storedOf(expectedQuiet);
      expect(storedFrom(list)).toStrictEqual(stored);
      if (stored.notFiredOmitted !== undefined) overflowed++;
      for (const [, r] of expectedQuiet) reasons.add(JSON.stringify(r));
      nonQuiet += expected.length;
      fired += expected.filter(([, d]) => d.fires).length;
    }
    const programMaps = new Map([...programStates].map(([subject, states]) => [subject, states.toMap()]));
    const expectedMaps = new Map([...expectedStates].filter(([subject]) => programStates.has(subject)));
    expect(programMaps).toStrictEqual(expectedMaps);
    // Every subject decide wrote to, the program wrote to as well.
    for (const [subject, states] of expectedStates) if (states.size > 0) expect(programStates.has(subject)).toBe(true);
    // The workload exercised what it is meant to: firings, cooldowns, held edges, every quiet reason.
    expect(programmed).toBeGreaterThan(2000);
    expect(fired).toBeGreaterThan(50);
    expect(nonQuiet).toBeGreaterThan(fired);
    for (const reason of ['condition', 'scope', 'runFilter', 'filter"}']) expect([...reasons].join()).toContain(reason);
    // And many events had more non-matches than the list keeps.
    expect(overflowed).toBeGreaterThan(50);
  });

  it('leaves lists with a RUN_GROUP_FINISHED automation to decide', () => {
    const compile = (id: string, trigger: Trigger): CompiledAutomation =>
      compileAutomation({ id, name: id, scope: { type: 'project', name: 'llm' }, trigger, runFilter: null, cooldownSeconds: 0, triggerVersion: 1 });
    const index = new AutomationIndex([compile('s', { event: 'RUN_STATE', states: ['FAILED'] }), compile('g', { event: 'RUN_GROUP_FINISHED' }), compile('a', { event: 'ALERT', levels: ['ERROR'] })]);
    const base = { id: 'e', occurredAt: '2026-11-22T08:00:00Z', project: 'llm', run: { id: 'r', name: 'n', state: 'FAILED' as const } };
    expect(index.eventProgram({ ...base, type: 'RUN_STATE' })).toBeNull();
    expect(index.eventProgram({ ...base, type: 'RUN_METRICS' })).toBeNull();
    expect(index.eventProgram({ ...base, type: 'ALERT', level: 'ERROR' })).toBeInstanceOf(EventProgram);
    expect(index.eventProgram({ ...base, type: 'RUN_LOG' })).toBeNull();
  });
});

function stateMap(all: Map<string, Map<string, SubjectState>>, key: string): Map<string, SubjectState> {
  let map = all.get(key);
  if (!map) all.set(key, (map = new Map()));
  return map;
}

describe('EventProgram, lists it leaves to decide', () => {
  it('a listed state or level the event types do not know (refused at save): no program', () => {
    const compile = (id: string, trigger: unknown): CompiledAutomation =>
      compileAutomation({ id, name: id, scope: { type: 'project', name: 'llm' }, trigger: trigger as Trigger, runFilter: null, cooldownSeconds: 0, triggerVersion: 1 });
    const index = new AutomationIndex([compile('s', { event: 'RUN_STATE', states: ['PAUSED'] }), compile('a', { event: 'ALERT', levels: ['FATAL'] })]);
    const base = { id: 'e', occurredAt: '2026-11-22T08:00:00Z', project: 'llm', run: { id: 'r', name: 'n' } };
    expect(index.candidates({ ...base, type: 'RUN_STATE' })).toHaveLength(1);
    expect(index.eventProgram({ ...base, type: 'RUN_STATE' })).toBeNull();
    expect(index.eventProgram({ ...base, type: 'ALERT' })).toBeNull();
  });
});
