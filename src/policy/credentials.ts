// Credential formats that are secrets whatever key or word stands next to them. They run for
// every agent, whatever its sensitive patterns: a provider key or a card number stored in the
// audit log is a leak at any trust level. Each detector has a stable name, reported as a
// matched pattern so the audit can say what was found.
//
// Each format is chosen to be recognisable by its shape alone, so ordinary text (prose, code,
// numbers, dates, UUIDs, hashes, versions) is left alone:
//   credential:aws-access-key   AKIA/ASIA + 16 upper-case letters or digits
//   credential:aws-secret-key   the 40-character value of aws_secret_access_key = / : …
//   credential:stripe-key       sk_/rk_/pk_ + live_/test_ + 10 or more letters and digits
//                               (publishable pk_ keys are not secret, but name the account;
//                               masking them costs nothing)
//   credential:github-token     ghp_ gho_ ghu_ ghs_ ghr_ github_pat_
//   credential:gitlab-token     glpat-
//   credential:npm-token        npm_ + 36
//   credential:slack-token      xoxb- xoxp- xoxa- xoxr- xoxs- xoxo- xapp- (with a digit)
//   credential:slack-webhook    the secret path of hooks.slack.com/services|workflows|triggers/…
//   credential:google-api-key   AIza + 35
//   credential:anthropic-key    sk-ant-…
//   credential:openai-key       sk-… (sk-proj-…), 20 or more characters with letters and digits
//   credential:jwt              eyJ….ey….signature (three base64url segments, a JSON header and claims)
//   credential:private-key      the body of a PEM -----BEGIN … PRIVATE KEY----- block (to its
//                               END line, or to the end of the text when it was cut off)
//   credential:authorization    the credentials of an Authorization / Proxy-Authorization header
//                               (the scheme word, e.g. Bearer, is kept) and of a bare
//                               "Bearer <token>"
//   credential:url-password     the password of scheme://user:password@host
//   card-number                 13–19 digits, optionally grouped by single spaces or dashes,
//                               with a card network's prefix and length, and a valid Luhn digit
//
// Every scan is linear in the text: each regular expression starts with a literal guarded by a
// look-behind (so a match cannot start inside a longer token), its character classes cannot
// also match what follows them (nothing to backtrack into) and its gaps are bounded; the
// hand-written scans resume after the text they have read.

export interface CredentialHit {
  readonly name: string;
  /** The span [start, end) of the secret itself; what surrounds it (a key, a scheme) is kept. */
  readonly start: number;
  readonly end: number;
}

type Scan = (text: string, out: CredentialHit[], marker: string) => void;

interface Detector {
  readonly name: string;
  readonly scan: Scan;
}

/** A detector from a regex; the last capture group, if any, is the secret, else the whole match. */
function pattern(name: string, regex: RegExp, accept: (secret: string) => boolean = () => true): Detector {
  return { name, scan: scanner(name, regex, accept) };
}

function scanner(name: string, regex: RegExp, accept: (secret: string) => boolean): Scan {
  return (text, out) => {
    regex.lastIndex = 0;
    for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
      const group = m.indices && m.length > 1 ? m.indices[m.length - 1] : undefined;
      const [start, end] = group ?? [m.index, m.index + m[0].length];
      if (accept(text.slice(start, end))) out.push({ name, start, end });
    }
  };
}

const hasDigit = (s: string): boolean => /\d/.test(s);
const hasLetterAndDigit = (s: string): boolean => /[A-Za-z]/.test(s) && /\d/.test(s);

