// Minimal JSON support for tools (RFC 8259).
//
// JsonScanner validates while it walks the input and never builds a tree: a value is
// either skipped, decoded (strings, numbers) or re-emitted verbatim from the source.
// AssemblyScript has no exceptions, so failures are recorded on the scanner (first
// error wins) and every method returns false / null to make callers bail out.
// Offsets are UTF-16 code unit indices, i.e. the same as JavaScript string indices.

/** Deepest nesting the scanner accepts; keeps the recursive walk off the stack limit. */
export const MAX_DEPTH: i32 = 512;

// Character codes used by the scanner and writer.
const enum Ch {
  TAB = 0x09,
  LF = 0x0a,
  CR = 0x0d,
  SPACE = 0x20,
  QUOTE = 0x22,
  PLUS = 0x2b,
  COMMA = 0x2c,
  MINUS = 0x2d,
  DOT = 0x2e,
  SLASH = 0x2f,
  ZERO = 0x30,
  NINE = 0x39,
  COLON = 0x3a,
  UPPER_A = 0x41,
  UPPER_E = 0x45,
  UPPER_F = 0x46,
  OPEN_BRACKET = 0x5b,
  BACKSLASH = 0x5c,
  CLOSE_BRACKET = 0x5d,
  LOWER_A = 0x61,
  LOWER_B = 0x62,
  LOWER_E = 0x65,
  LOWER_F = 0x66,
  LOWER_N = 0x6e,
  LOWER_R = 0x72,
  LOWER_T = 0x74,
  LOWER_U = 0x75,
  OPEN_BRACE = 0x7b,
  CLOSE_BRACE = 0x7d,
}

export const enum JsonType {
  Object,
  Array,
  String,
  Number,
  Boolean,
  Null,
  /** Not the start of any value (or end of input). */
  Invalid,
}

/** JSON type name as reported to agents. */
export function typeName(t: JsonType): string {
  switch (t) {
    case JsonType.Object: return "object";
    case JsonType.Array: return "array";
    case JsonType.String: return "string";
    case JsonType.Number: return "number";
    case JsonType.Boolean: return "boolean";
    case JsonType.Null: return "null";
    default: return "invalid";
  }
}

// @ts-ignore: decorator
@inline function isDigit(c: i32): bool {
  return <u32>(c - Ch.ZERO) <= 9;
}

function hexValue(c: i32): i32 {
  if (isDigit(c)) return c - Ch.ZERO;
  if (<u32>(c - Ch.LOWER_A) <= 5) return c - Ch.LOWER_A + 10;
  if (<u32>(c - Ch.UPPER_A) <= 5) return c - Ch.UPPER_A + 10;
  return -1;
}

/** Human-readable form of a character code for error messages. */
export function describeChar(c: i32): string {
  if (c < 0) return "end of input";
  if (c > 0x20 && c < 0x7f) return "'" + String.fromCharCode(c) + "'";
  return "U+" + hex4(c, "0123456789ABCDEF");
}

// At least four hex digits. (Avoids toUpperCase(), which pulls in Unicode case tables.)
function hex4(c: i32, digits: string): string {
  let out = "";
  for (let shift = c > 0xffff ? 20 : 12; shift >= 0; shift -= 4) out += digits.charAt((c >> shift) & 0xf);
  return out;
}

export class JsonScanner {
  /** Cursor: index of the next unread code unit. */
  pos: i32 = 0;
  /** Key of the member most recently entered with nextMember(). */
  key: string = "";
  /** First failure, or null. */
  error: string | null = null;
  /** Offset the first failure refers to. */
  errorPos: i32 = -1;
  private depth: i32 = 0;

  constructor(public readonly src: string) {}

  get ok(): bool {
    return this.error === null;
  }

  /** "at offset N: reason", for wrapping into a tool error message. */
  errorDetail(): string {
    const error = this.error;
    return error === null ? "" : "at offset " + this.errorPos.toString() + ": " + error;
  }

  /** Records a failure (unless one is already recorded) and returns false. */
  fail(message: string, at: i32 = -1): bool {
    if (this.error === null) {
      this.error = message;
      this.errorPos = at < 0 ? this.pos : at;
    }
    return false;
  }

  /** Code unit at the cursor, or -1 at end of input. */
  peek(): i32 {
    return this.pos < this.src.length ? <i32>this.src.charCodeAt(this.pos) : -1;
  }

  skipWhitespace(): void {
    const src = this.src;
    const n = src.length;
    let p = this.pos;
    while (p < n) {
      const c = <i32>src.charCodeAt(p);
      if (c != Ch.SPACE && c != Ch.LF && c != Ch.CR && c != Ch.TAB) break;
      p++;
    }
    this.pos = p;
  }

