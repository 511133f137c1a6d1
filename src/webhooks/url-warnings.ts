import { isIP } from 'node:net';
import type { FieldProblem } from '../common/errors/api-error';
import type { AddressPolicy } from '../delivery/address-policy';

/**
 * Why sends to this URL would be refused by the address policy (docs/security.md › SSRF), as
 * `warnings` of a webhook's creation or update: not an error, since the operator may allow the
 * address later (HERALD_ALLOWED_NETWORKS) or the name may resolve elsewhere by then. An IP
 * literal is checked as is; a name by the addresses it resolves to now (one refused address is
 * enough: sends refuse a name that resolves to any). A name that does not resolve now warns of
 * nothing. `url` is a URL the rules accepted.
 */
export async function urlAddressWarnings(
  url: string,
  policy: AddressPolicy,
  resolveAll: (hostname: string) => Promise<string[]>,
): Promise<FieldProblem[]> {
  const host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
  const addresses = isIP(host) !== 0 ? [host] : await resolveAll(host);
  for (const address of addresses) {
    const reason = policy.check(address);
    if (reason === null) continue;
    const where = address === host ? host : `${host} (${address})`;
    return [
      {
        field: 'url',
        reason: `${where} would be refused at send time (deliveries and test sends fail): ${reason}`,
      },
    ];
  }
  return [];
}
