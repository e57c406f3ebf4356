// MCP conformance fixture (tools/conformance/): asks the user's name (elicitation/create, key
// "user_name"); over the 2026-07-28 revision an InputRequiredResult round (SEP-2322).

import { returnErr, returnOk, returnString } from "../../lib/abi";
export { cabi_realloc } from "../../lib/abi";
import { askingFixture, elicit } from "../../lib/ask";

export function describe(): usize {
  return returnString(askingFixture("test_input_required_result_elicitation", "Asks the user's name (elicitation/create, key user_name)"));
}

export function call(argsPtr: usize, argsLen: usize): usize {
  const answer = elicit("user_name", "What is your name?", "name");
  if (!answer.ok) return returnErr(answer.error);
  return returnOk("The user answered: " + answer.value);
}
