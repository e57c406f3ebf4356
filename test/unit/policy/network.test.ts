import { describe, expect, test } from 'vitest';
import { decideNetwork, resolvePolicy, type Decision, type EffectivePolicy } from '../../../src/policy';
import { NOON, SECOND } from './fake-clock';

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
