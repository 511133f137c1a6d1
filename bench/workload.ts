import type { PostedMetricValue } from '../src/events/event.types';
import { pick, seededRandom } from './stats';

/**
 * The benchmark's workloads, generated from fixed seeds so every run measures the same thing.
 * Automations are produced in the shape POST /v1/automations takes; the matcher scenario turns
 * the same bodies into matchable automations.
 */

/** The body of POST /v1/automations. */
export interface AutomationBody {
  name: string;
  scope: { type: 'project' | 'registry'; name: string } | { type: 'team' };
  trigger: Record<string, unknown> & { event: string };
  runFilter?: { nameRegex?: string; user?: string };
  action: { webhookId: string; payload?: unknown; template?: string };
  cooldownSeconds?: number;
}

/** A posted event (no id, no occurredAt: the server assigns them). */
export type PostedEvent = Record<string, unknown> & { type: string; project: string };

export const BACKGROUND_PROJECTS = 100;

/** Metric names the background automations and the matcher's events use; ingestion uses others. */
const METRIC_POOL = [
  'loss', 'val/loss', 'acc', 'val/acc', 'lr', 'grad_norm', 'tokens_per_s', 'gpu_util', 'perplexity', 'f1',
  'bleu', 'reward', 'kl', 'entropy', 'mem_gb', 'epoch_time', 'throughput', 'wer', 'auc', 'recall',
];
const RUN_NAMES = ['bert-base-lr3e-4', 'bert-large-lr1e-4', 'gpt2-small', 'llama-7b-lora', 'resnet50-aug', 'vit-b16', 't5-base', 'whisper-tiny'];
const NAME_REGEXES = ['^bert-', 'lr\\d', '-(large|base)', '^llama', 'lora$', '^(vit|resnet)', 'small|tiny'];
const USERS = ['alice', 'bob', 'carol', 'dave'];
const LOG_REGEXES = ['CUDA out of memory', '(?i)nan loss', 'Traceback \\(most recent call last\\)', 'error: .*timed? ?out', '^WARN .*checkpoint'];
const LOG_LINES = [
  'step 1200 loss 0.183',
  'saving checkpoint to /ckpt/step-1200',
  'WARN slow checkpoint write (12 s)',
  'RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB',
  'epoch 3 done',
  'Traceback (most recent call last):',
  'grad norm 1.7e+03, clipping',
  'error: rendezvous timed out',
];
const TITLE_REGEXES = ['^(OOM|oom)', 'disk (full|almost full)', 'node \\d+ lost', '(?i)nan', 'quota'];
const TITLES = ['OOM on node 3', 'disk almost full', 'node 12 lost', 'NaN in loss', 'GPU quota reached', 'preempted'];
const ALIAS_REGEXES = ['^(prod|production)$', '^staging$', '^v\\d+$', 'candidate'];
const ALIASES = ['prod', 'staging', 'latest', 'v3', 'candidate-2', 'best'];
const TAG_REGEXES = ['^release', 'approved', '^eval-(pass|ok)$'];
const TAGS = ['release-1.2', 'approved', 'eval-pass', 'wip', 'nightly'];
const COLLECTION_REGEXES = ['^bert', 'models$', '^(gpt|llama)-'];
const COLLECTIONS = ['bert-models', 'gpt-small', 'llama-7b', 'resnet', 'vision-models'];
const RUN_STATES = ['RUNNING', 'FINISHED', 'FAILED', 'CRASHED', 'KILLED'] as const;
const END_STATES = ['FINISHED', 'FAILED', 'CRASHED', 'KILLED'] as const;

export function backgroundProject(index: number): string {
  return `proj-${String(index).padStart(3, '0')}`;
}

/** The ten metrics a project's runs log (a run logs the same names at every step). */
function projectMetrics(project: number): string[] {
  return Array.from({ length: 10 }, (_, k) => METRIC_POOL[(project * 7 + k * 3) % METRIC_POOL.length]).filter(
    (name, i, all) => all.indexOf(name) === i,
  );
}

