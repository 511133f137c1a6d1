import * as dns from 'node:dns';
import { Injectable } from '@nestjs/common';

/**
 * Resolves a host name to all its addresses, for checks made before any send (a webhook's URL
 * at creation). Behind a class so tests answer from a table instead of asking a DNS server.
 * Sends resolve through the executor's guarded lookup, not through this.
 */
@Injectable()
export class HostResolver {
  /** The addresses of `hostname`; [] when it does not resolve within `timeoutMs`. */
  async resolveAll(hostname: string, timeoutMs = 2000): Promise<string[]> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string[]>((resolve) => {
      timer = setTimeout(() => resolve([]), timeoutMs);
      timer.unref();
    });
    const lookup = dns.promises.lookup(hostname, { all: true }).then(
      (addresses) => addresses.map((a) => a.address),
      () => [],
    );
    try {
      return await Promise.race([lookup, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