  /** Type of the value at the cursor (after whitespace) without consuming it. */
  peekType(): JsonType {
    this.skipWhitespace();
    const c = this.peek();
    switch (c) {
      case Ch.OPEN_BRACE: return JsonType.Object;
      case Ch.OPEN_BRACKET: return JsonType.Array;
      case Ch.QUOTE: return JsonType.String;
      case Ch.LOWER_T:
      case Ch.LOWER_F: return JsonType.Boolean;
      case Ch.LOWER_N: return JsonType.Null;
      default: return c == Ch.MINUS || isDigit(c) ? JsonType.Number : JsonType.Invalid;
    }
  }

  /** Fails with "expected <what>", naming what was found instead. */
  expected(what: string): bool {
    return this.fail("expected " + what + " but found " + describeChar(this.peek()));
  }

  /** Call after the top-level value: only whitespace may follow. */
  finish(): bool {
    if (!this.ok) return false;
    this.skipWhitespace();
    if (this.pos < this.src.length) return this.expected("end of input after the JSON value");
    return true;
  }

  /** Validates and skips one value (and the whitespace before it). */
  skipValue(): bool {
    if (!this.ok) return false;
    switch (this.peekType()) {
      case JsonType.Object: {
        if (!this.enterObject()) return false;
        let i = 0;
        while (this.nextMember(i++)) {
          if (!this.skipValue()) return false;
        }
        return this.ok;
      }
      case JsonType.Array: {
        if (!this.enterArray()) return false;
        let i = 0;
        while (this.nextElement(i++)) {
          if (!this.skipValue()) return false;
        }
        return this.ok;
      }
      case JsonType.String: return this.scanString(false) !== null;
      case JsonType.Number: return this.skipNumber();
      case JsonType.Boolean: return this.peek() == Ch.LOWER_T ? this.literal("true") : this.literal("false");
      case JsonType.Null: return this.literal("null");
      default: return this.expected("a JSON value");
    }
  }

  /** Consumes '{'. Then loop `let i = 0; while (s.nextMember(i++)) { consume the value }`. */
  enterObject(): bool {
    if (this.peekType() != JsonType.Object) return this.expected("'{'");
    return this.enter();
  }

  /** Consumes '['. Then loop `let i = 0; while (s.nextElement(i++)) { consume the value }`. */
  enterArray(): bool {
    if (this.peekType() != JsonType.Array) return this.expected("'['");
    return this.enter();
  }

  private enter(): bool {
    if (++this.depth > MAX_DEPTH) return this.fail("nesting deeper than " + MAX_DEPTH.toString() + " levels");
    this.pos++;
    return true;
  }

  /**
   * Moves to the next member of the object being read (`index` = members seen so far).
   * On true, `key` holds the decoded key and the cursor is at the value, which the
   * caller must consume. On false the object is closed, or `ok` is false.
   */
  nextMember(index: i32): bool {
    if (!this.ok) return false;
    this.skipWhitespace();
    let c = this.peek();
    if (c == Ch.CLOSE_BRACE) {
      this.pos++;
      this.depth--;
      return false;
    }
    if (index > 0) {
      if (c != Ch.COMMA) return this.expected("',' or '}'");
      this.pos++;
      this.skipWhitespace();
      c = this.peek();
    }
    if (c != Ch.QUOTE) return this.expected(index > 0 ? "a property name" : "a property name or '}'");
    const key = this.scanString(true);
    if (key === null) return false;
    this.key = key;
    this.skipWhitespace();
    if (this.peek() != Ch.COLON) return this.expected("':'");
    this.pos++;
    this.skipWhitespace();
    return true;
  }

  /** Like nextMember() for arrays: on true the cursor is at the next element. */
  nextElement(index: i32): bool {
    if (!this.ok) return false;
    this.skipWhitespace();
    const c = this.peek();
    if (c == Ch.CLOSE_BRACKET) {
      this.pos++;
      this.depth--;
      return false;
    }
    if (index > 0) {
      if (c != Ch.COMMA) return this.expected("',' or ']'");
      this.pos++;
      this.skipWhitespace();
    }
    return true;
  }

  /** Decodes the string at the cursor; null (with `error` set) if it is not a valid string. */
  readString(): string | null {
    if (this.peekType() != JsonType.String) {
      this.expected("a string");
      return null;
    }
    return this.scanString(true);
  }

