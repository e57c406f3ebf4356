// IP addresses as numbers, so that the network policy compares the address a request
// reaches and not how it happens to be spelt. A blocked `127.0.0.1` must also block
// `[::ffff:7f00:1]`, `[::127.0.0.1]` and `[64:ff9b::7f00:1]`: each is a way of writing (or
// of reaching) the same IPv4 host, and a string comparison lets every one of them through.
//
// Every address is held as a 128-bit bigint. IPv4 is held IPv4-mapped (`::ffff:a.b.c.d`),
// so one number space covers both families and an IPv4 range is an IPv6 prefix /96+n.
//
// Three kinds of host→address reading are kept apart, because allowing and denying must not
// trust them equally:
//   literal   the IP literal as written;
//   address   the canonical address: embeddings that always mean one IPv4 host (mapped,
//             compatible, the well-known NAT64 prefix) are read as that IPv4 address;
//   possible  addresses the host may reach by some reading we cannot be sure of (local-use
//             NAT64, whose embedding depends on the operator's prefix length; 6to4 and
//             Teredo relays; a name another resolver would read as an IPv4 literal).
// Blocking and the private-network rule use all three; allowing uses only the first two, so
// an uncertain reading can deny a request but never open one.

/** A parsed address: 128 bits, IPv4 held as IPv4-mapped (`::ffff:0:0/96`). */
export type IpAddress = bigint;

/** An address prefix in the 128-bit space (an IPv4 /8 is a prefix of 96 + 8 = 104 bits). */
export interface IpRange {
  /** The first address of the range: every bit after `prefix` is zero. */
  readonly first: IpAddress;
  /** Leading bits that are fixed, 0–128. */
  readonly prefix: number;
}

const BITS = 128;
const ALL = (1n << 128n) - 1n;
const V4_MASK = 0xffff_ffffn;
const MAPPED = 0xffffn << 32n; // ::ffff:0:0/96
const NAT64_WELL_KNOWN = 0x0064_ff9bn << 96n; // 64:ff9b::/96 (RFC 6052)
const NAT64_LOCAL: IpRange = { first: (0x0064_ff9bn << 96n) | (1n << 80n), prefix: 48 }; // 64:ff9b:1::/48 (RFC 8215)
const SIX_TO_FOUR: IpRange = { first: 0x2002n << 112n, prefix: 16 }; // 2002::/16 (RFC 3056)
const TEREDO: IpRange = { first: 0x2001_0000n << 96n, prefix: 32 }; // 2001::/32 (RFC 4380)

const DECIMAL_OCTET = String.raw`(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)`;
/** Four decimal octets, no leading zeros: the only IPv4 form that means the same to every parser. */
const DOTTED_QUAD = new RegExp(String.raw`^${DECIMAL_OCTET}(?:\.${DECIMAL_OCTET}){3}$`);

// ---------------------------------------------------------------------------------------
// Parsing and printing

/**
 * IPv4 as the WHATWG URL parser (and so `fetch`) reads a host: one to four parts, each
 * decimal, `0x` hex or `0`-led octal, the last filling the remaining bytes; one trailing
 * dot ignored. So `2130706433`, `0x7f.1`, `0177.0.0.1` and `127.1` are all 127.0.0.1.
 */
export function parseIpv4(text: string): IpAddress | null {
  const parts = text.split('.');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  if (parts.length > 4) return null;
  const numbers = parts.map(parseIpv4Number);
  let value = 0n;
  for (const [i, n] of numbers.entries()) {
    const last = i === numbers.length - 1;
    const limit = last ? 1n << BigInt(8 * (5 - numbers.length)) : 256n;
    if (n === null || n >= limit) return null;
    value += last ? n : n << BigInt(8 * (3 - i));
  }
  return MAPPED | value;
}

function parseIpv4Number(part: string): bigint | null {
  if (part === '') return null;
  const hex = /^0x/i.test(part);
  const octal = !hex && part.length > 1 && part.startsWith('0');
  const digits = hex ? part.slice(2) : octal ? part.slice(1) : part;
  if (digits === '') return 0n; // `0x` alone is zero to WHATWG
  const valid = hex ? /^[0-9a-f]+$/i : octal ? /^[0-7]+$/ : /^\d+$/;
  if (!valid.test(digits)) return null;
  // Leading zeros are allowed in any number (WHATWG); past them, more than 12 digits is over
  // 2^32 in any radix. Checked here so a 100 kB host costs no 100 kB BigInt.
  const significant = digits.slice(leadingZeros(digits));
  if (significant.length > 12) return 1n << 40n;
  return significant === '' ? 0n : BigInt(hex ? `0x${significant}` : octal ? `0o${significant}` : significant);
}

