// URLs are parsed with the runtime's WHATWG `URL`, not a parser of our own. The decision
// must be made on the same parse that `fetch` will use: a hand-written parser that
// disagrees on `https://a.com\@b.com`, `http://0x7f.1/` or IDN hosts is how SSRF filters
// get bypassed. `URL` exists in every context we run in (window, workers, service worker,
// Node) but is not in lib ES2023, so we type the few members we read here, locally, rather
// than declaring a global that would clash with lib.dom where both are loaded.
//
// The parser settles which hosts are IP addresses and reads every IPv4 spelling
// (`2130706433`, `0x7f.1`, `0177.0.0.1`, `127.1`) as dotted decimal; it leaves IPv6 forms
// that stand for an IPv4 host (`[::ffff:7f00:1]`, `[64:ff9b::7f00:1]`) as IPv6. Those are
// read as the address they reach by `addresses.ts`, and `address` below carries the result.
import { formatIp, hostAddresses } from './addresses';

interface WhatwgUrl {
  readonly protocol: string;
  readonly hostname: string;
  readonly port: string;
}

type UrlConstructor = new (input: string) => WhatwgUrl;

const UrlParser: UrlConstructor | undefined = (globalThis as unknown as { URL?: UrlConstructor }).URL;

export interface ParsedUrl {
  /** Lower-case scheme without the colon, e.g. `https`. */
  readonly scheme: string;
  /** Lower-case, punycoded, IPv4 in dotted decimal, IPv6 in brackets, one trailing dot removed. */
  readonly host: string;
  /** Explicit port, or the scheme's default (80 / 443); null for schemes without one. */
  readonly port: number | null;
  /**
   * When the host is an IP literal, the address it reaches in canonical form: IPv4 dotted
   * (also for IPv4-mapped, -compatible and NAT64 spellings), IPv6 compressed, no brackets.
   * Null for a host name.
   */
  readonly address: string | null;
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = { http: 80, https: 443, ws: 80, wss: 443 };

export function parseUrl(input: string): { ok: true; url: ParsedUrl } | { ok: false; reason: string } {
  if (UrlParser === undefined) return { ok: false, reason: 'this runtime has no WHATWG URL parser' };
  let url: WhatwgUrl;
  try {
    url = new UrlParser(input);
  } catch {
    return { ok: false, reason: 'it is not an absolute URL' };
  }
  const scheme = url.protocol.replace(/:$/, '').toLowerCase();
  const host = stripTrailingDot(url.hostname.toLowerCase());
  const port = url.port === '' ? (DEFAULT_PORTS[scheme] ?? null) : Number(url.port);
  const { address } = hostAddresses(host);
  return { ok: true, url: { scheme, host, port, address: address === null ? null : formatIp(address) } };
}

/** Puts a host (pattern) in the form `parseUrl` produces, so the two compare as strings. */
export function canonicalHost(host: string): string | null {
  const lower = stripTrailingDot(host.toLowerCase());
  const bracketed = lower.includes(':') && !lower.startsWith('[') ? `[${lower}]` : lower;
  if (UrlParser === undefined) return bracketed;
  try {
    return stripTrailingDot(new UrlParser(`http://${bracketed}/`).hostname.toLowerCase());
  } catch {
    return null;
  }
}

// `example.com.` is the same host as `example.com`; `example.com..` is not a host at all
// and keeps a dot, so it matches nothing.
function stripTrailingDot(host: string): string {
  return host.endsWith('.') ? host.slice(0, -1) : host;
}