const DETECTORS: readonly Detector[] = [
  pattern('credential:aws-access-key', /(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/g),
  pattern(
    'credential:aws-secret-key',
    /(?<![A-Za-z0-9])(?:aws[_.-]?)?secret[_.-]?access[_.-]?key["']?[ \t]{0,16}(?:=>|[=:])[ \t]{0,16}["']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])/dgi,
  ),
  pattern('credential:stripe-key', /(?<![A-Za-z0-9_])(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}/g),
  pattern('credential:github-token', /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})/g),
  pattern('credential:gitlab-token', /(?<![A-Za-z0-9_-])glpat-[A-Za-z0-9_-]{20,}/g),
  pattern('credential:npm-token', /(?<![A-Za-z0-9_])npm_[A-Za-z0-9]{36,}/g),
  pattern('credential:slack-token', /(?<![A-Za-z0-9-])(?:xox[abposr]|xapp)-[A-Za-z0-9-]{10,}/g, hasDigit),
  pattern('credential:slack-webhook', /hooks\.slack\.com\/(?:services|workflows|triggers)\/([A-Za-z0-9_/-]{8,})/dg),
  pattern('credential:google-api-key', /(?<![A-Za-z0-9_-])AIza[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])/g),
  pattern('credential:anthropic-key', /(?<![A-Za-z0-9_-])sk-ant-[A-Za-z0-9_-]{20,}/g),
  pattern('credential:openai-key', /(?<![A-Za-z0-9_-])sk-(?!ant-)[A-Za-z0-9_-]{20,}/g, hasLetterAndDigit),
  pattern('credential:jwt', /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,}\.e[wy][A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g),
  { name: 'credential:private-key', scan: privateKeys },
  { name: 'credential:authorization', scan: authorization },
  { name: 'credential:url-password', scan: urlPasswords },
  { name: 'card-number', scan: cardNumbers },
];

/** The names of the built-in detectors, in the order they run. */
export const CREDENTIAL_DETECTORS: readonly string[] = DETECTORS.map(({ name }) => name);

/** Every credential in `text` (possibly overlapping, in no particular order). `marker` is never a secret. */
export function findCredentials(text: string, marker: string): CredentialHit[] {
  const out: CredentialHit[] = [];
  for (const { scan } of DETECTORS) scan(text, out, marker);
  return out;
}

// --- PEM private keys -------------------------------------------------------------------

const PEM_BEGIN = /-----BEGIN ((?:[A-Z0-9]{1,16} ){0,4})PRIVATE KEY( BLOCK)?-----/g;

function privateKeys(text: string, out: CredentialHit[], marker: string): void {
  PEM_BEGIN.lastIndex = 0;
  for (let m = PEM_BEGIN.exec(text); m !== null; m = PEM_BEGIN.exec(text)) {
    const label = `${m[1] ?? ''}PRIVATE KEY${m[2] ?? ''}`;
    const bodyStart = m.index + m[0].length;
    const endLine = text.indexOf(`-----END ${label}-----`, bodyStart);
    // A block cut off before its END line (a truncated output) is still a key.
    const bodyEnd = endLine === -1 ? text.length : endLine;
    const [start, end] = trimBody(text, bodyStart, bodyEnd);
    if (end > start && text.slice(start, end) !== marker) out.push({ name: 'credential:private-key', start, end });
    PEM_BEGIN.lastIndex = endLine === -1 ? text.length : endLine;
  }
}

/** The body without its surrounding line breaks, real or JSON-escaped (`\n`), so the lines stay. */
function trimBody(text: string, start: number, end: number): [number, number] {
  for (;;) {
    if (start < end && /\s/.test(text[start]!)) start++;
    else if (start + 2 <= end && (text.startsWith('\\n', start) || text.startsWith('\\r', start))) start += 2;
    else break;
  }
  for (;;) {
    if (end > start && /\s/.test(text[end - 1]!)) end--;
    else if (end - 2 >= start && (text.startsWith('\\n', end - 2) || text.startsWith('\\r', end - 2))) end -= 2;
    else break;
  }
  return [start, Math.max(start, end)];
}

// --- Authorization headers and bearer tokens --------------------------------------------

