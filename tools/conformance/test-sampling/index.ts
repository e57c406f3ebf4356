// MCP conformance fixture (tools/conformance/): a tool that asks the client to sample an LLM (sampling/createMessage).
// Restricted: only an agent whose policy names it can list or call it. Its request goes to
// the calling agent's own client (permission "client").

import { liftString, returnErr, returnOk, returnString } from "../../lib/abi";
export { cabi_realloc } from "../../lib/abi";
import { clientRequest } from "../../lib/host";
import { stringArgs } from "../../lib/args";
import { JsonWriter } from "../../lib/json";

const METADATA = `{
  "name": "test_sampling",
  "description": "Asks the client's LLM to answer a prompt (sampling/createMessage; MCP conformance fixture).",
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
      "prompt": {
        "type": "string",
        "description": "The prompt to send to the LLM"
      }
    },
    "required": [
      "prompt"
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
  const prompt = stringArgs(liftString(argsPtr, argsLen)).get("prompt");
  const params = new JsonWriter().beginObject().key("messages").beginArray().beginObject().key("role").string("user");
  params.key("content").beginObject().key("type").string("text").key("text").string(prompt).endObject().endObject().endArray();
  params.key("maxTokens").integer(100).endObject();
  const answer = clientRequest("sampling/createMessage", params.toString());
  if (!answer.ok) return returnErr(answer.error);
  const content = stringArgs(answer.value, "content");
  return returnOk("LLM response: " + (content.has("text") ? content.get("text") : answer.value));
}
