// The decision for one outgoing request of a tool (the host's `http` import). Order:
// network off entirely (0 requests/min) → what the URL is (scheme, method) → where it goes
// (blocked, private network, allowed, port) → how much (body size, rate). "Network off"
// comes first so the denial does not suggest granting a domain when no domain would help.
// The host must fetch the URL string it asked about; it is parsed here with the same WHATWG
// parser fetch uses (see `url.ts`), and IP hosts are compared as addresses (`addresses.ts`).
import type { EffectivePolicy, NetworkRequest } from './types';
import { ANY } from './types';
import { ALLOW, deny, invalidClock, type Decision } from './decision';
import { privateDestination } from './addresses';
import { findDomain, findPrivateExemption } from './domains';
import { checkRate, retryHint, type RateWindow } from './rate';
import { parseUrl, type ParsedUrl } from './url';

// fetch refuses these itself; naming them here gives the agent a rule instead of a crash.
const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const KIB = 1024;

export function decideNetwork(
  policy: EffectivePolicy,
  req: NetworkRequest,
  recentRequestTimes: readonly number[] | RateWindow,
  now: number,
): Decision {
  const clock = invalidClock(now);
  if (clock !== null) return clock;
  const parsed = parseUrl(req.url);
  if (!parsed.ok) {
    return deny('network.url-invalid', `The request URL cannot be used: ${parsed.reason}. Give an absolute http(s) URL.`, {
      observed: req.url,
    });
  }
  const url = parsed.url;
  return (
    checkNetworkEnabled(policy) ??
    checkScheme(policy, url) ??
    checkMethod(req.method) ??
    checkDomain(policy, url) ??
    checkPort(policy, url) ??
    checkSize(policy, req.bodyBytes) ??
    checkRequestRate(policy, recentRequestTimes, now) ??
    ALLOW
  );
}

function checkNetworkEnabled(policy: EffectivePolicy): Decision | null {
  if (policy.network.requestsPerMinute > 0) return null;
  return deny('network.rate', 'This agent may make no network requests (network.requestsPerMinute is 0); an admin must raise the limit.', {
    limit: 0,
  });
}

function checkScheme(policy: EffectivePolicy, url: ParsedUrl): Decision | null {
  if (url.scheme !== 'http' && url.scheme !== 'https') {
    return deny('network.scheme', `Only http and https URLs can be requested, not '${url.scheme}:'.`, {
      limit: policy.network.httpsOnly ? ['https'] : ['http', 'https'],
      observed: url.scheme,
    });
  }
  if (url.scheme === 'http' && policy.network.httpsOnly) {
    return deny('network.scheme', 'This agent may only use https (network.httpsOnly); request the https:// URL instead.', {
      limit: ['https'],
      observed: url.scheme,
    });
  }
  return null;
}

function checkMethod(method: string): Decision | null {
  if (TOKEN.test(method) && !FORBIDDEN_METHODS.has(method.toUpperCase())) return null;
  return deny('network.method', `HTTP method '${method}' cannot be sent; use GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS.`, {
    observed: method,
  });
}

// Order: blocked (any spelling, any reading of the host) → private network → allowed.
// Blocked comes first so no allowed entry, however specific, can reopen a blocked host.
function checkDomain(policy: EffectivePolicy, url: ParsedUrl): Decision | null {
  const { allowedDomains, blockedDomains } = policy.network;
  const host = describeHost(url);
  const blockedBy = findDomain(blockedDomains, url.host, 'block');
  if (blockedBy !== undefined) {
    return deny('network.domain-blocked', `Host ${host} is blocked by '${blockedBy}' (network.blockedDomains); an admin must grant it to unblock it.`, {
      limit: [...blockedDomains],
      observed: url.host,
    });
  }
  const privateDenial = checkPrivateNetwork(policy, url);
  if (privateDenial !== null) return privateDenial;
  if (findDomain(allowedDomains, url.host, 'allow') === undefined) {
    return deny('network.domain-not-allowed', `Host ${host} is not in this agent's allowed domains (network.allowedDomains); an admin can grant it.`, {
      limit: [...allowedDomains],
      observed: url.host,
    });
  }
  return null;
}

// One switch for the whole private address space, as browsers' Private Network Access has:
// listing 127.0.0.0/8, 10.0.0.0/8, … in blockedDomains by hand is how one gets forgotten.
// It wins over `allowedDomains: ["*"]`, which names no host in particular; an allowed entry
// that names private space itself (see `findPrivateExemption`) is the admin's explicit
// exception.
function checkPrivateNetwork(policy: EffectivePolicy, url: ParsedUrl): Decision | null {
  if (!policy.network.blockPrivateNetworks) return null;
  const destination = privateDestination(url.host);
  if (destination === null || findPrivateExemption(policy.network.allowedDomains, url.host) !== undefined) return null;
  const address = destination.address !== null && destination.address !== url.host ? ` (${destination.address})` : '';
  return deny(
    'network.private-address',
    `Host '${url.host}'${address} is in a private network (${destination.range}: ${destination.label}), and this agent may not reach private networks (network.blockPrivateNetworks); ` +
      'use a public address, or an admin must turn that rule off for this agent or add this exact host, or a private range holding it, to network.allowedDomains ("*" does not count).',
    { limit: destination.range, observed: `${url.host}${address}` },
  );
}

/** `'host'`, with the address it reaches when it is spelt otherwise (`'[::ffff:7f00:1]' (127.0.0.1)`). */
function describeHost(url: ParsedUrl): string {
  return url.address !== null && url.address !== url.host ? `'${url.host}' (${url.address})` : `'${url.host}'`;
}

function checkPort(policy: EffectivePolicy, url: ParsedUrl): Decision | null {
  const ports = policy.network.allowedPorts;
  if (url.port !== null && (ports.includes(ANY) || ports.includes(url.port))) return null;
  return deny('network.port', `Port ${url.port ?? '(none)'} is not in this agent's allowed ports (network.allowedPorts); use one of: ${ports.join(', ') || 'none'}.`, {
    limit: ports.map(String),
    observed: url.port ?? 'none',
  });
}

function checkSize(policy: EffectivePolicy, bodyBytes: number): Decision | null {
  const maxKb = policy.network.maxRequestKb;
  if (bodyBytes >= 0 && bodyBytes <= maxKb * KIB) return null;
  return deny('network.request-size', `The request body of ${bodyBytes} bytes is larger than ${maxKb} KiB (network.maxRequestKb); send less data.`, {
    limit: maxKb,
    observed: Math.ceil(bodyBytes / KIB),
  });
}

function checkRequestRate(policy: EffectivePolicy, times: readonly number[] | RateWindow, now: number): Decision | null {
  const limit = policy.network.requestsPerMinute;
  const rate = checkRate(times, limit, now);
  if (rate.allowed) return null;
  return deny('network.rate', `This agent made ${rate.count} requests in the last minute, its limit is ${limit} (network.requestsPerMinute); ${retryHint(rate.retryAfterMs)}.`, {
    limit,
    observed: rate.count,
    retryAfterMs: rate.retryAfterMs,
  });
}
