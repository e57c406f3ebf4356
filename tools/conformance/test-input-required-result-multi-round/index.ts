// MCP conformance fixture (tools/conformance/): asks the second question only after the first
// is answered, so the agent is asked in two rounds, each with a new requestState (SEP-2322).

import { returnErr, returnOk, returnString } from "../../lib/abi";
export { cabi_realloc } from "../../lib/abi";
import { askingFixture, elicit } from "../../lib/ask";

export function describe(): usize {
  return returnString(askingFixture("test_input_required_result_multi_round", "Asks the user's name, then their favourite colour (two rounds of elicitation)"));
}

export function call(argsPtr: usize, argsLen: usize): usize {
  const name = elicit("step1", "Step 1: What is your name?", "name");
  if (!name.ok) return returnErr(name.error);
  const color = elicit("step2", "Step 2: What is your favorite color?", "color");
  if (!color.ok) return returnErr(color.error);
  return returnOk("name: " + name.value + "; color: " + color.value);
}
