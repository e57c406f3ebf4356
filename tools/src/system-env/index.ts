// system_env: produces the system://env resource, "what the sandbox environment offers" the
// agent reading it. The host (the service worker) passes what only it knows as the argument
// object: the agent's policy as it applies (execute_code languages, per-permission verdicts,
// limits, rates), the worker CSP, whether the app is precached, the session's MCP protocol
// version, the tools the agent sees. The module knows the host interface of tools/wit/tool.wit
// itself: it lists each capability a tool can import with the permission it needs and this
// agent's verdict, writes a short plain-text summary, echoes the host's facts and adds what it
// observes about its own instance.

import { liftString, returnErr, returnOk, returnString } from "../../lib/abi";
import { JsonScanner, JsonType, JsonWriter, concat, formatNumber } from "../../lib/json";
export { cabi_realloc } from "../../lib/abi";

const VERSION = "0.1.0";
const URI = "system://env";
const WASM_PAGE_SIZE: i32 = 65536;

const METADATA = `{
  "name": "system_env",
  "description": "Describes what the sandbox environment offers the agent reading it: the execute_code languages its policy allows and which the sandbox can run, each host capability a tool can import (tools/wit/tool.wit) with the permission it needs and whether this agent's policy lets it be used at all, the agent's limits and rates, the tool worker's Content-Security-Policy, whether the app works offline, the session's MCP protocol version and the tools the agent sees; plus a plain-text summary and what the WebAssembly module observes about itself.",
  "version": "${VERSION}",
  "author": "Browser MCP Sandbox",
  "tags": ["system", "environment", "policy"],
  "categories": ["resource"],
  "resource": { "uri": "${URI}", "mimeType": "application/json" },
  "inputSchema": {
    "type": "object",
    "description": "Host facts, echoed as they are (except permissions, which become capabilities): server, agent {id, trustLevel}, session {protocolVersion}, tools {visible, names}, executeCode {visible, languages {allowed, runnable}, limits}, permissions {\\"files:read\\"|\\"files:write\\"|\\"network\\"|\\"client\\": {allowed, reason}}, files, network, limits, rate, workerCsp, offline {precached, files}, now.",
    "properties": {
      "agent": { "type": "object", "properties": { "id": { "type": "string" }, "trustLevel": { "type": "string" } } },
      "session": { "type": "object", "properties": { "protocolVersion": { "type": "string" } } },
      "tools": { "type": "object", "properties": { "visible": { "type": "integer", "minimum": 0 }, "names": { "type": "array", "items": { "type": "string" } } } },
      "executeCode": { "type": "object" },
      "permissions": {
        "type": "object",
        "additionalProperties": {
          "type": "object",
          "properties": { "allowed": { "type": "boolean" }, "reason": { "type": "string" } }
        }
      },
      "limits": { "type": "object" },
      "rate": { "type": "object" },
      "workerCsp": { "type": "string" },
      "offline": { "type": "object", "properties": { "precached": { "type": "boolean" }, "files": { "type": "integer", "minimum": 0 } } }
    },
    "additionalProperties": true
  },
  "permissions": [],
  "limits": { "memoryMb": 16, "cpuMs": 1000 }
}`;

// The host interface of the world (tools/wit/tool.wit), in its order.
const CAPABILITIES: string[] = ["read-file", "write-file", "list-directory", "stat", "http-fetch", "client-request", "log", "now-ms", "random-bytes", "get-context"];
const SIGNATURES: string[] = [
  "read-file: func(path: string) -> result<string, string>",
  "write-file: func(path: string, contents: string) -> result<u64, string>",
  "list-directory: func(path: string) -> result<list<string>, string>",
  "stat: func(path: string) -> result<string, string>",
  "http-fetch: func(request-json: string) -> result<string, string>",
  "client-request: func(method: string, params-json: string) -> result<string, string>",
  "log: func(level: string, message: string)",
  "now-ms: func() -> u64",
  "random-bytes: func(len: u32) -> list<u8>",
  "get-context: func() -> result<string, string>",
];
// The permission a tool declares to use each (src/server/capabilities.ts); "" = none needed.
const PERMISSIONS: string[] = ["files:read", "files:write", "files:read", "files:read", "network", "client", "", "", "", ""];
const FREE: string[] = [
  "", "", "", "", "", "",
  "needs no permission; each line is kept in the call's audit entry",
  "needs no permission; answered inside the tool worker",
  "needs no permission; answered inside the tool worker (at most 65536 bytes a call)",
  "needs no permission; only for a tool whose metadata declares \"context\": true (answered inside the tool worker)",
];
// Keys of the document the module writes itself; host facts of these names are not echoed.
const OWN_KEYS: string[] = ["uri", "summary", "capabilities", "sandbox"];

export function describe(): usize {
  return returnString(METADATA);
}

