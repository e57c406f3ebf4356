// MCP conformance fixture (tools/conformance/): needs sampling; a stateless client that did not
// declare it gets -32021 naming the capability (SEP-2575), the tool having failed at once.

import { returnErr, returnOk, returnString } from "../../lib/abi";
export { cabi_realloc } from "../../lib/abi";
import { askingFixture, sample } from "../../lib/ask";

export function describe(): usize {
  return returnString(askingFixture("test_missing_capability", "Needs the client's sampling capability"));
}

export function call(argsPtr: usize, argsLen: usize): usize {
  const answer = sample("question", "Say hello.");
  if (!answer.ok) return returnErr(answer.error);
  return returnOk("The LLM answered: " + answer.value);
}
