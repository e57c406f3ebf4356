// Host patterns for `network.allowedDomains` / `network.blockedDomains`:
//   "*"               any host
//   "*.example.com"   any sub-domain of example.com, but not example.com itself
//   "example.com"     exactly that host
//   "127.0.0.1", "::1", "[::1]"  exactly that IP; wildcards never match IP literals
// Matching is case-insensitive, ignores one trailing dot and compares punycode forms.
import { canonicalHost } from './url';
import { ANY } from './types';

const LABEL = String.raw`[\p{L}\p{N}_](?:[\p{L}\p{N}_-]*[\p{L}\p{N}_])?`;
const HOST_NAME = new RegExp(String.raw`^${LABEL}(?:\.${LABEL})*\.?$`, 'u');
const IPV6 = /^\[?[0-9a-f.]*:[0-9a-f:.]*\]?$/i;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** Why a string is not a host pattern, or null when it is one. Used by the document schema. */
export function domainPatternProblem(pattern: string): string | null {
  if (pattern === ANY) return null;
  if (pattern.includes('://')) return 'must be a host name without a scheme (write example.com, not https://example.com)';
  if (pattern.includes('/')) return 'must be a host name without a path';
  const rest = pattern.startsWith('*.') ? pattern.slice(2) : pattern;
  if (rest.includes('*')) return "only a leading '*.' wildcard is supported (e.g. *.example.com)";
  const isIp = IPV6.test(rest) || IPV4.test(rest);
  if (isIp && pattern !== rest) return 'a wildcard cannot be combined with an IP address';
  if (isIp) return null;
  if (rest.includes(':')) return 'must be a host name without a port (ports go in network.allowedPorts)';
  if (rest.length === 0 || rest.length > 253 || !HOST_NAME.test(rest)) return 'must be a host name such as example.com or *.example.com';
  return null;
}

function isIpHost(host: string): boolean {
  return host.startsWith('[') || IPV4.test(host);
}

/** `host` must come from `parseUrl` (already canonical). */
export function matchesDomain(pattern: string, host: string): boolean {
  if (pattern === ANY) return true;
  if (pattern.startsWith('*.')) {
    const suffix = canonicalHost(pattern.slice(2));
    return suffix !== null && !isIpHost(host) && host.endsWith(`.${suffix}`);
  }
  return canonicalHost(pattern) === host;
}

/** The entry of `patterns` that matches `host`, if any. */
export function findDomain(patterns: readonly string[], host: string): string | undefined {
  return patterns.find((pattern) => matchesDomain(pattern, host));
}

/** Two patterns are "identical" (for grants) when they match the same hosts. */
export function sameDomainPattern(a: string, b: string): boolean {
  const canonical = (p: string): string => {
    if (p === ANY) return ANY;
    const wildcard = p.startsWith('*.');
    const host = wildcard ? p.slice(2) : p;
    return `${wildcard ? '*.' : ''}${canonicalHost(host) ?? host.toLowerCase()}`;
  };
  return canonical(a) === canonical(b);
}
