// Host patterns for `network.allowedDomains` / `network.blockedDomains`:
//   "*"               any host
//   "*.example.com"   any sub-domain of example.com, but not example.com itself
//   "example.com"     exactly that host
//   "127.0.0.1", "::1", "[::1]"  exactly that address, however the request spells it
//   "10.0.0.0/8", "fc00::/7"     any address in that CIDR range
// Names match case-insensitively, ignoring one trailing dot, in punycode (`bücher.example`
// and `xn--bcher-kva.example` are one entry). Addresses match as numbers, not strings (see
// `addresses.ts`): `127.0.0.1` also matches `[::ffff:7f00:1]`, `[::127.0.0.1]`,
// `[64:ff9b::7f00:1]`, `0x7f.1`, `2130706433`. A wildcard never matches an IP literal.
//
// Blocking uses every address a host may reach; allowing only the ones it surely reaches
// (`HostAddresses` in `addresses.ts`), so an uncertain reading can deny but never open.
import {
  canonicalIp,
  canonicalRange,
  formatIp,
  formatRange,
  hostAddresses,
  inRange,
  isPrivateRange,
  parseCidr,
  parseIp,
  privateNameOf,
  type HostAddresses,
  type IpAddress,
  type IpRange,
} from './addresses';
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
  const wildcard = pattern.startsWith('*.');
  const rest = wildcard ? pattern.slice(2) : pattern;
  if (rest.includes('/')) return cidrProblem(rest, wildcard);
  if (rest.includes('*')) return "only a leading '*.' wildcard is supported (e.g. *.example.com)";
  const isV6 = IPV6.test(rest);
  const isIp = isV6 || IPV4.test(rest);
  if (isIp && wildcard) return 'a wildcard cannot be combined with an IP address';
  // An IP entry that does not parse names no host at all: say so rather than store a no-op.
  if (isV6) return parseIp(rest.startsWith('[') ? rest : `[${rest}]`) === null ? 'is not a valid IPv6 address' : null;
  if (isIp) return ipv4Problem(rest);
  if (rest.includes(':')) return 'must be a host name without a port (ports go in network.allowedPorts)';
  if (rest.length === 0 || rest.length > 253 || !HOST_NAME.test(rest)) return 'must be a host name such as example.com or *.example.com';
  return null;
}

// `010.0.0.1` is 8.0.0.1 to URL parsers (and so to fetch) but 10.0.0.1 to most readers:
// refuse the spelling where the two differ, rather than guard an address nobody meant.
function ipv4Problem(text: string): string | null {
  const parsed = parseIp(text);
  if (parsed === null) return 'is not a valid IPv4 address (four numbers 0–255)';
  const decimal = text.split('.').map(Number).join('.');
  const read = formatIp(parsed);
  if (read !== decimal) return `leading zeros make URL parsers read it as octal (${text} is ${read}); write it without them`;
  return null;
}

function cidrProblem(rest: string, wildcard: boolean): string | null {
  const base = rest.slice(0, rest.indexOf('/'));
  const looksLikeIp = IPV6.test(base) || /^[\d.]+$/.test(base);
  if (!looksLikeIp) return 'must be a host name without a path (a "/" belongs only in a CIDR range such as 10.0.0.0/8)';
  if (wildcard) return 'a wildcard cannot be combined with a CIDR range (write 10.0.0.0/8, not *.10.0.0.0/8)';
  const parsed = parseCidr(rest);
  return parsed.ok ? null : parsed.reason;
}

/** A pattern read once: what it matches, whatever spelling it was written in. */
type HostPattern =
  | { readonly kind: 'any' }
  | { readonly kind: 'suffix'; readonly suffix: string }
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'address'; readonly address: IpAddress }
  /** `canonical`: the IPv4 range an IPv6 range embeds, matched when blocking only. */
  | { readonly kind: 'range'; readonly range: IpRange; readonly canonical: IpRange | null }
  /** Not a valid pattern (only possible in a document stored before it was validated): matches nothing. */
  | { readonly kind: 'nothing'; readonly text: string };

