// MCP conformance fixture (tools/conformance/): elicitation with a default for every primitive type (SEP-1034).
// Restricted: only an agent whose policy names it can list or call it. Its request goes to
// the calling agent's own client (permission "client").

import { liftString, returnErr, returnOk, returnString } from "../../lib/abi";
export { cabi_realloc } from "../../lib/abi";
import { clientRequest } from "../../lib/host";

const SCHEMA = `{"type": "object", "properties": {"name": {"type": "string", "default": "John Doe"}, "age": {"type": "integer", "default": 30}, "score": {"type": "number", "default": 95.5}, "status": {"type": "string", "enum": ["active", "inactive", "pending"], "default": "active"}, "verified": {"type": "boolean", "default": true}}}`;

const METADATA = `{
  "name": "test_elicitation_sep1034_defaults",
  "description": "Asks the client's user for values, each with a default (SEP-1034; MCP conformance fixture).",
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
  "permissions": [
    "client"
  ],
  "limits": {
    "memoryMb": 16,
    "cpuMs": 10000
  }
}`;

export function describe(): usize {
  return returnString(METADATA);
}

export function call(argsPtr: usize, argsLen: usize): usize {
  const params = `{"message":"Please review and update the form fields with defaults","requestedSchema":` + SCHEMA + `}`;
  const answer = clientRequest("elicitation/create", params);
  if (!answer.ok) return returnErr(answer.error);
  return returnOk("Elicitation completed: " + answer.value);
}
