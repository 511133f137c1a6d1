import { isIPv4, isIPv6 } from 'node:net';

/**
 * The SSRF guard's core (docs/design.md › Delivery, SSRF guard): which addresses Herald may connect
 * to. Pure: no I/O, no Nest. IPv4-mapped IPv6 (::ffff:a.b.c.d, however it is spelled) is the
 * same host as its IPv4 address and is judged by it; NAT64 (64:ff9b::/96), 6to4 (2002::/16)
 * and Teredo (2001::/32) addresses route to an embedded IPv4 address and are judged by it too.
 */
export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'cgnat'
  | 'multicast'
  | 'unspecified'
  | 'reserved'
  | 'metadata';

export const ALLOWED_NETWORKS_VARIABLE = 'HERALD_ALLOWED_NETWORKS';

interface IpAddress {
  version: 4 | 6;
  /** 4 or 16 bytes, network order. */
  bytes: Uint8Array;
}

interface Network {
  version: 4 | 6;
  bytes: Uint8Array;
  prefixLength: number;
}

function parseIPv4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    // Decimal only, no leading zeros: "010" means 8 to some parsers and 10 to others.
    if (!/^(?:0|[1-9]\d{0,2})$/.test(parts[i])) return null;
    const value = Number(parts[i]);
    if (value > 255) return null;
    bytes[i] = value;
  }
  return bytes;
}

function parseIPv6(text: string): Uint8Array | null {
  if (!isIPv6(text)) return null;
  let normalized = text;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    const v4 = parseIPv4(text.slice(lastColon + 1));
    if (v4 === null) return null;
    normalized =
      text.slice(0, lastColon + 1) + ((v4[0] << 8) | v4[1]).toString(16) + ':' + ((v4[2] << 8) | v4[3]).toString(16);
  }
  const halves = normalized.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const tail = halves.length === 2 && halves[1] !== '' ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...new Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(groups[i])) return null;
    const value = parseInt(groups[i], 16);
    bytes[2 * i] = value >> 8;
    bytes[2 * i + 1] = value & 0xff;
  }
  return bytes;
}

/** Accepts "1.2.3.4", "::1", "[::1]" and "fe80::1%eth0" (the zone is irrelevant to the class). */
function parseAddress(input: string): IpAddress | null {
  let text = input.trim();
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  const zone = text.indexOf('%');
  if (zone >= 0 && text.includes(':')) text = text.slice(0, zone);
  if (isIPv4(text)) {
    const bytes = parseIPv4(text);
    return bytes && { version: 4, bytes };
  }
  const bytes = parseIPv6(text);
  return bytes && { version: 6, bytes };
}

function inNetwork(bytes: Uint8Array, network: Network): boolean {
  if (bytes.length !== network.bytes.length) return false;
  const whole = network.prefixLength >> 3;
  for (let i = 0; i < whole; i++) if (bytes[i] !== network.bytes[i]) return false;
  const rest = network.prefixLength & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (bytes[whole] & mask) === (network.bytes[whole] & mask);
}

/** Parses "a.b.c.d/n", "x::y/n" or a bare address; throws a message naming the entry. */
function parseNetwork(entry: string): Network {
  const slash = entry.indexOf('/');
  const addressText = slash < 0 ? entry : entry.slice(0, slash);
  const address = addressText.includes('%') ? null : parseAddress(addressText);
  if (address === null) {
    throw new Error(`"${entry}" is not an IP address or CIDR (for example 10.0.0.0/8 or fd00::/8)`);
  }
  const maxLength = address.version === 4 ? 32 : 128;
  let prefixLength = maxLength;
  if (slash >= 0) {
    const prefixText = entry.slice(slash + 1);
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > maxLength) {
      throw new Error(`"${entry}" has an invalid prefix length (0 to ${maxLength} for IPv${address.version})`);
    }
    prefixLength = Number(prefixText);
  }
  const network: Network = { version: address.version, bytes: address.bytes, prefixLength };
  const masked = maskBytes(address.bytes, prefixLength);
  if (!masked.every((byte, i) => byte === address.bytes[i])) {
    throw new Error(
      `"${entry}" has host bits set (did you mean ${formatAddress({ version: address.version, bytes: masked })}/${prefixLength}?)`,
    );
  }
  return network;
}

function maskBytes(bytes: Uint8Array, prefixLength: number): Uint8Array {
  const masked = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const bits = Math.max(0, Math.min(8, prefixLength - 8 * i));
    masked[i] = bytes[i] & ((0xff << (8 - bits)) & 0xff);
  }
  return masked;
}

