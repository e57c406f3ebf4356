// Redaction of sensitive data in what an agent receives (see `words.ts` for what a
// pattern matches). Where a matched word is a key with a value, the value is redacted
// and the key kept, so the agent still sees the shape of the data:
//   password=hunter2            → password=[REDACTED]        (=, :=, ==, =>)
//   "password": "hunter2"       → "password": "[REDACTED]"
//   "db_password": 1234         → "db_password": "[REDACTED]"  (JSON text stays JSON)
//   password: hunter2 and more  → password: [REDACTED]        (to end of line or , ; } ])
//   "secret": {"a": 1}          → "secret": "[REDACTED]"      (balanced {…} or […])
// Any other occurrence of the word is itself replaced: "my password" → "my [REDACTED]".
// A value after `=` ends at whitespace; after `:` it runs to the end of the line, as in
// YAML and HTTP headers. Already-redacted values are left alone, so redacting twice
// changes nothing. This is a safety net against leaks, not a guarantee: it over-redacts
// rather than under-redacts, and cannot see secrets that no pattern names.
import type { EffectivePolicy } from './types';
import { findWord, matchingPattern, type WordHit } from './words';

export const REDACTED = '[REDACTED]';
const REDACTED_JSON = `"${REDACTED}"`;

export interface SensitiveMatch {
  readonly pattern: string;
  /** `value`: the value of a key naming the pattern; `word`: the word itself. */
  readonly kind: 'value' | 'word';
  /** The span [start, end) of the text that is replaced. */
  readonly start: number;
  readonly end: number;
  readonly replacement: string;
}

interface RedactionCount {
  readonly redactions: number;
  /** The patterns that matched at least once, in the order they were given. */
  readonly matchedPatterns: string[];
}

export interface TextRedaction extends RedactionCount {
  readonly text: string;
}

export interface ValueRedaction extends RedactionCount {
  readonly value: unknown;
}

const IDENTIFIER = /[\p{L}\p{N}_.-]/u;
// Keys are short; bounding the scan keeps a pathological identifier from going quadratic.
const MAX_KEY_LENGTH = 128;
const QUOTES = new Set(['"', "'", '`']);
const INLINE_SPACE = /[ \t]/;

/** Non-overlapping matches of `patterns` in `text`, left to right. */
export function findSensitive(text: string, patterns: readonly string[]): SensitiveMatch[] {
  const hits = patterns
    .flatMap((pattern) => findWord(text, pattern))
    .sort((a, b) => a.start - b.start || b.end - a.end);
  const matches: SensitiveMatch[] = [];
  let cursor = 0;
  // Hits inside an earlier value are skipped before their own value is scanned: this keeps
  // the scan linear even for pathological nesting.
  for (const hit of hits) {
    if (hit.start < cursor || insideMarker(text, hit)) continue;
    const value = valueAfter(text, hit);
    if (value === null) {
      matches.push({ pattern: hit.pattern, kind: 'word', start: hit.start, end: hit.end, replacement: REDACTED });
      cursor = hit.end;
    } else {
      if (!value.alreadyRedacted) matches.push({ pattern: hit.pattern, kind: 'value', ...value.span });
      cursor = value.span.end;
    }
  }
  return matches;
}

export function redact(text: string, patterns: readonly string[]): TextRedaction {
  const matches = findSensitive(text, patterns);
  let out = '';
  let last = 0;
  for (const match of matches) {
    out += text.slice(last, match.start) + match.replacement;
    last = match.end;
  }
  out += text.slice(last);
  return { text: out, redactions: matches.length, matchedPatterns: inOrder(patterns, matches.map((m) => m.pattern)) };
}