export function call(argsPtr: usize, argsLen: usize): usize {
  const args = liftString(argsPtr, argsLen);
  const scanner = new JsonScanner(args);
  if (scanner.peekType() != JsonType.Object) return returnErr("invalid arguments: expected a JSON object of host facts");
  if (!scanner.skipValue() || !scanner.finish()) {
    return returnErr("invalid arguments: not valid JSON (" + scanner.errorDetail() + ")");
  }
  // Validated above: every lookup below reads well-formed JSON.
  const permissions = member(args, "permissions");
  const allowed = new Array<bool>(CAPABILITIES.length);
  const reasons = new Array<string>(CAPABILITIES.length);
  for (let i = 0; i < CAPABILITIES.length; i++) {
    const permission = PERMISSIONS[i];
    if (permission.length == 0) {
      allowed[i] = true;
      reasons[i] = FREE[i];
      continue;
    }
    let verdict: string | null = null;
    if (permissions !== null) verdict = member(permissions, permission);
    if (verdict === null) {
      allowed[i] = false;
      reasons[i] = "unknown: the host gave no verdict for " + permission;
    } else {
      allowed[i] = member(verdict, "allowed") == "true";
      const reason = text(member(verdict, "reason"));
      reasons[i] = reason === null ? "" : reason;
    }
  }

  const w = new JsonWriter();
  w.beginObject();
  w.key("uri").string(URI);
  w.key("summary").beginArray();
  const lines = summary(args, allowed, reasons);
  for (let i = 0; i < lines.length; i++) w.string(lines[i]);
  w.endArray();

  // The host's facts in their order; its permission verdicts become the capability list.
  let wroteCapabilities = false;
  const top = new JsonScanner(args);
  top.enterObject();
  let m = 0;
  while (top.nextMember(m++)) {
    const key = top.key;
    top.skipWhitespace();
    const start = top.pos;
    top.skipValue();
    if (key == "permissions") {
      if (!wroteCapabilities) writeCapabilities(w, allowed, reasons);
      wroteCapabilities = true;
    } else if (!OWN_KEYS.includes(key)) {
      w.key(key).raw(args.substring(start, top.pos));
    }
  }
  if (!wroteCapabilities) writeCapabilities(w, allowed, reasons);

  const runtime = "AssemblyScript " + ASC_VERSION_MAJOR.toString() + "." +
    ASC_VERSION_MINOR.toString() + "." + ASC_VERSION_PATCH.toString();
  w.key("sandbox").beginObject();
  w.key("wasmPageSizeBytes").integer(WASM_PAGE_SIZE);
  // Measured last, so it includes what this call allocated.
  w.key("memoryPages").integer(memory.size());
  w.key("memoryBytes").integer(<i64>memory.size() * <i64>WASM_PAGE_SIZE);
  w.key("pointerBits").integer(<i32>sizeof<usize>() * 8);
  w.key("hostImports").beginArray().endArray();
  w.key("runtime").string(runtime);
  w.key("module").string("system_env " + VERSION);
  w.endObject();
  w.endObject();
  return returnOk(w.toString());
}

function writeCapabilities(w: JsonWriter, allowed: bool[], reasons: string[]): void {
  w.key("capabilities").beginArray();
  for (let i = 0; i < CAPABILITIES.length; i++) {
    w.beginObject();
    w.key("name").string(CAPABILITIES[i]);
    w.key("wit").string(SIGNATURES[i]);
    if (PERMISSIONS[i].length == 0) w.key("permission").nullValue();
    else w.key("permission").string(PERMISSIONS[i]);
    w.key("allowed").boolean(allowed[i]);
    w.key("reason").string(reasons[i]);
    w.endObject();
  }
  w.endArray();
}

