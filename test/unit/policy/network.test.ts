import { describe, expect, test } from 'vitest';
import {
  applyGrant,
  applyRevoke,
  decideNetwork,
  parsePolicyDocument,
  resolvePolicy,
  TEMPLATES,
  TRUST_LEVELS,
  type Decision,
  type EffectivePolicy,
  type NetworkRules,
  type PolicyDocument,
} from '../../../src/policy';
import { NOON, SECOND } from './fake-clock';
import { fixtureJson } from './fixtures';

const limited = resolvePolicy('Limited'); // https only, api.openai.com + httpbin.org, ports 80/443, 100 KB, 10/min
const trusted = resolvePolicy('Trusted'); // any domain but malware.example.com, ports 80/443/22/3000

function decide(policy: EffectivePolicy, url: string, extra: { method?: string; bodyBytes?: number; times?: number[] } = {}): Decision {
  return decideNetwork(policy, { url, method: extra.method ?? 'GET', bodyBytes: extra.bodyBytes ?? 0 }, extra.times ?? [], NOON);
}

const ruleOf = (d: Decision) => (d.allow ? 'allow' : d.rule);

describe('scheme', () => {
  test('https is allowed', () => {
    expect(decide(limited, 'https://api.openai.com/v1/models')).toEqual({ allow: true });
  });

  test('plain http is denied by network.scheme when httpsOnly is set', () => {
    expect(decide(limited, 'http://api.openai.com/v1/models')).toEqual({
      allow: false,
      rule: 'network.scheme',
      reason: 'This agent may only use https (network.httpsOnly); request the https:// URL instead.',
      limit: ['https'],
      observed: 'http',
    });
  });

  test('plain http is allowed when httpsOnly is off', () => {
    expect(decide(trusted, 'http://example.org/').allow).toBe(true);
  });

  test.each(['ftp://example.org/x', 'file:///etc/passwd', 'data:text/plain,hi', 'javascript:alert(1)', 'ws://example.org/'])(
    '%s is denied by network.scheme even with everything else open',
    (url) => {
      expect(ruleOf(decide(resolvePolicy('FullyTrusted'), url))).toBe('network.scheme');
    },
  );

  test.each(['not a url', '/relative/path', '', 'https://'])('%j is denied by network.url-invalid', (url) => {
    expect(ruleOf(decide(trusted, url))).toBe('network.url-invalid');
  });
});

describe('allowed domains', () => {
  test('a host not in allowedDomains is denied by network.domain-not-allowed, naming the list', () => {
    expect(decide(limited, 'https://example.com/')).toEqual({
      allow: false,
      rule: 'network.domain-not-allowed',
      reason: "Host 'example.com' is not in this agent's allowed domains (network.allowedDomains); an admin can grant it.",
      limit: ['api.openai.com', 'httpbin.org'],
      observed: 'example.com',
    });
  });

  test('matching ignores case and one trailing dot', () => {
    expect(decide(limited, 'https://API.OpenAI.com./v1').allow).toBe(true);
    const upper = resolvePolicy('Limited', { version: 1, network: { allowedDomains: ['API.OPENAI.COM.'] } });
    expect(decide(upper, 'https://api.openai.com/').allow).toBe(true);
  });

  test('an exact entry does not open sub-domains or look-alikes', () => {
    for (const url of ['https://www.api.openai.com/', 'https://api.openai.com.evil.net/', 'https://evilapi.openai.com/', 'https://openai.com/']) {
      expect(ruleOf(decide(limited, url))).toBe('network.domain-not-allowed');
    }
  });

  test('*.example.com matches sub-domains at any depth but not example.com itself', () => {
    const p = resolvePolicy('Limited', { version: 1, network: { allowedDomains: ['*.example.com'] } });
    expect(decide(p, 'https://a.example.com/').allow).toBe(true);
    expect(decide(p, 'https://a.b.example.com/').allow).toBe(true);
    expect(ruleOf(decide(p, 'https://example.com/'))).toBe('network.domain-not-allowed');
    expect(ruleOf(decide(p, 'https://badexample.com/'))).toBe('network.domain-not-allowed');
    expect(ruleOf(decide(p, 'https://example.com.evil.net/'))).toBe('network.domain-not-allowed');
  });

  test('an empty allowedDomains allows no host', () => {
    const p = resolvePolicy('Trusted', { version: 1, network: { allowedDomains: [] } });
    expect(ruleOf(decide(p, 'https://example.org/'))).toBe('network.domain-not-allowed');
  });

  test('the host is the one fetch would contact: userinfo and backslash tricks do not fool it', () => {
    expect(decide(limited, 'https://api.openai.com@evil.example/')).toMatchObject({ rule: 'network.domain-not-allowed', observed: 'evil.example' });
    expect(decide(limited, 'https://evil.example\\@api.openai.com/')).toMatchObject({ rule: 'network.domain-not-allowed', observed: 'evil.example' });
    expect(decide(limited, 'https://evil.example#@api.openai.com/')).toMatchObject({ rule: 'network.domain-not-allowed', observed: 'evil.example' });
  });

  test('IP literals match literally, in the canonical form fetch would use', () => {
    const p = resolvePolicy('Trusted', { version: 1, network: { allowedDomains: ['127.0.0.1', '::1'] } });
    expect(decide(p, 'http://127.0.0.1/').allow).toBe(true);
    expect(decide(p, 'http://0x7f.0.0.1/').allow).toBe(true); // the same address, as WHATWG URL reads it
    expect(decide(p, 'http://[::1]/').allow).toBe(true);
    expect(decide(p, 'http://[0:0:0:0:0:0:0:1]/').allow).toBe(true);
    expect(ruleOf(decide(p, 'http://127.0.0.2/'))).toBe('network.domain-not-allowed');
  });

  test('a wildcard never matches an IP literal', () => {
    const p = resolvePolicy('Trusted', { version: 1, network: { allowedDomains: ['*.0.0.1'] } });
    expect(ruleOf(decide(p, 'http://127.0.0.1/'))).toBe('network.domain-not-allowed');
  });

  test('internationalised names match in either spelling', () => {
    const p = resolvePolicy('Trusted', { version: 1, network: { allowedDomains: ['bücher.example'] } });
    expect(decide(p, 'https://xn--bcher-kva.example/').allow).toBe(true);
    expect(decide(p, 'https://BÜCHER.example/').allow).toBe(true);
  });
});