  /** Parses the number at the cursor; NaN (with `error` set) if it is not a valid number. */
  readNumber(): f64 {
    if (this.peekType() != JsonType.Number) {
      this.expected("a number");
      return NaN;
    }
    const start = this.pos;
    if (!this.skipNumber()) return NaN;
    return parseFloat(this.src.substring(start, this.pos));
  }

  // Scans a string starting at the opening quote. Returns the decoded text when
  // `decode` is set, otherwise "" (no allocation); null on error.
  private scanString(decode: bool): string | null {
    const src = this.src;
    const n = src.length;
    const open = this.pos;
    let p = open + 1;
    let runStart = p;
    let parts: string[] | null = null;
    while (true) {
      if (p >= n) {
        this.fail("unterminated string", open);
        return null;
      }
      const c = <i32>src.charCodeAt(p);
      if (c == Ch.QUOTE) break;
      if (c < 0x20) {
        this.fail("control character " + describeChar(c) + " in string must be escaped", p);
        return null;
      }
      if (c != Ch.BACKSLASH) {
        p++;
        continue;
      }
      const e = p + 1 < n ? <i32>src.charCodeAt(p + 1) : -1;
      let decoded = 0;
      let length = 2;
      switch (e) {
        case Ch.QUOTE: decoded = Ch.QUOTE; break;
        case Ch.BACKSLASH: decoded = Ch.BACKSLASH; break;
        case Ch.SLASH: decoded = Ch.SLASH; break;
        case Ch.LOWER_B: decoded = 0x08; break;
        case Ch.LOWER_F: decoded = 0x0c; break;
        case Ch.LOWER_N: decoded = Ch.LF; break;
        case Ch.LOWER_R: decoded = Ch.CR; break;
        case Ch.LOWER_T: decoded = Ch.TAB; break;
        case Ch.LOWER_U: {
          for (let k = 0; k < 4; k++) {
            const h = p + 2 + k < n ? hexValue(<i32>src.charCodeAt(p + 2 + k)) : -1;
            if (h < 0) {
              this.fail("invalid \\u escape in string", p);
              return null;
            }
            decoded = (decoded << 4) | h;
          }
          length = 6;
          break;
        }
        default: {
          this.fail("invalid escape sequence in string", p);
          return null;
        }
      }
      if (decode) {
        if (parts === null) parts = new Array<string>();
        parts.push(src.substring(runStart, p));
        parts.push(String.fromCharCode(decoded));
      }
      p += length;
      runStart = p;
    }
    this.pos = p + 1;
    if (!decode) return "";
    if (parts === null) return src.substring(open + 1, p);
    parts.push(src.substring(runStart, p));
    return concat(parts);
  }

  private skipNumber(): bool {
    const src = this.src;
    const n = src.length;
    let p = this.pos;
    if (p < n && <i32>src.charCodeAt(p) == Ch.MINUS) p++;
    // Integer part: a single 0, or a non-zero digit followed by digits.
    if (p >= n || !isDigit(<i32>src.charCodeAt(p))) return this.fail("invalid number: expected a digit", p);
    if (<i32>src.charCodeAt(p) == Ch.ZERO) {
      p++;
    } else {
      while (p < n && isDigit(<i32>src.charCodeAt(p))) p++;
    }
    if (p < n && <i32>src.charCodeAt(p) == Ch.DOT) {
      p++;
      if (p >= n || !isDigit(<i32>src.charCodeAt(p))) return this.fail("invalid number: expected a digit after '.'", p);
      while (p < n && isDigit(<i32>src.charCodeAt(p))) p++;
    }
    if (p < n && (<i32>src.charCodeAt(p) | 0x20) == Ch.LOWER_E) {
      p++;
      if (p < n && (<i32>src.charCodeAt(p) == Ch.PLUS || <i32>src.charCodeAt(p) == Ch.MINUS)) p++;
      if (p >= n || !isDigit(<i32>src.charCodeAt(p))) return this.fail("invalid number: expected a digit in the exponent", p);
      while (p < n && isDigit(<i32>src.charCodeAt(p))) p++;
    }
    this.pos = p;
    return true;
  }

  private literal(word: string): bool {
    const n = word.length;
    if (this.pos + n > this.src.length || this.src.substring(this.pos, this.pos + n) != word) {
      return this.fail("invalid literal, expected '" + word + "'");
    }
    this.pos += n;
    return true;
  }
}

/**
 * Concatenates strings in linear time and space. Use it instead of `parts.join("")`:
 * with --shrinkLevel >= 1, Array<string>#join falls back to `result += part` for each
 * part, which is quadratic, and the never-freeing stub runtime keeps every intermediate
 * string (a 300 KB string followed by a few thousand parts took 3 s and 900 MB).
 */
