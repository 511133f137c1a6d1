import { AddressPolicy } from '../delivery/address-policy';
import { urlAddressWarnings } from './url-warnings';

describe('urlAddressWarnings', () => {
  const table: Record<string, string[]> = {
    'intranet.acme': ['10.0.0.7'],
    'mixed.acme': ['93.184.216.34', '192.168.1.2'],
    'public.acme': ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'],
  };
  const resolveAll = async (host: string) => table[host] ?? [];
  const warn = (url: string, policy = AddressPolicy.NONE) => urlAddressWarnings(url, policy, resolveAll);

  it.each([
    ['http://127.0.0.1:9000/x', /^127\.0\.0\.1 would be refused at send time .*loopback/],
    ['http://[::1]/x', /^::1 would be refused .*loopback/],
    ['http://[::ffff:10.0.0.1]/x', /private/],
    ['http://169.254.169.254/latest', /metadata/],
    ['https://intranet.acme/hook', /^intranet\.acme \(10\.0\.0\.7\) would be refused .*private/],
    ['https://mixed.acme/hook', /^mixed\.acme \(192\.168\.1\.2\)/],
  ])('%s warns', async (url, reason) => {
    expect(await warn(url)).toEqual([{ field: 'url', reason: expect.stringMatching(reason) }]);
  });

  it.each(['https://93.184.216.34/x', 'https://public.acme/x', 'https://unknown.acme/x'])('%s does not', async (url) => {
    expect(await warn(url)).toEqual([]);
  });

  it('an address the allow-list holds warns of nothing', async () => {
    expect(await warn('http://127.0.0.1:9000/x', AddressPolicy.parse('127.0.0.1/32'))).toEqual([]);
    expect(await warn('https://intranet.acme/hook', AddressPolicy.parse('10.0.0.0/8'))).toEqual([]);
  });
});
