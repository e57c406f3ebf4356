// MCP conformance fixture (tools/conformance/): a tool that always fails (err), which reaches the client as isError: true.
// Restricted: only an agent whose policy names it can list, call or read it.

import { returnErr, returnString } from "../../lib/abi";
export { cabi_realloc } from "../../lib/abi";

const METADATA = `{
  "name": "test_error_handling",
  "description": "Always fails, to test error reporting (MCP conformance fixture).",
  "version": "0.1.0",
  "author": "Browser MCP Sandbox",
  "tags": [
    "conformance"
  ],
  "categories": [
    "fixture",
    "restricted"
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
  return returnErr("This tool intentionally returns an error for testing");
}
