// MCP conformance fixture (tools/conformance/): a tool that reports progress 0, 50, 100 of 100 (log level "progress", forwarded as notifications/progress).
// Restricted: only an agent whose policy names it can list, call or read it.

import { returnOk, returnString } from "../../lib/abi";
export { cabi_realloc } from "../../lib/abi";
import { log } from "../../lib/host";
import { pause } from "../../lib/logging-run";

const METADATA = `{
  "name": "test_tool_with_progress",
  "description": "Reports progress 0, 50 and 100 of 100 while it runs (MCP conformance fixture).",
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
  log("progress", `{"progress":0,"total":100}`);
  pause(50);
  log("progress", `{"progress":50,"total":100}`);
  pause(50);
  log("progress", `{"progress":100,"total":100}`);
  return returnOk(`{"content":[{"type":"text","text":"Progress test completed"}]}`);
}
