// MCP conformance fixture (tools/conformance/): a tool that logs three lines while it runs (forwarded to the client as notifications/message).
// Restricted: only an agent whose policy names it can list, call or read it.

import { returnOk, returnString } from "../../lib/abi";
export { cabi_realloc } from "../../lib/abi";
import { logThreeLines } from "../../lib/logging-run";

const METADATA = `{
  "name": "test_tool_with_logging",
  "description": "Logs three info lines 50 ms apart while it runs (MCP conformance fixture).",
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

export function call(argsPtr: usize, argsLen: usize): usize {
  return returnOk(logThreeLines());
}