describe('blocked domains', () => {
  test('a blocked host is denied by network.domain-blocked even when allowedDomains is "*"', () => {
    expect(decide(trusted, 'https://malware.example.com/payload')).toEqual({
      allow: false,
      rule: 'network.domain-blocked',
      reason: "Host 'malware.example.com' is blocked by 'malware.example.com' (network.blockedDomains); an admin must grant it to unblock it.",
      limit: ['malware.example.com'],
      observed: 'malware.example.com',
    });
    expect(ruleOf(decide(trusted, 'http://MALWARE.example.com.:80/'))).toBe('network.domain-blocked');
  });

  test('its siblings and parent stay allowed', () => {
    expect(decide(trusted, 'https://example.com/').allow).toBe(true);
    expect(decide(trusted, 'https://safe.example.com/').allow).toBe(true);
  });

  test('a blocked wildcard wins over an exact allowed entry', () => {
    const p = resolvePolicy('Trusted', {
      version: 1,
      network: { allowedDomains: ['api.example.com'], blockedDomains: ['*.example.com'] },
    });
    expect(ruleOf(decide(p, 'https://api.example.com/'))).toBe('network.domain-blocked');
  });
});

describe('ports', () => {
  test('the scheme default port (443) is allowed when listed', () => {
    expect(decide(limited, 'https://api.openai.com:443/').allow).toBe(true);
  });

  test('a port not in allowedPorts is denied by network.port', () => {
    expect(decide(limited, 'https://api.openai.com:8443/')).toEqual({
      allow: false,
      rule: 'network.port',
      reason: "Port 8443 is not in this agent's allowed ports (network.allowedPorts); use one of: 80, 443.",
      limit: ['80', '443'],
      observed: 8443,
    });
  });

  test('an empty allowedPorts denies even the default port', () => {
    const p = resolvePolicy('Limited', { version: 1, network: { allowedPorts: [] } });
    expect(ruleOf(decide(p, 'https://api.openai.com/'))).toBe('network.port');
  });

  test('http without a port is port 80; listed extra ports work', () => {
    expect(decide(trusted, 'http://example.org/').allow).toBe(true);
    expect(decide(trusted, 'http://example.org:3000/').allow).toBe(true);
    expect(ruleOf(decide(trusted, 'http://example.org:8080/'))).toBe('network.port');
  });

  test('"*" allows any port', () => {
    expect(decide(resolvePolicy('FullyTrusted'), 'http://example.org:8080/').allow).toBe(true);
  });
});

describe('request size', () => {
  test('a body of exactly maxRequestKb is allowed', () => {
    expect(decide(limited, 'https://api.openai.com/', { method: 'POST', bodyBytes: 100 * 1024 }).allow).toBe(true);
  });

  test('one byte more is denied by network.request-size', () => {
    expect(decide(limited, 'https://api.openai.com/', { method: 'POST', bodyBytes: 100 * 1024 + 1 })).toMatchObject({
      allow: false,
      rule: 'network.request-size',
      limit: 100,
      observed: 101,
    });
  });

  test('maxRequestKb 0 allows body-less requests only', () => {
    const p = resolvePolicy('Limited', { version: 1, network: { maxRequestKb: 0 } });
    expect(decide(p, 'https://api.openai.com/').allow).toBe(true);
    expect(ruleOf(decide(p, 'https://api.openai.com/', { method: 'POST', bodyBytes: 1 }))).toBe('network.request-size');
  });

  test('a negative or NaN size is denied', () => {
    expect(ruleOf(decide(limited, 'https://api.openai.com/', { bodyBytes: -1 }))).toBe('network.request-size');
    expect(ruleOf(decide(limited, 'https://api.openai.com/', { bodyBytes: Number.NaN }))).toBe('network.request-size');
  });
});

