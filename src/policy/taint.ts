// Secret values remembered by value ("taint"): once a call's redaction has masked a value, the
// same characters are masked wherever they turn up later in that call (a tool that echoes its
// argument, a log line quoting it), even with no key or format around them.
//
// Matching ignores case: a tool that echoes `Hunter-Two-9` as `HUNTER-TWO-9` or lower-cases it
// has not made it any less the secret. Case is folded one UTF-16 code unit at a time (`fold`),
// so a match keeps the span of the text it was found in. A value of 8 characters or more matches anywhere (a
// secret inside a longer token or a URL is still the secret); a shorter one only where it
// stands alone, not inside a longer word or number — "pass" must not mask "passed", "1234"
// not "12345". All remembered values are found in one pass with an Aho–Corasick
// automaton, so the scan stays linear in the text whatever the number of values; the automaton
// is rebuilt only when values were added since the last scan.
//
// Values too short to be secrets ("a", "abc"), placeholders ("****", "null") and values that
// are part of the redaction marker are not remembered: masking them everywhere would mangle
// ordinary text and make redaction unstable. The set is bounded (value length, total size):
// beyond it new values are still masked where a rule finds them, but no longer by value.

const MIN_TAINT_LENGTH = 4;
const SHORT_TAINT_LENGTH = 8;
const MAX_TAINT_LENGTH = 8 * 1024;
const MAX_TAINT_TOTAL = 256 * 1024;
const NOT_SECRETS = new Set(['null', 'none', 'true', 'false', 'undefined', 'nil', 'value', 'values']);

export interface TaintHit {
  readonly start: number;
  readonly end: number;
  /** The name the value was remembered under (the pattern or detector that found it). */
  readonly name: string;
}

interface Automaton {
  readonly next: Transitions;
  readonly fail: Int32Array;
  /** Length of the longest value that ends at a node (itself or through its failure chain). */
  readonly outLength: Int32Array;
  readonly outName: string[];
  /** Code units that begin some value: from the root, every other one stays at the root. */
  readonly starts: Uint8Array;
}

/**
 * The goto function (node, UTF-16 code unit) → node, as an open-addressing hash table in typed
 * arrays: no allocation per lookup, which matters when a megabyte is scanned.
 */
class Transitions {
  private readonly from: Int32Array;
  private readonly code: Int32Array;
  private readonly to: Int32Array;
  private readonly mask: number;

  constructor(capacity: number) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.from = new Int32Array(size).fill(-1);
    this.code = new Int32Array(size);
    this.to = new Int32Array(size);
    this.mask = size - 1;
  }

  private slot(from: number, code: number): number {
    let i = (Math.imul(from, 0x9e3779b1) ^ code) & this.mask;
    while (this.from[i] !== -1 && (this.from[i] !== from || this.code[i] !== code)) i = (i + 1) & this.mask;
    return i;
  }

  get(from: number, code: number): number {
    const i = this.slot(from, code);
    return this.from[i] === -1 ? -1 : this.to[i]!;
  }

  set(from: number, code: number, to: number): void {
    const i = this.slot(from, code);
    this.from[i] = from;
    this.code[i] = code;
    this.to[i] = to;
  }

  *entries(): Generator<[from: number, code: number, to: number]> {
    for (let i = 0; i <= this.mask; i++) if (this.from[i] !== -1) yield [this.from[i]!, this.code[i]!, this.to[i]!];
  }
}

export class TaintSet {
  private readonly values = new Map<string, string>();
  private total = 0;
  private automaton: Automaton | null = null;

  constructor(private readonly markers: readonly string[]) {}

  get size(): number {
    return this.values.size;
  }

  /** Remembers `value` under `name`; false when it is not worth remembering (see above). */
  add(secret: string, name: string): boolean {
    const value = secret.trim();
    if (!this.worthRemembering(value)) return false;
    if (this.values.has(value)) return true;
    if (this.total + value.length > MAX_TAINT_TOTAL) return false;
    this.values.set(value, name);
    this.total += value.length;
    this.automaton = null;
    return true;
  }

  private worthRemembering(value: string): boolean {
    if (value.length < MIN_TAINT_LENGTH || value.length > MAX_TAINT_LENGTH) return false;
    if (NOT_SECRETS.has(value.toLowerCase())) return false;
    if (/^(.)\1*$/su.test(value)) return false; // "****", "xxxx"
    return !this.markers.some((marker) => marker.includes(value) || value.includes(marker));
  }

