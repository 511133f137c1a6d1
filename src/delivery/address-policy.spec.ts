import { AddressPolicy, classifyAddress, type AddressClass } from './address-policy';

// Classification only: nothing in this file opens a socket.
describe('classifyAddress', () => {
  it.each<[string, AddressClass]>([
    // IPv4
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['168.63.129.16', 'metadata'],
    ['169.254.1.1', 'link-local'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'reserved'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['192.0.0.8', 'reserved'],
    ['192.0.2.10', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['198.19.255.255', 'reserved'],
    ['198.51.100.7', 'reserved'],
    ['203.0.113.9', 'reserved'],
    ['192.88.99.1', 'reserved'],
    // boundaries that are public
    ['8.8.8.8', 'public'],
    ['1.1.1.1', 'public'],
    ['172.15.255.255', 'public'],
    ['172.32.0.0', 'public'],
    ['100.63.255.255', 'public'],
    ['100.128.0.0', 'public'],
    ['198.20.0.0', 'public'],
    ['223.255.255.255', 'public'],
    ['11.0.0.1', 'public'],
    // IPv6
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    ['fec0::1', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['fd00:ec2::254', 'metadata'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['3fff::1', 'reserved'],
    ['100::1', 'reserved'],
    ['::2', 'reserved'],
    ['::127.0.0.1', 'reserved'], // deprecated IPv4-compatible form
    ['4000::1', 'reserved'], // outside 2000::/3: unallocated
    ['64:ff9b:1::a00:1', 'private'],
    ['2606:4700::1111', 'public'],
    ['2001:4860:4860::8888', 'public'],
    ['[2606:4700::1111]', 'public'],
    ['[::1]', 'loopback'],
    // IPv4-mapped IPv6, dotted and hex forms, judged by the IPv4 address
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::FFFF:7F00:0001', 'loopback'],
    ['0:0:0:0:0:ffff:127.0.0.1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:a00:1', 'private'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:0.0.0.0', 'unspecified'],
    ['::ffff:8.8.8.8', 'public'],
    ['[::ffff:127.0.0.1]', 'loopback'],
    // NAT64, 6to4 and Teredo, judged by the embedded IPv4 address
    ['64:ff9b::127.0.0.1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'metadata'],
    ['64:ff9b::808:808', 'public'],
    ['2002:c0a8:101::1', 'private'],
    ['2002:7f00:1::', 'loopback'],
    ['2002:808:808::1', 'public'],
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', 'loopback'], // client 127.0.0.1, bit-inverted
    ['2001:0:4136:e378:8000:63bf:f7f7:f7f7', 'public'], // client 8.8.8.8
    // invalid input
    ['', 'reserved'],
    ['localhost', 'reserved'],
    ['256.0.0.1', 'reserved'],
    ['1.2.3', 'reserved'],
    ['010.0.0.1', 'reserved'],
    ['1:2:3:4:5:6:7:8:9', 'reserved'],
    ['::1::2', 'reserved'],
    ['12345::1', 'reserved'],
  ])('%s is %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });
});

describe('AddressPolicy.NONE', () => {
  it.each([
    '127.0.0.1',
    '10.0.0.1',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '::1',
    'fe80::1',
    'fc00::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '::ffff:7f00:1',
    'fd00:ec2::254',
    '240.0.0.1',
  ])('refuses %s', (address) => {
    expect(AddressPolicy.NONE.check(address)).toMatch(/ is an? .* address; add .* to HERALD_ALLOWED_NETWORKS to allow it$/);
  });

  it.each(['8.8.8.8', '1.1.1.1', '2606:4700::1111', '::ffff:8.8.8.8'])('allows public %s', (address) => {
    expect(AddressPolicy.NONE.check(address)).toBeNull();
  });

  it('explains each refusal clearly', () => {
    expect(AddressPolicy.NONE.check('127.0.0.1')).toBe(
      '127.0.0.1 is a loopback address; add it to HERALD_ALLOWED_NETWORKS to allow it',
    );
    expect(AddressPolicy.NONE.check('::ffff:7f00:1')).toBe(
      '::ffff:7f00:1 (IPv4-mapped 127.0.0.1) is a loopback address; add it to HERALD_ALLOWED_NETWORKS to allow it',
    );
    expect(AddressPolicy.NONE.check('100.64.0.1')).toMatch(/carrier-grade NAT/);
    expect(AddressPolicy.NONE.check('169.254.169.254')).toBe(
      '169.254.169.254 is a cloud metadata address; add exactly this address (/32) to HERALD_ALLOWED_NETWORKS to allow it',
    );
    expect(AddressPolicy.NONE.check('nonsense')).toBe('nonsense is not a valid IP address');
  });

  it('is what an unset or blank list gives', () => {
    expect(AddressPolicy.parse(undefined)).toBe(AddressPolicy.NONE);
    expect(AddressPolicy.parse('')).toBe(AddressPolicy.NONE);
    expect(AddressPolicy.parse('  ')).toBe(AddressPolicy.NONE);
  });
});

describe('AddressPolicy.parse', () => {
  it('allows addresses inside IPv4 CIDRs, and only those', () => {
    const policy = AddressPolicy.parse('10.1.0.0/16, 192.168.1.5');
    expect(policy.check('10.1.2.3')).toBeNull();
    expect(policy.check('10.2.0.1')).toMatch(/private/);
    expect(policy.check('192.168.1.5')).toBeNull();
    expect(policy.check('192.168.1.6')).toMatch(/private/);
    expect(policy.check('127.0.0.1')).toMatch(/loopback/);
    expect(policy.networks).toEqual(['10.1.0.0/16', '192.168.1.5/32']);
  });

  it('matches an IPv4-mapped address with an IPv4 CIDR, and an IPv4 address with a mapped CIDR', () => {
    const v4 = AddressPolicy.parse('127.0.0.1/32');
    expect(v4.check('::ffff:127.0.0.1')).toBeNull();
    expect(v4.check('::ffff:7f00:1')).toBeNull();
    expect(v4.check('::ffff:127.0.0.2')).toMatch(/loopback/);
    const mapped = AddressPolicy.parse('::ffff:10.0.0.0/104');
    expect(mapped.check('10.9.8.7')).toBeNull();
    expect(mapped.check('11.0.0.1')).toBeNull(); // public anyway
    expect(mapped.check('172.16.0.1')).toMatch(/private/);
  });

  it('allows addresses inside IPv6 CIDRs', () => {
    const policy = AddressPolicy.parse('::1/128,fd00:1234::/32');
    expect(policy.check('::1')).toBeNull();
    expect(policy.check('[::1]')).toBeNull();
    expect(policy.check('fd00:1234:ffff::9')).toBeNull();
    expect(policy.check('fd00:1235::1')).toMatch(/private/);
    expect(policy.check('127.0.0.1')).toMatch(/loopback/);
  });

  it('does not let an IPv4 CIDR allow a NAT64 or 6to4 address (another host, reached through a gateway)', () => {
    const policy = AddressPolicy.parse('10.0.0.0/8');
    expect(policy.check('64:ff9b::a00:1')).toMatch(/NAT64 10\.0\.0\.1\) is a private address/);
    expect(AddressPolicy.parse('64:ff9b::/96').check('64:ff9b::a00:1')).toBeNull();
  });

  it('opens a metadata address only when it is listed exactly', () => {
    expect(AddressPolicy.parse('169.254.0.0/16').check('169.254.169.254')).toMatch(/metadata/);
    expect(AddressPolicy.parse('169.254.0.0/16').check('169.254.1.1')).toBeNull();
    expect(AddressPolicy.parse('0.0.0.0/0').check('169.254.169.254')).toMatch(/metadata/);
    expect(AddressPolicy.parse('169.254.169.254').check('169.254.169.254')).toBeNull();
    expect(AddressPolicy.parse('169.254.169.254/32').check('::ffff:169.254.169.254')).toBeNull();
    expect(AddressPolicy.parse('fd00::/8').check('fd00:ec2::254')).toMatch(/metadata/);
    expect(AddressPolicy.parse('fd00:ec2::254/128').check('fd00:ec2::254')).toBeNull();
  });

  it('accepts /0 networks, brackets and stray commas', () => {
    const policy = AddressPolicy.parse('0.0.0.0/0,, [::]/0 ,');
    expect(policy.check('10.0.0.1')).toBeNull();
    expect(policy.check('fe80::1')).toBeNull();
    expect(policy.networks).toEqual(['0.0.0.0/0', '::/0']);
  });

  it.each([
    ['10.0.0.0/33', /"10\.0\.0\.0\/33" has an invalid prefix length/],
    ['::1/129', /"::1\/129" has an invalid prefix length/],
    ['10.0.0.0/-1', /invalid prefix length/],
    ['10.0.0.0/', /invalid prefix length/],
    ['10.0.0.0/8/8', /invalid prefix length/],
    ['10.0.0.1/8', /"10\.0\.0\.1\/8" has host bits set \(did you mean 10\.0\.0\.0\/8\?\)/],
    ['fd00::1/8', /did you mean fd00::\/8\?/],
    ['localhost', /"localhost" is not an IP address or CIDR/],
    ['10.0.0.0/8, example.com/24', /"example\.com\/24" is not an IP address or CIDR/],
    ['300.0.0.0/8', /"300\.0\.0\.0\/8"/],
    ['fe80::1%eth0/128', /"fe80::1%eth0\/128"/],
  ])('rejects %s naming the bad entry', (list, message) => {
    expect(() => AddressPolicy.parse(list)).toThrow(message);
    expect(() => AddressPolicy.parse(list)).toThrow(/^HERALD_ALLOWED_NETWORKS: /);
  });
});
