// MCP conformance fixture (tools/conformance/): asks the user while its response streams; on a
// stateless request the stream carries no request to the client, only the InputRequiredResult.

import { returnErr, returnOk, returnString } from "../../lib/abi";
export { cabi_realloc } from "../../lib/abi";
import { askingFixture, elicit } from "../../lib/ask";
import { log } from "../../lib/host";

export function describe(): usize {
  return returnString(askingFixture("test_streaming_elicitation", "Logs, then asks the user's name (elicitation/create) while its response streams"));
}

export function call(argsPtr: usize, argsLen: usize): usize {
  log("info", "about to ask the user");
  const answer = elicit("user_name", "What is your name?", "name");
  if (!answer.ok) return returnErr(answer.error);
  return returnOk("The user answered: " + answer.value);
}