/** A few plain sentences an agent (or a person) can read instead of the JSON below them. */
function summary(args: string, allowed: bool[], reasons: string[]): string[] {
  const lines = new Array<string>();
  const agent = member(args, "agent");
  const tools = member(args, "tools");
  const session = member(args, "session");
  const id = text(at(agent, "id"));
  const level = text(at(agent, "trustLevel"));
  const protocol = text(at(session, "protocolVersion"));
  const visible = number(at(tools, "visible"));
  const first = new Array<string>();
  first.push("Agent " + (id === null ? "(unknown)" : id));
  if (level !== null) first.push(" (" + level + ")");
  if (protocol !== null) first.push(", MCP protocol " + protocol);
  if (!isNaN(visible)) first.push(", " + formatNumber(visible) + (visible == 1 ? " tool" : " tools") + " visible");
  first.push(".");
  lines.push(concat(first));

  const code = member(args, "executeCode");
  if (code !== null) {
    const languages = at(code, "languages");
    const names = strings(at(languages, "allowed"));
    const runnable = at(languages, "runnable");
    if (at(code, "visible") != "true") {
      lines.push("execute_code is not available to this agent (not among the tools its policy allows).");
    } else if (names.length == 0) {
      lines.push("execute_code is listed, but this agent's policy allows it no language (tools.codeLanguages).");
    } else {
      const parts = new Array<string>();
      parts.push("execute_code may run ");
      for (let i = 0; i < names.length; i++) {
        if (i > 0) parts.push("; ");
        parts.push(names[i]);
        const how = text(at(runnable, names[i]));
        if (how !== null) parts.push(": " + how);
      }
      parts.push(".");
      const runLimits = at(code, "limits");
      if (runLimits !== null) {
        parts.push(" Each run: up to " + amount(at(runLimits, "memoryMb"), " MiB") + " and " + amount(at(runLimits, "timeoutMs"), " ms") + ".");
      }
      lines.push(concat(parts));
    }
  }

  const usable = new Array<string>();
  const refused = new Array<string>();
  for (let i = 0; i < CAPABILITIES.length; i++) {
    if (allowed[i]) {
      if (usable.length > 0) usable.push(", ");
      usable.push(CAPABILITIES[i]);
    } else {
      if (refused.length > 0) refused.push("; ");
      refused.push(CAPABILITIES[i] + " (" + reasons[i] + ")");
    }
  }
  lines.push(
    "Host capabilities this agent's policy allows: " + (usable.length == 0 ? "none" : concat(usable)) +
    (refused.length == 0 ? "" : ". Refused: " + concat(refused)) +
    ". A tool must also declare the permission a capability needs; each use is decided and audited when it happens.",
  );

  const limits = member(args, "limits");
  const rate = member(args, "rate");
  if (limits !== null) {
    const parts = new Array<string>();
    parts.push("Limits per call: " + amount(at(limits, "memoryMb"), " MiB memory") + ", " + amount(at(limits, "cpuSeconds"), " s"));
    parts.push("; " + amount(at(limits, "concurrentCalls"), " calls at once") + ", waiting at most " + amount(at(limits, "queueWaitMs"), " ms") + " for a free slot");
    if (rate !== null) {
      parts.push("; " + amount(at(rate, "callsPerMinute"), " calls a minute") + ", " + amount(at(rate, "maxCallsPerSession"), " a session"));
      const quiet = at(rate, "quietHours");
      const start = text(at(quiet, "start"));
      const end = text(at(quiet, "end"));
      const zone = text(at(quiet, "timeZone"));
      if (start !== null && end !== null) parts.push("; no calls from " + start + " to " + end + (zone === null ? "" : " (" + zone + ")"));
    }
    parts.push(".");
    lines.push(concat(parts));
  }

  const offline = member(args, "offline");
  if (offline !== null) {
    const files = number(at(offline, "files"));
    lines.push(at(offline, "precached") == "true"
      ? "Works offline: yes (" + formatNumber(files) + " files precached)."
      : "Works offline: no (the app's files are not precached).");
  }
  return lines;
}

function amount(raw: string | null, unit: string): string {
  const n = number(raw);
  return isNaN(n) ? "?" + unit : formatNumber(n) + unit;
}

/** The raw JSON of `key` in the object `json` (the last, as JSON.parse keeps), or null. */
function member(json: string, key: string): string | null {
  const s = new JsonScanner(json);
  if (s.peekType() != JsonType.Object) return null;
  s.enterObject();
  let found: string | null = null;
  let i = 0;
  while (s.nextMember(i++)) {
    const k = s.key;
    s.skipWhitespace();
    const start = s.pos;
    if (!s.skipValue()) return null;
    if (k == key) found = json.substring(start, s.pos);
  }
  return s.ok ? found : null;
}

function at(json: string | null, key: string): string | null {
  return json === null ? null : member(json, key);
}

/** The string a raw JSON value holds, or null. */
function text(raw: string | null): string | null {
  if (raw === null) return null;
  const s = new JsonScanner(raw);
  if (s.peekType() != JsonType.String) return null;
  return s.readString();
}

function number(raw: string | null): f64 {
  if (raw === null) return NaN;
  const s = new JsonScanner(raw);
  if (s.peekType() != JsonType.Number) return NaN;
  return s.readNumber();
}

/** The strings of a raw JSON array (other elements skipped). */
function strings(raw: string | null): string[] {
  const out = new Array<string>();
  if (raw === null) return out;
  const s = new JsonScanner(raw);
  if (s.peekType() != JsonType.Array) return out;
  s.enterArray();
  let i = 0;
  while (s.nextElement(i++)) {
    if (s.peekType() == JsonType.String) {
      const value = s.readString();
      if (value !== null) out.push(value);
    } else if (!s.skipValue()) {
      break;
    }
  }
  return out;
}
