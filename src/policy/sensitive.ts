// Redaction of sensitive data in what the audit log keeps and, for the lower trust levels, in
// what an agent receives. Three rules mask a secret VALUE; the words around it stay, so a
// reader still sees the shape of the data and what kind of secret was there.
//
// 1. Keyword values. A policy pattern (see `words.ts` for what it matches) names a key; the
//    value assigned to it or stated for it is masked, the key is kept:
//      password=hunter2              → password=[REDACTED]          (=, :=, ==, =>)
//      "password": "hunter2"         → "password": "[REDACTED]"
//      "db_password": 1234           → "db_password": "[REDACTED]"  (JSON text stays JSON)
//      password: hunter2 and more    → password: [REDACTED]         (to end of line or , ; } ])
//      "secret": {"a": 1}            → "secret": "[REDACTED]"       (balanced {…} or […])
//      secret: |  / secret:⏎ (indented lines)                       → the indented block (YAML)
//      my password is hunter2        → my password is [REDACTED]    (is, was, are, were; "is
//      the password for bob was X      now", "was changed to"; a short "for/of …" in between)
//      set the password to hunter2   → … to [REDACTED]               (after set/change/reset/update)
//      --password hunter2            → --password [REDACTED]        (a command-line flag)
//      password hunter2              → password [REDACTED]          (only a token that looks
//      PASSWORD 'Sql-Pass-1'         → PASSWORD '[REDACTED]'          like a secret: 6+ characters
//                                       mixing letters with digits or symbols, not a version,
//                                       path, call or algorithm name)
//    A bare word is not a secret and stays: "reset your password please" is unchanged. After
//    is/was a plain English word ("is required", "was changed", "is the same") is not taken
//    for a value; any other word is ("the key is consistency" is masked: over-redaction is
//    the cheaper mistake). In code, an unquoted value that is a reference, not a secret, stays:
//    `password = getPassword()`, `$DB_PASSWORD`, `process.env.X`, `password: string`, `null`.
// 2. Credential formats (`credentials.ts`): provider keys, tokens, JWTs, PEM private keys,
//    Authorization headers, URL passwords and Luhn-valid card numbers are masked wherever they
//    appear. These ALWAYS apply, for every agent and even with no sensitive patterns: a
//    credential stored in the audit log is a leak whatever the agent's trust level.
// 3. Taint by value (`taint.ts`). A `Redactor` lives for one call and remembers every value
//    it masked (4 characters or more); that value, in any case, is masked wherever it appears
//    later in the call — a tool echoing its argument, upper-cased or not, a log line, capability traffic — with no key
//    or format around it (under 8 characters only where it stands alone: "pass" is not masked
//    in "passed"). Within one `value()` the whole value is scanned first, so a secret found
//    anywhere in it is masked everywhere in it. Object keys are scanned as text too.
//
// Already-redacted values are left alone, so redacting twice changes nothing. Every scan is
// linear in the text; values are walked without recursion, to MAX_DEPTH levels ("[TOO DEEP]"
// below), with cycles cut ("[Circular]"). This is a safety net, not a guarantee: it errs
// towards over-redaction and cannot see a secret that no rule describes.
import { findCredentials } from './credentials';
import { TaintSet } from './taint';
import type { EffectivePolicy } from './types';
import { findWord, wordFinder, type WordFinder, type WordHit } from './words';

export const REDACTED = '[REDACTED]';
const REDACTED_JSON = `"${REDACTED}"`;
/** Replaces a part of a value nested deeper than MAX_DEPTH. */
export const TOO_DEEP = '[TOO DEEP]';
const TOO_LARGE = '[TOO LARGE]';
const CIRCULAR = '[Circular]';
export const MAX_DEPTH = 64;
// Strings and containers visited by one value(); bounds the work on shared sub-values too.
const MAX_NODES = 1_000_000;
/** The name under which explicitly tainted values are reported. */
const TAINTED = 'tainted';

export interface SensitiveMatch {
  /** The pattern or detector name (the first, where several found the same span). */
  readonly pattern: string;
  /** `value`: the value of a key naming a pattern; `credential`: a built-in format; `tainted`: a value masked before. */
  readonly kind: 'value' | 'credential' | 'tainted';
  /** The span [start, end) of the text that is replaced. */
  readonly start: number;
  readonly end: number;
  readonly replacement: string;
}

interface RedactionCount {
  readonly redactions: number;
  /** The policy patterns that matched, in the order they were given, then detector names in the order found. */
  readonly matchedPatterns: string[];
}

export interface TextRedaction extends RedactionCount {
  readonly text: string;
}

export interface ValueRedaction extends RedactionCount {
  readonly value: unknown;
}

export interface RedactionPreview {
  readonly text: string;
  /** The masked spans of the input, left to right, each with what replaces it. */
  readonly matches: { pattern: string; start: number; end: number; replacement: string }[];
}

