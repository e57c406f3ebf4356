// json_query: looks up one value in a JSON document by path, e.g. $.a.b[0]["key"].
// The document is scanned once without building a tree; the value found is
// re-emitted verbatim. The whole document is validated, also after a match.

import { isSpace } from "~lib/util/string";
import { liftString, returnErr, returnOk, returnString } from "../../lib/abi";
import { JsonScanner, JsonType, JsonWriter, concat, describeChar, quote, typeName } from "../../lib/json";
export { cabi_realloc } from "../../lib/abi";

const METADATA = `{
  "name": "json_query",
  "description": "Looks up a value in a JSON document by path and returns whether it was found, its JSON type and the value itself. Path syntax: $.a.b[0][\\"key with space\\"] (the leading $ is optional; use brackets with quotes for keys that contain '.', '[' or spaces). Duplicate keys resolve to the last occurrence, as in JSON.parse.",
  "version": "0.1.0",
  "author": "Browser MCP Sandbox",
  "tags": ["json", "query", "path"],
  "categories": ["data"],
  "inputSchema": {
    "type": "object",
    "properties": {
      "json": { "type": "string", "description": "The JSON document, as text." },
      "path": { "type": "string", "description": "Path to the value, e.g. $.items[0].name or a.b[\\"c d\\"]." }
    },
    "required": ["json", "path"],
    "additionalProperties": false
  },
  "permissions": [],
  "limits": { "memoryMb": 64, "cpuMs": 2000 }
}`;

export function describe(): usize {
  return returnString(METADATA);
}

export function call(argsPtr: usize, argsLen: usize): usize {
  const args = new JsonScanner(liftString(argsPtr, argsLen));
  let json: string | null = null;
  let path: string | null = null;
  if (args.peekType() != JsonType.Object) return invalidArgs("expected a JSON object");
  args.enterObject();
  let i = 0;
  while (args.nextMember(i++)) {
    const key = args.key;
    if (key == "json" || key == "path") {
      if (args.peekType() != JsonType.String) return invalidArgs(quote(key) + " must be a string");
      const value = args.readString();
      if (key == "json") json = value;
      else path = value;
    } else {
      return invalidArgs("unknown property " + quote(key));
    }
  }
  if (!args.finish()) return invalidArgs("not valid JSON (" + args.errorDetail() + ")");
  if (json === null) return invalidArgs('missing required property "json"');
  if (path === null) return invalidArgs('missing required property "path"');

  const pathError = parsePath(path);
  if (pathError !== null) return returnErr("invalid path: " + pathError);

  const doc = new JsonScanner(json);
  foundStart = -1;
  if (!query(doc, 0) || !doc.finish()) return returnErr("invalid json " + doc.errorDetail());

  const w = new JsonWriter();
  w.beginObject();
  if (foundStart < 0) {
    w.key("found").boolean(false);
  } else {
    const value = json.substring(foundStart, foundEnd);
    const probe = new JsonScanner(value);
    w.key("found").boolean(true);
    w.key("type").string(typeName(probe.peekType()));
    w.key("value").raw(value);
  }
  w.endObject();
  return returnOk(w.toString());
}

function invalidArgs(reason: string): usize {
  return returnErr("invalid arguments: " + reason);
}

// ---- Path -------------------------------------------------------------------------

// Parsed path: one entry per segment. An index >= 0 selects an array element,
// otherwise the key selects an object member.
let segmentKeys = new Array<string>();
let segmentIndexes = new Array<i32>();

function addKey(key: string): void {
  segmentKeys.push(key);
  segmentIndexes.push(-1);
}

function addIndex(index: i32): void {
  segmentKeys.push("");
  segmentIndexes.push(index);
}

// Bare names stop at these: . [ ] quotes and whitespace.
function isNameChar(c: i32): bool {
  return c != 0x2e && c != 0x5b && c != 0x5d && c != 0x22 && c != 0x27 && !isSpace(<u32>c);
}

// Grammar: ['$'] [name] { '.' name | '[' digits ']' | '[' quoted ']' }, surrounding
// whitespace ignored. Returns an error message, or null when the path is valid.
function parsePath(raw: string): string | null {
  // Reset: an instance is normally used once, but must stay correct if reused.
  segmentKeys = new Array<string>();
  segmentIndexes = new Array<i32>();
  const p = raw.trim();
  const n = p.length;
  let i = 0;
  if (n > 0 && p.charCodeAt(0) == 0x24) i = 1; // '$'
  else if (n > 0 && isNameChar(p.charCodeAt(0))) i = readName(p, 0);
  while (i < n) {
    const c = p.charCodeAt(i);
    if (c == 0x2e) { // '.'
      const end = readName(p, i + 1);
      if (end == i + 1) return "expected a property name after '.' at position " + (i + 1).toString();
      i = end;
    } else if (c == 0x5b) { // '['
      const end = readBracket(p, i + 1);
      if (end < 0) return bracketError;
      i = end;
    } else {
      return "unexpected " + describeChar(c) + " at position " + i.toString();
    }
  }
  return null;
}

