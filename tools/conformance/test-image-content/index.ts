// MCP conformance fixture (tools/conformance/): a tool that returns an image (a 1x1 red PNG).
// Restricted: only an agent whose policy names it can list, call or read it.

import { returnOk, returnString } from "../../lib/abi";
export { cabi_realloc } from "../../lib/abi";

const METADATA = `{
  "name": "test_image_content",
  "description": "Returns a 1x1 red PNG image (MCP conformance fixture).",
  "version": "0.1.0",
  "author": "Browser MCP Sandbox",
  "tags": [
    "conformance"
  ],
  "categories": [
    "fixture",
    "restricted",
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
  }
}`;

export function describe(): usize {
  return returnString(METADATA);
}

const OUTPUT = `{"content": [{"type": "image", "data": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC", "mimeType": "image/png"}]}`;

export function call(argsPtr: usize, argsLen: usize): usize {
  return returnOk(OUTPUT);
}