const AUTH_HEADER = /(?<![A-Za-z0-9_-])(?:proxy-)?authorization["']?[ \t]{0,16}[:=][ \t]{0,16}["']?/gi;
const bearer = scanner('credential:authorization', /(?<![A-Za-z0-9_-])bearer[ \t]{1,4}([A-Za-z0-9._~+/-]{16,}=*)/dgi, hasDigit);
const SCHEMES = new Set(['bearer', 'basic', 'digest', 'token', 'bot', 'negotiate', 'ntlm', 'hoba', 'mutual', 'apikey', 'aws4-hmac-sha256', 'sapisidhash', 'key']);

function authorization(text: string, out: CredentialHit[], marker: string): void {
  AUTH_HEADER.lastIndex = 0;
  for (let m = AUTH_HEADER.exec(text); m !== null; m = AUTH_HEADER.exec(text)) {
    let i = m.index + m[0].length;
    let scheme = i;
    while (scheme < text.length && scheme - i <= 32 && /[A-Za-z0-9-]/.test(text[scheme]!)) scheme++;
    const known = SCHEMES.has(text.slice(i, scheme).toLowerCase()) && /[ \t]/.test(text[scheme] ?? '');
    if (known) {
      i = scheme;
      while (/[ \t]/.test(text[i] ?? '')) i++;
    }
    // After a scheme the credentials run to the end of the header (Digest has spaces, commas
    // and quotes): its line, or the quoted string the header is written in. Without a scheme,
    // only a single token that looks like a key is taken.
    const quote = [text[m.index + m[0].length - 1], text[m.index - 1]].find((ch) => ch === '"' || ch === "'" || ch === '`');
    let end = i;
    if (known) while (end < text.length && text[end] !== '\n' && text[end] !== '\r' && !(text[end] === quote && text[end - 1] !== '\\')) end++;
    else while (end < text.length && /[^\s"'`,;]/.test(text[end]!)) end++;
    while (end > i && /[ \t]/.test(text[end - 1]!)) end--;
    const secret = text.slice(i, end);
    if (end > i && !secret.startsWith(marker) && (known || (secret.length >= 8 && hasDigit(secret)))) out.push({ name: 'credential:authorization', start: i, end });
    AUTH_HEADER.lastIndex = Math.max(AUTH_HEADER.lastIndex, end);
  }
  bearer(text, out, marker);
}

// --- Passwords in URLs ------------------------------------------------------------------

const AUTHORITY_END = /[\s/?#"'`<>]/;

function urlPasswords(text: string, out: CredentialHit[], marker: string): void {
  let from = 0;
  for (let at = text.indexOf('://', from); at !== -1; at = text.indexOf('://', from)) {
    const start = at + 3;
    // userinfo is everything before the authority's last "@"; its password follows the first ":".
    let end = start;
    let colon = -1;
    let lastAt = -1;
    for (; end < text.length && !AUTHORITY_END.test(text[end]!); end++) {
      if (text[end] === '@') lastAt = end;
      else if (text[end] === ':' && colon === -1) colon = end;
    }
    if (lastAt !== -1 && colon !== -1 && colon < lastAt - 1 && text.slice(colon + 1, lastAt) !== marker) {
      out.push({ name: 'credential:url-password', start: colon + 1, end: lastAt });
    }
    from = end;
  }
}

// --- Payment card numbers ---------------------------------------------------------------

const isDigit = (code: number): boolean => code >= 48 && code <= 57;
const isWordChar = (ch: string | undefined): boolean => ch !== undefined && /[\p{L}\p{N}_]/u.test(ch);

/** Luhn's check: doubling every second digit from the right, the sum is a multiple of 10. */
export function luhnValid(digits: string): boolean {
  return /^\d+$/.test(digits) && luhn(toDigits(digits), digits.length);
}

/** Does the number start with a card network's issuer prefix, at a length that network issues? */
export function plausibleCard(digits: string): boolean {
  return /^\d+$/.test(digits) && plausible(toDigits(digits), digits.length);
}

const toDigits = (digits: string): number[] => Array.from(digits, (ch) => ch.charCodeAt(0) - 48);

function luhn(d: readonly number[], n: number): boolean {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    let v = d[n - 1 - i]!;
    if (i % 2 === 1) {
      v *= 2;
      if (v > 9) v -= 9;
    }
    sum += v;
  }
  return n > 0 && sum % 10 === 0;
}

function plausible(d: readonly number[], n: number): boolean {
  const p2 = d[0]! * 10 + d[1]!;
  const p3 = p2 * 10 + d[2]!;
  const p4 = p3 * 10 + d[3]!;
  if (d[0] === 4) return n === 13 || n === 16 || n === 19; // Visa
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n === 16; // Mastercard
  if (p2 === 34 || p2 === 37) return n === 15; // American Express
  if (p4 >= 2200 && p4 <= 2204) return n >= 16; // Mir
  if ((p3 >= 300 && p3 <= 305) || p2 === 36 || p2 === 38 || p2 === 39) return n >= 14; // Diners Club
  if (p4 >= 3528 && p4 <= 3589) return n >= 16; // JCB
  if (p4 === 6011 || (p3 >= 644 && p3 <= 649) || p2 === 65) return n >= 16; // Discover
  if (p2 === 62) return n >= 16; // UnionPay
  return MAESTRO.has(p4); // Maestro, 13–19
}

const MAESTRO = new Set([5018, 5020, 5038, 5893, 6304, 6759, 6761, 6762, 6763]);

interface Group {
  readonly start: number;
  readonly end: number;
}

/**
 * A run of digit groups joined by one kind of single separator (space or dash) is read as a
 * whole; within it a card is one group of 13–19 digits, or consecutive groups starting with a
 * group of four, then groups of four to six, the last one to six (4-4-4-4, 4-6-5, 4-4-4-4-3…).
 * A run that touches a letter, a digit or a decimal point on either side is an identifier,
 * a hash or a decimal, not a card; a run after "+" is a phone number.
 */
function cardNumbers(text: string, out: CredentialHit[]): void {
  let i = 0;
  while (i < text.length) {
    if (!isDigit(text.charCodeAt(i))) {
      i++;
      continue;
    }
    const groups: Group[] = [];
    let separator: string | null = null;
    let j = i;
    for (;;) {
      const start = j;
      while (j < text.length && isDigit(text.charCodeAt(j))) j++;
      groups.push({ start, end: j });
      const sep = text[j];
      if ((sep === ' ' || sep === '-') && (separator === null || separator === sep) && isDigit(text.charCodeAt(j + 1))) {
        separator = sep;
        j++;
      } else {
        break;
      }
    }
    const before = text[i - 1];
    const after = text[j];
    const boundedBefore = !isWordChar(before) && before !== '+' && !((before === '.' || before === ',') && isDigit(text.charCodeAt(i - 2)));
    const boundedAfter = !isWordChar(after) && !((after === '.' || after === ',') && isDigit(text.charCodeAt(j + 1)));
    if (boundedBefore && boundedAfter) cardsIn(text, groups, out);
    i = j;
  }
}

function cardsIn(text: string, groups: readonly Group[], out: CredentialHit[]): void {
  let s = 0;
  while (s < groups.length) {
    const found = cardAt(text, groups, s);
    if (found === null) {
      s++;
      continue;
    }
    out.push({ name: 'card-number', start: groups[s]!.start, end: groups[found]!.end });
    s = found + 1;
  }
}

/** The last group of the longest card starting at group `s`, or null. Only 13–19 digits are ever read. */
function cardAt(text: string, groups: readonly Group[], s: number): number | null {
  const len = (g: Group): number => g.end - g.start;
  const first = len(groups[s]!);
  if (first !== 4 && (first < 13 || first > 19)) return null;
  const digits: number[] = [];
  let best: number | null = null;
  for (let e = s; e < groups.length; e++) {
    const g = groups[e]!;
    if (digits.length + len(g) > 19) break;
    for (let k = g.start; k < g.end; k++) digits.push(text.charCodeAt(k) - 48);
    if (digits.length >= 13 && plausible(digits, digits.length) && luhn(digits, digits.length)) best = e;
    if (e > s && (len(g) < 4 || len(g) > 6)) break; // only the last group may be shorter (or a bit longer)
    if (first !== 4) break; // a run of 13–19 digits is a card on its own or not at all
  }
  return best;
}
