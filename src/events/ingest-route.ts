import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Reflector } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { authorize, routeRoles } from '../auth/api-key.guard';
import type { ApiKeyRole } from '../auth/api-key-format';
import { ApiKeysService } from '../auth/api-keys.service';
import { AllExceptionsFilter } from '../common/errors/all-exceptions.filter';
import { logWhenAnswered } from '../common/logging/access-log';
import type { HeraldLogger } from '../common/logging/herald-logger';
import { bodyErrorAnswer, jsonBodyReader, type RequestWithBody } from '../common/request-body';
import type { HeraldConfig } from '../config/config';
import { EventsController } from './events.controller';
import { IngestionService } from './ingestion.service';

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * POST /v1/events on node:http itself, in front of Express: the hottest request skips Express's
 * router and Nest's pipeline (~12 % of Herald's busy time at one event per request, see
 * docs/performance.md). It keeps every rule of that pipeline by calling their owners: the body
 * is read by jsonBodyReader with the events limit, the caller authorized by the ApiKeyGuard's
 * rule with the roles EventsController.ingest declares, errors answered by AllExceptionsFilter,
 * the access log line written by logWhenAnswered. The route matches what Express's router
 * would route to EventsController.ingest (case-insensitive, one optional trailing slash, any
 * query string), so that method only documents the endpoint. docs/design.md › The ingestion
 * route says what differs.
 */
export class IngestRoute {
  private readonly readBody: ReturnType<typeof jsonBodyReader>;
  private readonly filter = new AllExceptionsFilter();
  private readonly roles: readonly ApiKeyRole[];

  constructor(
    private readonly ingestion: IngestionService,
    private readonly keys: ApiKeysService,
    private readonly logger: HeraldLogger,
    bodyLimitBytes: number,
  ) {
    this.readBody = jsonBodyReader(bodyLimitBytes);
    this.roles = routeRoles(new Reflector(), [EventsController.prototype.ingest, EventsController]);
  }

  /** Puts the route in front of the server's request listener (Express); every other request goes on to it unchanged. */
  install(server: Server): void {
    const [express, ...others] = server.listeners('request') as RequestListener[];
    if (!express || others.length > 0) throw new Error('IngestRoute.install expects exactly one request listener (Express)');
    server.removeListener('request', express);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const path = req.method === 'POST' ? ingestPath(req.url) : null;
      if (path === null) express(req, res);
      else this.serve(req, res, path);
    });
  }

  private serve(req: RequestWithBody, res: ServerResponse, path: string): void {
    logWhenAnswered(this.logger, req.method, path, res);
    this.readBody(req, res, (error) => {
      if (error) return this.answer(res, bodyErrorAnswer(error, req, this.filter) ?? this.filter.toBody(error));
      authorize(this.keys, req.headers.authorization, this.roles)
        .then((auth) => this.ingestion.ingest(auth, req.body))
        .then(
          (result) => send(res, 200, result),
          (failure: unknown) => this.answer(res, this.filter.toBody(failure)),
        );
    });
  }

  private answer(res: ServerResponse, body: { statusCode: number }): void {
    send(res, body.statusCode, body);
  }
}

/** Installs the route on the app's HTTP server (after NestFactory.create: it takes its services from the app). */
export function installIngestRoute(app: NestExpressApplication, config: HeraldConfig, logger: HeraldLogger): void {
  new IngestRoute(app.get(IngestionService), app.get(ApiKeysService), logger, config.eventsBodyLimitBytes).install(app.getHttpServer() as Server);
}

/**
 * The request's path (without its query string) if Express's router would route it to
 * POST /v1/events — `/v1/events`, any case, one optional trailing slash — else null.
 */
export function ingestPath(url: string | undefined): string | null {
  if (!url) return null;
  let path: string;
  if (url.charCodeAt(0) === 0x2f /* / */) {
    const query = url.indexOf('?');
    path = query === -1 ? url : url.slice(0, query);
  } else {
    // Absolute form (`POST http://host/v1/events`), as proxies send it.
    try {
      path = new URL(url).pathname;
    } catch {
      return null;
    }
  }
  const length = path.length;
  if (length !== 10 && length !== 11) return null;
  const lower = path.toLowerCase();
  return lower === '/v1/events' || lower === '/v1/events/' ? path : null;
}

/** A JSON answer as Express's res.json writes it (no ETag: see docs/design.md › The ingestion route). */
function send(res: ServerResponse, statusCode: number, body: unknown): void {
  if (res.headersSent) return;
  const json = JSON.stringify(body);
  res.writeHead(statusCode, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(json) });
  res.end(json);
}
