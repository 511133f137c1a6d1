import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { freePort } from './net';
import { waitFor } from './wait';

const ROOT = resolve(__dirname, '..', '..');

/**
 * A real Herald server in a child process (`src/main.ts`, TypeScript compiled on the fly), in
 * its own process group so a kill reaches it whole. Output is kept for failure messages.
 */
export class ServerProcess {
  private readonly chunks: string[] = [];
  private exited = false;
  private static readonly running = new Set<ServerProcess>();

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.stdout!.on('data', (chunk: Buffer) => this.chunks.push(chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => this.chunks.push(chunk.toString()));
    child.once('exit', () => {
      this.exited = true;
      ServerProcess.running.delete(this);
    });
    ServerProcess.running.add(this);
  }

  /** Starts a server with this environment (PORT is picked unless given) and waits until /health answers. */
  static async start(env: Record<string, string>): Promise<ServerProcess> {
    const port = env.PORT ? Number(env.PORT) : await freePort();
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, HOST: '127.0.0.1', ...env, PORT: String(port), TS_NODE_PROJECT: 'tsconfig.json' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const server = new ServerProcess(child, port);
    await waitFor(
      `server on port ${port} to answer /health`,
      async () => {
        if (server.exited) throw new Error(`server exited during start; output:\n${server.output()}`);
        const res = await fetch(`${server.url}/health`).catch(() => null);
        return res?.ok === true;
      },
      90_000,
    );
    return server;
  }

  /** Kills every server still running (afterAll). */
  static killAll(): Promise<void> {
    return Promise.all([...ServerProcess.running].map((s) => s.kill('SIGKILL'))).then(() => undefined);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  output(last = 4000): string {
    return this.chunks.join('').slice(-last);
  }

  kill(signal: NodeJS.Signals): Promise<void> {
    return new Promise((done) => {
      if (this.exited) return done();
      this.child.once('exit', () => done());
      process.kill(-this.child.pid!, signal);
    });
  }

  /** A JSON call to this server's API with an admin key; throws with the answer on a non-2xx. */
  async api<T = Record<string, unknown>>(key: string, method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : null) as T;
  }
}
