#!/usr/bin/env node
'use strict';
/**
 * The `herald` command (package.json › bin). It runs the built output and never builds:
 * `npm run build` (or `npm start`, which builds when the sources changed) makes dist/.
 */
const { existsSync } = require('node:fs');
const path = require('node:path');

const entry = path.join(__dirname, '..', 'dist', 'cli.js');
if (!existsSync(entry)) {
  process.stderr.write(`herald: ${path.relative(process.cwd(), entry) || entry} is missing: build Herald first (npm run build)\n`);
  process.exit(1);
}
require(entry);
