// MCP conformance fixture (tools/conformance/): a prompt whose producer asks the user for
// context first (elicitation/create, key "prompt_context"): InputRequiredResult on prompts/get.

import { returnErr, returnOk, returnString } from "../../lib/abi";
export { cabi_realloc } from "../../lib/abi";
import { askingFixture, elicit } from "../../lib/ask";
import { JsonWriter } from "../../lib/json";

export function describe(): usize {
  return returnString(askingFixture("test_input_required_result_prompt", "A prompt that asks the user for context first (elicitation/create)", true));
}

export function call(argsPtr: usize, argsLen: usize): usize {
  const answer = elicit("prompt_context", "What should the prompt be about?", "context");
  if (!answer.ok) return returnErr(answer.error);
  const w = new JsonWriter().beginObject().key("messages").beginArray().beginObject().key("role").string("user");
  w.key("content").beginObject().key("type").string("text").key("text").string("Write about this: " + answer.value).endObject();
  return returnOk(w.endObject().endArray().endObject().toString());
}
