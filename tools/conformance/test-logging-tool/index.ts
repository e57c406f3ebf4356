// MCP conformance fixture (tools/conformance/), the 2026-07-28 suite's name for test_tool_with_logging: logs three lines while it runs;
// a stateless request that sets no io.modelcontextprotocol/logLevel gets none of them.
// Restricted: only an agent whose policy names it can list, call or read it.

import { returnOk, returnString } from "../../lib/abi";
export { cabi_realloc } from "../../lib/abi";
import { log, nowMs } from "../../lib/host";

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

// No timers in a tool: wait by reading the host clock.
function pause(ms: u64): void {
  const until = nowMs() + ms;
  while (nowMs() < until) {}
}

export function call(argsPtr: usize, argsLen: usize): usize {
  log("info", "Tool execution started");
  pause(50);
  log("info", "Tool processing data");
  pause(50);
  log("info", "Tool execution completed");
  return returnOk(`{"content":[{"type":"text","text":"Logging test completed"}]}`);
}
