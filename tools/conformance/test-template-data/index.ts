// MCP conformance fixture (tools/conformance/): the resource template test://template/{id}/data.
// Restricted: only an agent whose policy names it can list, call or read it.

import { liftString, returnOk, returnString } from "../../lib/abi";
export { cabi_realloc } from "../../lib/abi";
import { stringArgs } from "../../lib/args";
import { JsonWriter } from "../../lib/json";

const METADATA = `{
  "name": "test_template_data",
  "description": "Data for one id: the resource template test://template/{id}/data (MCP conformance fixture).",
  "version": "0.1.0",
  "author": "Browser MCP Sandbox",
  "tags": [
    "conformance"
  ],
  "categories": [
    "fixture",
    "restricted",
    "resource",
    "mcp-content"
  ],
  "inputSchema": {
    "type": "object",
    "properties": {
      "uri": {
        "type": "string"
      },
      "params": {
        "type": "object"
      }
    },
    "additionalProperties": false
  },
  "permissions": [],
  "limits": {
    "memoryMb": 16,
    "cpuMs": 3000
  },
  "resource": {
    "uri": "test://template/{id}/data",
    "mimeType": "application/json"
  }
}`;

export function describe(): usize {
  return returnString(METADATA);
}

// Arguments: {"uri": the URI read, "params": {"id": ...}}.
export function call(argsPtr: usize, argsLen: usize): usize {
  const args = liftString(argsPtr, argsLen);
  const top = stringArgs(args);
  const params = stringArgs(args, "params");
  const id = params.has("id") ? params.get("id") : "";
  const uri = top.has("uri") ? top.get("uri") : "";
  const data = new JsonWriter().beginObject().key("id").string(id).key("templateTest").boolean(true).key("data").string("Data for ID: " + id).endObject().toString();
  const out = new JsonWriter().beginObject().key("contents").beginArray().beginObject().key("uri").string(uri).key("mimeType").string("application/json").key("text").string(data).endObject().endArray().endObject();
  return returnOk(out.toString());
}
