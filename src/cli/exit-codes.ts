/**
 * The exit codes of `herald` (docs/as-code.md › Exit codes). `plan` follows Terraform's
 * `-detailed-exitcode`: 0 nothing to change, 2 changes; every error has a code of its own.
 */
export const EXIT = {
  /** Done; for plan and apply: the team already matches the file. */
  OK: 0,
  /** The server refused or failed, could not be reached, or a file could not be read or written. */
  FAILED: 1,
  /** plan: applying the file would change something. */
  CHANGES: 2,
  /** The input is invalid (a file's syntax, schema or the server's validation; an event): nothing was changed. */
  INVALID: 3,
  /** apply: an object changed on the server after it was read (412); what came before it was applied. */
  CONFLICT: 4,
  /** Wrong command line: unknown command or option, missing argument. */
  USAGE: 64,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the command reports as one message and an exit code (never a stack trace). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code: ExitCode = EXIT.FAILED,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A command-line mistake: the message, then a pointer to `--help`. */
export class UsageError extends CliError {
  constructor(message: string, readonly command: string) {
    super(message, EXIT.USAGE);
    this.name = 'UsageError';
  }
}
