// MCP conformance fixture (tools/conformance/): the resource test://static-binary (a PNG, as a blob).
// Restricted: only an agent whose policy names it can list, call or read it.

import { returnOk, returnString } from "../../lib/abi";
export { cabi_realloc } from "../../lib/abi";

const METADATA = `{
  "name": "test_static_binary",
  "description": "A static binary resource: a 1x1 PNG (MCP conformance fixture).",
  "version": "0.1.0",
  "author": "Browser MCP Sandbox",
  "tags": [
    "conformance"
  ],
  "categories": [
    "fixture",
    "restricted",
    "resource",
    "mcp-content"
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
    "uri": "test://static-binary",
    "mimeType": "image/png"
  }
}`;

export function describe(): usize {
  return returnString(METADATA);
}

const OUTPUT = `{"contents": [{"uri": "test://static-binary", "mimeType": "image/png", "blob": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"}]}`;

export function call(argsPtr: usize, argsLen: usize): usize {
  return returnOk(OUTPUT);
}