/** A payload template using several variables (most automations carry one; the rest use a preset). */
const CUSTOM_PAYLOAD = {
  text: '${automation_name}: ${run_name} ${metric_name}=${metric_value} (${event_type})',
  project: '${project_name}',
  run: { id: '${run_id}', url: '${run_url}' },
  artifact: '${artifact_version_string}',
  at: '${timestamp}',
};

function subset<T>(random: () => number, items: readonly T[]): T[] {
  const chosen = items.filter(() => random() < 0.5);
  return chosen.length > 0 ? chosen : [pick(random, items)];
}

/**
 * `count` automations over BACKGROUND_PROJECTS projects with mixed triggers and regexes: 40 %
 * metric triggers, 15 % run state, 10 % log, 10 % alert, 25 % artifact; half the run triggers
 * carry a run filter; 1 % are team-wide (with filters Herald's own bench events never pass),
 * a fifth of the artifact ones are registry-scoped.
 */
export function backgroundAutomations(count: number, webhookIds: readonly string[]): AutomationBody[] {
  const random = seededRandom(7);
  const out: AutomationBody[] = [];
  for (let i = 0; i < count; i++) {
    const projectIndex = i % BACKGROUND_PROJECTS;
    const project = backgroundProject(projectIndex);
    const metrics = projectMetrics(projectIndex);
    const teamWide = i % 100 === 99;
    const roll = random();
    let trigger: AutomationBody['trigger'];
    let runTrigger = true;
    if (roll < 0.25) {
      trigger = random() < 0.05
        ? { event: 'RUN_METRIC_THRESHOLD', metric: pick(random, metrics), op: 'NON_FINITE' }
        : {
            event: 'RUN_METRIC_THRESHOLD',
            metric: pick(random, metrics),
            agg: pick(random, ['MIN', 'MAX', 'AVERAGE', 'LAST']),
            window: 1 + Math.floor(random() * 20),
            op: pick(random, ['<', '<=', '>', '>=']),
            threshold: Math.round(random() * 100) / 100,
          };
    } else if (roll < 0.33) {
      trigger = {
        event: 'RUN_METRIC_CHANGE',
        metric: pick(random, metrics),
        agg: pick(random, ['MIN', 'MAX', 'AVERAGE', 'LAST']),
        window: 1 + Math.floor(random() * 10),
        priorWindow: 1 + Math.floor(random() * 10),
        changeType: pick(random, ['ABSOLUTE', 'RELATIVE']),
        direction: pick(random, ['INCREASE', 'DECREASE', 'ANY']),
        amount: Math.round(random() * 50) / 100,
      };
    } else if (roll < 0.4) {
      trigger = {
        event: 'RUN_METRIC_ZSCORE',
        metric: pick(random, metrics),
        window: 5 + Math.floor(random() * 25),
        threshold: 2 + Math.floor(random() * 3),
        direction: pick(random, ['INCREASE', 'DECREASE', 'ANY']),
      };
    } else if (roll < 0.55) {
      trigger = { event: 'RUN_STATE', states: subset(random, END_STATES) };
    } else if (roll < 0.65) {
      trigger = { event: 'RUN_LOG_MATCH', lineRegex: pick(random, LOG_REGEXES) };
    } else if (roll < 0.75) {
      trigger = { event: 'ALERT', levels: subset(random, ['INFO', 'WARN', 'ERROR']) };
      if (random() < 0.7 || teamWide) trigger.titleRegex = pick(random, TITLE_REGEXES);
    } else {
      runTrigger = false;
      const kind = random();
      if (kind < 0.4) trigger = { event: 'ADD_ARTIFACT_ALIAS', aliasRegex: pick(random, ALIAS_REGEXES) };
      else if (kind < 0.5) trigger = { event: 'REMOVE_ARTIFACT_ALIAS', aliasRegex: pick(random, ALIAS_REGEXES) };
      else if (kind < 0.7) trigger = { event: 'ADD_ARTIFACT_TAG', tagRegex: pick(random, TAG_REGEXES) };
      else if (kind < 0.9) trigger = { event: 'CREATE_ARTIFACT' };
      else trigger = { event: 'LINK_ARTIFACT' };
      if (random() < 0.5) trigger.collectionRegex = pick(random, COLLECTION_REGEXES);
    }
    const body: AutomationBody = {
      name: `bg-${i}`,
      scope: teamWide ? { type: 'team' } : !runTrigger && random() < 0.2 ? { type: 'registry', name: project } : { type: 'project', name: project },
      trigger,
      action: { webhookId: webhookIds[i % webhookIds.length] },
    };
    if (runTrigger && (random() < 0.5 || teamWide)) {
      const filter: { nameRegex?: string; user?: string } = {};
      if (random() < 0.7) filter.nameRegex = pick(random, NAME_REGEXES);
      // Team-wide automations watch a user none of the bench's own events carry.
      if (teamWide) filter.user = 'ops-bot';
      else if (random() < 0.3 || filter.nameRegex === undefined) filter.user = pick(random, USERS);
      body.runFilter = filter;
    }
    const action = random();
    if (action < 0.7) body.action.payload = CUSTOM_PAYLOAD;
    else if (action < 0.85) body.action.template = 'generic';
    out.push(body);
  }
  return out;
}

