// MCP conformance fixture (tools/conformance/): a prompt with two required arguments.
// Restricted: only an agent whose policy names it can list, call or read it.

import { liftString, returnOk, returnString } from "../../lib/abi";
export { cabi_realloc } from "../../lib/abi";
import { stringArgs } from "../../lib/args";
import { JsonWriter } from "../../lib/json";

const METADATA = `{
  "name": "test_prompt_with_arguments",
  "description": "A prompt with two required arguments (MCP conformance fixture).",
  "version": "0.1.0",
  "author": "Browser MCP Sandbox",
  "tags": [
    "conformance"
  ],
  "categories": [
    "fixture",
    "restricted",
    "prompt"
  ],
  "inputSchema": {
    "type": "object",
    "properties": {
      "arg1": {
        "type": "string",
        "description": "First test argument"
      },
      "arg2": {
        "type": "string",
        "description": "Second test argument"
      }
    },
    "required": [
      "arg1",
      "arg2"
    ],
    "additionalProperties": false
  },
  "permissions": [],
  "limits": {
    "memoryMb": 16,
    "cpuMs": 3000
  }
}`;

export function describe(): usize {
  return returnString(METADATA);
}

export function call(argsPtr: usize, argsLen: usize): usize {
  const args = stringArgs(liftString(argsPtr, argsLen));
  const arg1 = args.has("arg1") ? args.get("arg1") : "";
  const arg2 = args.has("arg2") ? args.get("arg2") : "";
  const text = "Prompt with arguments: arg1='" + arg1 + "', arg2='" + arg2 + "'";
  const out = new JsonWriter().beginObject().key("messages").beginArray().beginObject().key("role").string("user").key("content").beginObject().key("type").string("text").key("text").string(text).endObject().endObject().endArray().endObject();
  return returnOk(out.toString());
}
