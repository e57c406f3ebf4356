// MCP conformance fixture (tools/conformance/): asks the client's LLM a question
// (sampling/createMessage, key "capital_question"; SEP-2322 over the 2026-07-28 revision).

import { returnErr, returnOk, returnString } from "../../lib/abi";
export { cabi_realloc } from "../../lib/abi";
import { askingFixture, sample } from "../../lib/ask";

export function describe(): usize {
  return returnString(askingFixture("test_input_required_result_sampling", "Asks the client's LLM for the capital of France (sampling/createMessage, key capital_question)"));
}

export function call(argsPtr: usize, argsLen: usize): usize {
  const answer = sample("capital_question", "What is the capital of France?");
  if (!answer.ok) return returnErr(answer.error);
  return returnOk("The LLM answered: " + answer.value);
}
