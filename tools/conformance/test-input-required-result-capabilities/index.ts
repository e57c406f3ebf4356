// MCP conformance fixture (tools/conformance/): asks the user and the LLM; the sandbox asks the
// client only what it declared (an undeclared capability fails in the tool, at once).

import { returnErr, returnOk, returnString } from "../../lib/abi";
export { cabi_realloc } from "../../lib/abi";
import { askingFixture, elicit, sample } from "../../lib/ask";

export function describe(): usize {
  return returnString(askingFixture("test_input_required_result_capabilities", "Asks the user and the LLM; only what the client declared is asked"));
}

export function call(argsPtr: usize, argsLen: usize): usize {
  const name = elicit("user_name", "What is your name?", "name");
  const capital = sample("capital_question", "What is the capital of France?");
  if (!name.ok && !capital.ok) return returnErr(name.error + "; " + capital.error);
  return returnOk("name: " + (name.ok ? name.value : "(not asked)") + "; capital: " + (capital.ok ? capital.value : "(not asked)"));
}
