import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TestHerald } from './support/herald';
import { TestReceiver } from './support/receiver';

const README = resolve(__dirname, '..', 'README.md');

/**
 * The README works as written (issue "the first hour"): every ```bash block of README.md is run,
 * in order, by bash against a real Herald (started like the other e2e specs, on a temporary
 * database) and a receiver on 127.0.0.1, with the variables the README itself tells the reader
 * to set: HERALD_URL, HERALD_API_KEY and RECEIVER. Each block must exit 0, and every curl in it
 * must answer 2xx (curl runs with --fail-with-body). Variables a block sets (`TRAINER_HOOK=$(…)`)
 * carry to the next blocks, as they would in one terminal; between blocks the test waits for the
 * delivery worker to be idle, as a reader's pace does.
 *
 * A ```bash block that is not meant to run is fenced ```bash no-run and skipped explicitly;
 * there may be at most MAX_SKIPPED. Every block holding a curl command is a ```bash block, so
 * none escapes the test by its fence, and every curl goes to $HERALD_URL (nothing leaves
 * 127.0.0.1).
 */
const MAX_SKIPPED = 1;

interface Block {
  lang: string;
  info: string;
  code: string;
  line: number;
}

function fencedBlocks(text: string): Block[] {
  const blocks: Block[] = [];
  const fence = /^```(\S*)([^\n]*)\n([\s\S]*?)^```[ \t]*$/gm;
  for (let m = fence.exec(text); m !== null; m = fence.exec(text)) {
    blocks.push({ lang: m[1], info: m[2].trim(), code: m[3], line: text.slice(0, m.index).split('\n').length });
  }
  return blocks;
}

function bash(script: string, env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done, fail) => {
    // Asynchronous: the Herald under test runs in this process and must keep serving meanwhile.
    const child = spawn('bash', ['-c', script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('error', fail);
    child.once('exit', (code) => done({ code, out, err }));
  });
}

describe('README: every bash block runs in order on a fresh start (e2e)', () => {
  const blocks = fencedBlocks(readFileSync(README, 'utf8'));
  const runnable = blocks.filter((b) => b.lang === 'bash' && b.info !== 'no-run');
  const skipped = blocks.filter((b) => b.lang === 'bash' && b.info === 'no-run');

  it('marks what it does not run, rarely; every curl example is a bash block and calls $HERALD_URL only', () => {
    expect(runnable.length).toBeGreaterThanOrEqual(5);
    expect(skipped.length).toBeLessThanOrEqual(MAX_SKIPPED);
    for (const block of blocks) {
      const curls = block.code.split('\n').filter((l) => /^\s*(\w+=\$\()?curl\s/.test(l));
      if (curls.length === 0) continue;
      expect({ line: block.line, lang: block.lang }).toEqual({ line: block.line, lang: 'bash' });
      for (const curl of curls) expect(curl).toMatch(/curl -s (-X \w+ )?"?\$HERALD_URL\//);
    }
  });

  it('runs them against a real Herald and a local receiver: each exits 0 with 2xx answers, and the main automation delivers', async () => {
    const herald = await TestHerald.start({ env: { HERALD_ALLOWED_NETWORKS: '127.0.0.1/32' } });
    const receiver = await TestReceiver.start();
    const dir = mkdtempSync(join(tmpdir(), 'herald-readme-'));
    const state = join(dir, 'state.sh');
    writeFileSync(state, '');
    // The variables the README's blocks set, carried from one block to the next.
    const carried = [...new Set(runnable.flatMap((b) => [...b.code.matchAll(/^([A-Z][A-Z0-9_]*)=\$\(/gm)].map((m) => m[1])))];
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      HERALD_URL: herald.url,
      HERALD_API_KEY: herald.adminKey,
      RECEIVER: receiver.url('/herald'),
      // No proxy from this machine's environment: every request stays on 127.0.0.1.
      NO_PROXY: '*',
    };
    const outputs: string[] = [];
    try {
      for (const block of runnable) {
        const script = [
          'set -euo pipefail',
          // A non-2xx answer fails the command (and with pipefail the pipeline), showing the body.
          'curl() { command curl --fail-with-body --max-time 20 "$@"; }',
          `source ${JSON.stringify(state)}`,
          block.code,
          `{ for v in ${carried.join(' ') || 'NONE'}; do if [ -n "\${!v+x}" ]; then declare -p "$v"; fi; done; } > ${JSON.stringify(state)}`,
        ].join('\n');
        const result = await bash(script, env);
        if (result.code !== 0) {
          throw new Error(`README.md block at line ${block.line} exited ${result.code}\nstdout:\n${result.out}\nstderr:\n${result.err}`);
        }
        outputs.push(result.out);
        await herald.settle();
      }

      const all = outputs.join('\n');
      // The test sends reached the receiver, signed.
      const tests = receiver.requests.filter((r) => r.path === '/herald' && r.body.includes('herald-test'));
      expect(tests.length).toBeGreaterThanOrEqual(1);
      expect(tests[0].headers['webhook-signature']).toMatch(/^v1,/);
      // The first step's event says why the main automation did not fire: 1 of 5 values.
      expect(all).toMatch(/"automationName": "val-loss-good",\s+"reason": "window",\s+"have": 1,\s+"need": 5/);
      // The main automation fired on the 5th value, and its delivery arrived (then again, redelivered).
      const fired = receiver.requests.filter((r) => r.path === '/herald' && r.body === '{"text":"sweep-42: val/loss 0.17"}');
      expect(fired).toHaveLength(2);
      expect(new Set(fired.map((r) => r.headers['webhook-id'])).size).toBe(1);
      // Nothing went anywhere else.
      expect(receiver.requests.every((r) => r.path === '/herald')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await receiver.close();
      await herald.destroy();
    }
  }, 120_000);
});
