// MCP conformance fixture (tools/conformance/), the 2026-07-28 suite's name for test_tool_with_logging: logs three lines while it runs;
// a stateless request that sets no io.modelcontextprotocol/logLevel gets none of them.
// Restricted: only an agent whose policy names it can list, call or read it.

import { returnOk, returnString } from "../../lib/abi";
export { cabi_realloc } from "../../lib/abi";
import { logThreeLines } from "../../lib/logging-run";

const METADATA = `{
  "name": "test_logging_tool",
  "description": "Logs three info lines while it runs (MCP conformance fixture of the 2026-07-28 revision: a client that sets no logLevel must receive none of them).",
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
