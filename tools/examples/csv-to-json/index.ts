// csv_to_json: converts CSV (RFC 4180: quoted fields, "" for a quote inside one, CRLF, LF or CR
// line ends, line breaks inside quotes) to JSON: an array of objects keyed by the header's
// column names, or an array of arrays of strings without a header. Options: the delimiter
// (one character: ";" or a tab for TSV), trimming blanks around fields, keeping empty lines,
// typing unquoted fields (numbers, booleans, null for empty).
//
// The ready example component: `npm run build:tools` builds it into
// tools/examples/csv_to_json.wasm (committed) and public/examples/csv_to_json.wasm (served by
// the app). It is not a bundled tool: upload it in the Tools view. It imports nothing.

import { liftString, returnErr, returnOk, returnString } from "../../lib/abi";
import { JsonScanner, JsonType, JsonWriter, concat, describeChar, quote } from "../../lib/json";
export { cabi_realloc } from "../../lib/abi";

const METADATA = `{
  "name": "csv_to_json",
  "description": "Converts CSV text to JSON. With a header row (the default) each row becomes an object keyed by the column names ({\\"columns\\", \\"rows\\", \\"rowCount\\"}); with header false each row is an array of strings. Follows RFC 4180: fields containing the delimiter, quotes or line breaks are enclosed in double quotes, and a quote inside one is written twice (\\"\\"). Every row must have as many fields as the header. Malformed CSV is refused with its line and column.",
  "version": "1.0.0",
  "author": "Browser MCP Sandbox examples",
  "tags": ["csv", "json", "convert", "table", "example"],
  "categories": ["data"],
  "inputSchema": {
    "type": "object",
    "properties": {
      "csv": { "type": "string", "description": "The CSV text." },
      "delimiter": { "type": "string", "minLength": 1, "maxLength": 1, "default": ",", "description": "The field delimiter: one character other than a quote or a line break, e.g. \\";\\" or \\"\\\\t\\" (TSV)." },
      "header": { "type": "boolean", "default": true, "description": "The first row names the columns: rows become objects. When false, rows are arrays." },
      "trim": { "type": "boolean", "default": false, "description": "Remove spaces and tabs around fields (also around quoted ones)." },
      "types": { "type": "boolean", "default": false, "description": "Convert unquoted fields: JSON numbers (42, -1.5, 2e3) to numbers, true/false to booleans, empty fields to null. Quoted fields stay strings." },
      "skipEmptyLines": { "type": "boolean", "default": true, "description": "Ignore empty lines. When false, an empty line is a row with one empty field." }
    },
    "required": ["csv"],
    "additionalProperties": false
  },
  "permissions": [],
  "limits": { "memoryMb": 64, "cpuMs": 2000 }
}`;

const QUOTE: i32 = 0x22;
const LF: i32 = 0x0a;
const CR: i32 = 0x0d;
const SPACE: i32 = 0x20;
const TAB: i32 = 0x09;
const BOM: i32 = 0xfeff;

export function describe(): usize {
  return returnString(METADATA);
}

// Options of the current call.
let delimiter: i32 = 0x2c; // ','
let trim = false;
let skipEmptyLines = true;

// The records read: their fields, whether each field was quoted, the line each record starts on.
let records = new Array<Array<string>>();
let quotedFields = new Array<Array<bool>>();
let recordLines = new Array<i32>();
let parseError: string | null = null;

