import { schemaProblems } from '../../as-code/config-check';
import { type ConfigDocument, canonicalWebhook } from '../../as-code/config-document';
import { type ConfigFormat, type ParsedConfig, formatOf, formatProblems, parseConfigText, serializeConfig } from '../../as-code/config-file';
import {
  type Change,
  type Plan,
  type TeamState,
  countByAction,
  createBody,
  isEmpty,
  patchBody,
  planChanges,
  referencedSecrets,
} from '../../as-code/config-plan';
import { CONFIG_SCHEMA_PATH, buildConfigSchema } from '../../as-code/config-schema';
import { renderPlan } from '../../as-code/plan-render';
import type { FieldProblem } from '../../common/errors/api-error';
import { REDACTED } from '../../common/logging/redactor';
import { defaultSchemes, signingSecretValueProblems } from '../../webhooks/webhook-rules';
import { REMOTE_HELP, REMOTE_OPTIONS, parseCommand } from '../args';
import { ApiRequestError, HeraldClient } from '../client';
import { CliError, EXIT, type ExitCode, UsageError } from '../exit-codes';
import type { CliIo } from '../io';
import { documentOf, readTeamState } from '../team-state';

export const EXPORT_HELP = `Usage: herald export [-o FILE] [--format yaml|json]

Writes the team's webhooks, sources and automations as one configuration file: each object
by name, referring to webhooks and secrets by name — never by id, never a secret's value.

  -o, --output FILE   write to FILE (its extension picks the format) instead of standard output
  --format FORMAT     yaml (default) or json

${REMOTE_HELP}

A member key can export unless a Slack, Teams or Discord webhook exists (their URLs are
credentials, masked for members): use an admin key.`;

export const PLAN_HELP = `Usage: herald plan -f FILE [--prune] [--secrets-from-env]

Shows what \`herald apply\` would create, update or delete to make the team match FILE, field
by field, after checking the file (syntax, JSON Schema, then the server's own validation).

  -f, --file FILE       the configuration file (YAML, or JSON when it ends in .json)
  --prune               also list what the file leaves out, to be deleted
  --secrets-from-env    as apply will: secrets the team lacks come from environment variables

${REMOTE_HELP}

Exit codes: 0 nothing to change, 2 changes to apply, 3 the file is invalid, 1 other errors,
64 wrong command line. Needs an admin key.`;

export const APPLY_HELP = `Usage: herald apply -f FILE [--prune] [--yes] [--secrets-from-env]

Makes the team match FILE: creates and updates by name (an updated automation keeps its id,
edge state and history), deletes what the file leaves out only with --prune. The whole file
is checked first (syntax, JSON Schema, the server's own validation): if any object is
invalid, nothing is changed. Each update and delete is sent with the etag read for the plan,
so a change made meanwhile (in the console, say) stops apply instead of being overwritten.

  -f, --file FILE       the configuration file (YAML, or JSON when it ends in .json)
  --prune               delete the team's objects the file leaves out (in the sections it has)
  -y, --yes             do not ask for confirmation (needed without a terminal)
  --secrets-from-env    create each secret the file names that the team lacks from the
                        environment variable of the same name (values are never printed)

${REMOTE_HELP}

Exit codes: 0 applied (or nothing to change), 3 the file is invalid (nothing changed),
4 an object changed on the server since it was read (stopped there; run plan again),
1 other errors, 64 wrong command line. Needs an admin key.`;

export const VALIDATE_HELP = `Usage: herald validate -f FILE

Checks FILE's syntax and its JSON Schema without a server. \`herald plan\` also runs the
server's own validation (secrets exist, regexes compile, payload variables are known…).

Exit codes: 0 valid, 3 invalid, 1 the file cannot be read, 64 wrong command line.`;

export const SCHEMA_HELP = `Usage: herald schema

Prints the JSON Schema of configuration files (the one Herald serves at ${CONFIG_SCHEMA_PATH}).`;

const FILE_OPTIONS = { file: { type: 'string', short: 'f' } } as const;