function leadingZeros(digits: string): number {
  let i = 0;
  while (i < digits.length && digits[i] === '0') i++;
  return i;
}

/**
 * IPv6 text (RFC 4291 §2.2): eight groups of 1–4 hex digits, any case and zero-padding,
 * one `::`, an optional dotted-decimal IPv4 tail, optional surrounding brackets. Zone ids
 * (`%eth0`) are refused: a URL cannot carry one, and a policy entry with one names nothing.
 */
export function parseIpv6(text: string): IpAddress | null {
  const inner = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (!/^[0-9a-f:.]+$/i.test(inner)) return null;
  const halves = inner.split('::');
  if (halves.length > 2) return null;
  const compressed = halves.length === 2;
  const head = groupsOf(halves[0] ?? '', !compressed);
  const tail = compressed ? groupsOf(halves[1] ?? '', true) : [];
  if (head === null || tail === null) return null;
  const count = head.length + tail.length;
  if (compressed ? count > 7 : count !== 8) return null;
  const groups = [...head, ...Array<number>(8 - count).fill(0), ...tail];
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(group), 0n);
}

function groupsOf(part: string, mayEndInIpv4: boolean): number[] | null {
  if (part === '') return [];
  const pieces = part.split(':');
  const out: number[] = [];
  for (const [i, piece] of pieces.entries()) {
    if (mayEndInIpv4 && i === pieces.length - 1 && piece.includes('.')) {
      if (!DOTTED_QUAD.test(piece)) return null;
      const v4 = Number((parseIpv4(piece) ?? 0n) & V4_MASK);
      out.push(v4 >>> 16, v4 & 0xffff);
    } else {
      if (!/^[0-9a-f]{1,4}$/i.test(piece)) return null;
      out.push(Number.parseInt(piece, 16));
    }
  }
  return out;
}

/** An IP literal in any form `parseIpv4` or `parseIpv6` reads (IPv6 bracketed or not). */
export function parseIp(text: string): IpAddress | null {
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text);
}

/** IPv4-mapped addresses as dotted decimal; IPv6 as RFC 5952 (lower case, longest zero run as `::`). */
export function formatIp(address: IpAddress): string {
  if (address >> 32n === MAPPED >> 32n) {
    const v4 = address & V4_MASK;
    return [24n, 16n, 8n, 0n].map((shift) => String((v4 >> shift) & 0xffn)).join('.');
  }
  const groups = Array.from({ length: 8 }, (_, i) => Number((address >> BigInt(112 - 16 * i)) & 0xffffn));
  const run = longestZeroRun(groups);
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  if (run.length < 2) return hex(groups);
  return `${hex(groups.slice(0, run.start))}::${hex(groups.slice(run.start + run.length))}`;
}

