// MCP conformance fixture (tools/conformance/): asks the client for its roots (roots/list, key
// "client_roots"; SEP-2322 over the 2026-07-28 revision).

import { returnErr, returnOk, returnString } from "../../lib/abi";
export { cabi_realloc } from "../../lib/abi";
import { askingFixture, listRoots } from "../../lib/ask";

export function describe(): usize {
  return returnString(askingFixture("test_input_required_result_list_roots", "Asks the client for its roots (roots/list, key client_roots)"));
}

export function call(argsPtr: usize, argsLen: usize): usize {
  const answer = listRoots("client_roots");
  if (!answer.ok) return returnErr(answer.error);
  return returnOk("The client's roots: " + answer.value);
}