interface Span {
  readonly start: number;
  end: number;
  readonly replacement: string;
  readonly kind: SensitiveMatch['kind'];
  readonly names: string[];
}

/**
 * One call's redaction: masks keyword values, credentials and values it masked before, and
 * counts what it did. Create one per call and pass everything of that call through it.
 */
export class Redactor {
  private readonly engine: Engine;

  constructor(patterns: readonly string[]) {
    this.engine = new Engine(patterns);
  }

  /** The text with every secret masked; what was masked is remembered for the rest of the call. */
  text(input: string): string {
    return this.engine.redactText(input).text;
  }

  /**
   * A copy of a JSON-like value with every secret masked: strings and object keys are
   * scanned as text, and the value of a key naming a pattern becomes "[REDACTED]" whole.
   * Arrays and plain objects are copied; other objects pass through.
   */
  value<T>(input: T): T | unknown {
    return this.engine.redactValue(input);
  }

  /** Marks `secret` as a value to mask from now on (ignored under 4 characters). */
  taint(secret: string): void {
    this.engine.taints.add(secret, TAINTED);
  }

  get redactions(): number {
    return this.engine.redactions;
  }

  get matchedPatterns(): string[] {
    return [...this.engine.names];
  }
}

/** Non-overlapping matches in `text`, left to right (keyword values, credentials, repeats of either). */
export function findSensitive(text: string, patterns: readonly string[]): SensitiveMatch[] {
  return new Engine(patterns).redactText(text).spans.map((s) => ({ pattern: s.names[0]!, kind: s.kind, start: s.start, end: s.end, replacement: s.replacement }));
}

/** What `redact` would make of `text`, with the spans it masks (for a live preview). */
export function previewRedaction(text: string, patterns: readonly string[]): RedactionPreview {
  const result = new Engine(patterns).redactText(text);
  return { text: result.text, matches: result.spans.map((s) => ({ pattern: s.names[0]!, start: s.start, end: s.end, replacement: s.replacement })) };
}

export function redact(text: string, patterns: readonly string[]): TextRedaction {
  const redactor = new Redactor(patterns);
  const out = redactor.text(text);
  return { text: out, redactions: redactor.redactions, matchedPatterns: inOrder(patterns, redactor.matchedPatterns) };
}

/** Redacts a JSON-like value (a tool result, say); see `Redactor.value`. */
export function redactValue(value: unknown, patterns: readonly string[]): ValueRedaction {
  const redactor = new Redactor(patterns);
  const out = redactor.value(value);
  return { value: out, redactions: redactor.redactions, matchedPatterns: inOrder(patterns, redactor.matchedPatterns) };
}

/**
 * What the agent may see of a result: redacted when the policy's `data.redactForAgent` is
 * set, unchanged (and uncounted) otherwise. The audit log is redacted either way.
 */
export function redactForAgent(policy: EffectivePolicy, value: unknown): ValueRedaction {
  if (!policy.data.redactForAgent) return { value, redactions: 0, matchedPatterns: [] };
  return redactValue(value, policy.data.sensitivePatterns);
}

function inOrder(patterns: readonly string[], matched: readonly string[]): string[] {
  const seen = new Set(matched);
  const given = [...new Set(patterns)].filter((pattern) => seen.has(pattern));
  return [...given, ...matched.filter((name) => !given.includes(name))];
}

// --- The engine -------------------------------------------------------------------------

class Leaf {
  constructor(readonly index: number) {}
}

class Node {
  readonly out: unknown[] | Record<string, unknown>;
  /** [key (scanned as a leaf; unused for arrays), child: a primitive, a Leaf or a Node]. */
  readonly entries: [Leaf | null, unknown][] = [];
  constructor(readonly array: boolean) {
    this.out = array ? [] : {};
  }
}

type Task = { readonly source: object; readonly depth: number; readonly parent: Node | null; readonly index: number } | { readonly exit: object };

class Engine {
  private readonly finders: readonly { pattern: string; find: WordFinder }[];
  readonly taints = new TaintSet([REDACTED, REDACTED_JSON, TOO_DEEP, TOO_LARGE, CIRCULAR]);
  redactions = 0;
  /** Pattern and detector names matched so far, in first-seen order. */
  readonly names = new Set<string>();
  private readonly plainWords = new Map<string, boolean>();

  constructor(patterns: readonly string[]) {
    this.finders = [...new Set(patterns)].map((pattern) => ({ pattern, find: wordFinder(pattern) }));
  }

  redactText(text: string): { text: string; spans: Span[] } {
    return this.apply(text, this.scan(text));
  }

