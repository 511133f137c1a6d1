import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** What a command touches outside itself: tests run commands in-process with their own. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  /** Whether standard input is a terminal (a person who can answer a question). */
  stdinIsTTY: boolean;
  readStdin(): Promise<string>;
  /** Asks on the terminal; resolves with the line typed. */
  ask(question: string): Promise<string>;
  readFile(path: string): string;
  writeFile(path: string, text: string): void;
}

export function processIo(): CliIo {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    env: process.env,
    stdinIsTTY: process.stdin.isTTY === true,
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
    ask: (question) =>
      new Promise((resolve) => {
        const rl = createInterface({ input: process.stdin, output: process.stderr });
        rl.question(question, (answer) => {
          rl.close();
          resolve(answer);
        });
      }),
    readFile: (path) => readFileSync(path, 'utf8'),
    writeFile: (path, text) => writeFileSync(path, text),
  };
}
