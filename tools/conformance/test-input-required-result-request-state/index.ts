// MCP conformance fixture (tools/conformance/): one elicitation (key "confirm") whose round
// carries a requestState. The sandbox verified that state before this run began (it runs only
// with a state that opens for this agent, tool and arguments), so an answer here means "state-ok".

import { returnErr, returnOk, returnString } from "../../lib/abi";
export { cabi_realloc } from "../../lib/abi";
import { askingFixture, elicit } from "../../lib/ask";

export function describe(): usize {
  return returnString(askingFixture("test_input_required_result_request_state", "Asks for a confirmation (elicitation/create, key confirm) and reports the verified request state"));
}

export function call(argsPtr: usize, argsLen: usize): usize {
  const answer = elicit("confirm", "Confirm to go on", "ok");
  if (!answer.ok) return returnErr(answer.error);
  return returnOk("state-ok: the request state verified; the user answered " + answer.value);
}
