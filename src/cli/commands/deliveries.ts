import type { AttemptDto as Attempt, DeliveryDto as Delivery } from '../../delivery/dto/delivery.dto';
import { REMOTE_HELP, REMOTE_OPTIONS, parseCommand } from '../args';
import { HeraldClient } from '../client';
import { EXIT, type ExitCode, UsageError } from '../exit-codes';
import type { CliIo } from '../io';
import { help } from './config';

export const DELIVERIES_HELP = `Usage: herald deliveries list [filters] [--limit N] [--json]
       herald deliveries show ID [--json]
       herald deliveries redeliver ID

What was sent, when, and why it failed.

  list        newest first; filters:
                --status STATUS         pending, sending, retrying, succeeded, failed, held, cancelled
                --webhook NAME|ID       --automation NAME|ID      --event EVENT_ID
                --from TIME --to TIME   ISO-8601, on the creation time (from inclusive, to exclusive)
                --limit N               at most N deliveries (default 20)
  show        one delivery: its stored body (secrets only as \${NAME}) and every attempt
              with its status code, error and response excerpt
  redeliver   sends the stored body again as a new attempt series (admin)
  --json      print Herald's answer as JSON

${REMOTE_HELP}

Exit codes: 0 done, 1 Herald refused (unknown id, a delivery still in flight…) or could not
be reached, 64 wrong command line.`;

export async function deliveriesCommand(argv: string[], io: CliIo): Promise<ExitCode> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') return help(io, DELIVERIES_HELP);
  if (sub === 'list') return list(rest, io);
  if (sub === 'show') return show(rest, io);
  if (sub === 'redeliver') return redeliver(rest, io);
  throw new UsageError(`unknown command "deliveries ${sub}"`, 'deliveries');
}

async function list(argv: string[], io: CliIo): Promise<ExitCode> {
  const options = {
    ...REMOTE_OPTIONS,
    status: { type: 'string' },
    webhook: { type: 'string' },
    automation: { type: 'string' },
    event: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
  } as const;
  const args = parseCommand('deliveries list', argv, options, { min: 0, max: 0 });
  if (args.help) return help(io, DELIVERIES_HELP);
  const limit = Number(args.values.limit ?? 20);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit takes a positive integer', 'deliveries list');
  const client = HeraldClient.from(args.values, io, 'deliveries list');
  const query = new URLSearchParams();
  for (const key of ['status', 'event', 'from', 'to'] as const) if (args.values[key] !== undefined) query.set(key, args.values[key]!);
  if (args.values.webhook !== undefined) query.set('webhook', await idOf(client, 'webhooks', 'wh_', args.values.webhook));
  if (args.values.automation !== undefined) query.set('automation', await idOf(client, 'automations', 'aut_', args.values.automation));
  const items: Delivery[] = [];
  let cursor: string | null = null;
  do {
    query.set('limit', String(Math.min(200, limit - items.length)));
    if (cursor) query.set('cursor', cursor);
    const page: { items: Delivery[]; nextCursor: string | null } = await client.get(`/v1/deliveries?${query}`);
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && items.length < limit);
  if (args.values.json) {
    io.out(`${JSON.stringify(items, null, 2)}\n`);
    return EXIT.OK;
  }
  if (items.length === 0) {
    io.out('No deliveries.\n');
    return EXIT.OK;
  }
  const webhooks = new Map((await client.listAll<{ id: string; name: string }>('/v1/webhooks')).map((w) => [w.id, w.name]));
  const rows = items.map((d) => [
    d.id,
    d.status,
    d.createdAt,
    String(d.attemptCount),
    d.lastStatusCode !== null ? String(d.lastStatusCode) : (d.lastError ?? '-'),
    d.automationName ?? '-',
    webhooks.get(d.webhookId) ?? d.webhookId,
  ]);
  io.out(table(['ID', 'STATUS', 'CREATED', 'ATTEMPTS', 'LAST', 'AUTOMATION', 'WEBHOOK'], rows));
  return EXIT.OK;
}

async function show(argv: string[], io: CliIo): Promise<ExitCode> {
  const args = parseCommand('deliveries show', argv, { ...REMOTE_OPTIONS, json: { type: 'boolean' } }, { min: 1, max: 1 });
  if (args.help) return help(io, DELIVERIES_HELP);
  const client = HeraldClient.from(args.values, io, 'deliveries show');
  const delivery = await client.get<Delivery & { body: string; attempts: Attempt[] }>(`/v1/deliveries/${encodeURIComponent(args.positionals[0])}`);
  if (args.values.json) {
    io.out(`${JSON.stringify(delivery, null, 2)}\n`);
    return EXIT.OK;
  }
  const lines = [
    `Delivery ${delivery.id}: ${delivery.status}`,
    `  event type   ${delivery.eventType}`,
    `  automation   ${delivery.automationName ?? '-'}`,
    `  webhook      ${delivery.webhookId}`,
    `  created      ${delivery.createdAt}`,
    `  series       ${delivery.series}, ${delivery.attemptCount} attempt${delivery.attemptCount === 1 ? '' : 's'}`,
  ];
  if (delivery.nextAttemptAt) lines.push(`  next attempt ${delivery.nextAttemptAt}`);
  if (delivery.lastError) lines.push(`  last error   ${delivery.lastError}`);
  lines.push('', 'Attempts:');
  if (delivery.attempts.length === 0) lines.push('  none yet');
  for (const a of delivery.attempts) {
    const outcome = a.statusCode !== null ? `HTTP ${a.statusCode}` : `${a.errorClass ?? 'error'}: ${a.errorMessage ?? ''}`;
    lines.push(`  ${a.series}.${a.number}  ${a.startedAt}  ${a.durationMs} ms  ${outcome}${a.willRetry ? '  (retried)' : ''}`);
    if (a.statusCode !== null && a.errorMessage) lines.push(`         ${a.errorMessage}`);
    if (a.responseExcerpt) lines.push(`         response: ${a.responseExcerpt.replace(/\s+/g, ' ').slice(0, 200)}`);
  }
  lines.push('', 'Body (secrets appear only as ${NAME}):', delivery.body);
  io.out(`${lines.join('\n')}\n`);
  return EXIT.OK;
}

async function redeliver(argv: string[], io: CliIo): Promise<ExitCode> {
  const args = parseCommand('deliveries redeliver', argv, REMOTE_OPTIONS, { min: 1, max: 1 });
  if (args.help) return help(io, DELIVERIES_HELP);
  const client = HeraldClient.from(args.values, io, 'deliveries redeliver');
  const delivery = await client.post<Delivery>(`/v1/deliveries/${encodeURIComponent(args.positionals[0])}/redeliver`);
  io.out(`Delivery ${delivery.id} queued again: attempt series ${delivery.series}, status ${delivery.status}.\n`);
  return EXIT.OK;
}

/** A webhook or automation given by id (its prefix) or by name (looked up, exactly). */
async function idOf(client: HeraldClient, section: 'webhooks' | 'automations', prefix: string, value: string): Promise<string> {
  if (value.startsWith(prefix)) return value;
  const page = await client.get<{ items: { id: string }[] }>(`/v1/${section}?name=${encodeURIComponent(value)}`);
  if (page.items.length === 0) throw new UsageError(`no ${section.slice(0, -1)} is named "${value}"`, 'deliveries list');
  return page.items[0].id;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}