describe('methods', () => {
  test.each(['GET', 'post', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'])('%s is allowed', (method) => {
    expect(decide(limited, 'https://api.openai.com/', { method }).allow).toBe(true);
  });

  test.each(['CONNECT', 'trace', 'TRACK', 'GET /x', ''])('%j is denied by network.method', (method) => {
    expect(ruleOf(decide(limited, 'https://api.openai.com/', { method }))).toBe('network.method');
  });
});

describe('requests per minute', () => {
  const tenRecent = Array.from({ length: 10 }, (_, i) => NOON - 30 * SECOND + i * SECOND);

  test('the tenth request in a minute is allowed', () => {
    expect(decide(limited, 'https://api.openai.com/', { times: tenRecent.slice(1) }).allow).toBe(true);
  });

  test('the eleventh is denied by network.rate, retrying when the oldest leaves the window', () => {
    expect(decide(limited, 'https://api.openai.com/', { times: tenRecent })).toEqual({
      allow: false,
      rule: 'network.rate',
      reason: 'This agent made 10 requests in the last minute, its limit is 10 (network.requestsPerMinute); retry in 30 s.',
      limit: 10,
      observed: 10,
      retryAfterMs: 30 * SECOND,
    });
  });

  test('requestsPerMinute 0 (Untrusted) denies every request by network.rate, before any other rule', () => {
    const untrusted = resolvePolicy('Untrusted');
    expect(decide(untrusted, 'http://anything.example:1234/')).toEqual({
      allow: false,
      rule: 'network.rate',
      reason: 'This agent may make no network requests (network.requestsPerMinute is 0); an admin must raise the limit.',
      limit: 0,
    });
  });

  test('an invalid clock denies by clock.invalid', () => {
    expect(ruleOf(decideNetwork(limited, { url: 'https://api.openai.com/', method: 'GET', bodyBytes: 0 }, [], Number.NaN))).toBe('clock.invalid');
  });
});

/** FullyTrusted (every host, port and scheme open) with only the given network fields set. */
function open(network: Partial<NetworkRules>): EffectivePolicy {
  return resolvePolicy('FullyTrusted', { version: 1, network });
}

// Every way to write 127.0.0.1 in a URL that fetch would send to 127.0.0.1 (or, for the last
// few, may: see `possibleIpv4` in addresses.ts).
const LOOPBACK_SPELLINGS = [
  'http://127.0.0.1/',
  'http://2130706433/', // decimal
  'http://0x7f000001/', // hex
  'http://0X7F.1/',
  'http://0x7f.0.0.1/',
  'http://0177.0.0.1/', // octal
  'http://0177.0.0.01/',
  'http://127.1/', // short forms
  'http://127.0.1/',
  'http://127.000.000.001/',
  'http://127.0.0.1./', // trailing dot
  'http://127.0.0.1:8080/',
  'http://%31%32%37.0.0.1/', // percent-encoded
  'http://１２７.０.０.１/', // full-width digits (IDNA maps them)
  'http://127。0。0。1/', // ideographic full stops
  'http://[::ffff:7f00:1]/', // IPv4-mapped
  'http://[::ffff:127.0.0.1]/',
  'http://[::FFFF:7F00:0001]/', // upper case, zero-padded group
  'http://[0:0:0:0:0:ffff:7f00:1]/',
  'http://[0000:0000:0000:0000:0000:ffff:7f00:0001]/',
  'http://[::127.0.0.1]/', // IPv4-compatible (deprecated)
  'http://[::7f00:1]/',
  'http://[64:ff9b::7f00:1]/', // well-known NAT64
  'http://[64:ff9b::127.0.0.1]/',
  'http://[64:ff9b:0:0:0:0:7f00:1]/',
  'http://127.0.0.1../', // a name to WHATWG, an address to a lenient resolver
  'http://[64:ff9b:1::7f00:1]/', // local-use NAT64, /96 embedding
  'http://[64:ff9b:1:7f00:0:100::]/', // local-use NAT64, /48 embedding
  'http://[2002:7f00:1::1]/', // 6to4 through 127.0.0.1
];