  /**
   * The spans of text covered by remembered values: sorted, overlapping occurrences joined,
   * each named after its first value. Occurrences overlapping a span of `avoid` (sorted, not
   * overlapping: the markers already in the text) are skipped.
   */
  find(text: string, avoid: readonly { start: number; end: number }[] = []): TaintHit[] {
    if (this.values.size === 0) return [];
    const a = (this.automaton ??= build(this.values));
    const hits: { start: number; end: number; name: string }[] = [];
    let skip = 0;
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      const code = fold(text.charCodeAt(i));
      if (state === 0 && a.starts[code] === 0) continue;
      let to = a.next.get(state, code);
      while (to === -1 && state !== 0) {
        state = a.fail[state]!;
        to = a.next.get(state, code);
      }
      state = to === -1 ? 0 : to;
      const length = a.outLength[state]!;
      if (length === 0) continue;
      const start = i + 1 - length;
      const end = i + 1;
      if (length < SHORT_TAINT_LENGTH && !standsAlone(text, start, end)) continue;
      while (skip < avoid.length && avoid[skip]!.end <= start) skip++;
      if (skip < avoid.length && avoid[skip]!.start < end) continue;
      // Occurrences arrive by their end; one starting no later than the last covers it.
      let last = hits.at(-1);
      while (last !== undefined && start <= last.start) {
        hits.pop();
        last = hits.at(-1);
      }
      if (last !== undefined && start < last.end) last.end = end;
      else hits.push({ start, end, name: a.outName[state]! });
    }
    return hits;
  }
}

const WORD = /[\p{L}\p{N}]/u;

let folds: Uint16Array | null = null;

/**
 * The lower case of one UTF-16 code unit, where that is one code unit too (it is for every
 * letter but a handful like `İ`, which stay as they are). The table is built on first use.
 */
function fold(code: number): number {
  if (code < 128) return code >= 65 && code <= 90 ? code + 32 : code;
  if (folds === null) {
    folds = new Uint16Array(65536);
    for (let c = 0; c < 65536; c++) {
      const lower = String.fromCharCode(c).toLowerCase();
      folds[c] = lower.length === 1 ? lower.charCodeAt(0) : c;
    }
  }
  return folds[code]!;
}

/** Is text[start, end) not glued to a letter or digit that continues its own first or last character? */
function standsAlone(text: string, start: number, end: number): boolean {
  const glued = (outside: string | undefined, inside: string): boolean => outside !== undefined && WORD.test(outside) && WORD.test(inside);
  return !glued(text[start - 1], text[start]!) && !glued(text[end], text[end - 1]!);
}

function build(values: ReadonlyMap<string, string>): Automaton {
  let nodes = 1;
  for (const value of values.keys()) nodes += value.length;
  const next = new Transitions(nodes);
  const fail = new Int32Array(nodes);
  const outLength = new Int32Array(nodes);
  const outName: string[] = new Array<string>(nodes).fill('');
  const starts = new Uint8Array(65536);
  let count = 1;
  for (const [value, name] of values) {
    let node = 0;
    starts[fold(value.charCodeAt(0))] = 1;
    for (let i = 0; i < value.length; i++) {
      const code = fold(value.charCodeAt(i));
      let to = next.get(node, code);
      if (to === -1) {
        to = count++;
        next.set(node, code, to);
      }
      node = to;
    }
    outLength[node] = value.length;
    outName[node] = name;
  }
  // Breadth-first over the trie: a node's failure link is the longest proper suffix of its
  // string that is also in the trie; it is known once every shallower node has its own.
  const children: number[][] = Array.from({ length: count }, () => []);
  const codes: number[][] = Array.from({ length: count }, () => []);
  for (const [from, code, to] of next.entries()) {
    children[from]!.push(to);
    codes[from]!.push(code);
  }
  const queue: number[] = [...children[0]!];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head]!;
    const kids = children[node]!;
    for (let k = 0; k < kids.length; k++) {
      const child = kids[k]!;
      const code = codes[node]![k]!;
      let f = fail[node]!;
      let to = next.get(f, code);
      while (to === -1 && f !== 0) {
        f = fail[f]!;
        to = next.get(f, code);
      }
      fail[child] = to !== -1 && to !== child ? to : 0;
      if (outLength[child] === 0) {
        outLength[child] = outLength[fail[child]!]!;
        outName[child] = outName[fail[child]!]!;
      }
      queue.push(child);
    }
  }
  return { next, fail, outLength, outName, starts };
}