export function concat(parts: string[]): string {
  const n = parts.length;
  let length: usize = 0;
  for (let i = 0; i < n; i++) length += <usize>parts[i].length;
  if (length == 0) return "";
  const out = changetype<string>(__new(length << 1, idof<string>()));
  let at = changetype<usize>(out);
  for (let i = 0; i < n; i++) {
    const part = parts[i];
    const bytes = <usize>part.length << 1;
    memory.copy(at, changetype<usize>(part), bytes);
    at += bytes;
  }
  return out;
}

/** Formats a number the way JSON.stringify does for common values (integers without ".0"). */
export function formatNumber(x: f64): string {
  if (!isFinite<f64>(x)) return "null";
  // 2^53: beyond it i64 conversion would not be exact.
  if (x == Math.floor(x) && Math.abs(x) < 9007199254740992.0) return (<i64>x).toString();
  return x.toString();
}

/** Appends `s` as a JSON string literal (with quotes) to `out`. */
export function writeJsonString(out: string[], s: string): void {
  const n = s.length;
  out.push('"');
  let runStart = 0;
  for (let i = 0; i < n; i++) {
    const c = <i32>s.charCodeAt(i);
    let escaped: string | null = null;
    if (c == Ch.QUOTE) escaped = '\\"';
    else if (c == Ch.BACKSLASH) escaped = "\\\\";
    else if (c == Ch.LF) escaped = "\\n";
    else if (c == Ch.CR) escaped = "\\r";
    else if (c == Ch.TAB) escaped = "\\t";
    else if (c < 0x20) escaped = unicodeEscape(c);
    else if ((c & 0xf800) == 0xd800) {
      // Keep surrogate pairs; escape lone surrogates so the output stays valid UTF-8.
      const isPair = c < 0xdc00 && i + 1 < n && (<i32>s.charCodeAt(i + 1) & 0xfc00) == 0xdc00;
      if (isPair) {
        i++;
        continue;
      }
      escaped = unicodeEscape(c);
    }
    if (escaped !== null) {
      if (i > runStart) out.push(s.substring(runStart, i));
      out.push(escaped);
      runStart = i + 1;
    }
  }
  if (runStart < n) out.push(runStart == 0 ? s : s.substring(runStart, n));
  out.push('"');
}

/** `s` as a JSON string literal, e.g. for quoting names in error messages. */
export function quote(s: string): string {
  const out = new Array<string>();
  writeJsonString(out, s);
  return concat(out);
}

function unicodeEscape(c: i32): string {
  return "\\u" + hex4(c, "0123456789abcdef");
}

/** Streaming JSON writer; inserts commas and colons itself. */
export class JsonWriter {
  private parts: string[] = new Array<string>();
  // One entry per open container: true until its first element is written.
  private first: bool[] = new Array<bool>();
  private afterKey: bool = false;

  private separate(): void {
    if (this.afterKey) {
      this.afterKey = false;
      return;
    }
    const n = this.first.length;
    if (n == 0) return;
    if (this.first[n - 1]) this.first[n - 1] = false;
    else this.parts.push(",");
  }

  beginObject(): JsonWriter {
    this.separate();
    this.parts.push("{");
    this.first.push(true);
    return this;
  }

  endObject(): JsonWriter {
    this.first.pop();
    this.parts.push("}");
    return this;
  }

  beginArray(): JsonWriter {
    this.separate();
    this.parts.push("[");
    this.first.push(true);
    return this;
  }

  endArray(): JsonWriter {
    this.first.pop();
    this.parts.push("]");
    return this;
  }

  key(name: string): JsonWriter {
    this.separate();
    writeJsonString(this.parts, name);
    this.parts.push(":");
    this.afterKey = true;
    return this;
  }

  string(value: string): JsonWriter {
    this.separate();
    writeJsonString(this.parts, value);
    return this;
  }

  number(value: f64): JsonWriter {
    this.separate();
    this.parts.push(formatNumber(value));
    return this;
  }

  integer(value: i64): JsonWriter {
    this.separate();
    this.parts.push(value.toString());
    return this;
  }

  boolean(value: bool): JsonWriter {
    this.separate();
    this.parts.push(value ? "true" : "false");
    return this;
  }

  nullValue(): JsonWriter {
    this.separate();
    this.parts.push("null");
    return this;
  }

  /** Appends already-serialized, valid JSON (e.g. a value re-emitted from the input). */
  raw(json: string): JsonWriter {
    this.separate();
    this.parts.push(json);
    return this;
  }

  toString(): string {
    return concat(this.parts);
  }
}
