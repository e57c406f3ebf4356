// write_file (the seed's name): creates or replaces a workspace file through the host's
// file capability; the agent's file policy (path and size) decides.

import { liftString, returnErr, returnOk, returnString } from "../../lib/abi";
import { parseFileArgs } from "../../lib/file-args";
import { writeFile } from "../../lib/host";
import { JsonWriter } from "../../lib/json";
export { cabi_realloc } from "../../lib/abi";

const METADATA = `{
  "name": "write_file",
  "description": "Creates or replaces a text file in the workspace and returns the bytes written. Which paths and sizes are allowed is decided by the agent's file policy.",
  "version": "0.1.0",
  "author": "Browser MCP Sandbox",
  "tags": ["files", "workspace"],
  "categories": ["files"],
  "inputSchema": {
    "type": "object",
    "properties": {
      "path": { "type": "string", "minLength": 1, "description": "File path, e.g. ./workspace/notes.txt." },
      "contents": { "type": "string", "description": "The file's new text." }
    },
    "required": ["path", "contents"],
    "additionalProperties": false
  },
  "permissions": ["files:write"],
  "limits": { "memoryMb": 64, "cpuMs": 5000 }
}`;

export function describe(): usize {
  return returnString(METADATA);
}

export function call(argsPtr: usize, argsLen: usize): usize {
  const args = parseFileArgs(liftString(argsPtr, argsLen), true);
  if (args.error.length) return returnErr(args.error);
  const r = writeFile(args.path, <string>args.contents);
  if (!r.ok) return returnErr(r.error);
  const w = new JsonWriter();
  w.beginObject();
  w.key("path").string(args.path);
  w.key("bytesWritten").raw(r.value.toString());
  w.endObject();
  return returnOk(w.toString());
}
