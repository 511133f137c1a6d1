import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { createHeraldApp } from './app.factory';
import { boundHeapGrowth } from './common/heap-growth';
import { ConfigError, loadConfig } from './config/config';

async function main(): Promise<void> {
  boundHeapGrowth();
  const config = loadConfig(process.env);
  const app = await createHeraldApp({ config });
  const logger = new Logger('Herald');
  // Graceful stop: Nest closes the server and runs shutdown hooks, then the process exits 0.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.log(`${signal} received: shutting down`);
      app.close().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ msg: 'shutdown failed', err: error });
          process.exit(1);
        },
      );
    });
  }
  await app.listen(config.port, config.host);
  const address = app.getHttpServer().address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  logger.log(`Herald ${config.version} listening on http://${host}:${address.port} (API docs at /docs)`);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`Herald cannot start. ${error.message}\n`);
  } else {
    process.stderr.write(`Herald failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exit(1);
});