describe('blocked addresses are compared as addresses, not strings', () => {
  const blocked = open({ blockedDomains: ['127.0.0.1'] });

  test.each(LOOPBACK_SPELLINGS)('127.0.0.1 blocks %s', (url) => {
    expect(ruleOf(decide(blocked, url))).toBe('network.domain-blocked');
  });

  test.each(['http://127.0.0.2/', 'http://[::ffff:7f00:2]/', 'http://[::1]/', 'http://example.com/', 'http://[64:ff9b::808:808]/'])(
    '... while %s beside it is allowed',
    (url) => {
      expect(decide(blocked, url).allow).toBe(true);
    },
  );

  test('the denial names the host as requested and the address it reaches', () => {
    expect(decide(blocked, 'http://[::ffff:7f00:1]/')).toEqual({
      allow: false,
      rule: 'network.domain-blocked',
      reason: "Host '[::ffff:7f00:1]' (127.0.0.1) is blocked by '127.0.0.1' (network.blockedDomains); an admin must grant it to unblock it.",
      limit: ['127.0.0.1'],
      observed: '[::ffff:7f00:1]',
    });
  });

  test.each([
    '::ffff:7f00:1',
    '[::ffff:127.0.0.1]',
    '0:0:0:0:0:ffff:7f00:1',
    '::127.0.0.1',
    '64:ff9b::7f00:1',
    '0x7f.1',
    '2130706433',
    '127.0.0.1/32',
    '127.0.0.0/8',
    '::ffff:127.0.0.0/104',
    '::ffff:0:0/96', // all of IPv4
    '64:ff9b::/96', // everything reached through NAT64: all of IPv4
  ])('a blocked entry written %s blocks 127.0.0.1 in every spelling', (entry) => {
    const p = open({ blockedDomains: [entry] });
    for (const url of LOOPBACK_SPELLINGS) expect(ruleOf(decide(p, url)), url).toBe('network.domain-blocked');
  });

  test.each(['http://[::1]/', 'http://[0:0:0:0:0:0:0:1]/', 'http://[0000:0000:0000:0000:0000:0000:0000:0001]/', 'http://[::0:1]/', 'http://[0::1]/'])(
    '::1 blocks %s',
    (url) => {
      for (const entry of ['::1', '[::1]', '0:0:0:0:0:0:0:1', '::1/128']) expect(ruleOf(decide(open({ blockedDomains: [entry] }), url))).toBe('network.domain-blocked');
    },
  );

  test('::1 is IPv6 loopback, not 0.0.0.1: blocking one leaves the other alone', () => {
    expect(decide(open({ blockedDomains: ['::1'] }), 'http://0.0.0.1/').allow).toBe(true);
    expect(decide(open({ blockedDomains: ['0.0.0.1'] }), 'http://[::1]/').allow).toBe(true);
  });
});

describe('CIDR entries', () => {
  test.each([
    ['10.0.0.0/8', ['http://10.0.0.1/', 'http://10.255.255.255/', 'http://012.1.2.3/', 'http://167772161/', 'http://[::ffff:a00:1]/', 'http://[64:ff9b::10.1.2.3]/'], ['http://11.0.0.1/', 'http://9.255.255.255/']],
    ['172.16.0.0/12', ['http://172.16.0.1/', 'http://172.31.255.255/'], ['http://172.32.0.1/', 'http://172.15.0.1/']],
    ['fc00::/7', ['http://[fc00::1]/', 'http://[fd00:ec2::254]/', 'http://[FDFF:FFFF::1]/'], ['http://[fe00::1]/', 'http://[fbff::1]/', 'http://10.0.0.1/']],
    ['fe80::/10', ['http://[fe80::1]/', 'http://[febf::1]/'], ['http://[fec0::1]/']],
    ['::ffff:0:0/96', ['http://8.8.8.8/', 'http://[::ffff:8.8.8.8]/'], ['http://[2001:4860:4860::8888]/']],
  ])('blocked %s denies its addresses in any spelling and allows its neighbours', (entry, inside, outside) => {
    const p = open({ blockedDomains: [entry as string] });
    for (const url of inside as string[]) expect(ruleOf(decide(p, url)), url).toBe('network.domain-blocked');
    for (const url of outside as string[]) expect(ruleOf(decide(p, url)), url).toBe('allow');
  });

  test('an allowed range opens its addresses only', () => {
    const p = open({ allowedDomains: ['192.168.0.0/16', '2001:db8::/32'] });
    expect(decide(p, 'http://192.168.1.20/').allow).toBe(true);
    expect(decide(p, 'http://[::ffff:c0a8:114]/').allow).toBe(true);
    expect(decide(p, 'http://[2001:db8::1]/').allow).toBe(true);
    expect(ruleOf(decide(p, 'http://192.169.0.1/'))).toBe('network.domain-not-allowed');
    expect(ruleOf(decide(p, 'http://[2001:db9::1]/'))).toBe('network.domain-not-allowed');
    expect(ruleOf(decide(p, 'http://example.com/'))).toBe('network.domain-not-allowed');
  });
});