export function call(argsPtr: usize, argsLen: usize): usize {
  const args = new JsonScanner(liftString(argsPtr, argsLen));
  let csv: string | null = null;
  let header = true;
  let types = false;
  delimiter = 0x2c;
  trim = false;
  skipEmptyLines = true;
  if (args.peekType() != JsonType.Object) return invalidArgs("expected a JSON object");
  args.enterObject();
  let i = 0;
  while (args.nextMember(i++)) {
    const key = args.key;
    if (key == "csv") {
      if (args.peekType() != JsonType.String) return invalidArgs('"csv" must be a string');
      csv = args.readString();
    } else if (key == "delimiter") {
      if (args.peekType() != JsonType.String) return invalidArgs('"delimiter" must be a string of one character');
      const d = args.readString();
      if (d === null) break;
      if (d.length != 1) return invalidArgs('"delimiter" must be one character, got ' + quote(d));
      const c = <i32>d.charCodeAt(0);
      if (c == QUOTE || c == LF || c == CR) return invalidArgs('"delimiter" cannot be ' + describeChar(c) + " (quotes and line breaks have their own meaning in CSV)");
      delimiter = c;
    } else if (key == "header" || key == "trim" || key == "types" || key == "skipEmptyLines") {
      if (args.peekType() != JsonType.Boolean) return invalidArgs(quote(key) + " must be true or false");
      const value = args.peek() == 0x74; // 't'
      args.skipValue();
      if (key == "header") header = value;
      else if (key == "trim") trim = value;
      else if (key == "types") types = value;
      else skipEmptyLines = value;
    } else {
      return invalidArgs("unknown property " + quote(key) + ' (expected "csv", "delimiter", "header", "trim", "types", "skipEmptyLines")');
    }
  }
  if (!args.finish()) return invalidArgs("not valid JSON (" + args.errorDetail() + ")");
  if (csv === null) return invalidArgs('missing required property "csv"');

  if (!parse(csv)) return returnErr(parseError!);

  const w = new JsonWriter();
  w.beginObject();
  if (header) {
    if (records.length == 0) return returnErr("the CSV is empty: there is no header row (set header to false to accept an empty table)");
    const columns = records[0];
    const headerError = checkHeader(columns);
    if (headerError !== null) return returnErr("line " + recordLines[0].toString() + ": " + headerError);
    w.key("columns").beginArray();
    for (let c = 0; c < columns.length; c++) w.string(columns[c]);
    w.endArray();
    w.key("rows").beginArray();
    for (let r = 1; r < records.length; r++) {
      const fields = records[r];
      if (fields.length != columns.length) {
        return returnErr(
          "line " + recordLines[r].toString() + ": row " + r.toString() + " has " + plural(fields.length, "field") +
            " but the header has " + plural(columns.length, "column") +
            (fields.length == 1 && fields[0].length == 0 ? " (an empty line: leave skipEmptyLines on to ignore it)" : ""),
        );
      }
      w.beginObject();
      for (let c = 0; c < fields.length; c++) {
        w.key(columns[c]);
        writeField(w, fields[c], quotedFields[r][c], types);
      }
      w.endObject();
    }
    w.endArray();
    w.key("rowCount").integer(records.length - 1);
  } else {
    w.key("rows").beginArray();
    for (let r = 0; r < records.length; r++) {
      const fields = records[r];
      w.beginArray();
      for (let c = 0; c < fields.length; c++) writeField(w, fields[c], quotedFields[r][c], types);
      w.endArray();
    }
    w.endArray();
    w.key("rowCount").integer(records.length);
  }
  w.endObject();
  return returnOk(w.toString());
}

function invalidArgs(reason: string): usize {
  return returnErr("invalid arguments: " + reason);
}

function plural(n: i32, word: string): string {
  return n.toString() + " " + word + (n == 1 ? "" : "s");
}

/** Column names must be non-empty and distinct: they become the rows' keys. */
function checkHeader(columns: Array<string>): string | null {
  for (let c = 0; c < columns.length; c++) {
    const name = columns[c];
    if (name.length == 0) {
      return "column " + (c + 1).toString() + " of the header is empty; every column needs a name (or set header to false)";
    }
    for (let d = 0; d < c; d++) {
      if (columns[d] == name) {
        return "the header names column " + (d + 1).toString() + " and column " + (c + 1).toString() + " both " + quote(name) + "; column names must differ";
      }
    }
  }
  return null;
}

function writeField(w: JsonWriter, field: string, quoted: bool, types: bool): void {
  if (!types || quoted) {
    w.string(field);
  } else if (field.length == 0) {
    w.nullValue();
  } else if (field == "true" || field == "false") {
    w.boolean(field == "true");
  } else if (isJsonNumber(field)) {
    w.raw(field); // valid JSON as it stands, and exactly as written (no rounding through f64)
  } else {
    w.string(field);
  }
}

/** JSON's number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? — so "007" and "1." stay strings. */
function isJsonNumber(s: string): bool {
  const n = s.length;
  let i = 0;
  if (i < n && s.charCodeAt(i) == 0x2d) i++; // '-'
  if (i >= n) return false;
  if (s.charCodeAt(i) == 0x30) i++;
  else if (isDigit(<i32>s.charCodeAt(i))) while (i < n && isDigit(<i32>s.charCodeAt(i))) i++;
  else return false;
  if (i < n && s.charCodeAt(i) == 0x2e) { // '.'
    i++;
    if (i >= n || !isDigit(<i32>s.charCodeAt(i))) return false;
    while (i < n && isDigit(<i32>s.charCodeAt(i))) i++;
  }
  if (i < n && (s.charCodeAt(i) | 0x20) == 0x65) { // 'e' or 'E'
    i++;
    if (i < n && (s.charCodeAt(i) == 0x2b || s.charCodeAt(i) == 0x2d)) i++;
    if (i >= n || !isDigit(<i32>s.charCodeAt(i))) return false;
    while (i < n && isDigit(<i32>s.charCodeAt(i))) i++;
  }
  return i == n;
}

