// Reads string arguments out of a call's JSON arguments: the string members of the top-level
// object, and of one object member (e.g. a resource template's `params`). Other values are skipped.

import { JsonScanner, JsonType } from "./json";

/** The string members of the object `json` (or of its member `inner`, when given). */
export function stringArgs(json: string, inner: string = ""): Map<string, string> {
  const found = new Map<string, string>();
  const s = new JsonScanner(json);
  if (!s.enterObject()) return found;
  let i = 0;
  while (s.nextMember(i++)) {
    const key = s.key;
    if (inner.length > 0) {
      if (key == inner && s.peekType() == JsonType.Object) {
        s.enterObject();
        let j = 0;
        while (s.nextMember(j++)) readInto(s, found);
      } else s.skipValue();
    } else readInto(s, found);
  }
  return found;
}

function readInto(s: JsonScanner, found: Map<string, string>): void {
  const key = s.key;
  if (s.peekType() == JsonType.String) {
    const value = s.readString();
    if (value !== null) found.set(key, value);
  } else s.skipValue();
}
