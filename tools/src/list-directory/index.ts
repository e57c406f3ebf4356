// list_directory (the seed's name): lists a workspace folder's entries through the host's
// file capability (folders end with "/"); the agent's file policy decides.

import { liftString, returnErr, returnOk, returnString } from "../../lib/abi";
import { parseFileArgs } from "../../lib/file-args";
import { listDirectory } from "../../lib/host";
import { JsonWriter } from "../../lib/json";
export { cabi_realloc } from "../../lib/abi";

const METADATA = `{
  "name": "list_directory",
  "description": "Lists the entries of a workspace folder, e.g. ./workspace; folder names end with /. Which folders may be listed is decided by the agent's file policy.",
  "version": "0.1.0",
  "author": "Browser MCP Sandbox",
  "tags": ["files", "workspace"],
  "categories": ["files"],
  "inputSchema": {
    "type": "object",
    "properties": { "path": { "type": "string", "minLength": 1, "description": "Folder path, e.g. ./workspace." } },
    "required": ["path"],
    "additionalProperties": false
  },
  "permissions": ["files:read"],
  "limits": { "memoryMb": 64, "cpuMs": 5000 }
}`;

export function describe(): usize {
  return returnString(METADATA);
}

export function call(argsPtr: usize, argsLen: usize): usize {
  const args = parseFileArgs(liftString(argsPtr, argsLen), false);
  if (args.error.length) return returnErr(args.error);
  const r = listDirectory(args.path);
  if (!r.ok) return returnErr(r.error);
  const w = new JsonWriter();
  w.beginObject();
  w.key("path").string(args.path);
  w.key("entries").beginArray();
  for (let i = 0; i < r.value.length; i++) w.string(r.value[i]);
  w.endArray();
  w.endObject();
  return returnOk(w.toString());
}
