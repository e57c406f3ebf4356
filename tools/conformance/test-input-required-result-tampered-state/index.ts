// MCP conformance fixture (tools/conformance/): one elicitation (key "confirm"), for the
// scenario that sends its requestState back changed: the sandbox refuses that state (-32602)
// before this tool runs again.

import { returnErr, returnOk, returnString } from "../../lib/abi";
export { cabi_realloc } from "../../lib/abi";
import { askingFixture, elicit } from "../../lib/ask";

export function describe(): usize {
  return returnString(askingFixture("test_input_required_result_tampered_state", "Asks for a confirmation (elicitation/create, key confirm); a changed request state is refused"));
}

export function call(argsPtr: usize, argsLen: usize): usize {
  const answer = elicit("confirm", "Confirm to go on", "ok");
  if (!answer.ok) return returnErr(answer.error);
  return returnOk("The user answered: " + answer.value);
}