describe('allowed addresses match every sure spelling, never an uncertain one', () => {
  const p = open({ allowedDomains: ['127.0.0.1'] });

  test.each(LOOPBACK_SPELLINGS.slice(0, LOOPBACK_SPELLINGS.indexOf('http://127.0.0.1../')))('127.0.0.1 allows %s', (url) => {
    expect(decide(p, url).allow).toBe(true);
  });

  test.each(['http://127.0.0.1../', 'http://[64:ff9b:1::7f00:1]/', 'http://[2002:7f00:1::1]/', 'http://127.0.0.2/'])(
    '... but not %s',
    (url) => {
      expect(ruleOf(decide(p, url))).toBe('network.domain-not-allowed');
    },
  );
});

describe('blocked wins over allowed whichever spelling either uses', () => {
  test.each([
    ['127.0.0.1', '::ffff:7f00:1', 'http://127.0.0.1/'],
    ['::ffff:7f00:1', '127.0.0.1', 'http://[::ffff:127.0.0.1]/'],
    ['64:ff9b::7f00:1', '0x7f.1', 'http://[::127.0.0.1]/'],
    ['127.0.0.0/8', '127.0.0.1', 'http://2130706433/'],
    ['127.0.0.1', '127.0.0.0/8', 'http://[64:ff9b::7f00:1]/'],
    ['*', '10.0.0.0/8', 'http://[::ffff:10.1.2.3]/'],
    ['fd00::/8', 'fd00::1', 'http://[FD00:0000::0001]/'],
  ])('allowed %s, blocked %s: %s is blocked', (allowed, blockedEntry, url) => {
    expect(ruleOf(decide(open({ allowedDomains: [allowed], blockedDomains: [blockedEntry] }), url))).toBe('network.domain-blocked');
  });

  test('a revoke written in another spelling removes the allowed entry and blocks every spelling', () => {
    const granted = applyGrant(open({ allowedDomains: [] }), { kind: 'domain', pattern: '127.0.0.1' });
    expect(decide(granted, 'http://[::ffff:7f00:1]/').allow).toBe(true);
    const revoked = applyRevoke(granted, { kind: 'domain', pattern: '::ffff:127.0.0.1' });
    expect(revoked.network.allowedDomains).toEqual([]);
    expect(ruleOf(decide(revoked, 'http://127.1/'))).toBe('network.domain-blocked');
  });
});

describe('wildcards never match an IP literal, in any spelling', () => {
  // Not valid in a document (the schema refuses them); here the matcher alone is checked.
  const p = open({ allowedDomains: ['*.0.0.1', '*.1', '*.7f00:1', '*.ffff:7f00:1', '*.example.com'] });

  test.each([...LOOPBACK_SPELLINGS, 'http://0.0.0.1/', 'http://10.0.0.1/'])('%s is not matched', (url) => {
    expect(ruleOf(decide(p, url))).toBe('network.domain-not-allowed');
  });

  test('... while names under the wildcard are', () => {
    expect(decide(p, 'https://a.example.com/').allow).toBe(true);
  });
});

describe('host names: case, trailing dot, IDNA', () => {
  test.each([
    ['Malware.Example.COM.', 'https://malware.example.com/'],
    ['malware.example.com', 'https://MALWARE.EXAMPLE.COM./'],
    ['bücher.example', 'https://xn--bcher-kva.example/'],
    ['xn--bcher-kva.example', 'https://bücher.example/'],
    ['XN--BCHER-KVA.EXAMPLE', 'https://BÜCHER.example./'],
    ['*.bücher.example', 'https://www.xn--bcher-kva.example/'],
    ['*.xn--bcher-kva.example', 'https://www.bücher.example/'],
    ['ｅｘａｍｐｌｅ.com', 'https://example.com/'], // full-width letters (IDNA maps them)
  ])('entry %s matches %s, blocked and allowed', (entry, url) => {
    expect(ruleOf(decide(open({ blockedDomains: [entry] }), url))).toBe('network.domain-blocked');
    expect(decide(open({ allowedDomains: [entry] }), url).allow).toBe(true);
  });

  test('a different name is not matched', () => {
    expect(decide(open({ blockedDomains: ['bücher.example'] }), 'https://bucher.example/').allow).toBe(true);
    expect(decide(open({ blockedDomains: ['example.com'] }), 'https://example.com../').allow).toBe(true); // `..` is not the same host, and fetch fails on it
  });
});