function readName(p: string, start: i32): i32 {
  let i = start;
  while (i < p.length && isNameChar(p.charCodeAt(i))) i++;
  if (i > start) addKey(p.substring(start, i));
  return i;
}

let bracketError = "";

// Reads `digits]` or `"key"]` / `'key']` after '['. Returns the index after ']', or -1.
function readBracket(p: string, start: i32): i32 {
  const n = p.length;
  let i = start;
  const c = i < n ? <i32>p.charCodeAt(i) : -1;
  if (<u32>(c - 0x30) <= 9) {
    let index: i64 = 0;
    while (i < n && <u32>(p.charCodeAt(i) - 0x30) <= 9) {
      index = index * 10 + <i64>(p.charCodeAt(i) - 0x30);
      if (index > <i64>i32.MAX_VALUE) {
        bracketError = "array index too large at position " + start.toString();
        return -1;
      }
      i++;
    }
    addIndex(<i32>index);
  } else if (c == 0x22 || c == 0x27) {
    const key = readQuoted(p, i);
    if (key === null) return -1;
    addKey(key);
    i = quotedEnd;
  } else {
    bracketError = "expected an array index or a quoted key after '[' at position " + (start - 1).toString();
    return -1;
  }
  if (i >= n || p.charCodeAt(i) != 0x5d) {
    bracketError = "expected ']' at position " + i.toString();
    return -1;
  }
  return i + 1;
}

let quotedEnd = 0;

// A key in double or single quotes. Backslash escapes: \" \' \\ \/ \b \f \n \r \t \uXXXX.
function readQuoted(p: string, open: i32): string | null {
  const n = p.length;
  const q = p.charCodeAt(open);
  const parts = new Array<string>();
  let i = open + 1;
  while (i < n) {
    const c = p.charCodeAt(i);
    if (c == q) {
      quotedEnd = i + 1;
      return concat(parts);
    }
    if (c != 0x5c) {
      parts.push(String.fromCharCode(c));
      i++;
      continue;
    }
    const e = i + 1 < n ? <i32>p.charCodeAt(i + 1) : -1;
    let decoded = -1;
    let length = 2;
    switch (e) {
      case 0x22: case 0x27: case 0x5c: case 0x2f: decoded = e; break;
      case 0x62: decoded = 0x08; break; // b
      case 0x66: decoded = 0x0c; break; // f
      case 0x6e: decoded = 0x0a; break; // n
      case 0x72: decoded = 0x0d; break; // r
      case 0x74: decoded = 0x09; break; // t
      case 0x75: { // uXXXX
        if (i + 6 <= n) {
          const hex = p.substring(i + 2, i + 6);
          decoded = isHex4(hex) ? I32.parseInt(hex, 16) : -1;
        }
        length = 6;
        break;
      }
    }
    if (decoded < 0) {
      bracketError = "invalid escape in quoted key at position " + i.toString();
      return null;
    }
    parts.push(String.fromCharCode(decoded));
    i += length;
  }
  bracketError = "unterminated quoted key starting at position " + open.toString();
  return null;
}

function isHex4(s: string): bool {
  for (let i = 0; i < 4; i++) {
    const c = s.charCodeAt(i) | 0x20;
    if (!(<u32>(c - 0x30) <= 9 || <u32>(c - 0x61) <= 5)) return false;
  }
  return true;
}

// ---- Query ------------------------------------------------------------------------

// Source range of the value found, or foundStart = -1.
let foundStart: i32 = -1;
let foundEnd: i32 = -1;

// Scans the value at the cursor. `segment` is the index of the next path segment to
// match, or -1 when this value is off the path and only needs validating.
function query(doc: JsonScanner, segment: i32): bool {
  if (segment < 0) return doc.skipValue();
  const type = doc.peekType();
  if (segment == segmentKeys.length) {
    const start = doc.pos;
    if (!doc.skipValue()) return false;
    foundStart = start;
    foundEnd = doc.pos;
    return true;
  }
  const index = segmentIndexes[segment];
  if (type == JsonType.Object && index < 0) {
    const key = segmentKeys[segment];
    doc.enterObject();
    let i = 0;
    while (doc.nextMember(i++)) {
      if (doc.key == key) {
        // A later duplicate key replaces an earlier one, as in JSON.parse.
        foundStart = -1;
        if (!query(doc, segment + 1)) return false;
      } else if (!doc.skipValue()) {
        return false;
      }
    }
    return doc.ok;
  }
  if (type == JsonType.Array && index >= 0) {
    doc.enterArray();
    let i = 0;
    while (doc.nextElement(i)) {
      if (!query(doc, i == index ? segment + 1 : -1)) return false;
      i++;
    }
    return doc.ok;
  }
  return doc.skipValue();
}