function formatAddress(address: IpAddress): string {
  if (address.version === 4) return Array.from(address.bytes).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((address.bytes[i] << 8) | address.bytes[i + 1]).toString(16));
  // Compress the longest run of zero groups (RFC 5952).
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return groups.slice(0, bestStart).join(':') + '::' + groups.slice(bestStart + bestLength).join(':');
}

function networks(table: ReadonlyArray<[string, AddressClass]>): Array<[Network, AddressClass]> {
  return table.map(([cidr, cls]) => [parseNetwork(cidr), cls]);
}

// First match wins, so the specific entries come before the ranges that contain them.
const IPV4_TABLE = networks([
  ['169.254.169.254/32', 'metadata'], // AWS, GCP, Azure, OpenStack, …
  ['169.254.170.2/32', 'metadata'], // AWS ECS task credentials
  ['100.100.100.200/32', 'metadata'], // Alibaba Cloud
  ['168.63.129.16/32', 'metadata'], // Azure WireServer (a public address only reachable inside Azure)
  ['0.0.0.0/32', 'unspecified'],
  ['0.0.0.0/8', 'reserved'], // "this network"
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'cgnat'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'reserved'], // IETF protocol assignments
  ['192.0.2.0/24', 'reserved'], // TEST-NET-1
  ['192.88.99.0/24', 'reserved'], // deprecated 6to4 relay anycast
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'reserved'], // benchmarking
  ['198.51.100.0/24', 'reserved'], // TEST-NET-2
  ['203.0.113.0/24', 'reserved'], // TEST-NET-3
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'], // includes 255.255.255.255
]);

// Checked before an embedded IPv4 address is looked for.
const IPV6_EXACT = networks([
  ['fd00:ec2::254/128', 'metadata'], // AWS IMDS over IPv6
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
]);

// Checked after: ::/8 contains the IPv4-mapped range, 2001::/32 (Teredo) is inside 2000::/3.
const IPV6_RANGES = networks([
  ['64:ff9b:1::/48', 'private'], // local-use NAT64 (inside ::/8)
  ['::/8', 'reserved'], // IPv4-compatible, IPv4-translated, … (mapped is handled before)
  ['100::/64', 'reserved'], // discard-only
  ['2001:2::/48', 'reserved'], // benchmarking
  ['2001:10::/28', 'reserved'], // ORCHID
  ['2001:20::/28', 'reserved'], // ORCHIDv2
  ['2001:db8::/32', 'reserved'], // documentation
  ['3fff::/20', 'reserved'], // documentation
  ['5f00::/16', 'reserved'], // SRv6 SIDs
  ['fc00::/7', 'private'], // unique local
  ['fe80::/10', 'link-local'],
  ['fec0::/10', 'private'], // deprecated site-local
  ['ff00::/8', 'multicast'],
]);

const GLOBAL_UNICAST_V6 = parseNetwork('2000::/3');

/** IPv6 forms that carry an IPv4 address, and where. */
const EMBEDDING_V6: Array<{ network: Network; offset: number; xor: number; name: string }> = [
  { network: parseNetwork('::ffff:0:0/96'), offset: 12, xor: 0, name: 'IPv4-mapped' },
  { network: parseNetwork('64:ff9b::/96'), offset: 12, xor: 0, name: 'NAT64' },
  { network: parseNetwork('2002::/16'), offset: 2, xor: 0, name: '6to4' },
  { network: parseNetwork('2001::/32'), offset: 12, xor: 0xff, name: 'Teredo' }, // client address, bit-inverted
];

interface EmbeddedIPv4 {
  kind: string;
  bytes: Uint8Array;
}

function embeddedIPv4(bytes: Uint8Array): EmbeddedIPv4 | null {
  for (const { network, offset, xor, name } of EMBEDDING_V6) {
    if (inNetwork(bytes, network)) {
      return { kind: name, bytes: bytes.slice(offset, offset + 4).map((byte) => byte ^ xor) };
    }
  }
  return null;
}

