// The ready example component, tools/examples/csv_to_json.wasm (committed, for people to upload
// without building anything): the source (tools/examples/csv-to-json/index.ts) builds to exactly
// these bytes — the build is byte-deterministic, so the committed file can never go stale
// unnoticed — and the committed component does what its description says, driven through jco's
// glue in Node like the bundled tools (tools.test.ts).

import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXAMPLES_DIR, TRANSPILE_OPTIONS, buildExample, validateMetadata, type BuiltExample } from "../../tools/build.mjs";
import type { ToolGlueModule, ToolInstance } from "../../tools/types";

const COMMITTED = join(EXAMPLES_DIR, "csv_to_json.wasm");

let built: BuiltExample;
let committed: Buffer;
let glue: ToolGlueModule;
let temp: string;
const modules = new Map<string, WebAssembly.Module>();

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

beforeAll(async () => {
  built = await buildExample("csv-to-json");
  committed = await readFile(COMMITTED);
  // The committed component, transpiled the way the app does for an upload (no JSPI: it imports nothing).
  const { transpile } = await import("@bytecodealliance/jco");
  const { files } = await transpile(committed, { ...TRANSPILE_OPTIONS, name: "csv_to_json" });
  temp = await mkdtemp(join(tmpdir(), "example-tool-test-"));
  for (const [file, bytes] of Object.entries(files)) {
    if (file.endsWith(".wasm")) modules.set(file, await WebAssembly.compile(new Uint8Array(bytes)));
    else await writeFile(join(temp, file), bytes);
  }
  glue = (await import(pathToFileURL(join(temp, "csv_to_json.js")).href)) as ToolGlueModule;
}, 120_000);
afterAll(async () => {
  if (temp) await rm(temp, { recursive: true, force: true });
});

/** A fresh instance per call, as the host does. */
async function instance(): Promise<ToolInstance> {
  return glue.instantiate((file) => {
    const module = modules.get(file);
    if (!module) throw new Error(`unexpected core module ${file}`);
    return module;
  }, {});
}

async function convert(args: unknown): Promise<unknown> {
  return JSON.parse(await (await instance()).call(JSON.stringify(args))) as unknown;
}

/** The err(...) message of a call (jco throws it as an Error with `payload`). */
async function refusal(args: unknown): Promise<string> {
  try {
    await (await instance()).call(typeof args === "string" ? args : JSON.stringify(args));
  } catch (error) {
    const payload = (error as { payload?: unknown }).payload;
    expect(typeof payload, String(error)).toBe("string");
    return payload as string;
  }
  throw new Error(`csv_to_json returned ok for ${JSON.stringify(args)}`);
}

describe("the committed example component", () => {
  it("is byte for byte what its source builds (run `npm run build:tools` and commit tools/examples/csv_to_json.wasm)", () => {
    expect(built.name).toBe("csv_to_json");
    expect(sha256(committed), `${COMMITTED} is stale`).toBe(sha256(built.component));
    expect(Buffer.compare(committed, Buffer.from(built.component))).toBe(0);
    // Small enough to hand to a newcomer.
    expect(committed.byteLength).toBeLessThan(32 * 1024);
  });

  it("describes itself as a tool with an input schema that needs no permissions and imports nothing", async () => {
    expect(built.imports).toEqual([]);
    const meta = JSON.parse((await instance()).describe()) as Record<string, unknown>;
    expect(meta).toEqual(built.metadata);
    expect(validateMetadata(meta, "csv_to_json")).toEqual([]);
    expect(meta).toMatchObject({
      name: "csv_to_json",
      version: "1.0.0",
      permissions: [],
      inputSchema: { type: "object", required: ["csv"], additionalProperties: false },
    });
    expect(Object.keys((meta.inputSchema as { properties: object }).properties).sort()).toEqual(["csv", "delimiter", "header", "skipEmptyLines", "trim", "types"]);
    expect(meta.categories).not.toContain("fixture");
  });
});

