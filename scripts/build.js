#!/usr/bin/env node
/**
 * Builds dist/ from src/ only when the sources changed since the last build, so a second
 * `npm start` with nothing changed starts at once, and two processes started together from
 * one checkout never break each other:
 *
 * - what was built is fingerprinted (the content of every file tsc compiles, the tsconfigs and
 *   the lockfile) into dist/.build-fingerprint, written last, after tsc succeeded;
 * - builds take a lock (an exclusive directory, `.build.lock`, holding the builder's pid): a
 *   second process waits for it, then finds the fingerprint current and builds nothing;
 * - dist/ is never deleted under a running server: tsc writes over it, and only the outputs
 *   of sources that no longer exist are removed afterwards.
 *
 * Usage: node scripts/build.js [--force]   (exit 0 when dist/ is current; tsc's output and
 * its exit code otherwise).
 */
'use strict';
const { createHash } = require('node:crypto');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const FINGERPRINT = path.join(DIST, '.build-fingerprint');
const LOCK = path.join(ROOT, '.build.lock');
/** A lock older than this whose owner is gone is taken over. */
const STALE_LOCK_MS = 10 * 60_000;
/** Inputs besides the compiled sources that change what tsc emits. */
const CONFIG_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];
/** Files under src/ that tsconfig.build.json leaves out. */
const NOT_COMPILED = /\.(spec|medium-spec|scaled-spec)\.ts$/;

function sources() {
  const out = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts') && !NOT_COMPILED.test(entry.name)) out.push(full);
    }
  };
  walk(path.join(ROOT, 'src'));
  return out.sort();
}

function fingerprint(files) {
  const hash = createHash('sha256');
  for (const file of [...files, ...CONFIG_FILES.map((f) => path.join(ROOT, f))]) {
    hash.update(path.relative(ROOT, file)).update('\0');
    hash.update(fs.existsSync(file) ? fs.readFileSync(file) : '(absent)').update('\0');
  }
  return hash.digest('hex');
}

function current(expected) {
  try {
    return fs.readFileSync(FINGERPRINT, 'utf8') === expected && fs.existsSync(path.join(DIST, 'main.js'));
  } catch {
    return false;
  }
}

function processAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Takes the build lock, waiting while another live process holds it. */
function lock() {
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      fs.writeFileSync(path.join(LOCK, 'pid'), String(process.pid));
      return;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    let owner = NaN;
    let age = 0;
    try {
      owner = Number(fs.readFileSync(path.join(LOCK, 'pid'), 'utf8'));
      age = Date.now() - fs.statSync(LOCK).mtimeMs;
    } catch {
      // The owner is between mkdir and writing its pid, or just released the lock.
    }
    if ((Number.isInteger(owner) && owner > 0 && !processAlive(owner)) || age > STALE_LOCK_MS) {
      fs.rmSync(LOCK, { recursive: true, force: true });
      continue;
    }
    sleep(100);
  }
}

function unlock() {
  fs.rmSync(LOCK, { recursive: true, force: true });
}

/** Removes outputs of sources that no longer exist (a renamed or deleted file). */
function removeOrphans(files) {
  const expected = new Set(files.map((f) => path.relative(path.join(ROOT, 'src'), f).replace(/\.ts$/, '')));
  const walk = (dir) => {
    if (!fs.existsSync(dir)) return;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(full);
        if (fs.readdirSync(full).length === 0) fs.rmdirSync(full);
        continue;
      }
      const base = path.relative(DIST, full).replace(/(\.d\.ts|\.js\.map|\.js)$/, '');
      if (base !== path.relative(DIST, full) && !expected.has(base)) fs.rmSync(full, { force: true });
    }
  };
  walk(DIST);
}

function main() {
  const force = process.argv.includes('--force');
  let files = sources();
  if (!force && current(fingerprint(files))) return 0;
  lock();
  try {
    files = sources();
    const wanted = fingerprint(files);
    if (!force && current(wanted)) return 0;
    process.stderr.write(`Building dist/ (${force ? 'forced' : 'sources changed since the last build'})…\n`);
    const tsc = require.resolve('typescript/bin/tsc', { paths: [ROOT] });
    const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
    if (result.status !== 0) return result.status ?? 1;
    removeOrphans(files);
    fs.writeFileSync(FINGERPRINT, wanted);
    return 0;
  } finally {
    unlock();
  }
}

process.exitCode = main();