  /** Keyword values and credentials in `text`, merged; each masked value is remembered. */
  private scan(text: string): Span[] {
    const spans = keywordValues(text, this.finders, this.plainWords);
    for (const hit of findCredentials(text, REDACTED)) spans.push({ start: hit.start, end: hit.end, replacement: REDACTED, kind: 'credential', names: [hit.name] });
    for (const span of spans) this.remember(text.slice(span.start, span.end), span.names[0]!);
    return merge(spans);
  }

  private remember(secret: string, name: string): void {
    this.taints.add(secret, name);
    // A value read from JSON text may reach a tool, and come back, unescaped.
    if (secret.includes('\\')) {
      const decoded = jsonUnescape(secret);
      if (decoded !== null) this.taints.add(decoded, name);
    }
  }

  /** Adds the spans of remembered values, replaces every span, and counts. */
  private apply(text: string, spans: Span[]): { text: string; spans: Span[] } {
    const hits = this.taints.find(text, markersIn(text));
    const all = hits.length === 0 ? spans : mergeSorted(spans, hits.map((h): Span => ({ start: h.start, end: h.end, replacement: REDACTED, kind: 'tainted', names: [h.name] })));
    const parts: string[] = [];
    let last = 0;
    for (const span of all) {
      parts.push(text.slice(last, span.start), span.replacement);
      last = span.end;
      for (const name of span.names) this.names.add(name);
    }
    parts.push(text.slice(last));
    this.redactions += all.length;
    return { text: all.length === 0 ? text : parts.join(''), spans: all };
  }

  private keyPattern(key: string): string | undefined {
    return this.finders.find(({ find }) => find(key).length > 0)?.pattern;
  }

  /**
   * Two passes: the first copies the structure (without recursion) and scans every string,
   * remembering the secrets it finds; the second masks all strings with everything found,
   * so a secret is masked in the whole value whatever the order of its parts.
   */
  redactValue(input: unknown): unknown {
    if (typeof input === 'string') return this.redactText(input).text;
    if (!isContainer(input)) return input;
    const leaves: { text: string; spans: Span[] }[] = [];
    const leaf = (text: string): Leaf => {
      leaves.push({ text, spans: this.scan(text) });
      return new Leaf(leaves.length - 1);
    };
    const nodes: Node[] = [];
    const ancestors = new Set<object>();
    let visited = 0;
    let root: unknown;
    const stack: Task[] = [{ source: input, depth: 0, parent: null, index: 0 }];
    while (stack.length > 0) {
      const task = stack.pop()!;
      if ('exit' in task) {
        ancestors.delete(task.exit);
        continue;
      }
      const place = (value: unknown): void => {
        if (task.parent) task.parent.entries[task.index]![1] = value;
        else root = value;
      };
      const source = task.source;
      if (ancestors.has(source)) {
        place(CIRCULAR);
        continue;
      }
      if (task.depth >= MAX_DEPTH) {
        place(TOO_DEEP);
        continue;
      }
      const node = new Node(Array.isArray(source));
      nodes.push(node);
      place(node);
      ancestors.add(source);
      stack.push({ exit: source });
      const children: Task[] = [];
      const add = (key: string | null, child: unknown): void => {
        const pattern = key === null ? undefined : this.keyPattern(key);
        let slot: unknown = child;
        if (pattern !== undefined && !(child === null || child === undefined || child === '' || child === REDACTED)) {
          this.rememberAll(child, pattern);
          this.redactions += 1;
          this.names.add(pattern);
          slot = REDACTED;
        } else if (typeof child === 'string') {
          slot = leaf(child);
        } else if (isContainer(child)) {
          children.push({ source: child, depth: task.depth + 1, parent: node, index: node.entries.length });
        }
        node.entries.push([key === null ? null : leaf(key), slot]);
      };
      if (Array.isArray(source)) {
        for (let i = 0; i < source.length; i++) {
          if (++visited > MAX_NODES) {
            node.entries.push([null, TOO_LARGE]);
            break;
          }
          add(null, source[i]);
        }
      } else {
        for (const [key, child] of Object.entries(source)) {
          if (++visited > MAX_NODES) {
            node.entries.push([leaf('…'), TOO_LARGE]);
            break;
          }
          add(key, child);
        }
      }
      // Reversed, so the first child is walked first and names are seen in document order.
      for (let k = children.length - 1; k >= 0; k--) stack.push(children[k]!);
    }

    const texts = leaves.map(({ text, spans }) => this.apply(text, spans).text);
    const resolve = (v: unknown): unknown => (v instanceof Leaf ? texts[v.index] : v instanceof Node ? v.out : v);
    for (const node of nodes) {
      if (node.array) {
        for (const [, child] of node.entries) (node.out as unknown[]).push(resolve(child));
        continue;
      }
      const out = node.out as Record<string, unknown>;
      for (const [key, child] of node.entries) {
        let name = resolve(key) as string;
        // A key that was itself a secret may now equal another key; keep both entries.
        for (let n = 2; Object.prototype.hasOwnProperty.call(out, name); n++) name = `${resolve(key) as string}#${n}`;
        // defineProperty, not assignment: a "__proto__" key stays a plain key.
        Object.defineProperty(out, name, { value: resolve(child), enumerable: true, writable: true, configurable: true });
      }
    }
    return resolve(root);
  }

