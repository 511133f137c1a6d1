import type { ServerResponse } from 'node:http';
import type { HeraldLogger } from './herald-logger';

/**
 * The access log line of one request, written when its answer has been sent: method, path
 * (without the query string), status and duration. Express's middleware and the raw
 * POST /v1/events route both log through this.
 */
export function logWhenAnswered(logger: HeraldLogger, method: string | undefined, path: string, res: ServerResponse): void {
  const started = process.hrtime.bigint();
  res.once('finish', () => {
    const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
    logger.log({ msg: 'request', method, path, statusCode: res.statusCode, durationMs: Math.round(durationMs * 10) / 10 }, 'HTTP');
  });
}
