// MCP conformance fixture (tools/conformance/): a tool that asks the client's user for input (elicitation/create).
// Restricted: only an agent whose policy names it can list or call it. Its request goes to
// the calling agent's own client (permission "client").

import { liftString, returnErr, returnOk, returnString } from "../../lib/abi";
export { cabi_realloc } from "../../lib/abi";
import { clientRequest } from "../../lib/host";
import { stringArgs } from "../../lib/args";
import { JsonWriter } from "../../lib/json";

const SCHEMA = `{"type": "object", "properties": {"username": {"type": "string", "description": "User's response"}, "email": {"type": "string", "description": "User's email address"}}, "required": ["username", "email"]}`;

const METADATA = `{
  "name": "test_elicitation",
  "description": "Asks the client's user for a username and an email (elicitation/create; MCP conformance fixture).",
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
    "properties": {
      "message": {
        "type": "string",
        "description": "The message to show the user"
      }
    },
    "required": [
      "message"
    ],
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
  const message = stringArgs(liftString(argsPtr, argsLen)).get("message");
  const params = new JsonWriter().beginObject().key("message").string(message).key("requestedSchema").raw(SCHEMA).endObject();
  const answer = clientRequest("elicitation/create", params.toString());
  if (!answer.ok) return returnErr(answer.error);
  return returnOk("User response: " + answer.value);
}
