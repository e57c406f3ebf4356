// Requests to the calling agent's MCP client that name their key: the key under which the
// 2026-07-28 revision lists an unanswered request (`inputRequests`) and takes its answer
// (`inputResponses`); see docs/writing-tools.md#asking-the-client. Over a 2025-11-25 session the
// key is taken out and the request goes to the client as it is.
//
// Ask everything you need before acting on any answer: on a stateless request each unanswered
// request fails at once with an error starting "input-required:", the tool returns, and the
// agent is asked every unanswered request of the run together.

import { clientRequest, HostResult } from "./host";
import { JsonWriter } from "./json";

/** Where the key goes in a request's params (src/server/input-required.ts, INPUT_KEY_META). */
const KEY_META = "mcp-sandbox/input-key";

function keyed(w: JsonWriter, key: string): JsonWriter {
  return w.key("_meta").beginObject().key(KEY_META).string(key).endObject();
}

/** elicitation/create for one string property; ok: the ElicitResult as JSON. */
export function elicit(key: string, message: string, property: string): HostResult<string> {
  const w = keyed(new JsonWriter().beginObject(), key).key("message").string(message);
  w.key("requestedSchema").beginObject().key("type").string("object");
  w.key("properties").beginObject().key(property).beginObject().key("type").string("string").endObject().endObject();
  w.key("required").beginArray().string(property).endArray().endObject();
  return clientRequest("elicitation/create", w.endObject().toString());
}

/** sampling/createMessage with one user message; ok: the CreateMessageResult as JSON. */
export function sample(key: string, question: string, maxTokens: i64 = 100): HostResult<string> {
  const w = keyed(new JsonWriter().beginObject(), key).key("messages").beginArray().beginObject().key("role").string("user");
  w.key("content").beginObject().key("type").string("text").key("text").string(question).endObject().endObject().endArray();
  return clientRequest("sampling/createMessage", w.key("maxTokens").integer(maxTokens).endObject().toString());
}

/** roots/list; ok: the ListRootsResult as JSON. */
export function listRoots(key: string): HostResult<string> {
  return clientRequest("roots/list", keyed(new JsonWriter().beginObject(), key).endObject().toString());
}

/**
 * `describe` metadata of a conformance fixture that asks its client: restricted (only an agent
 * whose policy names it sees it), no arguments, permission "client"; a prompt producer if `prompt`.
 */
export function askingFixture(name: string, description: string, prompt: bool = false): string {
  const w = new JsonWriter().beginObject().key("name").string(name).key("description").string(description + " (MCP conformance fixture).");
  w.key("version").string("0.1.0").key("author").string("Browser MCP Sandbox");
  w.key("tags").beginArray().string("conformance").endArray();
  w.key("categories").beginArray().string("fixture").string("restricted");
  if (prompt) w.string("prompt");
  w.endArray();
  w.key("inputSchema").beginObject().key("type").string("object").key("properties").beginObject().endObject().key("additionalProperties").boolean(false).endObject();
  w.key("permissions").beginArray().string("client").endArray();
  w.key("limits").beginObject().key("memoryMb").integer(16).key("cpuMs").integer(10000).endObject();
  return w.endObject().toString();
}