describe('blockPrivateNetworks', () => {
  const guarded = open({ blockPrivateNetworks: true });
  const unguarded = open({ blockPrivateNetworks: false });

  // Each private range, with a public address just outside it that stays allowed.
  test.each([
    ['http://127.0.0.1/', '127.0.0.0/8', 'http://128.0.0.1/'],
    ['http://[::1]/', '::1/128', 'http://[2606:4700:4700::1111]/'],
    ['http://0.0.0.0/', '0.0.0.0/8', 'http://1.0.0.1/'],
    ['http://[::]/', '::/128', 'http://[2001:4860:4860::8888]/'],
    ['http://10.1.2.3/', '10.0.0.0/8', 'http://11.1.2.3/'],
    ['http://172.16.0.1/', '172.16.0.0/12', 'http://172.32.0.1/'],
    ['http://172.31.255.254/', '172.16.0.0/12', 'http://172.15.255.254/'],
    ['http://192.168.0.1/', '192.168.0.0/16', 'http://192.169.0.1/'],
    ['http://169.254.169.254/latest/meta-data/', '169.254.0.0/16', 'http://169.255.0.1/'],
    ['http://[fe80::1]/', 'fe80::/10', 'http://[2a00:1450:4001::1]/'],
    ['http://[fd00:ec2::254]/', 'fc00::/7', 'http://[fe00::1]/'],
    ['http://[fc00::1]/', 'fc00::/7', 'http://[fbff::1]/'],
    ['http://[fec0::1]/', 'fec0::/10', 'http://[2001:db8::1]/'],
    ['http://100.64.0.1/', '100.64.0.0/10', 'http://100.128.0.1/'],
    ['http://198.18.0.1/', '198.18.0.0/15', 'http://198.20.0.1/'],
    ['http://255.255.255.255/', '240.0.0.0/4', 'http://8.8.8.8/'],
    ['http://224.0.0.251/', '224.0.0.0/4', 'http://223.255.255.254/'],
    ['http://[ff02::1]/', 'ff00::/8', 'http://[2620:fe::fe]/'],
    ['http://[64:ff9b:1::a00:1]/', '64:ff9b:1::/48', 'http://[64:ff9b::808:808]/'],
  ])('%s is denied (%s); %s beside it is allowed', (privateUrl, range, publicUrl) => {
    expect(decide(guarded, privateUrl)).toMatchObject({ allow: false, rule: 'network.private-address', limit: range });
    expect(decide(guarded, publicUrl).allow).toBe(true);
    expect(decide(unguarded, privateUrl).allow).toBe(true);
  });

  test.each(LOOPBACK_SPELLINGS)('%s is denied as loopback', (url) => {
    expect(ruleOf(decide(guarded, url))).toBe('network.private-address');
  });

  test.each([
    ['http://[::ffff:192.168.1.1]/', '192.168.1.1'],
    ['http://[::ffff:a9fe:a9fe]/', '169.254.169.254'],
    ['http://[64:ff9b::a00:1]/', '10.0.0.1'],
    ['http://[::10.0.0.1]/', '10.0.0.1'],
    ['http://0xa9fea9fe/', '169.254.169.254'],
    ['http://[2002:a9fe:a9fe::]/', '169.254.169.254'], // 6to4 through a private relay
  ])('%s is denied as %s', (url, address) => {
    expect(decide(guarded, url)).toMatchObject({ rule: 'network.private-address' });
    expect((decide(guarded, url) as { observed: string }).observed).toContain(address);
  });

  test.each([
    ['http://localhost/', 'localhost'],
    ['http://LOCALHOST./', 'localhost'],
    ['http://api.localhost:3000/', '*.localhost'],
    ['http://printer.local/', '*.local'],
    ['http://db.corp.internal/', '*.internal'],
    ['http://nas.home.arpa/', '*.home.arpa'],
    ['http://intranet/', 'single-label names'],
  ])('the name in %s is denied (%s)', (url, range) => {
    expect(decide(guarded, url)).toMatchObject({ rule: 'network.private-address', limit: range });
  });

  test.each(['http://localhost.example.com/', 'http://local.example/', 'http://internal.example.com/', 'http://example.com/'])('%s is allowed', (url) => {
    expect(decide(guarded, url).allow).toBe(true);
  });

  test('the denial names the host, the address it reaches, the range, and what would allow it', () => {
    expect(decide(guarded, 'http://[::ffff:7f00:1]:8080/admin')).toEqual({
      allow: false,
      rule: 'network.private-address',
      reason:
        "Host '[::ffff:7f00:1]' (127.0.0.1) is in a private network (127.0.0.0/8: loopback), and this agent may not reach private networks (network.blockPrivateNetworks); " +
        'use a public address, or an admin must turn that rule off for this agent or add this exact host, or a private range holding it, to network.allowedDomains ("*" does not count).',
      limit: '127.0.0.0/8',
      observed: '[::ffff:7f00:1] (127.0.0.1)',
    });
    expect(decide(guarded, 'http://127.0.0.1/')).toMatchObject({ observed: '127.0.0.1' });
    expect(decide(guarded, 'http://localhost/')).toMatchObject({ observed: 'localhost' });
  });

  describe('against allowedDomains: "*" does not open a private host; an entry that names private space does', () => {
    const only = (allowedDomains: string[], blockedDomains: string[] = []) => open({ blockPrivateNetworks: true, allowedDomains, blockedDomains });

    test('"*" does not', () => {
      expect(ruleOf(decide(only(['*']), 'http://127.0.0.1/'))).toBe('network.private-address');
    });

    test('the exact address does, in any spelling, and only for that address', () => {
      const p = only(['127.0.0.1']);
      expect(decide(p, 'http://127.0.0.1/').allow).toBe(true);
      expect(decide(p, 'http://[::ffff:7f00:1]/').allow).toBe(true);
      expect(decide(p, 'http://0x7f.1/').allow).toBe(true);
      expect(ruleOf(decide(p, 'http://127.0.0.2/'))).toBe('network.private-address');
      expect(ruleOf(decide(p, 'http://localhost/'))).toBe('network.private-address'); // a name is not its address
      expect(ruleOf(decide(p, 'http://127.0.0.1../'))).toBe('network.private-address'); // an uncertain reading opens nothing
    });

    test('a range inside one private range does; a range reaching beyond private space does not', () => {
      expect(decide(only(['10.0.0.0/8']), 'http://10.1.2.3/').allow).toBe(true);
      expect(decide(only(['10.20.0.0/16']), 'http://[::ffff:10.20.1.1]/').allow).toBe(true);
      expect(decide(only(['fd00::/8']), 'http://[fd00::1]/').allow).toBe(true);
      expect(ruleOf(decide(only(['10.20.0.0/16']), 'http://10.21.0.1/'))).toBe('network.private-address');
      expect(ruleOf(decide(only(['0.0.0.0/0']), 'http://10.1.2.3/'))).toBe('network.private-address');
      expect(ruleOf(decide(only(['::/0']), 'http://[fd00::1]/'))).toBe('network.private-address');
      expect(ruleOf(decide(only(['::ffff:0:0/96']), 'http://127.0.0.1/'))).toBe('network.private-address');
      expect(ruleOf(decide(only(['8.0.0.0/6']), 'http://10.1.2.3/'))).toBe('network.private-address');
    });

    test('an exact name does; a wildcard under a private name does; other wildcards do not', () => {
      expect(decide(only(['localhost']), 'http://localhost:5173/').allow).toBe(true);
      expect(ruleOf(decide(only(['localhost']), 'http://a.localhost/'))).toBe('network.private-address');
      expect(decide(only(['*.localhost']), 'http://a.localhost/').allow).toBe(true);
      expect(decide(only(['*.corp.internal']), 'http://db.corp.internal/').allow).toBe(true);
      expect(ruleOf(decide(only(['*.corp.internal']), 'http://db.other.internal/'))).toBe('network.private-address');
      expect(decide(only(['intranet']), 'http://intranet/').allow).toBe(true);
      expect(ruleOf(decide(only(['*.arpa']), 'http://nas.home.arpa/'))).toBe('network.private-address');
    });

    test('blockedDomains still wins over an exempting entry', () => {
      expect(ruleOf(decide(only(['127.0.0.1'], ['127.0.0.0/8']), 'http://127.0.0.1/'))).toBe('network.domain-blocked');
      expect(ruleOf(decide(only(['localhost'], ['localhost']), 'http://localhost/'))).toBe('network.domain-blocked');
    });

    test('an exempted host still needs its port', () => {
      const p = resolvePolicy('Limited', { version: 1, network: { allowedDomains: ['127.0.0.1'], httpsOnly: false } });
      expect(decide(p, 'http://127.0.0.1/').allow).toBe(true);
      expect(ruleOf(decide(p, 'http://127.0.0.1:8080/'))).toBe('network.port');
    });
  });

  test('a private host outside allowedDomains is denied as private, so the reason says what actually blocks it', () => {
    expect(ruleOf(decide(limited, 'https://10.0.0.1/'))).toBe('network.private-address');
    expect(ruleOf(decide(limited, 'https://8.8.8.8/'))).toBe('network.domain-not-allowed');
  });
});

