import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import express, { type NextFunction, type Request, type Response } from 'express';
import { AppModule } from './app.module';
import { automationComponentSchemas } from './automations/dto/automation-schemas';
import { completeErrorExamples } from './common/api-docs';
import type { HeraldConfig } from './config/config';
import type { ConsoleOutput } from './common/console-output';
import { AllExceptionsFilter } from './common/errors/all-exceptions.filter';
import { logWhenAnswered } from './common/logging/access-log';
import { HeraldLogger, type LogSink } from './common/logging/herald-logger';
import { bodyErrorAnswer, jsonBodyReader } from './common/request-body';
import { installIngestRoute } from './events/ingest-route';
import { SecretRedactor } from './common/logging/redactor';
import type { Clock } from './common/clock';
import type { HostResolver } from './delivery/host-resolver';
import { isReceivePath } from './sources/source-kinds';

export interface HeraldAppOptions {
  config: HeraldConfig;
  /** Where log lines go (stdout by default); tests capture them. */
  logSink?: LogSink;
  output?: ConsoleOutput;
  clock?: Clock;
  resolver?: HostResolver;
}

/** Builds the whole application, configured but not listening. Shared by main.ts and the e2e tests. */
export async function createHeraldApp(options: HeraldAppOptions): Promise<NestExpressApplication> {
  const { config } = options;
  const redactor = new SecretRedactor();
  const logger = new HeraldLogger({ level: config.logLevel, format: config.logFormat }, redactor, options.logSink);
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.register({ config, redactor, output: options.output, clock: options.clock, resolver: options.resolver }),
    { logger, bodyParser: false, abortOnError: false },
  );
  app.disable('x-powered-by');
  app.use((req: Request, res: Response, next: NextFunction) => {
    logWhenAnswered(logger, req.method, req.path, res);
    next();
  });
  if (config.role === 'worker') app.use(workerOnly);
  installBodyParsers(app, config);
  installApiDocs(app, config.version);
  // The hottest request skips Express and Nest (src/events/ingest-route.ts); a worker refuses it in workerOnly.
  if (config.role !== 'worker') installIngestRoute(app, config, logger);
  return app;
}

/**
 * JSON only, 1 MiB (8 MiB for event ingestion), read by parseJsonBody (src/common/json-body.ts):
 * UTF-8, a JSON media type, bounded nesting. Body errors are answered here in Herald's error
 * shape: they happen before Nest's exception filters can see the request. A source's receive
 * URL keeps the raw bytes: senders sign the exact body.
 */
function installBodyParsers(app: NestExpressApplication, config: HeraldConfig): void {
  const rawBody = express.raw({ type: () => true, limit: config.bodyLimitBytes });
  const jsonBody = jsonBodyReader(config.bodyLimitBytes);
  const eventsBody = jsonBodyReader(config.eventsBodyLimitBytes);
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (isReceivePath(req.path)) return rawBody(req, res, next);
    const read = req.path === '/v1/events' || req.path.startsWith('/v1/events/') ? eventsBody : jsonBody;
    read(req, res, next);
  });
  const filter = new AllExceptionsFilter();
  app.use((error: unknown, req: Request, res: Response, next: NextFunction) => {
    const body = bodyErrorAnswer(error, req, filter);
    if (!body) return next(error);
    res.status(body.statusCode).json(body);
  });
}

/** HERALD_ROLE=worker serves only /health and /metrics: the API belongs to api processes. */
function workerOnly(req: Request, res: Response, next: NextFunction): void {
  if (req.path === '/health' || req.path === '/metrics') return next();
  res.status(404).json({
    statusCode: 404,
    error: 'Not Found',
    message: 'This Herald process runs HERALD_ROLE=worker: it delivers webhooks and serves /health and /metrics; the API is served by api processes',
  });
}

function installApiDocs(app: INestApplication, version: string): void {
  // Built on the first request for /docs, /docs/json or /docs/yaml, then kept: a process that
  // only serves events never pays for the document (its heap and its start time).
  SwaggerModule.setup('docs', app, () => apiDocument(app, version), { jsonDocumentUrl: 'docs/json' });
}

function apiDocument(app: INestApplication, version: string): OpenAPIObject {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Herald API')
      .setDescription(
        'Self-hosted automations for ML platforms: post events, define automations, deliver signed webhooks. ' +
          'Authenticate with `Authorization: Bearer <API key>`. Errors share one shape: `{statusCode, error, message, details?}`.',
      )
      .setVersion(version)
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API key, `hrd_…`' })
      .build(),
  );
  Object.assign((document.components ??= {}).schemas ??= {}, automationComponentSchemas());
  completeErrorExamples(document);
  return document;
}
