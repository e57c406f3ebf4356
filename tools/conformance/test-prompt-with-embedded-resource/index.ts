// MCP conformance fixture (tools/conformance/): a prompt that embeds the resource it is given.
// Restricted: only an agent whose policy names it can list, call or read it.

import { liftString, returnOk, returnString } from "../../lib/abi";
export { cabi_realloc } from "../../lib/abi";
import { stringArgs } from "../../lib/args";
import { JsonWriter } from "../../lib/json";

const METADATA = `{
  "name": "test_prompt_with_embedded_resource",
  "description": "A prompt that embeds a resource (MCP conformance fixture).",
  "version": "0.1.0",
  "author": "Browser MCP Sandbox",
  "tags": [
    "conformance"
  ],
  "categories": [
    "fixture",
    "restricted",
    "prompt"
  ],
  "inputSchema": {
    "type": "object",
    "properties": {
      "resourceUri": {
        "type": "string",
        "description": "URI of the resource to embed"
      }
    },
    "required": [
      "resourceUri"
    ],
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
  const args = stringArgs(liftString(argsPtr, argsLen));
  const uri = args.has("resourceUri") ? args.get("resourceUri") : "";
  const out = new JsonWriter().beginObject().key("messages").beginArray();
  out.beginObject().key("role").string("user").key("content").beginObject().key("type").string("resource");
  out.key("resource").beginObject().key("uri").string(uri).key("mimeType").string("text/plain").key("text").string("Embedded resource content for testing.").endObject();
  out.endObject().endObject();
  out.beginObject().key("role").string("user").key("content").beginObject().key("type").string("text").key("text").string("Please process the embedded resource above.").endObject().endObject();
  out.endArray().endObject();
  return returnOk(out.toString());
}
