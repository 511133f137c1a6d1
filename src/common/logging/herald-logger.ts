import type { LoggerService } from '@nestjs/common';
import type { LogFormat, LogLevel } from '../../config/config';
import type { SecretRedactor } from './redactor';

const RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export type LogSink = (line: string) => void;

/**
 * The process logger: JSON lines in production, one readable line per entry in development.
 * Every entry passes through the SecretRedactor, so neither secret values nor Authorization
 * headers reach the output.
 */
export class HeraldLogger implements LoggerService {
  constructor(
    private readonly options: { level: LogLevel; format: LogFormat },
    private readonly redactor: SecretRedactor,
    private readonly sink: LogSink = (line) => process.stdout.write(line + '\n'),
  ) {}

  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }

  isEnabled(level: LogLevel): boolean {
    return RANK[level] <= RANK[this.options.level];
  }

  /**
   * Nest calls `log(message, context)` and `error(message, stack, context)`; Herald's own code
   * may pass a fields object before the context. The last string argument is the context.
   */
  private write(level: LogLevel, message: unknown, rest: unknown[]): void {
    if (!this.isEnabled(level)) return;
    const args = [...rest];
    const context = typeof args[args.length - 1] === 'string' ? (args.pop() as string) : undefined;
    const entry: Record<string, unknown> = { time: new Date().toISOString(), level };
    if (context) entry.context = context;
    if (message instanceof Error) {
      entry.msg = message.message;
      entry.err = message;
    } else if (typeof message === 'object' && message !== null) {
      Object.assign(entry, message);
    } else {
      entry.msg = String(message);
    }
    for (const arg of args) {
      if (typeof arg === 'string') entry.stack = arg;
      else if (arg instanceof Error) entry.err = arg;
      else if (arg && typeof arg === 'object') Object.assign(entry, arg);
    }
    let line: string;
    try {
      const safe = this.redactor.redact(entry);
      line = this.options.format === 'json' ? JSON.stringify(safe) : pretty(safe);
    } catch (error) {
      // Logging must never throw into the caller; say only that an entry was lost.
      line = JSON.stringify({ time: entry.time, level: 'error', msg: 'log entry dropped: it could not be redacted', reason: String((error as Error)?.name) });
    }
    this.sink(line);
  }
}

function pretty(entry: Record<string, unknown>): string {
  const { time, level, context, msg, stack, err, ...fields } = entry;
  const head = `${String(time)} ${String(level).toUpperCase().padEnd(5)} ${context ? `[${String(context)}] ` : ''}${String(msg ?? '')}`;
  const extra = Object.keys(fields).length > 0 ? ' ' + JSON.stringify(fields) : '';
  const errText = err && typeof err === 'object' ? `\n${String((err as { stack?: string }).stack ?? '')}` : '';
  const stackText = typeof stack === 'string' && stack ? `\n${stack}` : '';
  return head + extra + errText + stackText;
}