/** Events over the background projects, in the proportions a busy team sees (60 % metrics). */
export function matcherEvents(count: number): PostedEvent[] {
  const random = seededRandom(11);
  const out: PostedEvent[] = [];
  const steps = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const projectIndex = Math.floor(random() * BACKGROUND_PROJECTS);
    const project = backgroundProject(projectIndex);
    const runIndex = Math.floor(random() * RUN_NAMES.length);
    const run = { id: `r${projectIndex}-${runIndex}`, name: `${RUN_NAMES[runIndex]}-${runIndex}` };
    const author = pick(random, USERS);
    const roll = random();
    if (roll < 0.6) {
      const step = (steps.get(run.id) ?? 0) + 1;
      steps.set(run.id, step);
      const metrics: Record<string, PostedMetricValue> = {};
      for (const name of projectMetrics(projectIndex)) metrics[name] = random() < 0.002 ? 'NaN' : Math.round(random() * 1e4) / 1e4;
      out.push({ type: 'RUN_METRICS', project, author, run: { ...run, state: 'RUNNING' }, step, metrics });
    } else if (roll < 0.68) {
      out.push({ type: 'RUN_STATE', project, author, run: { ...run, state: pick(random, RUN_STATES) } });
    } else if (roll < 0.76) {
      const lines = Array.from({ length: 2 + Math.floor(random() * 4) }, () => pick(random, LOG_LINES));
      out.push({ type: 'RUN_LOG', project, author, run, lines });
    } else if (roll < 0.82) {
      out.push({ type: 'ALERT', project, author, run, level: pick(random, ['INFO', 'WARN', 'ERROR']), title: pick(random, TITLES), text: 'from the bench' });
    } else {
      const type = pick(random, ['ADD_ARTIFACT_ALIAS', 'ADD_ARTIFACT_ALIAS', 'REMOVE_ARTIFACT_ALIAS', 'ADD_ARTIFACT_TAG', 'CREATE_ARTIFACT', 'LINK_ARTIFACT']);
      const collection = pick(random, COLLECTIONS);
      const event: PostedEvent = {
        type,
        project,
        author,
        registry: random() < 0.3,
        artifact: { name: `${collection}:v${i % 9}`, version: `v${i % 9}`, collection, metadata: { accuracy: 0.91 } },
      };
      if (type.includes('ALIAS')) event.alias = pick(random, ALIASES);
      if (type.includes('TAG')) event.tag = pick(random, TAGS);
      out.push(event);
    }
  }
  return out;
}

// Ingest ------------------------------------------------------------------------------------------

export const INGEST_PROJECT = 'bench-ingest';
export const INGEST_METRICS = Array.from({ length: 10 }, (_, k) => `train/m${k}`);
export const INGEST_RUNS = 10;
/** Each batch holds this many consecutive steps of each of the INGEST_RUNS runs. */
export const INGEST_STEPS_PER_BATCH = 50;
/**
 * The sentinel automation's window: larger than one batch's steps of a run, so it fills only
 * if windows persist across requests. It fires once per run (edge-triggered, then cooling down).
 */
