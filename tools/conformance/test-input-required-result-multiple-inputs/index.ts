// MCP conformance fixture (tools/conformance/): asks three things of different kinds before
// acting on any answer, so one InputRequiredResult lists all three (SEP-2322).

import { returnErr, returnOk, returnString } from "../../lib/abi";
export { cabi_realloc } from "../../lib/abi";
import { askingFixture, elicit, listRoots, sample } from "../../lib/ask";

export function describe(): usize {
  return returnString(askingFixture("test_input_required_result_multiple_inputs", "Asks the user, the LLM and the client's roots at once (elicitation, sampling, roots/list)"));
}

export function call(argsPtr: usize, argsLen: usize): usize {
  const name = elicit("user_name", "What is your name?", "name");
  const greeting = sample("greeting", "Write a one-line greeting.");
  const roots = listRoots("client_roots");
  if (!name.ok) return returnErr(name.error);
  if (!greeting.ok) return returnErr(greeting.error);
  if (!roots.ok) return returnErr(roots.error);
  return returnOk("name: " + name.value + "; greeting: " + greeting.value + "; roots: " + roots.value);
}