describe("csv_to_json", () => {
  it("turns rows into objects keyed by the header, with RFC 4180 quoting", async () => {
    const csv = 'name,age,motto\nAda,36,"Analyse, then ""engine"""\n"Lovelace\nAugusta",,plain\n';
    expect(await convert({ csv })).toEqual({
      columns: ["name", "age", "motto"],
      rows: [
        { name: "Ada", age: "36", motto: 'Analyse, then "engine"' },
        { name: "Lovelace\nAugusta", age: "", motto: "plain" },
      ],
      rowCount: 2,
    });
  });

  it("reads CRLF and lone CR line ends, a byte-order mark, and a delimiter at the end of a line", async () => {
    expect(await convert({ csv: "\ufeffa,b\r\n1,\r\n\"x\r\ny\",2\r3,4" })).toEqual({
      columns: ["a", "b"],
      rows: [{ a: "1", b: "" }, { a: "x\r\ny", b: "2" }, { a: "3", b: "4" }],
      rowCount: 3,
    });
  });

  it("returns arrays without a header, and takes another delimiter (TSV) and trims blanks", async () => {
    expect(await convert({ csv: "x;y\n1;2", delimiter: ";", header: false })).toEqual({ rows: [["x", "y"], ["1", "2"]], rowCount: 2 });
    // A tab delimiter is not trimmed away; spaces around fields (quoted ones too) are.
    expect(await convert({ csv: ' a \t "b c" \n 1 \t', delimiter: "\t", trim: true })).toEqual({
      columns: ["a", "b c"],
      rows: [{ a: "1", "b c": "" }],
      rowCount: 1,
    });
    expect(await convert({ csv: " a , b ", header: false })).toEqual({ rows: [[" a ", " b "]], rowCount: 1 });
  });

  it("types unquoted fields when asked: JSON numbers exactly as written, booleans, empty as null", async () => {
    const csv = 'n,t,f,empty,zero,lead,quoted,word\n-1.5e3,true,false,,0,007,"42",1.\n';
    expect(await convert({ csv, types: true })).toEqual({
      columns: ["n", "t", "f", "empty", "zero", "lead", "quoted", "word"],
      rows: [{ n: -1500, t: true, f: false, empty: null, zero: 0, lead: "007", quoted: "42", word: "1." }],
      rowCount: 1,
    });
    // Numbers are re-emitted as written, not rounded through a float.
    expect(await (await instance()).call(JSON.stringify({ csv: "v,big\n0.1000,12345678901234567890", types: true }))).toBe(
      '{"columns":["v","big"],"rows":[{"v":0.1000,"big":12345678901234567890}],"rowCount":1}',
    );
  });

  it("skips empty lines unless told not to", async () => {
    expect(await convert({ csv: "a\n\n1\n\n" })).toEqual({ columns: ["a"], rows: [{ a: "1" }], rowCount: 1 });
    expect(await convert({ csv: "a\n\n1", skipEmptyLines: false, header: false })).toEqual({ rows: [["a"], [""], ["1"]], rowCount: 3 });
    expect(await refusal({ csv: "a,b\n\n1,2", skipEmptyLines: false })).toBe(
      "line 2: row 1 has 1 field but the header has 2 columns (an empty line: leave skipEmptyLines on to ignore it)",
    );
  });

  it("converts a large table", async () => {
    const lines = ["id,label,score"];
    for (let i = 0; i < 20_000; i++) lines.push(`${i},"item ${i}, ""quoted""",${i / 4}`);
    const result = (await convert({ csv: lines.join("\r\n"), types: true })) as { rows: { id: number; label: string; score: number }[]; rowCount: number };
    expect(result.rowCount).toBe(20_000);
    expect(result.rows[19_999]).toEqual({ id: 19_999, label: 'item 19999, "quoted"', score: 4999.75 });
  });

  it("refuses malformed CSV with the line and column of the problem", async () => {
    expect(await refusal({ csv: 'a,b\n1,"open\nstill open' })).toBe(
      'line 2, column 3: unterminated quoted field: the quote that opens it is never closed (a quote inside a quoted field is written twice: "")',
    );
    expect(await refusal({ csv: 'a,b\n1,x"y' })).toBe('line 2, column 4: a quote inside an unquoted field; enclose the whole field in quotes and write the quote twice ("")');
    expect(await refusal({ csv: 'a, "b"' })).toBe(
      'line 1, column 4: a quote inside an unquoted field; enclose the whole field in quotes and write the quote twice (""), or set trim to true to allow blanks before the opening quote',
    );
    expect(await refusal({ csv: 'a,b\n"multi\nline"x,2' })).toBe(
      "line 3, column 6: unexpected 'x' after the closing quote of a quoted field (expected ',' or the end of the line; a quote inside a quoted field is written twice: \"\")",
    );
    expect(await refusal({ csv: "a,b,c\n1,2,3\n4,5\n" })).toBe("line 3: row 2 has 2 fields but the header has 3 columns");
    expect(await refusal({ csv: "id,name,id\n1,2,3" })).toBe('line 1: the header names column 1 and column 3 both "id"; column names must differ');
    expect(await refusal({ csv: "id,,x\n1,2,3" })).toBe("line 1: column 2 of the header is empty; every column needs a name (or set header to false)");
    expect(await refusal({ csv: "" })).toBe("the CSV is empty: there is no header row (set header to false to accept an empty table)");
    expect(await convert({ csv: "", header: false })).toEqual({ rows: [], rowCount: 0 });
  });

  it("refuses bad arguments with a clear message", async () => {
    expect(await refusal({ csv: "a", delimiter: ";;" })).toBe('invalid arguments: "delimiter" must be one character, got ";;"');
    expect(await refusal({ csv: "a", delimiter: '"' })).toBe("invalid arguments: \"delimiter\" cannot be '\"' (quotes and line breaks have their own meaning in CSV)");
    expect(await refusal({ csv: "a", delimiter: "\n" })).toBe('invalid arguments: "delimiter" cannot be U+000A (quotes and line breaks have their own meaning in CSV)');
    expect(await refusal({ csv: 42 })).toBe('invalid arguments: "csv" must be a string');
    expect(await refusal({ csv: "a", header: "yes" })).toBe('invalid arguments: "header" must be true or false');
    expect(await refusal({ text: "a" })).toBe('invalid arguments: unknown property "text" (expected "csv", "delimiter", "header", "trim", "types", "skipEmptyLines")');
    expect(await refusal({})).toBe('invalid arguments: missing required property "csv"');
    expect(await refusal("[1]")).toBe("invalid arguments: expected a JSON object");
  });
});
