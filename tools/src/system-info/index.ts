// system_info: produces the system://info resource. The host passes the facts it
// knows (server, counts, time) as the argument object; the module echoes them under
// "host" and adds what it can observe about its own sandbox under "sandbox".

import { liftString, returnErr, returnOk, returnString } from "../../lib/abi";
import { JsonScanner, JsonType, JsonWriter } from "../../lib/json";
export { cabi_realloc } from "../../lib/abi";

const VERSION = "0.1.0";
const WASM_PAGE_SIZE: i32 = 65536;

const METADATA = `{
  "name": "system_info",
  "description": "Describes the running sandbox: facts supplied by the host (server name and version, tool, session and audit counts, time) and facts the WebAssembly module observes about itself (page size, memory pages, pointer width, runtime).",
  "version": "${VERSION}",
  "author": "Browser MCP Sandbox",
  "tags": ["system", "diagnostics"],
  "categories": ["resource"],
  "resource": { "uri": "system://info", "mimeType": "application/json" },
  "inputSchema": {
    "type": "object",
    "description": "Host facts, echoed under \\"host\\", e.g. {\\"server\\":{\\"name\\":\\"...\\",\\"version\\":\\"...\\"},\\"tools\\":3,\\"sessions\\":1,\\"auditEntries\\":42,\\"now\\":\\"2025-01-01T00:00:00.000Z\\"}.",
    "properties": {
      "server": {
        "type": "object",
        "properties": { "name": { "type": "string" }, "version": { "type": "string" } }
      },
      "tools": { "type": "integer", "minimum": 0 },
      "sessions": { "type": "integer", "minimum": 0 },
      "auditEntries": { "type": "integer", "minimum": 0 },
      "now": { "type": "string", "format": "date-time" }
    },
    "additionalProperties": true
  },
  "permissions": [],
  "limits": { "memoryMb": 16, "cpuMs": 1000 }
}`;

export function describe(): usize {
  return returnString(METADATA);
}

export function call(argsPtr: usize, argsLen: usize): usize {
  const args = liftString(argsPtr, argsLen);
  const scanner = new JsonScanner(args);
  if (scanner.peekType() != JsonType.Object) return returnErr("invalid arguments: expected a JSON object of host facts");
  const start = scanner.pos;
  if (!scanner.skipValue() || !scanner.finish()) {
    return returnErr("invalid arguments: not valid JSON (" + scanner.errorDetail() + ")");
  }
  // Validated above, so the object can be re-emitted verbatim.
  const host = args.substring(start, scanner.pos);

  const runtime = "AssemblyScript " + ASC_VERSION_MAJOR.toString() + "." +
    ASC_VERSION_MINOR.toString() + "." + ASC_VERSION_PATCH.toString();
  const w = new JsonWriter();
  w.beginObject();
  w.key("uri").string("system://info");
  w.key("host").raw(host);
  w.key("sandbox").beginObject();
  w.key("wasmPageSizeBytes").integer(WASM_PAGE_SIZE);
  // Measured last, so it includes what this call allocated.
  w.key("memoryPages").integer(memory.size());
  w.key("memoryBytes").integer(<i64>memory.size() * <i64>WASM_PAGE_SIZE);
  w.key("pointerBits").integer(<i32>sizeof<usize>() * 8);
  w.key("runtime").string(runtime);
  w.key("module").string("system_info " + VERSION);
  w.endObject();
  w.endObject();
  return returnOk(w.toString());
}
