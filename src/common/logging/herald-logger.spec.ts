import { HeraldLogger } from './herald-logger';
import { REDACTED, SecretRedactor } from './redactor';

function capture(level: 'info' | 'debug' = 'info', format: 'json' | 'pretty' = 'json') {
  const lines: string[] = [];
  const redactor = new SecretRedactor();
  const logger = new HeraldLogger({ level, format }, redactor, (l) => lines.push(l));
  return { lines, logger, redactor };
}

describe('HeraldLogger', () => {
  it('writes one JSON object per line with level, context and message', () => {
    const { lines, logger } = capture();
    logger.log('started', 'Bootstrap');
    const entry = JSON.parse(lines[0]);
    expect(entry).toMatchObject({ level: 'info', context: 'Bootstrap', msg: 'started' });
    expect(typeof entry.time).toBe('string');
  });

  it('drops entries below the configured level', () => {
    const { lines, logger } = capture('info');
    logger.debug('noise');
    logger.verbose('noise');
    logger.warn('kept');
    expect(lines).toHaveLength(1);
  });

  it('merges structured fields and redacts secrets and authorization headers', () => {
    const { lines, logger, redactor } = capture();
    redactor.remember('super-secret-value');
    logger.log({ msg: 'sent with super-secret-value', headers: { authorization: 'Bearer hrd_x' } }, 'Test');
    expect(lines[0]).not.toContain('super-secret-value');
    expect(lines[0]).not.toContain('hrd_x');
    expect(JSON.parse(lines[0]).headers.authorization).toBe(REDACTED);
  });

  it('keeps Nest-style error(message, stack, context) calls readable', () => {
    const { lines, logger } = capture('info', 'pretty');
    logger.error('boom', 'Error: boom\n    at x', 'ExceptionsHandler');
    expect(lines[0]).toMatch(/ERROR \[ExceptionsHandler\] boom/);
    expect(lines[0]).toContain('at x');
  });
});
