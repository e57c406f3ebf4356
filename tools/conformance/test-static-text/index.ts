// MCP conformance fixture (tools/conformance/): the resource test://static-text.
// Restricted: only an agent whose policy names it can list, call or read it.

import { returnOk, returnString } from "../../lib/abi";
export { cabi_realloc } from "../../lib/abi";

const METADATA = `{
  "name": "test_static_text",
  "description": "A static text resource (MCP conformance fixture).",
  "version": "0.1.0",
  "author": "Browser MCP Sandbox",
  "tags": [
    "conformance"
  ],
  "categories": [
    "fixture",
    "restricted",
    "resource"
  ],
  "inputSchema": {
    "type": "object",
    "properties": {},
    "additionalProperties": false
  },
  "permissions": [],
  "limits": {
    "memoryMb": 16,
    "cpuMs": 3000
  },
  "resource": {
    "uri": "test://static-text",
    "mimeType": "text/plain"
  }
}`;

export function describe(): usize {
  return returnString(METADATA);
}

const OUTPUT = "This is the content of the static text resource.";

export function call(argsPtr: usize, argsLen: usize): usize {
  return returnOk(OUTPUT);
}
