// fetch_url: an HTTP request carried out by the host (tool workers have no network).
// The host applies the agent's network policy; its refusals and failures come back as
// err(message), passed through verbatim. The response body is cut to maxBytes.

import { liftString, returnErr, returnOk, returnString } from "../../lib/abi";
import { httpFetch } from "../../lib/host";
import { JsonScanner, JsonType, JsonWriter, quote } from "../../lib/json";
export { cabi_realloc } from "../../lib/abi";

const DEFAULT_MAX_BYTES: i32 = 65536;
const MAX_MAX_BYTES: i32 = 4194304;

const METADATA = `{
  "name": "fetch_url",
  "description": "Fetches a URL over HTTP(S) and returns the status, response headers and body text. The body is cut to maxBytes UTF-8 bytes (default 65536; truncated: true when cut; totalBytes is the full size). Which hosts may be reached is decided by the agent's network policy.",
  "version": "0.1.0",
  "author": "Browser MCP Sandbox",
  "tags": ["http", "fetch", "web", "network"],
  "categories": ["network"],
  "inputSchema": {
    "type": "object",
    "properties": {
      "url": { "type": "string", "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://", "description": "Absolute http:// or https:// URL." },
      "method": { "type": "string", "enum": ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"], "default": "GET" },
      "headers": { "type": "object", "additionalProperties": { "type": "string" }, "description": "Request headers." },
      "body": { "type": "string", "description": "Request body (not with GET or HEAD)." },
      "maxBytes": { "type": "integer", "minimum": 0, "maximum": 4194304, "default": 65536, "description": "Longest body to return, in UTF-8 bytes." }
    },
    "required": ["url"],
    "additionalProperties": false
  },
  "permissions": ["network"],
  "limits": { "memoryMb": 128, "cpuMs": 30000 }
}`;

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

export function describe(): usize {
  return returnString(METADATA);
}

export function call(argsPtr: usize, argsLen: usize): usize {
  const src = liftString(argsPtr, argsLen);
  const args = new JsonScanner(src);
  let url: string | null = null;
  let method = "GET";
  let body: string | null = null;
  let maxBytes = DEFAULT_MAX_BYTES;
  const headers = new JsonWriter();
  headers.beginObject();
  if (args.peekType() != JsonType.Object) return invalid("expected a JSON object");
  args.enterObject();
  let i = 0;
  while (args.nextMember(i++)) {
    const key = args.key;
    if (key == "url" || key == "method" || key == "body") {
      if (args.peekType() != JsonType.String) return invalid(quote(key) + " must be a string");
      const value = args.readString();
      if (value === null) break;
      if (key == "url") url = value;
      else if (key == "method") method = value;
      else body = value;
    } else if (key == "headers") {
      if (args.peekType() != JsonType.Object) return invalid('"headers" must be an object of strings');
      args.enterObject();
      let j = 0;
      while (args.nextMember(j++)) {
        const name = args.key;
        if (args.peekType() != JsonType.String) return invalid('"headers" must be an object of strings');
        const value = args.readString();
        if (value === null) break;
        headers.key(name).string(value);
      }
    } else if (key == "maxBytes") {
      const message = '"maxBytes" must be an integer from 0 to ' + MAX_MAX_BYTES.toString();
      if (args.peekType() != JsonType.Number) return invalid(message);
      const n = args.readNumber();
      if (!args.ok) break;
      if (!(n >= 0 && n <= <f64>MAX_MAX_BYTES && n == Math.floor(n))) return invalid(message);
      maxBytes = <i32>n;
    } else {
      return invalid("unknown property " + quote(key));
    }
  }
  headers.endObject();
  if (!args.finish()) return invalid("not valid JSON (" + args.errorDetail() + ")");
  if (url === null) return invalid('missing required property "url"');
  if (!isHttpUrl(url)) return invalid('"url" must be an absolute http:// or https:// URL');
  if (!METHODS.includes(method)) return invalid('"method" must be one of ' + METHODS.join(", "));
  if (body !== null && (method == "GET" || method == "HEAD")) return invalid('"body" is not allowed with ' + method);

  const request = new JsonWriter();
  request.beginObject();
  request.key("method").string(method);
  request.key("url").string(url);
  request.key("headers").raw(headers.toString());
  if (body !== null) request.key("body").string(body);
  request.endObject();

  const response = httpFetch(request.toString());
  if (!response.ok) return returnErr(response.error);
  const out = formatResponse(response.value, maxBytes);
  if (out === null) return returnErr("the host returned an invalid http-fetch response: " + responseError);
  return returnOk(out);
}

let responseError = "";

// {"status","headers","body"} from the host -> {"status","headers","body","truncated","totalBytes"}.
function formatResponse(json: string, maxBytes: i32): string | null {
  const s = new JsonScanner(json);
  let status: f64 = NaN;
  let headers: string | null = null;
  let body: string | null = null;
  if (s.peekType() != JsonType.Object) return fail("expected a JSON object");
  s.enterObject();
  let i = 0;
  while (s.nextMember(i++)) {
    const key = s.key;
    if (key == "status") {
      status = s.readNumber();
    } else if (key == "headers") {
      if (s.peekType() != JsonType.Object) return fail('"headers" must be an object');
      const start = s.pos;
      if (!s.skipValue()) break;
      headers = json.substring(start, s.pos);
    } else if (key == "body") {
      body = s.readString();
    } else if (!s.skipValue()) {
      break;
    }
  }
  if (!s.finish()) return fail("not valid JSON (" + s.errorDetail() + ")");
  if (!(status >= 0 && status <= 999 && status == Math.floor(status))) return fail('"status" must be an integer');
  if (body === null) return fail('missing "body"');

  const totalBytes = String.UTF8.byteLength(body);
  const truncated = totalBytes > maxBytes;
  const w = new JsonWriter();
  w.beginObject();
  w.key("status").integer(<i64>status);
  w.key("headers").raw(headers !== null ? headers : "{}");
  w.key("body").string(truncated ? body.substring(0, utf8Prefix(body, maxBytes)) : body);
  w.key("truncated").boolean(truncated);
  w.key("totalBytes").integer(totalBytes);
  w.endObject();
  return w.toString();
}

function fail(message: string): string | null {
  responseError = message;
  return null;
}

/** Length (in UTF-16 code units) of the longest prefix of `s` within `maxBytes` UTF-8 bytes. */
function utf8Prefix(s: string, maxBytes: i32): i32 {
  const n = s.length;
  let bytes = 0;
  let i = 0;
  while (i < n) {
    const c = <i32>s.charCodeAt(i);
    let width = 3;
    let units = 1;
    if (c < 0x80) width = 1;
    else if (c < 0x800) width = 2;
    else if ((c & 0xfc00) == 0xd800 && i + 1 < n && (<i32>s.charCodeAt(i + 1) & 0xfc00) == 0xdc00) {
      width = 4;
      units = 2;
    }
    if (bytes + width > maxBytes) break;
    bytes += width;
    i += units;
  }
  return i;
}

function isHttpUrl(url: string): bool {
  return hasPrefixIgnoringCase(url, "http://") || hasPrefixIgnoringCase(url, "https://");
}

// ASCII-only case folding: String#toLowerCase would pull in Unicode case tables.
function hasPrefixIgnoringCase(s: string, prefix: string): bool {
  const n = prefix.length;
  if (s.length <= n) return false;
  for (let i = 0; i < n; i++) {
    let c = <i32>s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) c |= 0x20; // A-Z
    if (c != <i32>prefix.charCodeAt(i)) return false;
  }
  return true;
}

function invalid(reason: string): usize {
  return returnErr("invalid arguments: " + reason);
}
