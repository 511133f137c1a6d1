import { parseCommand } from '../args';
import { UsageError, type ExitCode, EXIT } from '../exit-codes';
import type { CliIo } from '../io';
import { help } from './config';

export const TEAMS_HELP = `Usage: herald teams create NAME

Creates a team and prints its first admin API key, once (an operator command: it works on
the local database — HERALD_DATA_DIR, or DATABASE_URL — not over the API).
NAME: lowercase letters, digits, - and _ (it appears in artifact version strings).

Exit codes: 0 created, 1 refused (the name is taken or invalid) or the database failed,
64 wrong command line.`;

export async function teamsCommand(argv: string[], io: CliIo): Promise<ExitCode> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') return help(io, TEAMS_HELP);
  if (sub !== 'create') throw new UsageError(`unknown command "teams ${sub}"`, 'teams');
  const args = parseCommand('teams create', rest, {}, { min: 1, max: 1 });
  if (args.help) return help(io, TEAMS_HELP);
  // Nest and the database are loaded only for this command: the remote ones start fast.
  const { createTeam } = await import('../local-teams');
  const { team, adminKey } = await createTeam(args.positionals[0], io.env);
  io.out(`Created team "${team.name}" (${team.id}). Its first admin API key, shown only this once:\n\n    ${adminKey}\n\n`);
  return EXIT.OK;
}