function inOrder(patterns: readonly string[], matched: readonly string[]): string[] {
  const seen = new Set(matched);
  return [...new Set(patterns)].filter((pattern) => seen.has(pattern));
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

interface ValueSpan {
  readonly span: { start: number; end: number; replacement: string };
  readonly alreadyRedacted: boolean;
}

/** The value assigned to the key around `hit`, or null when the word is not a key with a value. */
function valueAfter(text: string, hit: WordHit): ValueSpan | null {
  let keyStart = hit.start;
  while (keyStart > 0 && hit.start - keyStart < MAX_KEY_LENGTH && IDENTIFIER.test(text[keyStart - 1]!)) keyStart--;
  let i = hit.end;
  while (i < text.length && i - hit.end < MAX_KEY_LENGTH && IDENTIFIER.test(text[i]!)) i++;
  // `"key": …` — a JSON-style key; its unquoted values are replaced by a JSON string.
  const quotedKey = QUOTES.has(text[i] ?? '') && text[keyStart - 1] === text[i];
  if (quotedKey) i++;
  i = skipInlineSpace(text, i);
  const separator = text[i];
  if (separator !== '=' && separator !== ':') return null;
  i++;
  if ((separator === ':' && text[i] === '=') || (separator === '=' && (text[i] === '=' || text[i] === '>'))) i++;
  if (separator === ':' && text.startsWith('//', i)) return null; // a URL scheme, not a key
  i = skipInlineSpace(text, i);
  const span = scanValue(text, i, separator, quotedKey ? REDACTED_JSON : REDACTED);
  if (span === null) return null;
  const value = text.slice(span.start, span.end);
  return { span, alreadyRedacted: value === REDACTED || value === REDACTED_JSON };
}

function skipInlineSpace(text: string, i: number): number {
  while (i < text.length && INLINE_SPACE.test(text[i]!)) i++;
  return i;
}

function scanValue(text: string, i: number, separator: string, unquotedReplacement: string): ValueSpan['span'] | null {
  const first = text[i];
  if (first === undefined || first === '\n' || first === '\r') return null;
  if (QUOTES.has(first)) {
    const close = closingQuote(text, i);
    return close === i + 1 ? null : { start: i + 1, end: close, replacement: REDACTED };
  }
  if (first === '{' || first === '[') return { start: i, end: closingBracket(text, i), replacement: unquotedReplacement };
  const stop = separator === '=' ? /[\s&;,"'<>)\]}]/ : /[\r\n,;}\]]/;
  let end = i;
  while (end < text.length && !stop.test(text[end]!)) end++;
  while (end > i && INLINE_SPACE.test(text[end - 1]!)) end--;
  return end === i ? null : { start: i, end, replacement: unquotedReplacement };
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

/**
 * Redacts a JSON-like value (a tool result, say): object entries whose key names a
 * pattern get the value "[REDACTED]", strings are scanned as text. Arrays and plain
 * objects are copied; other objects pass through; a cycle becomes "[Circular]".
 */
export function redactValue(value: unknown, patterns: readonly string[]): ValueRedaction {
  const matched: string[] = [];
  let redactions = 0;
  const ancestors = new Set<object>();

  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const result = redact(v, patterns);
      redactions += result.redactions;
      matched.push(...result.matchedPatterns);
      return result.text;
    }
    if (typeof v !== 'object' || v === null || !isPlainContainer(v)) return v;
    if (ancestors.has(v)) return '[Circular]';
    ancestors.add(v);
    try {
      if (Array.isArray(v)) return v.map(walk);
      // fromEntries defines own properties, so a "__proto__" key stays a plain key.
      return Object.fromEntries(
        Object.entries(v).map(([key, child]) => {
          const pattern = matchingPattern(key, patterns);
          if (pattern === undefined || child === null || child === undefined || child === '' || child === REDACTED) {
            return [key, walk(child)];
          }
          redactions += 1;
          matched.push(pattern);
          return [key, REDACTED];
        }),
      );
    } finally {
      ancestors.delete(v);
    }
  };

  const result = walk(value);
  return { value: result, redactions, matchedPatterns: inOrder(patterns, matched) };
}

function isPlainContainer(v: object): boolean {
  if (Array.isArray(v)) return true;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * What the agent may see of a result: redacted with the policy's sensitive patterns when
 * its `data.redactForAgent` is set, unchanged (and uncounted) otherwise.
 */
export function redactForAgent(policy: EffectivePolicy, value: unknown): ValueRedaction {
  if (!policy.data.redactForAgent) return { value, redactions: 0, matchedPatterns: [] };
  return redactValue(value, policy.data.sensitivePatterns);
}