test('a huge host is decided in linear time', () => {
  const started = performance.now();
  const p = open({ blockPrivateNetworks: true, blockedDomains: ['127.0.0.1', '10.0.0.0/8', '*.example.com'] });
  expect(decide(p, `http://a${'.'.repeat(100_000)}b.example.org/`).allow).toBe(true);
  expect(ruleOf(decide(p, `http://${'a.'.repeat(50_000)}localhost/`))).toBe('network.private-address');
  expect(performance.now() - started).toBeLessThan(2000);
});

describe('blockPrivateNetworks in templates and documents', () => {
  test.each([
    ['Untrusted', true],
    ['Limited', true],
    ['Trusted', false],
    ['FullyTrusted', false],
  ] as const)('the %s template sets it to %s', (level, value) => {
    expect(TEMPLATES[level].network.blockPrivateNetworks).toBe(value);
    expect(resolvePolicy(level).network.blockPrivateNetworks).toBe(value);
  });

  test('a document written before the field existed still parses, and the template decides', () => {
    const old = { version: 1, network: { allowedDomains: ['*'], blockedDomains: [], allowedPorts: ['*'], httpsOnly: false, maxRequestKb: 10, requestsPerMinute: 10 } };
    const parsed = parsePolicyDocument(old);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(ruleOf(decide(resolvePolicy('Limited', parsed.policy), 'http://127.0.0.1/'))).toBe('network.private-address');
    expect(decide(resolvePolicy('Trusted', parsed.policy), 'http://127.0.0.1/').allow).toBe(true);
  });

  test('a document can turn it on or off', () => {
    expect(ruleOf(decide(resolvePolicy('Trusted', { version: 1, network: { blockPrivateNetworks: true } }), 'http://127.0.0.1/'))).toBe('network.private-address');
    const off = resolvePolicy('Limited', { version: 1, network: { blockPrivateNetworks: false, allowedDomains: ['*'], httpsOnly: false } });
    expect(decide(off, 'http://127.0.0.1/').allow).toBe(true);
  });

  test('a value other than true or false is an error at its path', () => {
    expect(parsePolicyDocument({ version: 1, network: { blockPrivateNetworks: 'yes' } })).toEqual({
      ok: false,
      errors: [{ path: 'network.blockPrivateNetworks', reason: 'must be true or false' }],
    });
  });

  test.each(TRUST_LEVELS)('every level lets an explicit allowed address through the %s template', (level) => {
    const p = resolvePolicy(level, { version: 1, network: { allowedDomains: ['10.0.0.5'], allowedPorts: ['*'], httpsOnly: false, requestsPerMinute: 1 } });
    expect(decide(p, 'http://10.0.0.5/').allow).toBe(true);
  });

  test('the trusted-build-bot fixture opens its two private hosts and no other', () => {
    const p = resolvePolicy('Untrusted', fixtureJson('trusted-build-bot.json') as PolicyDocument);
    expect(p.network.blockPrivateNetworks).toBe(true);
    expect(decide(p, 'https://10.0.0.5/').allow).toBe(true);
    expect(decide(p, 'https://[0:0:0:0:0:0:0:1]/').allow).toBe(true);
    expect(decide(p, 'https://10.20.3.4:8080/').allow).toBe(true);
    expect(ruleOf(decide(p, 'https://10.0.0.6/'))).toBe('network.private-address');
    expect(ruleOf(decide(p, 'https://127.0.0.1/'))).toBe('network.private-address');
    expect(ruleOf(decide(p, 'https://localhost/'))).toBe('network.private-address');
  });
});