export async function exportCommand(argv: string[], io: CliIo): Promise<ExitCode> {
  const args = parseCommand('export', argv, { ...REMOTE_OPTIONS, output: { type: 'string', short: 'o' }, format: { type: 'string' } }, { min: 0, max: 0 });
  if (args.help) return help(io, EXPORT_HELP);
  const format = args.values.format ?? (args.values.output ? formatOf(args.values.output) : 'yaml');
  if (format !== 'yaml' && format !== 'json') throw new UsageError(`--format must be yaml or json, not ${format}`, 'export');
  const client = HeraldClient.from(args.values, io, 'export');
  const state = await readTeamState(client);
  const masked = state.webhooks.filter((w) => w.config.url.includes(REDACTED)).map((w) => `"${w.config.name}"`);
  if (masked.length > 0) {
    throw new CliError(`webhook ${masked.join(', ')} has a URL that is a credential and is masked for this key: export with an admin key`);
  }
  const text = serializeConfig(documentOf(state), format, client.baseUrl + CONFIG_SCHEMA_PATH);
  if (args.values.output) {
    writeFile(io, args.values.output, text);
    io.err(`Wrote ${args.values.output}: ${state.webhooks.length} webhooks, ${state.sources.length} sources, ${state.automations.length} automations.\n`);
  } else {
    io.out(text);
  }
  return EXIT.OK;
}

export async function validateCommand(argv: string[], io: CliIo): Promise<ExitCode> {
  const args = parseCommand('validate', argv, FILE_OPTIONS, { min: 0, max: 0 });
  if (args.help) return help(io, VALIDATE_HELP);
  const file = requireFile(args.values.file, 'validate');
  loadFile(io, file);
  io.out(`${file} is valid (syntax and schema; \`herald plan\` checks it against the server too).\n`);
  return EXIT.OK;
}

export async function schemaCommand(argv: string[], io: CliIo): Promise<ExitCode> {
  const args = parseCommand('schema', argv, {}, { min: 0, max: 0 });
  if (args.help) return help(io, SCHEMA_HELP);
  io.out(`${JSON.stringify(buildConfigSchema(), null, 2)}\n`);
  return EXIT.OK;
}

export async function planCommand(argv: string[], io: CliIo): Promise<ExitCode> {
  const options = { ...REMOTE_OPTIONS, ...FILE_OPTIONS, prune: { type: 'boolean' }, 'secrets-from-env': { type: 'boolean' } } as const;
  const args = parseCommand('plan', argv, options, { min: 0, max: 0 });
  if (args.help) return help(io, PLAN_HELP);
  const file = requireFile(args.values.file, 'plan');
  const client = HeraldClient.from(args.values, io, 'plan');
  const { plan, secretsToCreate } = await preparePlan(io, client, file, { prune: args.values.prune === true, secretsFromEnv: args.values['secrets-from-env'] === true });
  io.out(`Herald at ${client.baseUrl}, file ${file}:\n\n${renderPlan(plan)}`);
  if (secretsToCreate.length > 0) io.out(`Secrets to create from the environment: ${secretsToCreate.join(', ')}\n`);
  return isEmpty(plan) && secretsToCreate.length === 0 ? EXIT.OK : EXIT.CHANGES;
}

export async function applyCommand(argv: string[], io: CliIo): Promise<ExitCode> {
  const options = {
    ...REMOTE_OPTIONS,
    ...FILE_OPTIONS,
    prune: { type: 'boolean' },
    yes: { type: 'boolean', short: 'y' },
    'secrets-from-env': { type: 'boolean' },
  } as const;
  const args = parseCommand('apply', argv, options, { min: 0, max: 0 });
  if (args.help) return help(io, APPLY_HELP);
  const file = requireFile(args.values.file, 'apply');
  const client = HeraldClient.from(args.values, io, 'apply');
  if (args.values.yes !== true && !io.stdinIsTTY) throw new UsageError('apply asks for confirmation, and there is no terminal: pass --yes', 'apply');
  const prune = args.values.prune === true;
  const prepared = await preparePlan(io, client, file, { prune, secretsFromEnv: args.values['secrets-from-env'] === true });
  const { plan, secretsToCreate } = prepared;
  io.out(`Herald at ${client.baseUrl}, file ${file}:\n\n${renderPlan(plan)}`);
  if (secretsToCreate.length > 0) io.out(`Secrets to create from the environment: ${secretsToCreate.join(', ')}\n`);
  if (isEmpty(plan) && secretsToCreate.length === 0) return EXIT.OK;
  if (args.values.yes !== true) {
    const answer = await io.ask(`\nApply these changes to ${client.baseUrl}? Only "yes" applies: `);
    if (answer.trim() !== 'yes') {
      io.err('Not applied: nothing was changed.\n');
      return EXIT.FAILED;
    }
  }
  await execute(io, client, prepared);
  const counts = countByAction(plan);
  io.out(`\nApplied: ${counts.create} created, ${counts.update} updated, ${counts.replace} replaced, ${counts.delete} deleted.\n`);
  // The file's promise is that a second apply is a no-op: check it, and say so if not.
  const after = planChanges(await readTeamState(client), prepared.document, { prune });
  if (!isEmpty(after)) io.err(`Warning: the team still differs from the file after apply:\n${renderPlan(after)}`);
  return EXIT.OK;
}

