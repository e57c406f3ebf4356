// MCP conformance fixture (tools/conformance/): a tool that returns audio (a short silent WAV).
// Restricted: only an agent whose policy names it can list, call or read it.

import { returnOk, returnString } from "../../lib/abi";
export { cabi_realloc } from "../../lib/abi";

const METADATA = `{
  "name": "test_audio_content",
  "description": "Returns a short silent WAV (MCP conformance fixture).",
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

const OUTPUT = `{"content": [{"type": "audio", "data": "UklGRiwAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQgAAACAgICAgICAgA==", "mimeType": "audio/wav"}]}`;

export function call(argsPtr: usize, argsLen: usize): usize {
  return returnOk(OUTPUT);
}