describe('host patterns in a document', () => {
  const problemOf = (pattern: string) => {
    const result = parsePolicyDocument({ version: 1, network: { blockedDomains: [pattern] } });
    return result.ok ? null : result.errors;
  };

  test.each(['10.0.0.0/8', '127.0.0.0/8', '127.0.0.1/32', '0.0.0.0/0', 'fc00::/7', 'fd00::/8', '::ffff:0:0/96', '64:ff9b::/96', '::1/128', '::/0', '::1', '[::1]', '::ffff:127.0.0.1', '127.0.0.1', '127.000.000.001', '0x7f.1'])(
    '%s is accepted',
    (pattern) => {
      expect(problemOf(pattern)).toBeNull();
    },
  );

  test.each([
    ['10.0.0.0/33', 'the prefix length of an IPv4 range must be from 0 to 32'],
    ['fc00::/200', 'the prefix length of an IPv6 range must be from 0 to 128'],
    ['10.0.0.0/x', 'a CIDR range needs a prefix length after "/", e.g. 10.0.0.0/8 or fc00::/7'],
    ['10.0.0.1/8', 'has address bits set after the /8 prefix: write 10.0.0.0/8 for the range, or the address alone for one host'],
    ['*.10.0.0.0/8', 'a wildcard cannot be combined with a CIDR range (write 10.0.0.0/8, not *.10.0.0.0/8)'],
    ['*.fc00::/7', 'a wildcard cannot be combined with a CIDR range (write 10.0.0.0/8, not *.10.0.0.0/8)'],
    ['[fc00::]/7', 'write an IPv6 range without brackets, e.g. fc00::/7'],
    ['010.0.0.0/8', "'010.0.0.0' is not an IPv4 address of four decimal numbers 0–255 without leading zeros (e.g. 10.0.0.0/8)"],
    ['example.com/8', 'must be a host name without a path (a "/" belongs only in a CIDR range such as 10.0.0.0/8)'],
    ['example.com/admin', 'must be a host name without a path (a "/" belongs only in a CIDR range such as 10.0.0.0/8)'],
    ['999.0.0.1', 'is not a valid IPv4 address (four numbers 0–255)'],
    ['010.0.0.1', 'leading zeros make URL parsers read it as octal (010.0.0.1 is 8.0.0.1); write it without them'],
    ['1::2::3', 'is not a valid IPv6 address'],
    ['*.127.0.0.1', 'a wildcard cannot be combined with an IP address'],
  ])('%s is refused at its path: %s', (pattern, reason) => {
    expect(problemOf(pattern)).toEqual([{ path: 'network.blockedDomains[0]', reason }]);
  });
});
