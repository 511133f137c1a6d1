import { CliError, EXIT, type ExitCode, UsageError } from './exit-codes';
import type { CliIo } from './io';
import { APPLY_HELP, EXPORT_HELP, PLAN_HELP, applyCommand, exportCommand, help, planCommand, schemaCommand, validateCommand, SCHEMA_HELP, VALIDATE_HELP } from './commands/config';
import { DELIVERIES_HELP, deliveriesCommand } from './commands/deliveries';
import { EVENTS_HELP, eventsCommand } from './commands/events';
import { KEYS_HELP, keysCommand } from './commands/keys';
import { TEAMS_HELP, teamsCommand } from './commands/teams';

export const USAGE = `Usage: herald <command> [options]        (herald <command> --help for each)

Configuration as code (docs/as-code.md):
  export [-o FILE]                 write the team's webhooks, sources and automations as a file
  plan -f FILE [--prune]           what apply would change, field by field (exit 2 when something)
  apply -f FILE [--prune] [--yes]  make the team match the file
  validate -f FILE                 check a file's syntax and schema, offline
  schema                           print the file's JSON Schema

Operations:
  events send                      post one event (options, or JSON on standard input)
  deliveries list|show|redeliver   what was sent and why it failed

Operator (on the local database):
  teams create <name>              create a team and print its first admin API key
  teams:create <name>              the same (the older spelling, kept for scripts)
  keys create --team T --role R    issue a new API key for a team (a lost admin key)

Remote commands read HERALD_URL and HERALD_API_KEY (or --url and --key).
Exit codes: 0 ok, 1 failed, 2 plan has changes, 3 invalid input, 4 concurrent change (412),
64 wrong command line.
`;

const COMMANDS: Record<string, { run: (argv: string[], io: CliIo) => Promise<ExitCode>; help: string }> = {
  export: { run: exportCommand, help: EXPORT_HELP },
  plan: { run: planCommand, help: PLAN_HELP },
  apply: { run: applyCommand, help: APPLY_HELP },
  validate: { run: validateCommand, help: VALIDATE_HELP },
  schema: { run: schemaCommand, help: SCHEMA_HELP },
  events: { run: eventsCommand, help: EVENTS_HELP },
  deliveries: { run: deliveriesCommand, help: DELIVERIES_HELP },
  teams: { run: teamsCommand, help: TEAMS_HELP },
  keys: { run: keysCommand, help: KEYS_HELP },
};

/**
 * `herald`: runs one command and answers its exit code (exit-codes.ts). Messages go to
 * standard error, results to standard output; no stack traces, never the API key.
 */
export async function runCli(argv: string[], io: CliIo): Promise<ExitCode> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' ? COMMANDS[rest[0] ?? ''] : undefined;
    if (topic) return help(io, topic.help);
    io.out(USAGE);
    return EXIT.OK;
  }
  // `teams:create <name>` is the operator command's first spelling (npm run cli -- teams:create).
  const [command, args] = name === 'teams:create' ? ['teams', ['create', ...rest]] : [name, rest];
  const entry = COMMANDS[command];
  try {
    if (!entry) throw new UsageError(`unknown command "${name}"`, '');
    return await entry.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`herald: ${error.message}\n${error.command ? `Run herald ${error.command.split(' ')[0]} --help.` : USAGE}\n`);
      return error.code;
    }
    if (error instanceof CliError) {
      io.err(`herald: ${error.message}\n`);
      return error.code;
    }
    // TeamsService and configuration errors: their message is for operators; anything else too, without a stack.
    io.err(`herald: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT.FAILED;
  }
}