function classifyBytes(address: IpAddress): AddressClass {
  if (address.version === 4) {
    for (const [network, cls] of IPV4_TABLE) if (inNetwork(address.bytes, network)) return cls;
    return 'public';
  }
  for (const [network, cls] of IPV6_EXACT) if (inNetwork(address.bytes, network)) return cls;
  const embedded = embeddedIPv4(address.bytes);
  if (embedded !== null) return classifyBytes({ version: 4, bytes: embedded.bytes });
  for (const [network, cls] of IPV6_RANGES) if (inNetwork(address.bytes, network)) return cls;
  return inNetwork(address.bytes, GLOBAL_UNICAST_V6) ? 'public' : 'reserved';
}

/** The class of an IP address; anything that is not a valid IP address is 'reserved'. */
export function classifyAddress(address: string): AddressClass {
  const parsed = parseAddress(address);
  return parsed === null ? 'reserved' : classifyBytes(parsed);
}

const CLASS_PHRASES: Record<Exclude<AddressClass, 'public'>, string> = {
  loopback: 'a loopback address',
  private: 'a private address',
  'link-local': 'a link-local address',
  cgnat: 'a carrier-grade NAT (100.64.0.0/10) address',
  multicast: 'a multicast address',
  unspecified: 'an unspecified address',
  reserved: 'a reserved address',
  metadata: 'a cloud metadata address',
};

const MAPPED_PREFIX = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);

/** HERALD_ALLOWED_NETWORKS holds an entry that is not a network; `reason` names it. */
export class NetworkListError extends Error {
  constructor(readonly reason: string) {
    super(`${ALLOWED_NETWORKS_VARIABLE}: ${reason}`);
    this.name = 'NetworkListError';
  }
}

export class AddressPolicy {
  /** Allows no address that is not public. */
  static readonly NONE: AddressPolicy = new AddressPolicy([]);

  /**
   * Comma-separated CIDRs (IPv4 and IPv6; a bare address is /32 or /128). Undefined or blank
   * allows none. Throws a NetworkListError naming the bad entry.
   */
  static parse(cidrList: string | undefined): AddressPolicy {
    if (cidrList === undefined || cidrList.trim() === '') return AddressPolicy.NONE;
    const parsed: Network[] = [];
    for (const raw of cidrList.split(',')) {
      const entry = raw.trim();
      if (entry === '') continue; // tolerate "a, b," and doubled commas
      try {
        parsed.push(parseNetwork(entry));
      } catch (error) {
        throw new NetworkListError((error as Error).message);
      }
    }
    return new AddressPolicy(parsed);
  }

  /** The allowed networks in canonical form, for logs. */
  readonly networks: readonly string[];

  private constructor(private readonly allowed: readonly Network[]) {
    this.networks = allowed.map((network) => `${formatAddress(network)}/${network.prefixLength}`);
  }

  /**
   * null when a connection to `address` is allowed, else a clear reason. Public addresses are
   * always allowed. A cloud metadata address is allowed only by an entry naming exactly it
   * (/32 or /128): a broad range such as 169.254.0.0/16 or 0.0.0.0/0 must not expose the
   * host's cloud credentials by accident.
   */
  check(address: string): string | null {
    const parsed = parseAddress(address);
    if (parsed === null) return `${address} is not a valid IP address`;
    const cls = classifyBytes(parsed);
    if (cls === 'public' || this.allows(parsed, cls === 'metadata')) return null;
    const embedded = parsed.version === 6 ? embeddedIPv4(parsed.bytes) : null;
    const shown = embedded
      ? `${address} (${embedded.kind} ${formatAddress({ version: 4, bytes: embedded.bytes })})`
      : address;
    const how = cls === 'metadata' ? `add exactly this address (/${parsed.version === 4 ? 32 : 128})` : 'add it';
    return `${shown} is ${CLASS_PHRASES[cls]}; ${how} to ${ALLOWED_NETWORKS_VARIABLE} to allow it`;
  }

  private allows(address: IpAddress, exactOnly: boolean): boolean {
    // The same host in both spellings: a.b.c.d and ::ffff:a.b.c.d.
    const forms: IpAddress[] = [address];
    if (address.version === 4) {
      forms.push({ version: 6, bytes: new Uint8Array([...MAPPED_PREFIX, ...address.bytes]) });
    } else if (MAPPED_PREFIX.every((byte, i) => address.bytes[i] === byte)) {
      forms.push({ version: 4, bytes: address.bytes.slice(12) });
    }
    return this.allowed.some(
      (network) =>
        (!exactOnly || network.prefixLength === network.bytes.length * 8) &&
        forms.some((form) => form.version === network.version && inNetwork(form.bytes, network)),
    );
  }
}