function isDigit(c: i32): bool {
  return <u32>(c - 0x30) <= 9;
}

/** A blank that trim removes: space or tab, unless it is the delimiter. */
function isBlank(c: i32): bool {
  return (c == SPACE || c == TAB) && c != delimiter;
}

function fail(line: i32, column: i32, message: string): bool {
  parseError = "line " + line.toString() + ", column " + column.toString() + ": " + message;
  return false;
}

/**
 * Reads every record of `src` into `records` (one field per delimiter-separated value; a
 * quoted field may span lines). Returns false with `parseError` set ("line L, column C: …",
 * both counted from 1, columns in UTF-16 code units) on malformed CSV.
 */
function parse(src: string): bool {
  records = new Array<Array<string>>();
  quotedFields = new Array<Array<bool>>();
  recordLines = new Array<i32>();
  parseError = null;
  const n = src.length;
  let i = 0;
  if (n > 0 && <i32>src.charCodeAt(0) == BOM) i = 1;
  let line = 1;
  let lineStart = i; // index of the line's first character, for columns
  while (i < n) {
    const recordLine = line;
    const fields = new Array<string>();
    const quoted = new Array<bool>();
    for (;;) {
      let j = i;
      if (trim) while (j < n && isBlank(<i32>src.charCodeAt(j))) j++;
      let value: string;
      let isQuoted = false;
      if (j < n && <i32>src.charCodeAt(j) == QUOTE) {
        isQuoted = true;
        const openLine = line;
        const openColumn = j - lineStart + 1;
        j++;
        const parts = new Array<string>();
        let runStart = j;
        for (;;) {
          if (j >= n) {
            return fail(openLine, openColumn, "unterminated quoted field: the quote that opens it is never closed (a quote inside a quoted field is written twice: \"\")");
          }
          const c = <i32>src.charCodeAt(j);
          if (c == QUOTE) {
            if (j + 1 < n && <i32>src.charCodeAt(j + 1) == QUOTE) {
              parts.push(src.substring(runStart, j + 1));
              j += 2;
              runStart = j;
              continue;
            }
            parts.push(src.substring(runStart, j));
            j++;
            break;
          }
          if (c == LF || (c == CR && !(j + 1 < n && <i32>src.charCodeAt(j + 1) == LF))) {
            line++;
            lineStart = j + 1;
          }
          j++;
        }
        value = concat(parts);
        if (trim) while (j < n && isBlank(<i32>src.charCodeAt(j))) j++;
        if (j < n) {
          const c = <i32>src.charCodeAt(j);
          if (c != delimiter && c != LF && c != CR) {
            return fail(line, j - lineStart + 1, "unexpected " + describeChar(c) + " after the closing quote of a quoted field (expected " + describeChar(delimiter) + " or the end of the line; a quote inside a quoted field is written twice: \"\")");
          }
        }
      } else {
        j = i;
        while (j < n) {
          const c = <i32>src.charCodeAt(j);
          if (c == delimiter || c == LF || c == CR) break;
          if (c == QUOTE) {
            const blanksBefore = !trim && trimBlanks(src.substring(i, j)).length == 0;
            return fail(line, j - lineStart + 1, "a quote inside an unquoted field; enclose the whole field in quotes and write the quote twice (\"\")" + (blanksBefore ? ", or set trim to true to allow blanks before the opening quote" : ""));
          }
          j++;
        }
        value = src.substring(i, j);
        if (trim) value = trimBlanks(value);
      }
      fields.push(value);
      quoted.push(isQuoted);
      i = j;
      if (i < n && <i32>src.charCodeAt(i) == delimiter) {
        i++;
        continue; // a delimiter at the very end still opens an (empty) last field
      }
      if (i < n) { // a line end
        if (<i32>src.charCodeAt(i) == CR && i + 1 < n && <i32>src.charCodeAt(i + 1) == LF) i++;
        i++;
        line++;
        lineStart = i;
      }
      break;
    }
    if (skipEmptyLines && fields.length == 1 && !quoted[0] && fields[0].length == 0) continue;
    records.push(fields);
    quotedFields.push(quoted);
    recordLines.push(recordLine);
  }
  return true;
}

function trimBlanks(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isBlank(<i32>s.charCodeAt(start))) start++;
  while (end > start && isBlank(<i32>s.charCodeAt(end - 1))) end--;
  return start == 0 && end == s.length ? s : s.substring(start, end);
}