function longestZeroRun(groups: readonly number[]): { start: number; length: number } {
  let best = { start: 0, length: 0 };
  let start = -1;
  for (let i = 0; i <= groups.length; i++) {
    if (i < groups.length && groups[i] === 0) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      if (i - start > best.length) best = { start, length: i - start };
      start = -1;
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------------
// Canonical form and embedded IPv4

function v4(value: bigint): IpAddress {
  return MAPPED | (value & V4_MASK);
}

/**
 * The one address an IPv6 literal always stands for. IPv4-mapped (`::ffff:a.b.c.d`),
 * IPv4-compatible (`::a.b.c.d`, deprecated by RFC 4291 but still parsed) and the well-known
 * NAT64 prefix (`64:ff9b::a.b.c.d`, RFC 6052: a translator forwards it to a.b.c.d) become
 * that IPv4 address. `::` and `::1` stay IPv6 (unspecified and loopback, not 0.0.0.0/0.0.0.1).
 */
export function canonicalIp(address: IpAddress): IpAddress {
  const high = address >> 32n;
  if (high === 0n && address > 1n) return v4(address);
  if (high === NAT64_WELL_KNOWN >> 32n) return v4(address);
  return address;
}

/**
 * IPv4 addresses that `address` may lead to, where the reading depends on how a network is
 * set up. Used only to deny (see the top of this file).
 * - Local-use NAT64 (64:ff9b:1::/48, RFC 8215): the operator picks the prefix length, and
 *   RFC 6052 puts the IPv4 bits in a different place for each one that fits (/48, /56, /64, /96).
 * - 6to4 (2002:V4ADDR::/48): packets are tunnelled to the IPv4 address in bits 16–47.
 * - Teredo (2001::/32): the server's IPv4 in bits 32–63, the client's inverted in the last 32.
 */
export function possibleIpv4(address: IpAddress): IpAddress[] {
  if (inRange(address, NAT64_LOCAL)) return [48, 56, 64, 96].map((length) => v4(rfc6052Ipv4(address, length)));
  if (inRange(address, SIX_TO_FOUR)) return [v4(address >> 80n)];
  if (inRange(address, TEREDO)) return [v4(address >> 64n), v4(~address)];
  return [];
}

/** RFC 6052 §2.2: the IPv4 bits of an address under a NAT64 prefix of `length` bits (bits 64–71 are skipped). */
function rfc6052Ipv4(address: IpAddress, length: number): bigint {
  if (length === 96) return address;
  const bit = (from: number, count: number): bigint => (address >> BigInt(BITS - from - count)) & ((1n << BigInt(count)) - 1n);
  const before = 64 - length; // IPv4 bits that fit between the prefix and bit 64
  const after = 32 - before;
  return (bit(length, before) << BigInt(after)) | bit(72, after);
}

// ---------------------------------------------------------------------------------------
// Ranges

function rangeMask(prefix: number): bigint {
  return prefix === 0 ? 0n : (ALL << BigInt(BITS - prefix)) & ALL;
}

export function inRange(address: IpAddress, range: IpRange): boolean {
  return (address & rangeMask(range.prefix)) === range.first;
}

/** `inner` lies wholly inside `outer`. */
export function rangeWithin(inner: IpRange, outer: IpRange): boolean {
  return inner.prefix >= outer.prefix && inRange(inner.first, outer);
}

/** IPv4 ranges in IPv4 notation (`10.0.0.0/8`), others in IPv6 (`fc00::/7`). */
export function formatRange(range: IpRange): string {
  const isV4 = range.prefix >= 96 && inRange(range.first, { first: MAPPED, prefix: 96 });
  return `${formatIp(range.first)}/${isV4 ? range.prefix - 96 : range.prefix}`;
}

/**
 * The IPv4 range an IPv6 range covers through an embedding `canonicalIp` reads (a range
 * inside `::ffff:0:0/96`, `64:ff9b::/96` or `::/96`), or null. So a blocked `64:ff9b::/96`
 * also blocks the IPv4 addresses it translates to, however the request spells them.
 */
export function canonicalRange(range: IpRange): IpRange | null {
  if (range.prefix < 96) return null;
  const high = range.first >> 32n;
  if (high !== 0n && high !== NAT64_WELL_KNOWN >> 32n) return null;
  return { first: v4(range.first), prefix: range.prefix };
}

export type RangeParse = { ok: true; range: IpRange } | { ok: false; reason: string };

/**
 * CIDR notation: `10.0.0.0/8` (IPv4: four decimal octets, prefix 0–32) or `fc00::/7`
 * (IPv6, prefix 0–128). The address must be the first of its range: `10.0.0.1/8` is refused
 * rather than silently read as `10.0.0.0/8`, since its writer may have meant one host.
 * IPv4 octets with leading zeros are refused: URL parsers read them as octal, people as decimal.
 */
export function parseCidr(text: string): RangeParse {
  const slash = text.indexOf('/');
  if (slash < 0 || text.indexOf('/', slash + 1) >= 0) return { ok: false, reason: 'a CIDR range has exactly one "/", e.g. 10.0.0.0/8' };
  const base = text.slice(0, slash);
  const prefixText = text.slice(slash + 1);
  const isV6 = base.includes(':');
  if (!/^\d{1,3}$/.test(prefixText)) return { ok: false, reason: 'a CIDR range needs a prefix length after "/", e.g. 10.0.0.0/8 or fc00::/7' };
  if (isV6 && (base.startsWith('[') || base.endsWith(']'))) return { ok: false, reason: 'write an IPv6 range without brackets, e.g. fc00::/7' };
  const address = isV6 ? parseIpv6(base) : DOTTED_QUAD.test(base) ? parseIpv4(base) : null;
  if (address === null) {
    return {
      ok: false,
      reason: isV6
        ? `'${base}' is not an IPv6 address (e.g. fc00::/7)`
        : `'${base}' is not an IPv4 address of four decimal numbers 0–255 without leading zeros (e.g. 10.0.0.0/8)`,
    };
  }
  const written = Number(prefixText);
  const max = isV6 ? 128 : 32;
  if (written > max) return { ok: false, reason: `the prefix length of an ${isV6 ? 'IPv6' : 'IPv4'} range must be from 0 to ${max}` };
  const prefix = isV6 ? written : written + 96;
  const first = address & rangeMask(prefix);
  if (first !== address) {
    const suggestion = formatRange({ first, prefix });
    return { ok: false, reason: `has address bits set after the /${written} prefix: write ${suggestion} for the range, or the address alone for one host` };
  }
  return { ok: true, range: { first, prefix } };
}

// ---------------------------------------------------------------------------------------
// Hosts

/** What a host (as `parseUrl` gives it) reaches; see the top of this file. */
export interface HostAddresses {
  /** The IP literal as written; null for a name. */
  readonly literal: IpAddress | null;
  /** Its canonical address (`canonicalIp`); null for a name. */
  readonly address: IpAddress | null;
  /** Addresses it may also reach. Only ever used to deny. */
  readonly possible: readonly IpAddress[];
}

/**
 * `host` must be in the form `parseUrl` produces: lower case, IPv6 in brackets, IPv4 in
 * dotted decimal (the WHATWG parser has already read every other IPv4 spelling). A name that
 * still reads as IPv4 when its trailing dots are dropped (`127.0.0.1..` stays a name to
 * WHATWG) gets that reading as a possible address: a resolver may well agree with us.
 */
export function hostAddresses(host: string): HostAddresses {
  const literal = host.startsWith('[') ? parseIpv6(host) : DOTTED_QUAD.test(host) ? parseIpv4(host) : null;
  if (literal !== null) {
    const address = canonicalIp(literal);
    return { literal, address, possible: possibleIpv4(literal) };
  }
  const lenient = parseIpv4(withoutTrailingDots(host));
  return { literal: null, address: null, possible: lenient === null ? [] : [lenient] };
}

// A loop, not /\.+$/: that regex backtracks quadratically on a long run of inner dots, and
// WHATWG accepts hosts of any length.
function withoutTrailingDots(host: string): string {
  let end = host.length;
  while (end > 0 && host[end - 1] === '.') end--;
  return host.slice(0, end);
}

// ---------------------------------------------------------------------------------------
// Private networks
//
// "Private" means: not a public Internet destination, so a request there reaches this
// machine, its LAN, its cloud provider or its operator's network instead. The list follows
// Private Network Access (WICG; loopback + private address spaces, IPv4-mapped forms
// included) and the IANA special-purpose registries, plus:
// - multicast (224.0.0.0/4, ff00::/8): no HTTP server answers there (TCP cannot connect to a
//   group), and link- and site-scoped groups only exist on the local network; denying costs
//   nothing and leaves no odd corner.
// - 240.0.0.0/4 (reserved, with the broadcast 255.255.255.255): never routed on the Internet,
//   and some providers use it as extra private space.
// - fec0::/10 (site-local, deprecated but still configured on some LANs) and the local-use
//   NAT64 prefix 64:ff9b:1::/48, which by definition stays inside one network.
// - names that by standard can only mean a local machine or network: `localhost` and
//   `*.localhost` (RFC 6761; browsers answer them with loopback without asking DNS), `*.local`
//   (multicast DNS on the local link, RFC 6762), `*.internal` (reserved by ICANN for private
//   use), `home.arpa` (RFC 8375), and single-label names (`intranet`): they are resolved
//   through the local search domains, and ICANN bars dotless names on the public Internet.
// What a pure policy cannot see: a public name whose DNS answer is a private address
// (DNS rebinding, `127.0.0.1.nip.io`). Only the resolver can stop those.

/** A private range or name rule that a host falls in. */
export interface PrivateMatch {
  /** The range in CIDR notation (`127.0.0.0/8`) or the name rule (`*.localhost`). */
  readonly range: string;
  /** What the range is, e.g. `loopback`. */
  readonly label: string;
}

const PRIVATE_RANGES: readonly { readonly cidr: string; readonly label: string }[] = [
  { cidr: '0.0.0.0/8', label: 'unspecified ("this network")' },
  { cidr: '10.0.0.0/8', label: 'private network (RFC 1918)' },
  { cidr: '100.64.0.0/10', label: 'carrier-grade NAT (RFC 6598)' },
  { cidr: '127.0.0.0/8', label: 'loopback' },
  { cidr: '169.254.0.0/16', label: 'link-local, including cloud metadata services' },
  { cidr: '172.16.0.0/12', label: 'private network (RFC 1918)' },
  { cidr: '192.168.0.0/16', label: 'private network (RFC 1918)' },
  { cidr: '198.18.0.0/15', label: 'benchmarking network (RFC 2544)' },
  { cidr: '224.0.0.0/4', label: 'multicast' },
  { cidr: '240.0.0.0/4', label: 'reserved, including broadcast' },
  { cidr: '::/128', label: 'unspecified' },
  { cidr: '::1/128', label: 'loopback' },
  { cidr: '64:ff9b:1::/48', label: 'local-use NAT64 (RFC 8215)' },
  { cidr: 'fc00::/7', label: 'unique local (RFC 4193)' },
  { cidr: 'fe80::/10', label: 'link-local' },
  { cidr: 'fec0::/10', label: 'site-local (deprecated)' },
  { cidr: 'ff00::/8', label: 'multicast' },
];

const PRIVATE: readonly { readonly range: IpRange; readonly match: PrivateMatch }[] = PRIVATE_RANGES.map(({ cidr, label }) => {
  const parsed = parseCidr(cidr);
  if (!parsed.ok) throw new Error(`bad built-in range ${cidr}: ${parsed.reason}`);
  return { range: parsed.range, match: { range: cidr, label } };
});

/** The private range holding `address` (taken as given: pass a canonical address), or null. */
export function privateRangeOf(address: IpAddress): PrivateMatch | null {
  return PRIVATE.find((p) => inRange(address, p.range))?.match ?? null;
}

/** `range` lies wholly inside one private range (so allowing it cannot open a public host). */
export function isPrivateRange(range: IpRange): boolean {
  return PRIVATE.some((p) => rangeWithin(range, p.range));
}

const PRIVATE_SUFFIXES: readonly { readonly suffix: string; readonly label: string }[] = [
  { suffix: 'localhost', label: 'loopback name (RFC 6761)' },
  { suffix: 'local', label: 'multicast DNS name on the local link (RFC 6762)' },
  { suffix: 'internal', label: 'private-use name (.internal)' },
  { suffix: 'home.arpa', label: 'home network name (RFC 8375)' },
];

/** The private name rule a host name falls under, or null. `name` as `parseUrl` gives it. */
export function privateNameOf(name: string): PrivateMatch | null {
  for (const { suffix, label } of PRIVATE_SUFFIXES) {
    if (name === suffix) return { range: suffix, label };
    if (name.endsWith(`.${suffix}`)) return { range: `*.${suffix}`, label };
  }
  if (name !== '' && !name.includes('.')) return { range: 'single-label names', label: 'resolved through the local DNS search domains' };
  return null;
}

/** Why a request to `host` would reach a private network: the rule, and the address it matched. */
export interface PrivateDestination extends PrivateMatch {
  /** The address that fell in the range (canonical, formatted), or null for a private name. */
  readonly address: string | null;
}

/** Whether `host` (as `parseUrl` gives it) is a private-network destination, by any reading. */
export function privateDestination(host: string): PrivateDestination | null {
  const { address, literal, possible } = hostAddresses(host);
  if (literal === null) {
    const name = privateNameOf(host);
    if (name !== null) return { ...name, address: null };
  }
  for (const candidate of [address, ...possible]) {
    if (candidate === null) continue;
    const match = privateRangeOf(candidate);
    if (match !== null) return { ...match, address: formatIp(candidate) };
  }
  return null;
}