function compile(pattern: string): HostPattern {
  if (pattern === ANY) return { kind: 'any' };
  if (pattern.includes('/')) {
    const parsed = parseCidr(pattern.toLowerCase());
    return parsed.ok ? { kind: 'range', range: parsed.range, canonical: canonicalRange(parsed.range) } : { kind: 'nothing', text: pattern.toLowerCase() };
  }
  if (pattern.startsWith('*.')) {
    const suffix = canonicalHost(pattern.slice(2));
    // A suffix that is itself an address (`*.0.0.1` read as `0.0.0.1`) matches nothing.
    if (suffix === null || hostAddresses(suffix).literal !== null) return { kind: 'nothing', text: pattern.toLowerCase() };
    return { kind: 'suffix', suffix };
  }
  const host = canonicalHost(pattern);
  if (host === null) return { kind: 'nothing', text: pattern.toLowerCase() };
  const { address } = hostAddresses(host);
  return address === null ? { kind: 'name', name: host } : { kind: 'address', address };
}

/** Why a pattern is consulted: blocking reads a host every way it may go, allowing only the sure ways. */
export type MatchUse = 'allow' | 'block';

function matches(pattern: HostPattern, host: string, target: HostAddresses, use: MatchUse): boolean {
  const sure = [target.literal, target.address].filter((a): a is IpAddress => a !== null);
  const all = use === 'block' ? [...sure, ...target.possible] : sure;
  switch (pattern.kind) {
    case 'any':
      return true;
    case 'suffix':
      return target.literal === null && target.possible.length === 0 && host.endsWith(`.${pattern.suffix}`);
    case 'name':
      return target.literal === null && host === pattern.name;
    case 'address':
      return all.some((a) => canonicalIp(a) === pattern.address);
    case 'range': {
      const ranges = use === 'block' && pattern.canonical !== null ? [pattern.range, pattern.canonical] : [pattern.range];
      return all.some((a) => ranges.some((r) => inRange(a, r)));
    }
    case 'nothing':
      return false;
  }
}

/** `host` must come from `parseUrl` (already canonical). */
export function matchesDomain(pattern: string, host: string, use: MatchUse = 'allow'): boolean {
  return matches(compile(pattern), host, hostAddresses(host), use);
}

/** The entry of `patterns` that matches `host`, if any. */
export function findDomain(patterns: readonly string[], host: string, use: MatchUse = 'allow'): string | undefined {
  const target = hostAddresses(host);
  return patterns.find((pattern) => matches(compile(pattern), host, target, use));
}

/**
 * The entry of `allowedDomains` that lets `host` through `network.blockPrivateNetworks`: one
 * that matches it and lies wholly in private space, so it was written to name private hosts —
 * an exact host or address, a CIDR range inside one private range (`10.0.0.0/8`, not
 * `0.0.0.0/0`), or a wildcard under a private name (`*.internal`). `"*"` never does: it
 * names no host in particular.
 */
export function findPrivateExemption(allowedDomains: readonly string[], host: string): string | undefined {
  const target = hostAddresses(host);
  return allowedDomains.find((entry) => {
    const pattern = compile(entry);
    if (!matches(pattern, host, target, 'allow')) return false;
    switch (pattern.kind) {
      case 'name':
      case 'address':
        return true; // it matched a private host, so it names one
      case 'suffix':
        return privateNameOf(`x.${pattern.suffix}`) !== null;
      case 'range':
        return isPrivateRange(pattern.range);
      default:
        return false;
    }
  });
}

/** Two patterns are "identical" (for grants) when they match the same hosts. */
export function sameDomainPattern(a: string, b: string): boolean {
  return patternKey(a) === patternKey(b);
}

function patternKey(pattern: string): string {
  const p = compile(pattern);
  switch (p.kind) {
    case 'any':
      return ANY;
    case 'suffix':
      return `*.${p.suffix}`;
    case 'name':
      return p.name;
    case 'address':
      return formatRange({ first: p.address, prefix: 128 });
    case 'range':
      return formatRange(p.range);
    case 'nothing':
      return `invalid:${p.text}`;
  }
}