// ---------------------------------------------------------------------------------------------

interface PreparedPlan {
  file: string;
  parsed: ParsedConfig;
  document: ConfigDocument;
  state: TeamState;
  plan: Plan;
  /** Secrets the file names that the team lacks, to create from the environment. */
  secretsToCreate: string[];
}

/** Reads and checks the file (locally, then by the server), reads the team and plans. */
async function preparePlan(io: CliIo, client: HeraldClient, file: string, options: { prune: boolean; secretsFromEnv: boolean }): Promise<PreparedPlan> {
  const { parsed, document } = loadFile(io, file);
  const state = await readTeamState(client);
  const missing = referencedSecrets(document).filter((name) => !state.secrets.includes(name));
  const secretsToCreate = options.secretsFromEnv ? missing : [];
  if (options.secretsFromEnv) {
    const unset = missing.filter((name) => !io.env[name]);
    if (unset.length > 0) {
      throw new CliError(`--secrets-from-env: the team has no secret ${unset.join(', ')} and the environment has no variable of that name`, EXIT.INVALID);
    }
    // The server cannot see these values yet: check signing secrets with its rules here.
    const problems = pendingSigningProblems(document, secretsToCreate, io.env);
    if (problems.length > 0) throw invalidFile(file, parsed, problems);
  }
  try {
    await client.post('/v1/config/validate', { config: parsed.value, prune: options.prune, pendingSecrets: secretsToCreate });
  } catch (error) {
    if (error instanceof ApiRequestError && error.status === 400 && error.body?.details) {
      const hint =
        missing.length > 0 && !options.secretsFromEnv
          ? `\nThe team has no secret ${missing.join(', ')}: create ${missing.length === 1 ? 'it' : 'them'} first (POST /v1/secrets), or pass --secrets-from-env with the values in environment variables of the same names.`
          : '';
      throw invalidFile(file, parsed, error.body.details, hint);
    }
    throw error;
  }
  return { file, parsed, document, state, plan: planChanges(state, document, options), secretsToCreate };
}

function pendingSigningProblems(document: ConfigDocument, pending: string[], env: CliIo['env']): FieldProblem[] {
  const problems: FieldProblem[] = [];
  (document.webhooks ?? []).forEach((webhook, index) => {
    const secret = webhook.signingSecret;
    if (!secret || !pending.includes(secret)) return;
    const schemes = canonicalWebhook(webhook).signatureSchemes ?? defaultSchemes(secret);
    for (const problem of signingSecretValueProblems(schemes, env[secret]!)) {
      problems.push({ field: `webhooks[${index}].${problem.field}`, reason: `(the value of $${secret}) ${problem.reason}` });
    }
  });
  return problems;
}