  /** Remembers the strings and numbers of a value masked whole, so their echoes are masked too. */
  private rememberAll(value: unknown, name: string): void {
    const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 0 }];
    for (let seen = 0; stack.length > 0 && seen < 10_000; seen++) {
      const { v, depth } = stack.pop()!;
      if (typeof v === 'string') this.remember(v, name);
      else if (typeof v === 'number' || typeof v === 'bigint') this.taints.add(String(v), name);
      else if (isContainer(v) && depth < MAX_DEPTH) for (const child of Object.values(v)) stack.push({ v: child, depth: depth + 1 });
    }
  }
}

function isContainer(v: unknown): v is object {
  if (typeof v !== 'object' || v === null) return false;
  if (Array.isArray(v)) return true;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

const KIND_ORDER = { value: 0, credential: 1, tainted: 2 } as const;

/** Sorted, non-overlapping spans; overlapping ones become one, keeping the names of both. */
function merge(spans: Span[]): Span[] {
  spans.sort((a, b) => a.start - b.start || b.end - a.end || KIND_ORDER[a.kind] - KIND_ORDER[b.kind]);
  return join(spans);
}

/** `merge` of two lists that are each sorted already, in linear time. */
function mergeSorted(a: Span[], b: Span[]): Span[] {
  const out: Span[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) add(out, j >= b.length || (i < a.length && a[i]!.start <= b[j]!.start) ? a[i++]! : b[j++]!);
  return out;
}

function join(sorted: readonly Span[]): Span[] {
  const out: Span[] = [];
  for (const span of sorted) add(out, span);
  return out;
}

/** Appends a span (the engine's own, so it may be changed) to sorted, non-overlapping `out`. */
function add(out: Span[], span: Span): void {
  const last = out.at(-1);
  if (last === undefined || span.start >= last.end) {
    out.push(span);
    return;
  }
  last.end = Math.max(last.end, span.end);
  for (const name of span.names) if (!last.names.includes(name)) last.names.push(name);
}

/** The "[REDACTED]" markers already in the text: remembered values never match across them, so redacting again changes nothing. */
function markersIn(text: string): { start: number; end: number }[] {
  const markers: { start: number; end: number }[] = [];
  for (let at = text.indexOf(REDACTED); at !== -1; at = text.indexOf(REDACTED, at + REDACTED.length)) markers.push({ start: at, end: at + REDACTED.length });
  return markers;
}

function jsonUnescape(raw: string): string | null {
  try {
    const value: unknown = JSON.parse(`"${raw}"`);
    return typeof value === 'string' ? value : null;
  } catch {
    return null;
  }
}

// --- Keyword values ---------------------------------------------------------------------

const IDENTIFIER = /[\p{L}\p{N}_.-]/u;
// Keys are short; bounding the scan keeps a pathological identifier from going quadratic.
const MAX_KEY_LENGTH = 128;
// A spoken value is one token; a longer run of non-space characters is not a value.
const MAX_TOKEN_LENGTH = 256;
const QUOTES = new Set(['"', "'", '`']);
const INLINE_SPACE = /[ \t]/;

/** Where a value was found after a keyword; `mask` false for a value that is not a secret (it is still skipped). */
interface KeywordValue {
  readonly start: number;
  readonly end: number;
  readonly replacement: string;
  readonly mask: boolean;
}

/** `seen` remembers which words are plain English, for this redactor. */
function keywordValues(text: string, finders: readonly { find: WordFinder }[], seen: Map<string, boolean>): Span[] {
  if (finders.length === 0) return [];
  const found = finders.map(({ find }) => find(text)).filter((list) => list.length > 0);
  // One pattern's hits are in order already.
  const hits = found.length === 1 ? found[0]! : found.flat().sort((a, b) => a.start - b.start || b.end - a.end);
  const spans: Span[] = [];
  let cursor = 0;
  // Hits inside an earlier value are skipped before their own value is scanned: this keeps
  // the scan linear even for pathological nesting.
  for (const hit of hits) {
    if (hit.start < cursor || insideMarker(text, hit)) continue;
    const value = valueOf(text, hit, seen);
    if (value === null) {
      cursor = hit.end;
      continue;
    }
    if (value.mask) spans.push({ start: value.start, end: value.end, replacement: value.replacement, kind: 'value', names: [hit.pattern] });
    cursor = Math.max(hit.end, value.end);
  }
  return spans;
}

// Looks only at the text around the hit, so the check stays O(1) per hit.
function insideMarker(text: string, hit: WordHit): boolean {
  const from = Math.max(0, hit.end - REDACTED.length);
  const around = text.slice(from, hit.start + REDACTED.length);
  for (let at = around.indexOf(REDACTED); at !== -1; at = around.indexOf(REDACTED, at + 1)) {
    if (from + at <= hit.start && from + at + REDACTED.length >= hit.end) return true;
  }
  return false;
}

/** The value given for the key around `hit`, or null when the word is not followed by one. */
function valueOf(text: string, hit: WordHit, seen: Map<string, boolean>): KeywordValue | null {
  let keyStart = hit.start;
  while (keyStart > 0 && hit.start - keyStart < MAX_KEY_LENGTH && IDENTIFIER.test(text[keyStart - 1]!)) keyStart--;
  let keyEnd = hit.end;
  while (keyEnd < text.length && keyEnd - hit.end < MAX_KEY_LENGTH && IDENTIFIER.test(text[keyEnd]!)) keyEnd++;
  // `"key": …` — a JSON-style key; its unquoted values are replaced by a JSON string.
  const quotedKey = QUOTES.has(text[keyEnd] ?? '') && text[keyStart - 1] === text[keyEnd];
  const at = skipInlineSpace(text, quotedKey ? keyEnd + 1 : keyEnd);
  // "tokens: 1500", "keys": 3 — under a plural key a whole number is a count, not a secret.
  const plural = (text[hit.end - 1] === 's' || text[hit.end - 1] === 'S') && !/s$/i.test(hit.pattern);
  if (text[at] === '=' || text[at] === ':') return assignedValue(text, keyStart, at, quotedKey, plural, hit.pattern);
  // A key ending in "." or "-" ends a sentence or a compound ("password-protected"), not a key.
  if (quotedKey) return null;
  for (let k = hit.end; k < keyEnd; k++) if (text[k] === '.' || text[k] === '-') return null;
  return spokenValue(text, keyStart, keyEnd, seen);
}

function skipInlineSpace(text: string, i: number): number {
  while (i < text.length && INLINE_SPACE.test(text[i]!)) i++;
  return i;
}

const isRedacted = (value: string): boolean => value === REDACTED || value === REDACTED_JSON;

/** `key = value`, `key: value`, `"key": value` and their variants; `at` is the separator. */
function assignedValue(text: string, keyStart: number, at: number, quotedKey: boolean, plural: boolean, pattern: string): KeywordValue | null {
  const separator = text[at]!;
  let i = at + 1;
  if ((separator === ':' && text[i] === '=') || (separator === '=' && (text[i] === '=' || text[i] === '>'))) i++;
  if (text[i] === '=') return null; // `===`: a comparison in code
  if (separator === ':' && text.startsWith('//', i)) return null; // a URL scheme, not a key
  i = skipInlineSpace(text, i);
  const first = text[i];
  const unquoted = quotedKey ? REDACTED_JSON : REDACTED;
  if (first === undefined) return null;
  if (first === '\n' || first === '\r') return separator === ':' && !quotedKey ? indentedBlock(text, keyStart, i) : null;
  if (QUOTES.has(first)) {
    // `"Password: "`: the key is the text of a string literal and this quote closes it.
    if (!quotedKey && text[keyStart - 1] === first) return null;
    const close = closingQuote(text, i);
    if (close === i + 1) return null;
    const literal = text.slice(i + 1, close);
    // A template literal with interpolations is built at run time: the secret, if any, is elsewhere.
    const template = first === '`' && literal.includes('${');
    return { start: i + 1, end: close, replacement: REDACTED, mask: !isRedacted(literal) && !template };
  }
  if (first === '{' || first === '[') {
    const end = closingBracket(text, i);
    const inner = text.slice(i + 1, end - 1);
    return { start: i, end, replacement: unquoted, mask: !isRedacted(text.slice(i, end)) && inner.trim() !== '' };
  }
  const stop = separator === '=' ? /[\s&;,"'<>)\]}]/ : /[\r\n,;}\]]/;
  let end = i;
  while (end < text.length && !stop.test(text[end]!)) end++;
  while (end > i && INLINE_SPACE.test(text[end - 1]!)) end--;
  if (end === i) return null;
  const value = text.slice(i, end);
  // `key: |` or `key: >`: a YAML block scalar, whose value is the indented lines below.
  if (separator === ':' && !quotedKey && /^[|>][-+]?\d?$/.test(value)) {
    const block = indentedBlock(text, keyStart, end);
    return block ?? { start: i, end, replacement: REDACTED, mask: false };
  }
  const count = plural && /^\d+$/.test(value);
  return { start: i, end, replacement: unquoted, mask: !isRedacted(value) && !count && !isReference(value, quotedKey, pattern) };
}

// Unquoted values in code and configuration that name where a secret comes from, or its
// type, rather than holding it. (A quoted value is a literal and always masked.)
const NOT_A_VALUE = new Set(
  'null undefined none nil true false string number boolean str int bool bytes any unknown object void value values await new typeof yield ... …'.split(' '),
);
const REFERENCE = [
  /^(?:\*{3,}|x{3,}|•{3,})$/i, // a placeholder: ********, xxxx
  /^(?:await|new|typeof|yield)\s/, // an expression
  /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*\(/, // a call: getPassword(), os.getenv(
  /^\((?:[A-Za-z_$)]|\s*\))/, // an arrow function's parameters: (ctx, params) =>
  /^[A-Za-z_$][\w$]*\[[\w$.'"]*\]?!?$/, // an element: kept[i]
  /^\$[A-Z_][A-Z0-9_]*$/, // $DB_PASSWORD
  /^\$\{/, // ${DB_PASSWORD}, ${{ secrets.TOKEN }}, ${expression}
  /^%[A-Z_][A-Z0-9_]*%$/, // %DB_PASSWORD%
  /^(?:process\.env|import\.meta\.env|os\.environ|ENV)\b/, // environment lookups
  /^(?:this|self|config|settings|options|opts|params|props|env|secrets|credentials|creds|req|request|data|ctx|context)(?:\.[\w$]+)+(?:\[[^\]]*\]?)?!?$/, // a member
];
// In a type annotation, `key: string) => …`, `key: readonly string[]`, `key: KeyType = …`.
const TYPE = /^(?:(?:readonly|string|number|boolean|bigint|symbol|unknown|any|never|void|object)\b(?!-)|[A-Z][\w$]*(?:<[^>]*>)?(?:\[\])*\s+=\s)/;
const IDENTIFIER_PATH = /^[A-Za-z_$][A-Za-z_$]*(?:\.[A-Za-z_$][A-Za-z_$]*)*$/;

/** Is this unquoted value code that refers to a secret (or a type) rather than the secret? */
function isReference(value: string, quotedKey: boolean, pattern: string): boolean {
  if (REFERENCE.some((regex) => regex.test(value))) return true;
  // A variable or property named for what it holds: `token = tokenHash`, `key: data.auth.key`.
  if (IDENTIFIER_PATH.test(value) && findWord(value.slice(value.lastIndexOf('.') + 1), pattern).length > 0) return true;
  // JSON has literals only; null or true under a quoted key is still masked, as a value.
  return !quotedKey && (NOT_A_VALUE.has(value.toLowerCase()) || TYPE.test(value));
}

/**
 * The lines below `key:` (at `from`, the end of its line) that are indented deeper than the
 * key: a YAML value on the next lines, or a block scalar. The key must open its line.
 */
function indentedBlock(text: string, keyStart: number, from: number): KeywordValue | null {
  let lineStart = keyStart;
  while (lineStart > 0 && (text[lineStart - 1] === ' ' || text[lineStart - 1] === '-')) lineStart--;
  if (lineStart > 0 && text[lineStart - 1] !== '\n' && text[lineStart - 1] !== '\r') return null;
  const indent = keyStart - lineStart;
  let pos = from;
  if (pos < text.length && text[pos] !== '\n' && text[pos] !== '\r') return null;
  let start = -1;
  let end = -1;
  while (pos < text.length) {
    if (text[pos] === '\r') pos++;
    if (text[pos] === '\n') pos++;
    const line = pos;
    while (pos < text.length && (text[pos] === ' ' || text[pos] === '\t')) pos++;
    if (pos >= text.length) break;
    if (text[pos] === '\n' || text[pos] === '\r') continue; // a blank line inside the block
    if (pos - line <= indent) break;
    if (start === -1) start = pos;
    while (pos < text.length && text[pos] !== '\n' && text[pos] !== '\r') pos++;
    end = pos;
  }
  if (start === -1) return null;
  return { start, end, replacement: REDACTED, mask: !isRedacted(text.slice(start, end)) };
}

/** Index of the quote closing the one at `open`; an unterminated string runs to the end of the line. */
function closingQuote(text: string, open: number): number {
  const quote = text[open];
  for (let k = open + 1; k < text.length; k++) {
    const ch = text[k];
    if (ch === '\\') k++;
    else if (ch === quote) return k;
    else if ((ch === '\n' || ch === '\r') && quote !== '`') return k;
  }
  return text.length;
}

/** Index after the bracket closing the one at `open`; unbalanced runs to the end of the text. */
function closingBracket(text: string, open: number): number {
  let depth = 0;
  for (let k = open; k < text.length; k++) {
    const ch = text[k]!;
    if (ch === '"') {
      k = closingQuote(text, k);
    } else if (ch === '{' || ch === '[') {
      depth++;
    } else if (ch === '}' || ch === ']') {
      depth--;
      if (depth === 0) return k + 1;
    }
  }
  return text.length;
}

// --- Values in prose --------------------------------------------------------------------

// "is X", "was X", "are now X", "was changed to X", "for the admin account is X", "is: X".
// Sticky and bounded (three words of at most 32 characters), so each try is O(1).
const LINKED =
  /[ \t]+(?:(?:for|of|on|in|at)(?:[ \t]+[^\s.,;:!?]{1,32}){1,3}[ \t]+)?(?:is|was|are|were)(?:[ \t]+(?:now|still|currently|just|also|always|simply))?(?:[ \t]+(?:set|changed|reset|updated)[ \t]+to)?[ \t]*:?[ \t]+/iy;
const TO = /[ \t]+to[ \t]+/iy;
const AFTER_SPACE = /[ \t]+/y;
const SETTING = /\b(?:set|sets|setting|change|changed|changes|changing|reset|resets|resetting|update|updated|updates|updating)\b/i;
const CLOSING: Record<string, string> = { '"': '"', "'": "'", '`': '`', '“': '”', '‘': '’' };

/**
 * A value stated in prose after the key ending at `keyEnd`. After is/was, or after "to" with
 * a verb of setting before the key, or after a command-line flag, any word but a plain
 * English one is a value; right after the key, only a token that looks like a secret.
 */
function spokenValue(text: string, keyStart: number, keyEnd: number, seen: Map<string, boolean>): KeywordValue | null {
  LINKED.lastIndex = keyEnd;
  if (LINKED.test(text)) return token(text, LINKED.lastIndex, 'lenient', seen);
  TO.lastIndex = keyEnd;
  if (TO.test(text)) {
    const before = text.slice(Math.max(0, keyStart - 48), keyStart);
    return token(text, TO.lastIndex, SETTING.test(before.slice(before.lastIndexOf('\n') + 1)) ? 'lenient' : 'strict', seen);
  }
  AFTER_SPACE.lastIndex = keyEnd;
  if (!AFTER_SPACE.test(text)) return null;
  const flag = text[keyStart] === '-' && (keyStart === 0 || /\s/.test(text[keyStart - 1]!));
  return token(text, AFTER_SPACE.lastIndex, flag ? 'lenient' : 'strict', seen);
}

function token(text: string, start: number, mode: 'lenient' | 'strict', seen: Map<string, boolean>): KeywordValue | null {
  const close = CLOSING[text[start] ?? ''];
  // Right after a key, `backticks` are Markdown code ("the key `id`"), not a quoted value.
  if (close !== undefined && !(mode === 'strict' && close === '`')) {
    let end = start + 1;
    while (end < text.length && end - start <= MAX_TOKEN_LENGTH && text[end] !== close && text[end] !== '\n') end++;
    // A quoted secret has no space at its ends; `"the password " + name + "…"` is code. Right
    // after the key, a quoted word is more often a name (`key "id"`) than a value: there it
    // must look like a secret (SQL's PASSWORD 'Sql-Pass-1').
    const quoted = text.slice(start + 1, end);
    if (text[end] !== close || quoted.length === 0 || /^\s|\s$/.test(quoted)) return null;
    if (mode === 'strict' && !looksSecret(quoted)) return null;
    return { start: start + 1, end, replacement: REDACTED, mask: !isRedacted(quoted) };
  }
  let end = start;
  while (end < text.length && end - start <= MAX_TOKEN_LENGTH && !isSpace(text.charCodeAt(end))) end++;
  if (end - start > MAX_TOKEN_LENGTH) return null;
  const raw = text.slice(start, end);
  if (raw.includes(REDACTED)) return null;
  while (end > start && TRAILING.has(text[end - 1]!)) end--;
  const value = raw.slice(0, end - start);
  if (value.length === 0) return null;
  if (/^\$\{|^\{\{|^%\(/.test(value)) return null; // a template placeholder
  const secret = mode === 'strict' ? looksSecret(value) : !plainWords(value, text.slice(end, end + 24), seen);
  return secret ? { start, end, replacement: REDACTED, mask: true } : null;
}

// Sentence punctuation after a spoken value is not part of it.
const TRAILING = new Set([...'.,;:!?)]}>"\'`”’…']);
const isSpace = (code: number): boolean => code === 32 || (code >= 9 && code <= 13) || code === 0xa0 || code === 0x2028 || code === 0x2029 || (code >= 0x2000 && code <= 0x200a) || code === 0x3000 || code === 0x1680 || code === 0x202f || code === 0x205f || code === 0xfeff || code === 0x85;

// Words that follow "password is" / "key was" in ordinary sentences.
const PLAIN = new Set(
  (
    'a an the not no now also still just only very too so quite rather always never often usually sometimes already ever even ' +
    'be been being is was are were will would should must may might can could ' +
    'set reset changed required incorrect correct wrong invalid valid expired missing empty blank weak strong secure insecure ' +
    'safe unsafe long short case stored saved hashed encrypted encoded needed optional mandatory different same similar equal ' +
    'identical unchanged mine yours his hers ours theirs its this that these those what which who whom whose whatever ' +
    'whichever here there where when how why in on at for to from with without by of as about into onto like than then and ' +
    'or but if because unless until while since after before during per via within outside inside unknown known hidden ' +
    'visible shown sent used unused available unavailable ready done ok okay fine good bad great important necessary ' +
    'sensitive secret private public personal confidential new old current previous default temporary random unique free ' +
    'enough all any some none something nothing anything everything one two three it your my our their her him them you ' +
    'we they i me us easy hard simple generated protected supposed able unable please yes accepted rejected locked ' +
    'unlocked active inactive disabled enabled revoked compromised leaked exposed rotated configured provided given least ' +
    'most more less probably likely kept managed handled checked verified validated right stale outdated obsolete ' +
    'deprecated legacy separate shared own masked redacted lowercase uppercase alphanumeric numeric case-sensitive ' +
    'case-insensitive too-short too-long null undefined nil true false among between across behind below above under over ' +
    'beyond against along around toward towards upon through throughout except besides near ' +
    // irregular participles and common adjectives of state, which the suffix rules below miss
    'frozen hidden shown known written given taken broken chosen stolen forgotten drawn driven grown spoken thrown worn ' +
    'persistent permanent constant static dynamic global local mutable immutable independent dependent present absent ' +
    'relevant irrelevant consistent inconsistent automatic manual internal external critical essential digital physical ' +
    'virtual real fake'
  ).split(' '),
);
const UNITS = /^[ \t]+(?:bits?|bytes?|characters?|chars?|digits?|letters?|words?|days?|hours?|minutes?|mins?|seconds?|secs?|weeks?|months?|years?|times|long|old|kb|mb|gb|ms|percent)\b/i;
// Algorithm, encoding and platform names that read like tokens but are not secrets (each has a digit).
const TECHNICAL =
  /^(?:base(?:32|64)|sha-?\d+|md5|utf-?(?:8|16)|x509|ipv[46]|http[23]|oauth2|aes-?\d+|pbkdf2|argon2(?:id|i|d)?|ed25519|x25519|rsa-?\d+|p-?256|secp256[kr]1|\d+fa|h26[45]|mp[34]|x86(?:_64)?|arm64|win(?:32|64)|i18n|l10n|k8s|s3|ec2)(?:[-_.][a-z]+)*$/i;

/** Is `value` (a word after "is", say) an ordinary word of a sentence rather than a value? */
function plainWords(value: string, following: string, seen: Map<string, boolean>): boolean {
  if (/^\d+$/.test(value)) return value.length < 4 || UNITS.test(following); // a quantity: "is 8 characters", "is 2048 bits"
  const known = seen.get(value);
  if (known !== undefined) return known;
  const plain = plainWord(value);
  // Words repeat; remembering a bounded number of answers (per redactor) keeps long texts cheap.
  if (seen.size >= 4096) seen.clear();
  seen.set(value, plain);
  return plain;
}

function plainWord(value: string): boolean {
  if (value.length < 3 || PLAIN.has(value.toLowerCase()) || (/\d/.test(value) && TECHNICAL.test(value))) return true;
  const parts = value.toLowerCase().split('-');
  const plain = (word: string): boolean => PLAIN.has(word) || (/^[a-z]{5,}$/.test(word) && /(?:ed|ing|ly|ous|ful|less|able|ible|ive)$/.test(word));
  // A compound is as plain as its last word: "base64-encoded", "256-bit", "case-sensitive".
  return PLAIN.has(parts.join('-')) || plain(parts.at(-1)!) || (parts.length > 1 && UNITS.test(` ${parts.at(-1)!}`));
}

/** A token that looks like a secret on its own: long enough, mixing letters with digits or symbols. */
function looksSecret(value: string): boolean {
  // Brackets, quotes and placeholders open something else: "(e.g.", "`id`", "${name}".
  if (value.length < 6 || /^[([{<`'"“‘]|^\$\{|^%\(/.test(value)) return false;
  if (/[/\\]/.test(value) || /^v?\d+(?:\.\d+)+/.test(value) || /^[A-Z]{2,}-?\d+$/.test(value) || TECHNICAL.test(value)) return false;
  if (/^[A-Za-z_][\w.]*\(/.test(value)) return false; // a call or a type: VARCHAR(255), len(x)
  const letters = /\p{L}/u.test(value);
  const digits = /\p{N}/u.test(value);
  const symbols = /[^\p{L}\p{N}_.'-]/u.test(value);
  return letters && (digits || symbols);
}