export const SENTINEL_WINDOW = 60;

/**
 * The 100 automations watching the ingest project's metrics (10 per metric): thresholds,
 * changes and z-scores that stay quiet on the bench's values (uniform in [0, 1)), plus one
 * sentinel that fires once per run once its window is full.
 */
export function ingestAutomations(webhookId: string): AutomationBody[] {
  const random = seededRandom(13);
  const out: AutomationBody[] = [];
  for (let i = 0; i < 100; i++) {
    const metric = INGEST_METRICS[i % INGEST_METRICS.length];
    const kind = i % 3;
    let trigger: AutomationBody['trigger'];
    if (i === 0) {
      trigger = { event: 'RUN_METRIC_THRESHOLD', metric, agg: 'AVERAGE', window: SENTINEL_WINDOW, op: '>=', threshold: 0 };
    } else if (kind === 0) {
      trigger = { event: 'RUN_METRIC_THRESHOLD', metric, agg: pick(random, ['MIN', 'MAX', 'AVERAGE', 'LAST']), window: 1 + Math.floor(random() * 30), op: '>', threshold: 2 };
    } else if (kind === 1) {
      trigger = {
        event: 'RUN_METRIC_CHANGE', metric, agg: 'AVERAGE', window: 1 + Math.floor(random() * 10), priorWindow: 1 + Math.floor(random() * 10),
        changeType: 'ABSOLUTE', direction: 'ANY', amount: 5,
      };
    } else {
      trigger = { event: 'RUN_METRIC_ZSCORE', metric, window: 5 + Math.floor(random() * 20), threshold: 50, direction: 'ANY' };
    }
    out.push({
      name: `ingest-${i}`,
      scope: { type: 'project', name: INGEST_PROJECT },
      trigger,
      action: { webhookId, payload: { run: '${run_name}', metric: '${metric_name}', value: '${metric_value}', step: '${metric_step}' } },
    });
  }
  return out;
}

/** Batch `b` of the ingest scenario: INGEST_STEPS_PER_BATCH steps of each run, runs interleaved. */
export function ingestBatch(b: number, size: number, random: () => number): PostedEvent[] {
  const out: PostedEvent[] = [];
  for (let i = 0; i < size; i++) {
    const run = i % INGEST_RUNS;
    const step = b * INGEST_STEPS_PER_BATCH + Math.floor(i / INGEST_RUNS);
    const metrics: Record<string, number> = {};
    for (const name of INGEST_METRICS) metrics[name] = Math.round(random() * 1e6) / 1e6;
    out.push({ type: 'RUN_METRICS', project: INGEST_PROJECT, author: 'trainer', run: { id: `run-${run}`, name: `bert-base-${run}` }, step, metrics });
  }
  return out;
}

// End to end --------------------------------------------------------------------------------------

export const E2E_PROJECT = 'bench-e2e';
export const E2E_TITLE_REGEX = '^(warm|single|batch|rate|fast):\\d+$';
/** The custom payload of the end-to-end automation; the ceiling renders the same object. */
export const E2E_PAYLOAD = {
  event_type: '${event_type}',
  title: '${alert_title}',
  project: '${project_name}',
  timestamp: '${timestamp}',
  delivery: '${delivery_id}',
};

export function e2eAutomation(webhookId: string): AutomationBody {
  return {
    name: 'bench-e2e',
    scope: { type: 'project', name: E2E_PROJECT },
    trigger: { event: 'ALERT', levels: ['ERROR'], titleRegex: E2E_TITLE_REGEX },
    action: { webhookId, payload: E2E_PAYLOAD },
  };
}

/** One matching end-to-end event; its title carries the scenario tag and sequence number back from the receiver. */
export function e2eEvent(tag: string, seq: number): PostedEvent {
  return { type: 'ALERT', project: E2E_PROJECT, level: 'ERROR', title: `${tag}:${seq}`, text: 'bench' };
}
