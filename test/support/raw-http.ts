import { type IncomingHttpHeaders, request as httpRequest } from 'node:http';

/** An answer as sent: the body parsed as JSON when it is JSON, else its text (undefined when empty). */
export interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: any;
}

/** Sends exact bytes with exactly the given headers (supertest would re-encode a Buffer and add its own). */
export function sendRaw(base: string, method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const all = body ? { ...headers, 'Content-Length': String(body.length) } : headers;
    const req = httpRequest(new URL(path, base), { method, headers: all }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          // not JSON: left as text for the test to report
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}
