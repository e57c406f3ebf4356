import { describe, expect, test } from 'vitest';
import {
  canonicalIp,
  formatIp,
  formatRange,
  hostAddresses,
  inRange,
  parseCidr,
  parseIp,
  parseIpv4,
  parseIpv6,
  possibleIpv4,
  privateDestination,
  privateNameOf,
  privateRangeOf,
  type IpAddress,
} from '../../../src/policy';

const ip = (text: string): IpAddress => {
  const parsed = parseIp(text);
  if (parsed === null) throw new Error(`not an address: ${text}`);
  return parsed;
};
const canonical = (text: string) => formatIp(canonicalIp(ip(text)));
/** What the WHATWG parser (so fetch) makes of a host, or null when the URL is refused. */
const whatwgHost = (host: string): string | null => {
  try {
    return new URL(`http://${host}/`).hostname;
  } catch {
    return null;
  }
};

describe('IPv4 is read as the WHATWG URL parser reads it', () => {
  test.each([
    ['127.0.0.1', '127.0.0.1'],
    ['2130706433', '127.0.0.1'],
    ['0x7f.1', '127.0.0.1'],
    ['0x7F000001', '127.0.0.1'],
    ['0X7f.0.0.1', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['0177.1', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['127.0.1', '127.0.0.1'],
    ['127.0.0.1.', '127.0.0.1'],
    ['127.000.000.001', '127.0.0.1'],
    ['010.0.0.1', '8.0.0.1'],
    ['0x.0x.0x.0x', '0.0.0.0'],
    ['0', '0.0.0.0'],
    ['4294967295', '255.255.255.255'],
    ['10.65535', '10.0.255.255'],
    ['10.65536', '10.1.0.0'],
  ])('%s is %s, as fetch would read it', (text, expected) => {
    expect(formatIp(parseIpv4(text)!)).toBe(expected);
    expect(whatwgHost(text)).toBe(expected);
  });

  test.each(['256.0.0.1', '1.2.3.4.5', '09.1.1.1', '0x100000000', '4294967296', '1..2', '', '.', '1.2.3.256', '10.16777216', '127.0.0.1..', 'a.b.c.d', '1.2.3.-4', '1e3'])(
    '%j is not an IPv4 address',
    (text) => {
      expect(parseIpv4(text)).toBeNull();
    },
  );
});

describe('IPv6 text forms', () => {
  test.each([
    ['::1', '::1'],
    ['[::1]', '::1'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['0000:0000:0000:0000:0000:0000:0000:0001', '::1'],
    ['[0000::0001]', '::1'],
    ['::', '::'],
    ['1::', '1::'],
    ['FE80::1', 'fe80::1'],
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['1:2:3:4:5:6:7:0', '1:2:3:4:5:6:7:0'],
    ['1:2:3:4:5:6::8', '1:2:3:4:5:6:0:8'],
    ['::ffff:7f00:1', '127.0.0.1'],
    ['::FFFF:127.0.0.1', '127.0.0.1'],
    ['0:0:0:0:0:ffff:127.0.0.1', '127.0.0.1'],
    ['64:ff9b::127.0.0.1', '64:ff9b::7f00:1'],
  ])('%s reads as %s', (text, expected) => {
    expect(formatIp(parseIpv6(text)!)).toBe(expected);
  });

  test.each(['::1', '0:0:0:0:0:ffff:7f00:1', '::FFFF:127.0.0.1', '64:ff9b::1.2.3.4', '1:0:0:2:0:0:0:3', 'fe80::', '::127.0.0.1'])(
    '%s is the address WHATWG reads too',
    (text) => {
      expect(parseIpv6(whatwgHost(`[${text}]`)!)).toBe(parseIpv6(text));
    },
  );

  test.each([
    ':::',
    '1::2::3',
    '12345::',
    '::1%eth0',
    'fe80::1%25eth0',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8::',
    '::1:2:3:4:5:6:7:8',
    '::ffff:1.2.3',
    '::ffff:01.2.3.4',
    '::ffff:1.2.3.256',
    '1.2.3.4::',
    '::1.2.3.4:1',
    '[::1',
    'g::1',
    ':1::',
    '',
  ])('%j is not an IPv6 address', (text) => {
    expect(parseIpv6(text)).toBeNull();
  });
});

describe('the canonical address of a spelling', () => {
  test.each([
    '127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:127.0.0.1',
    '0:0:0:0:0:ffff:7f00:1',
    '0000:0000:0000:0000:0000:FFFF:7F00:0001',
    '::127.0.0.1', // IPv4-compatible (deprecated)
    '::7f00:1',
    '64:ff9b::7f00:1', // well-known NAT64 prefix
    '64:ff9b::127.0.0.1',
    '[64:FF9B:0:0:0:0:7F00:1]',
  ])('%s is 127.0.0.1', (text) => {
    expect(canonical(text)).toBe('127.0.0.1');
  });

  test.each([
    ['::1', '::1'], // IPv6 loopback, not 0.0.0.1
    ['::', '::'],
    ['::2', '0.0.0.2'],
    ['64:ff9b::808:808', '8.8.8.8'],
    ['64:ff9b:1::808:808', '64:ff9b:1::808:808'], // local-use NAT64: no single reading
    ['2002:7f00:1::1', '2002:7f00:1::1'], // 6to4 names a relay, not the host
    ['fe80::1', 'fe80::1'],
    ['2001:db8::1', '2001:db8::1'],
  ])('%s stays %s', (text, expected) => {
    expect(canonical(text)).toBe(expected);
  });
});

describe('possible IPv4 readings (used only to deny)', () => {
  const readings = (text: string) => possibleIpv4(ip(text)).map(formatIp);

  test.each([
    ['64:ff9b:1::7f00:1', '/96'],
    ['64:ff9b:1:0:7f:0:100::', '/64'],
    ['64:ff9b:1:7f:0:1::', '/56'],
    ['64:ff9b:1:7f00:0:100::', '/48'],
  ])('local-use NAT64 %s (prefix %s) may reach 127.0.0.1', (text) => {
    expect(readings(text)).toContain('127.0.0.1');
  });

  test('6to4 tunnels to the IPv4 address in bits 16–47', () => {
    expect(readings('2002:7f00:1::1')).toEqual(['127.0.0.1']);
  });

  test("Teredo names the server and (inverted) the client: RFC 4380's example", () => {
    expect(readings('2001:0:4136:e378:8000:63bf:3fff:fdd2')).toEqual(['65.54.227.120', '192.0.2.45']);
  });

  test('other addresses have none', () => {
    expect(readings('2606:4700::1111')).toEqual([]);
    expect(readings('127.0.0.1')).toEqual([]);
  });
});

describe('hosts as parseUrl gives them', () => {
  test('an IPv6 host is read from its brackets, an IPv4 host from dotted decimal', () => {
    expect(hostAddresses('[::ffff:7f00:1]')).toEqual({ literal: ip('::ffff:7f00:1'), address: ip('127.0.0.1'), possible: [] });
    expect(hostAddresses('[::7f00:1]')).toEqual({ literal: ip('::7f00:1'), address: ip('127.0.0.1'), possible: [] });
    expect(hostAddresses('10.0.0.1')).toEqual({ literal: ip('10.0.0.1'), address: ip('10.0.0.1'), possible: [] });
  });

  test('a name has no address, unless another parser could read it as IPv4', () => {
    expect(hostAddresses('example.com')).toEqual({ literal: null, address: null, possible: [] });
    // WHATWG keeps `127.0.0.1..` a name; parseUrl strips one dot; a resolver may read the rest as an address.
    expect(hostAddresses('127.0.0.1.')).toEqual({ literal: null, address: null, possible: [ip('127.0.0.1')] });
  });
});

describe('large and pathological hosts are read in linear time', () => {
  test('a long run of dots, a long number, long zero padding', () => {
    const started = performance.now();
    expect(hostAddresses(`a${'.'.repeat(200_000)}b`)).toEqual({ literal: null, address: null, possible: [] });
    expect(hostAddresses(`${'.'.repeat(200_000)}`).literal).toBeNull();
    expect(parseIpv4('9'.repeat(200_000))).toBeNull();
    expect(formatIp(parseIpv4(`0${'0'.repeat(200_000)}1.0.0.1`)!)).toBe('1.0.0.1'); // octal 1, as WHATWG reads it
    expect(parseIpv6(`${'1:'.repeat(100_000)}1`)).toBeNull();
    expect(privateDestination(`${'a.'.repeat(100_000)}localhost`)?.range).toBe('*.localhost');
    expect(performance.now() - started).toBeLessThan(10_000); // a guard against super-linear scans, not a speed claim
  });
});

describe('CIDR ranges', () => {
  test.each([
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['127.0.0.1/32', '127.0.0.1/32'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['fc00::/7', 'fc00::/7'],
    ['FD00::/8', 'fd00::/8'],
    ['::ffff:0:0/96', '0.0.0.0/0'], // all of IPv4, IPv4-mapped
    ['::ffff:10.0.0.0/104', '10.0.0.0/8'],
    ['64:ff9b::/96', '64:ff9b::/96'],
    ['::/0', '::/0'],
    ['::1/128', '::1/128'],
  ])('%s is the range %s', (text, expected) => {
    const parsed = parseCidr(text);
    expect(parsed.ok && formatRange(parsed.range)).toBe(expected);
  });

  test.each([
    ['10.0.0.0/33', 'the prefix length of an IPv4 range must be from 0 to 32'],
    ['fc00::/129', 'the prefix length of an IPv6 range must be from 0 to 128'],
    ['10.0.0.0/', 'a CIDR range needs a prefix length after "/", e.g. 10.0.0.0/8 or fc00::/7'],
    ['10.0.0.0/-1', 'a CIDR range needs a prefix length after "/", e.g. 10.0.0.0/8 or fc00::/7'],
    ['10.0.0.0/8/8', 'a CIDR range has exactly one "/", e.g. 10.0.0.0/8'],
    ['10.0.0.1/8', 'has address bits set after the /8 prefix: write 10.0.0.0/8 for the range, or the address alone for one host'],
    ['fd00::1/8', 'has address bits set after the /8 prefix: write fd00::/8 for the range, or the address alone for one host'],
    ['010.0.0.0/8', "'010.0.0.0' is not an IPv4 address of four decimal numbers 0–255 without leading zeros (e.g. 10.0.0.0/8)"],
    ['10.0/8', "'10.0' is not an IPv4 address of four decimal numbers 0–255 without leading zeros (e.g. 10.0.0.0/8)"],
    ['[fc00::]/7', 'write an IPv6 range without brackets, e.g. fc00::/7'],
    ['fc00:::/7', "'fc00:::' is not an IPv6 address (e.g. fc00::/7)"],
  ])('%s is refused: %s', (text, reason) => {
    expect(parseCidr(text)).toEqual({ ok: false, reason });
  });

  test('prefix matching', () => {
    const range = (text: string) => {
      const parsed = parseCidr(text);
      if (!parsed.ok) throw new Error(parsed.reason);
      return parsed.range;
    };
    expect(inRange(ip('10.255.0.1'), range('10.0.0.0/8'))).toBe(true);
    expect(inRange(ip('11.0.0.0'), range('10.0.0.0/8'))).toBe(false);
    expect(inRange(ip('172.31.255.255'), range('172.16.0.0/12'))).toBe(true);
    expect(inRange(ip('172.32.0.0'), range('172.16.0.0/12'))).toBe(false);
    expect(inRange(ip('fdff::1'), range('fc00::/7'))).toBe(true);
    expect(inRange(ip('fe00::1'), range('fc00::/7'))).toBe(false);
    expect(inRange(ip('8.8.8.8'), range('::ffff:0:0/96'))).toBe(true);
    expect(inRange(ip('2001:db8::1'), range('::ffff:0:0/96'))).toBe(false);
    expect(inRange(ip('2001:db8::1'), range('::/0'))).toBe(true);
    expect(inRange(ip('8.8.8.8'), range('0.0.0.0/0'))).toBe(true);
    expect(inRange(ip('2001:db8::1'), range('0.0.0.0/0'))).toBe(false); // an IPv4 range holds IPv4 only
  });
});

describe('private networks', () => {
  // Each private range, with a public address just outside it.
  test.each([
    ['0.0.0.0', '0.0.0.0/8', '1.0.0.1'],
    ['0.255.255.255', '0.0.0.0/8', '1.1.1.1'],
    ['10.0.0.1', '10.0.0.0/8', '11.0.0.1'],
    ['100.64.0.1', '100.64.0.0/10', '100.128.0.1'],
    ['127.0.0.1', '127.0.0.0/8', '128.0.0.1'],
    ['127.255.255.254', '127.0.0.0/8', '126.255.255.255'],
    ['169.254.169.254', '169.254.0.0/16', '169.255.0.1'],
    ['172.16.0.1', '172.16.0.0/12', '172.32.0.1'],
    ['172.31.255.255', '172.16.0.0/12', '172.15.255.255'],
    ['192.168.1.1', '192.168.0.0/16', '192.169.0.1'],
    ['198.18.0.1', '198.18.0.0/15', '198.20.0.1'],
    ['224.0.0.251', '224.0.0.0/4', '223.255.255.255'],
    ['255.255.255.255', '240.0.0.0/4', '8.8.8.8'],
    ['::', '::/128', '2606:4700::1111'],
    ['::1', '::1/128', '2001:4860:4860::8888'],
    ['64:ff9b:1::a00:1', '64:ff9b:1::/48', '64:ff9b:2::1'],
    ['fd12:3456::1', 'fc00::/7', 'fe00::1'],
    ['fe80::1', 'fe80::/10', 'fe00::1'],
    ['fec0::1', 'fec0::/10', '2a00:1450::1'],
    ['ff02::1', 'ff00::/8', 'fe00::1'],
  ])('%s is private (%s); %s beside it is not', (address, range, neighbour) => {
    expect(privateRangeOf(canonicalIp(ip(address)))?.range).toBe(range);
    expect(privateRangeOf(canonicalIp(ip(neighbour)))).toBeNull();
  });

  test.each([
    ['localhost', 'localhost'],
    ['a.localhost', '*.localhost'],
    ['a.b.localhost', '*.localhost'],
    ['printer.local', '*.local'],
    ['db.corp.internal', '*.internal'],
    ['home.arpa', 'home.arpa'],
    ['nas.home.arpa', '*.home.arpa'],
    ['intranet', 'single-label names'],
  ])('the name %s is private (%s)', (name, range) => {
    expect(privateNameOf(name)?.range).toBe(range);
  });

  test.each(['example.com', 'localhost.example.com', 'local.example', 'internal.example.com', 'arpa.example', 'xn--bcher-kva.example'])(
    'the name %s is not private',
    (name) => {
      expect(privateNameOf(name)).toBeNull();
    },
  );

  test.each([
    ['[::ffff:7f00:1]', '127.0.0.0/8', '127.0.0.1'],
    ['[::7f00:1]', '127.0.0.0/8', '127.0.0.1'],
    ['[64:ff9b::a00:1]', '10.0.0.0/8', '10.0.0.1'],
    ['[64:ff9b:1::7f00:1]', '64:ff9b:1::/48', '64:ff9b:1::7f00:1'],
    ['[2002:c0a8:101::1]', '192.168.0.0/16', '192.168.1.1'], // 6to4 via a private relay
    ['127.0.0.1.', '127.0.0.0/8', '127.0.0.1'],
    ['localhost', 'localhost', null],
  ])('the host %s is a private destination (%s, address %s)', (host, range, address) => {
    expect(privateDestination(host)).toMatchObject({ range, address });
  });

  test.each(['example.com', '8.8.8.8', '[2606:4700::1111]', '[64:ff9b::808:808]', '[::ffff:808:808]'])('the host %s is public', (host) => {
    expect(privateDestination(host)).toBeNull();
  });
});
