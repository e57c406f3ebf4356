// workspace_files: reads, writes, lists and stats files in the agent's workspace through
// the host's file capability. The host applies the agent's file policy; its refusals
// and failures come back as err(message), passed through verbatim.

import { liftString, returnErr, returnOk, returnString } from "../../lib/abi";
import { listDirectory, readFile, stat, writeFile } from "../../lib/host";
import { JsonScanner, JsonType, JsonWriter, quote } from "../../lib/json";
export { cabi_realloc } from "../../lib/abi";

const METADATA = `{
  "name": "workspace_files",
  "description": "Reads, writes, lists and inspects files in the workspace. op \\"read\\" returns the file's text; \\"write\\" creates or replaces a file with \\"contents\\" and returns the bytes written; \\"list\\" returns a directory's entry names (directories end with \\"/\\"); \\"stat\\" returns size, isDirectory and modifiedMs. Paths look like ./workspace/notes.txt; which paths are allowed is decided by the agent's policy.",
  "version": "0.1.0",
  "author": "Browser MCP Sandbox",
  "tags": ["files", "workspace", "storage"],
  "categories": ["files"],
  "inputSchema": {
    "type": "object",
    "properties": {
      "op": { "type": "string", "enum": ["read", "write", "list", "stat"], "description": "The operation." },
      "path": { "type": "string", "minLength": 1, "description": "File or directory path, e.g. ./workspace/notes.txt." },
      "contents": { "type": "string", "description": "Text to write (op \\"write\\" only)." }
    },
    "required": ["op", "path"],
    "additionalProperties": false
  },
  "permissions": ["files:read", "files:write"],
  "limits": { "memoryMb": 64, "cpuMs": 5000 }
}`;

export function describe(): usize {
  return returnString(METADATA);
}

export function call(argsPtr: usize, argsLen: usize): usize {
  const args = new JsonScanner(liftString(argsPtr, argsLen));
  let op: string | null = null;
  let path: string | null = null;
  let contents: string | null = null;
  if (args.peekType() != JsonType.Object) return invalid("expected a JSON object");
  args.enterObject();
  let i = 0;
  while (args.nextMember(i++)) {
    const key = args.key;
    if (key == "op" || key == "path" || key == "contents") {
      if (args.peekType() != JsonType.String) return invalid(quote(key) + " must be a string");
      const value = args.readString();
      if (key == "op") op = value;
      else if (key == "path") path = value;
      else contents = value;
    } else {
      return invalid("unknown property " + quote(key));
    }
  }
  if (!args.finish()) return invalid("not valid JSON (" + args.errorDetail() + ")");
  if (op === null) return invalid('missing required property "op"');
  if (path === null) return invalid('missing required property "path"');
  if (path.length == 0) return invalid('"path" must not be empty');
  const isWrite = op == "write";
  if (!isWrite && op != "read" && op != "list" && op != "stat") {
    return invalid('"op" must be one of "read", "write", "list", "stat"');
  }
  if (isWrite && contents === null) return invalid('op "write" requires "contents"');
  if (!isWrite && contents !== null) return invalid('"contents" is only allowed with op "write"');

  const w = new JsonWriter();
  w.beginObject();
  w.key("op").string(op);
  w.key("path").string(path);
  if (op == "read") {
    const r = readFile(path);
    if (!r.ok) return returnErr(r.error);
    w.key("contents").string(r.value);
  } else if (isWrite) {
    const r = writeFile(path, <string>contents);
    if (!r.ok) return returnErr(r.error);
    w.key("bytesWritten").raw(r.value.toString());
  } else if (op == "list") {
    const r = listDirectory(path);
    if (!r.ok) return returnErr(r.error);
    const names = r.value;
    w.key("entries").beginArray();
    for (let j = 0; j < names.length; j++) w.string(names[j]);
    w.endArray();
  } else {
    const r = stat(path);
    if (!r.ok) return returnErr(r.error);
    if (!copyStat(w, r.value)) return returnErr("the host returned an invalid stat result: " + r.value);
  }
  w.endObject();
  return returnOk(w.toString());
}

// Copies the members of the host's stat JSON object into the open object `w`
// (size, isDirectory, modifiedMs, and whatever else the host reports).
function copyStat(w: JsonWriter, json: string): bool {
  const s = new JsonScanner(json);
  if (s.peekType() != JsonType.Object) return false;
  s.enterObject();
  let i = 0;
  while (s.nextMember(i++)) {
    const key = s.key;
    const start = s.pos;
    if (!s.skipValue()) return false;
    if (key != "op" && key != "path") w.key(key).raw(json.substring(start, s.pos));
  }
  return s.finish();
}

function invalid(reason: string): usize {
  return returnErr("invalid arguments: " + reason);
}
