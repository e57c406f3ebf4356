// MCP conformance fixture (tools/conformance/): a tool that logs three lines while it runs (forwarded to the client as notifications/message).
// Restricted: only an agent whose policy names it can list, call or read it.

import { returnOk, returnString } from "../../lib/abi";
export { cabi_realloc } from "../../lib/abi";
import { log, nowMs } from "../../lib/host";

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
