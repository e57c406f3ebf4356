// MCP conformance fixture (tools/conformance/): elicitation with the five enum forms (SEP-1330).
// Restricted: only an agent whose policy names it can list or call it. Its request goes to
// the calling agent's own client (permission "client").

import { liftString, returnErr, returnOk, returnString } from "../../lib/abi";
export { cabi_realloc } from "../../lib/abi";
import { clientRequest } from "../../lib/host";

const SCHEMA = `{"type": "object", "properties": {"untitledSingle": {"type": "string", "enum": ["option1", "option2", "option3"]}, "titledSingle": {"type": "string", "oneOf": [{"const": "value1", "title": "First Option"}, {"const": "value2", "title": "Second Option"}, {"const": "value3", "title": "Third Option"}]}, "legacyEnum": {"type": "string", "enum": ["opt1", "opt2", "opt3"], "enumNames": ["Option One", "Option Two", "Option Three"]}, "untitledMulti": {"type": "array", "items": {"type": "string", "enum": ["option1", "option2", "option3"]}}, "titledMulti": {"type": "array", "items": {"anyOf": [{"const": "value1", "title": "First Choice"}, {"const": "value2", "title": "Second Choice"}, {"const": "value3", "title": "Third Choice"}]}}}}`;

const METADATA = `{
  "name": "test_elicitation_sep1330_enums",
  "description": "Asks the client's user to choose, in each enum form (SEP-1330; MCP conformance fixture).",
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
  const params = `{"message":"Please select options from the enum fields","requestedSchema":` + SCHEMA + `}`;
  const answer = clientRequest("elicitation/create", params);
  if (!answer.ok) return returnErr(answer.error);
  return returnOk("Elicitation completed: " + answer.value);
}