/** Creates the secrets, then makes each change in the plan's order, with If-Match on every update and delete. */
async function execute(io: CliIo, client: HeraldClient, prepared: PreparedPlan): Promise<void> {
  const { plan, state } = prepared;
  const webhookIds = new Map(state.webhooks.map((w) => [w.config.name, w.id]));
  const webhookId = (name: string) => {
    const id = webhookIds.get(name);
    if (id === undefined) throw new CliError(`webhook "${name}" does not exist`);
    return id;
  };
  for (const name of prepared.secretsToCreate) {
    await client.post('/v1/secrets', { name, value: io.env[name] });
    io.out(`  + created secret ${name} (its value from the environment)\n`);
  }
  let done = 0;
  for (const change of plan.changes) {
    try {
      await executeChange(io, client, change, webhookId, webhookIds);
      done++;
    } catch (error) {
      const progress = `${done} of ${plan.changes.length} changes were applied before it`;
      if (error instanceof ApiRequestError && error.status === 412) {
        throw new CliError(
          `${change.kind} "${change.name}" changed on the server after it was read, so it was not ${change.action}d (412); ${progress}. Run herald plan again.`,
          EXIT.CONFLICT,
        );
      }
      if (error instanceof CliError) throw new CliError(`${error.message}\n${progress}.`, error.code);
      throw error;
    }
  }
}

const PATHS = { webhook: '/v1/webhooks', source: '/v1/sources', automation: '/v1/automations' } as const;

async function executeChange(
  io: CliIo,
  client: HeraldClient,
  change: Change,
  webhookId: (name: string) => string,
  webhookIds: Map<string, string>,
): Promise<void> {
  const path = PATHS[change.kind];
  const label = `${change.kind} "${change.name}"`;
  if (change.action === 'delete' || change.action === 'replace') {
    await client.request('DELETE', `${path}/${change.stored!.id}`, { ifMatch: change.stored!.etag });
    if (change.action === 'delete') {
      io.out(`  - deleted ${label}\n`);
      return;
    }
  }
  if (change.action === 'update') {
    await client.request('PATCH', `${path}/${change.stored!.id}`, { body: patchBody(change, webhookId), ifMatch: change.stored!.etag });
    io.out(`  ~ updated ${label}\n`);
    return;
  }
  const created = await client.post<{ id: string; receiveUrl?: string }>(path, createBody(change, webhookId));
  if (change.kind === 'webhook') webhookIds.set(change.name, created.id);
  io.out(`  ${change.action === 'replace' ? '-/+ replaced' : '+ created'} ${label}\n`);
  if (change.kind === 'source' && created.receiveUrl) {
    // A Valohai receive URL carries a token Herald shows only in this answer: say it now, once.
    const once = /\/receive\/[^/]+$/.test(created.receiveUrl) ? ' (it holds a token shown only this once)' : '';
    io.out(`      receive URL: ${client.baseUrl}${created.receiveUrl}${once}\n`);
  }
}

// Files ---------------------------------------------------------------------------------------

/** Reads, parses and checks a file against the schema; every problem at once, with its line. */
function loadFile(io: CliIo, file: string): { parsed: ParsedConfig; document: ConfigDocument } {
  let text: string;
  try {
    text = io.readFile(file);
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const format: ConfigFormat = formatOf(file);
  const parsed = parseConfigText(text, format);
  if (parsed.problems.length > 0) {
    const lines = parsed.problems.map((p) => `${file}${p.position ? `:${p.position.line}:${p.position.column}` : ''}: ${p.reason}`);
    throw new CliError(`${file} is not valid ${format === 'json' ? 'JSON' : 'YAML'}:\n${lines.join('\n')}`, EXIT.INVALID);
  }
  const problems = schemaProblems(parsed.value);
  if (problems.length > 0) throw invalidFile(file, parsed, problems);
  return { parsed, document: parsed.value as ConfigDocument };
}

function invalidFile(file: string, parsed: ParsedConfig, problems: FieldProblem[], hint = ''): CliError {
  const lines = formatProblems(file, parsed, problems);
  return new CliError(`${file} is invalid; nothing was changed:\n${lines.join('\n')}${hint}`, EXIT.INVALID);
}

function writeFile(io: CliIo, path: string, text: string): void {
  try {
    io.writeFile(path, text);
  } catch (error) {
    throw new CliError(`cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

function requireFile(file: string | undefined, command: string): string {
  if (!file) throw new UsageError(`herald ${command} needs -f FILE`, command);
  return file;
}

export function help(io: CliIo, text: string): ExitCode {
  io.out(`${text}\n`);
  return EXIT.OK;
}
