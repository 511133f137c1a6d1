#!/usr/bin/env node
/**
 * The `herald` command (docs/as-code.md): `bin/herald.js` runs this file from dist/, and so do
 * `npm run cli -- <command>` and `node dist/cli.js <command>`.
 */
import 'reflect-metadata';
import { runCli } from './cli/main';
import { processIo } from './cli/io';

runCli(process.argv.slice(2), processIo()).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`herald: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
