// Argument parsing shared by the seed-named file tools (read_file, write_file,
// list_directory): `{"path": string}` plus, where allowed, `{"contents": string}`.

import { JsonScanner, JsonType, quote } from "./json";

export class FileArgs {
  path: string = "";
  contents: string | null = null;
  /** Empty when the arguments are valid. */
  error: string = "";
}

export function parseFileArgs(json: string, withContents: bool): FileArgs {
  const out = new FileArgs();
  const args = new JsonScanner(json);
  let path: string | null = null;
  if (args.peekType() != JsonType.Object) return fail(out, "expected a JSON object");
  args.enterObject();
  let i = 0;
  while (args.nextMember(i++)) {
    const key = args.key;
    if (key == "path" || (withContents && key == "contents")) {
      if (args.peekType() != JsonType.String) return fail(out, quote(key) + " must be a string");
      const value = args.readString();
      if (key == "path") path = value;
      else out.contents = value;
    } else {
      return fail(out, "unknown property " + quote(key));
    }
  }
  if (!args.finish()) return fail(out, "not valid JSON (" + args.errorDetail() + ")");
  if (path === null) return fail(out, 'missing required property "path"');
  if (path.length == 0) return fail(out, '"path" must not be empty');
  if (withContents && out.contents === null) return fail(out, 'missing required property "contents"');
  out.path = path;
  return out;
}

function fail(out: FileArgs, reason: string): FileArgs {
  out.error = "invalid arguments: " + reason;
  return out;
}
