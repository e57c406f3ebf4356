// MCP conformance fixture (tools/conformance/): a prompt with an image.
// Restricted: only an agent whose policy names it can list, call or read it.

import { returnOk, returnString } from "../../lib/abi";
export { cabi_realloc } from "../../lib/abi";

const METADATA = `{
  "name": "test_prompt_with_image",
  "description": "A prompt with an image (MCP conformance fixture).",
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

const OUTPUT = `{"messages": [{"role": "user", "content": {"type": "image", "data": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC", "mimeType": "image/png"}}, {"role": "user", "content": {"type": "text", "text": "Please analyze the image above."}}]}`;

export function call(argsPtr: usize, argsLen: usize): usize {
  return returnOk(OUTPUT);
}
