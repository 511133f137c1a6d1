import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './exit-codes';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Options every command that talks to a Herald server takes. */
export const REMOTE_OPTIONS = {
  url: { type: 'string' },
  key: { type: 'string' },
} as const satisfies Options;

export const REMOTE_HELP = `Connection (every command but teams, keys and schema):
  --url URL      Herald's address (default: $HERALD_URL), e.g. http://localhost:8080
  --key KEY      an API key (default: $HERALD_API_KEY; prefer the variable: a command line is visible to other users)`;

/**
 * Parses one command's arguments strictly (an unknown option is a usage error, never
 * ignored). `help` is true when -h/--help was given, whatever else was.
 */
export function parseCommand<O extends Options>(
  command: string,
  argv: string[],
  options: O,
  positionals: { min: number; max: number },
): { values: { [K in keyof O]?: O[K] extends { type: 'boolean' } ? boolean : O[K] extends { multiple: true } ? string[] : string }; positionals: string[]; help: boolean } {
  if (argv.includes('--help') || argv.includes('-h')) return { values: {}, positionals: [], help: true };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''), command);
  }
  const count = parsed.positionals.length;
  if (count < positionals.min) throw new UsageError(`herald ${command} needs ${positionals.min === 1 ? 'an argument' : `${positionals.min} arguments`}`, command);
  if (count > positionals.max) throw new UsageError(`unexpected argument "${parsed.positionals[positionals.max]}"`, command);
  return { values: parsed.values as never, positionals: parsed.positionals, help: false };
}
