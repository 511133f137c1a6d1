import { REMOTE_HELP, REMOTE_OPTIONS, parseCommand } from '../args';
import { ApiRequestError, HeraldClient } from '../client';
import { CliError, EXIT, type ExitCode, UsageError } from '../exit-codes';
import type { CliIo } from '../io';
import { help } from './config';

export const EVENTS_HELP = `Usage: herald events send [options]      one event from options
       herald events send < event.json    one event (or an array) as JSON on standard input

Posts to POST /v1/events, for shell and cluster scripts (a Slurm epilog, a CI job). Herald
validates it (every problem at once); the answer says whether it was a duplicate and which
deliveries it made.

  --type TYPE              RUN_METRICS, RUN_STATE, RUN_LOG, ALERT or an artifact event
  --project NAME           the project (required)
  --id ID                  the idempotency key (a retried send with the same id is stored once)
  --author NAME            who caused it
  --occurred-at TIME       ISO-8601 (default: when Herald receives it)
  --registry               an event of the project's model registry
  --run-id ID --run-name NAME [--state STATE] [--run-url URL]    the run
  --metric NAME=VALUE      a metric (repeat it); VALUE a number, NaN, Infinity or -Infinity
  --step N                 the metrics' step
  --line TEXT              a log line (repeat it), for RUN_LOG
  --title TEXT --level INFO|WARN|ERROR [--text TEXT]             an ALERT
  --artifact-name NAME --artifact-version V --collection NAME [--artifact-type T]
  --alias ALIAS, --tag TAG  for the alias and tag events
  --json                   print Herald's answer as JSON

${REMOTE_HELP}

Exit codes: 0 stored (or a duplicate), 3 Herald refused the event as invalid, 1 other errors,
64 wrong command line. Needs an ingest or admin key.`;

const OPTIONS = {
  ...REMOTE_OPTIONS,
  type: { type: 'string' },
  project: { type: 'string' },
  id: { type: 'string' },
  author: { type: 'string' },
  'occurred-at': { type: 'string' },
  registry: { type: 'boolean' },
  'run-id': { type: 'string' },
  'run-name': { type: 'string' },
  state: { type: 'string' },
  'run-url': { type: 'string' },
  metric: { type: 'string', multiple: true },
  step: { type: 'string' },
  line: { type: 'string', multiple: true },
  title: { type: 'string' },
  text: { type: 'string' },
  level: { type: 'string' },
  'artifact-name': { type: 'string' },
  'artifact-version': { type: 'string' },
  collection: { type: 'string' },
  'artifact-type': { type: 'string' },
  alias: { type: 'string' },
  tag: { type: 'string' },
  json: { type: 'boolean' },
} as const;

type EventOptions = ReturnType<typeof parseCommand<typeof OPTIONS>>['values'];

interface EventResult {
  index: number;
  id: string;
  duplicate: boolean;
  matched: number;
  deliveries: string[];
}

export async function eventsCommand(argv: string[], io: CliIo): Promise<ExitCode> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') return help(io, EVENTS_HELP);
  if (sub !== 'send') throw new UsageError(`unknown command "events ${sub}"`, 'events');
  const args = parseCommand('events send', rest, OPTIONS, { min: 0, max: 0 });
  if (args.help) return help(io, EVENTS_HELP);
  const client = HeraldClient.from(args.values, io, 'events send');
  const body = args.values.type !== undefined ? eventFromOptions(args.values) : await eventFromStdin(io);
  let answer: { results: EventResult[] };
  try {
    answer = await client.post('/v1/events', body);
  } catch (error) {
    if (error instanceof ApiRequestError && error.status === 400) {
      const details = (error.body?.details ?? []).map((d) => `  ${d.field}: ${d.reason}`).join('\n');
      throw new CliError(`Herald refused the event: ${error.body?.message ?? ''}${details ? `\n${details}` : ''}`, EXIT.INVALID);
    }
    throw error;
  }
  if (args.values.json) {
    io.out(`${JSON.stringify(answer, null, 2)}\n`);
    return EXIT.OK;
  }
  for (const result of answer.results) {
    const what = result.duplicate ? 'was already stored (duplicate): nothing fired again' : `stored; ${result.deliveries.length} deliver${result.deliveries.length === 1 ? 'y' : 'ies'}`;
    io.out(`Event ${result.id} ${what}${result.deliveries.length > 0 ? `: ${result.deliveries.join(', ')}` : ''}\n`);
  }
  return EXIT.OK;
}

/** The event the options describe; Herald validates it (the command only shapes it). */
function eventFromOptions(o: NonNullable<EventOptions>): Record<string, unknown> {
  const event: Record<string, unknown> = { type: o.type };
  const set = (key: string, value: unknown) => {
    if (value !== undefined) event[key] = value;
  };
  set('project', o.project);
  set('id', o.id);
  set('author', o.author);
  set('occurredAt', o['occurred-at']);
  if (o.registry) event.registry = true;
  set('run', fieldsFrom(o, { id: 'run-id', name: 'run-name', state: 'state', url: 'run-url' }));
  if (o.metric) {
    const metrics: Record<string, unknown> = {};
    for (const item of o.metric) {
      const at = item.lastIndexOf('=');
      if (at <= 0) throw new UsageError(`--metric takes NAME=VALUE, not "${item}"`, 'events send');
      metrics[item.slice(0, at)] = metricValue(item.slice(at + 1));
    }
    event.metrics = metrics;
  }
  if (o.step !== undefined) event.step = numberOption(o.step, '--step');
  set('lines', o.line);
  set('title', o.title);
  set('text', o.text);
  set('level', o.level);
  set('artifact', fieldsFrom(o, { name: 'artifact-name', version: 'artifact-version', collection: 'collection', type: 'artifact-type' }));
  set('alias', o.alias);
  set('tag', o.tag);
  return event;
}

/** An object of the options given (field → option name); undefined when none is. */
function fieldsFrom(o: NonNullable<EventOptions>, fields: Record<string, keyof typeof OPTIONS>): Record<string, unknown> | undefined {
  const entries = Object.entries(fields).filter(([, option]) => o[option] !== undefined);
  return entries.length > 0 ? Object.fromEntries(entries.map(([field, option]) => [field, o[option]])) : undefined;
}

/** NaN and ±Infinity travel as strings, as the API takes them. */
function metricValue(text: string): number | string {
  if (text === 'NaN' || text === 'Infinity' || text === '-Infinity') return text;
  return numberOption(text, '--metric');
}

function numberOption(text: string, option: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new UsageError(`${option} takes a number, not "${text}"`, 'events send');
  return value;
}

async function eventFromStdin(io: CliIo): Promise<unknown> {
  if (io.stdinIsTTY) throw new UsageError('give the event as options (--type …) or as JSON on standard input', 'events send');
  const text = await io.readStdin();
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new CliError(`standard input is not JSON: ${(error as Error).message}`, EXIT.INVALID);
  }
}
