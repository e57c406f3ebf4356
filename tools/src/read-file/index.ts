// read_file (the seed's name): returns a workspace file's text through the host's file
// capability; the agent's file policy decides, and its refusal comes back verbatim.

import { liftString, returnErr, returnOk, returnString } from "../../lib/abi";
import { parseFileArgs } from "../../lib/file-args";
import { readFile } from "../../lib/host";
import { JsonWriter } from "../../lib/json";
export { cabi_realloc } from "../../lib/abi";

const METADATA = `{
  "name": "read_file",
  "description": "Reads a text file from the workspace, e.g. ./workspace/notes.txt. Which paths may be read is decided by the agent's file policy.",
  "version": "0.1.0",
  "author": "Browser MCP Sandbox",
  "tags": ["files", "workspace"],
  "categories": ["files"],
  "inputSchema": {
    "type": "object",
    "properties": { "path": { "type": "string", "minLength": 1, "description": "File path, e.g. ./workspace/notes.txt." } },
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
  const r = readFile(args.path);
  if (!r.ok) return returnErr(r.error);
  const w = new JsonWriter();
  w.beginObject();
  w.key("path").string(args.path);
  w.key("contents").string(r.value);
  w.endObject();
  return returnOk(w.toString());
}
