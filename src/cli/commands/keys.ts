import { API_KEY_ROLES, type ApiKeyRole } from '../../auth/api-key-format';
import { parseCommand } from '../args';
import { UsageError, type ExitCode, EXIT } from '../exit-codes';
import type { CliIo } from '../io';
import { help } from './config';

export const KEYS_HELP = `Usage: herald keys create --team NAME --role ROLE [--name TEXT]

Issues a new API key for a team and prints it, once. An operator command: it works on the
local database — HERALD_DATA_DIR, or DATABASE_URL — not over the API, so it needs no key:
the way back in when a team's admin keys are lost.
  --team NAME    the team (the first one is "default")
  --role ROLE    ${API_KEY_ROLES.join(', ')}
  --name TEXT    what the key is for, shown in the key list (default: "operator <role> key")

Example: herald keys create --team default --role admin

Exit codes: 0 created, 1 refused (no such team) or the database failed, 64 wrong command line.`;

export async function keysCommand(argv: string[], io: CliIo): Promise<ExitCode> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') return help(io, KEYS_HELP);
  if (sub !== 'create') throw new UsageError(`unknown command "keys ${sub}"`, 'keys');
  const options = { team: { type: 'string' }, role: { type: 'string' }, name: { type: 'string' } } as const;
  const args = parseCommand('keys create', rest, options, { min: 0, max: 0 });
  if (args.help) return help(io, KEYS_HELP);
  const { team, role, name } = args.values;
  if (team === undefined) throw new UsageError('herald keys create needs --team NAME', 'keys create');
  if (role === undefined) throw new UsageError(`herald keys create needs --role (${API_KEY_ROLES.join(', ')})`, 'keys create');
  if (!(API_KEY_ROLES as readonly string[]).includes(role)) {
    throw new UsageError(`--role must be one of ${API_KEY_ROLES.join(', ')}, not "${role}"`, 'keys create');
  }
  // Nest and the database are loaded only for this command: the remote ones start fast.
  const { createKey } = await import('../local-teams');
  const created = await createKey(team, role as ApiKeyRole, name ?? `operator ${role} key`, io.env);
  io.out(`Created a ${role} API key (${created.id}) for team "${created.team.name}". It is shown only this once:\n\n    ${created.key}\n\n`);
  return EXIT.OK;
}
