import { createHmac, randomBytes } from 'node:crypto';
import { Agent, type IncomingMessage, type ServerResponse, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import RE2 from 're2';
import { E2E_PAYLOAD, E2E_TITLE_REGEX } from './workload';

/**
 * The ceiling: the least a sender must do per event, with no database and no framework. It
 * takes POST /v1/events like Herald (one event or an array), and for each event tests the
 * title against the same RE2 pattern, renders the same JSON payload, signs it with the
 * standard scheme (HMAC-SHA256) and POSTs it over a keep-alive connection, at most 32 sends in
 * flight (Herald's worker limit). It answers once the events are queued, as Herald answers
 * once they are stored. Run as its own process, like Herald: `PORT=0` picks a port, printed as
 * `LISTENING <port>`.
 */

const MAX_IN_FLIGHT = 32;
const receiverUrl = new URL(required('CEILING_RECEIVER_URL'));
if (receiverUrl.hostname !== '127.0.0.1' && receiverUrl.hostname !== '[::1]') throw new Error('The ceiling only sends to 127.0.0.1 or ::1');
const apiKey = required('CEILING_API_KEY');
const signingKey = randomBytes(32);
const titleRegex = new RE2(E2E_TITLE_REGEX, 'u');
const agent = new Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT, maxFreeSockets: MAX_IN_FLIGHT });
const payloadFields = Object.keys(E2E_PAYLOAD);

interface Outbound {
  id: string;
  eventType: string;
  body: string;
}

const queue: Outbound[] = [];
let queueHead = 0;
let inFlight = 0;
let sequence = 0;
let sendErrors = 0;

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

function nextId(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}${(sequence++).toString(36).padStart(6, '0')}`;
}

/** The same object Herald's payload template renders, JSON-escaped by JSON.stringify. */
function render(event: Record<string, unknown>, deliveryId: string, occurredAt: string): string {
  const values: Record<string, unknown> = {
    event_type: event.type,
    title: event.title ?? null,
    project: event.project,
    timestamp: occurredAt,
    delivery: deliveryId,
  };
  const out: Record<string, unknown> = {};
  for (const field of payloadFields) out[field] = values[field] ?? '';
  return JSON.stringify(out);
}

function pump(): void {
  while (inFlight < MAX_IN_FLIGHT && queueHead < queue.length) {
    const next = queue[queueHead];
    queue[queueHead++] = undefined as unknown as Outbound;
    if (queueHead > 4096 && queueHead * 2 > queue.length) {
      queue.splice(0, queueHead);
      queueHead = 0;
    }
    send(next);
  }
}

function send(outbound: Outbound): void {
  inFlight++;
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = createHmac('sha256', signingKey).update(`${outbound.id}.${timestamp}.${outbound.body}`, 'utf8').digest('base64');
  const req = request(
    receiverUrl,
    {
      method: 'POST',
      agent,
      headers: {
        'Content-Type': 'application/json',
        'Content-Length': String(Buffer.byteLength(outbound.body)),
        'User-Agent': 'Herald-ceiling/1',
        'X-Herald-Event': outbound.eventType,
        'X-Herald-Delivery': outbound.id,
        'webhook-id': outbound.id,
        'webhook-timestamp': timestamp,
        'webhook-signature': `v1,${signature}`,
      },
    },
    (res) => {
      res.resume();
      res.on('end', done);
    },
  );
  let finished = false;
  function done(): void {
    if (finished) return;
    finished = true;
    inFlight--;
    pump();
  }
  req.on('error', () => {
    sendErrors++;
    done();
  });
  req.end(outbound.body);
}

function answer(res: ServerResponse, statusCode: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(statusCode, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

function ingest(events: Record<string, unknown>[]): unknown {
  const now = new Date().toISOString();
  const results = events.map((event, index) => {
    const id = typeof event.id === 'string' ? event.id : nextId('evt');
    const occurredAt = typeof event.occurredAt === 'string' ? event.occurredAt : now;
    const matches = event.type === 'ALERT' && event.level === 'ERROR' && typeof event.title === 'string' && titleRegex.test(event.title);
    if (!matches) return { index, id, duplicate: false, matched: 0, deliveries: [] };
    const deliveryId = nextId('msg');
    queue.push({ id: deliveryId, eventType: String(event.type), body: render(event, deliveryId, occurredAt) });
    return { index, id, duplicate: false, matched: 1, deliveries: [deliveryId] };
  });
  pump();
  return { results };
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  if (req.method === 'GET' && req.url === '/health') return answer(res, 200, { status: 'ok', sendErrors });
  if (req.method !== 'POST' || req.url !== '/v1/events') return answer(res, 404, { statusCode: 404, error: 'Not Found' });
  if (req.headers.authorization !== `Bearer ${apiKey}`) return answer(res, 401, { statusCode: 401, error: 'Unauthorized' });
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return answer(res, 400, { statusCode: 400, error: 'Bad Request', message: 'invalid JSON' });
    }
    const events = (Array.isArray(parsed) ? parsed : [parsed]) as Record<string, unknown>[];
    answer(res, 200, ingest(events));
  });
}

const server = createServer({ keepAliveTimeout: 30_000 }, handle);
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`LISTENING ${(server.address() as AddressInfo).port}\n`);
});
process.once('SIGTERM', () => {
  server.close();
  agent.destroy();
  process.exit(0);
});
