// Tests the built WebAssembly tools (public/tools/, from `npm run build:tools`) through
// their jco glue, the way the sandbox host loads them: compile each core module once,
// instantiate a fresh component per call. Tools that import asynchronous host functions
// use JSPI, which Node 20 lacks: their calls are tested in Chromium (tools-jspi.test.ts),
// and the host ABI in Node through a synchronous transpile (tools-host-abi.test.ts).

import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { beforeAll, describe, expect, it } from "vitest";
import { OUT_DIR, buildTools, componentImports, validateMetadata } from "../../tools/build.mjs";
import type { ToolGlueModule, ToolImports, ToolInstance, ToolManifest, ToolManifestEntry } from "../../tools/types";

const PUBLIC_DIR = dirname(OUT_DIR);
const TOOL_NAMES = ["fetch_url", "json_query", "list_directory", "read_file", "system_env", "system_info", "text_stats", "workspace_files", "write_file"];
const FIXTURE_NAMES = ["call_count", "context_blind", "context_probe", "context_writer", "host_probe", "loop_forever", "memory_hog", "slow_start", "trap"];
const HOST = "mcp-sandbox:tool/host@0.1.0";
/** Host functions each host-importing tool imports (all others import nothing). */
const HOST_IMPORTS: Record<string, string[]> = {
  fetch_url: ["http-fetch"],
  workspace_files: ["list-directory", "read-file", "stat", "write-file"],
  read_file: ["read-file"],
  write_file: ["write-file"],
  list_directory: ["list-directory"],
  host_probe: ["http-fetch", "list-directory", "log", "now-ms", "random-bytes", "read-file", "stat", "write-file"],
};
const PERMISSIONS: Record<string, string[]> = {
  fetch_url: ["network"],
  workspace_files: ["files:read", "files:write"],
  read_file: ["files:read"],
  write_file: ["files:write"],
  list_directory: ["files:read"],
  host_probe: ["files:read", "files:write", "network"],
};
/** Tools importing only synchronous host functions (answered in the worker): no JSPI. */
const SYNC_HOST_IMPORTS: Record<string, string[]> = {
  context_blind: ["get-context"],
  context_probe: ["get-context"],
};
/** Tools whose glue runs without JSPI (Node 20 can instantiate them). */
const SYNC_NAMES = [...TOOL_NAMES, ...FIXTURE_NAMES].filter((n) => !(n in HOST_IMPORTS));

let manifest: ToolManifest;
const modules = new Map<string, Promise<WebAssembly.Module>>();

beforeAll(async () => {
  // Incremental: only rebuilds what changed, so the tests never run stale binaries.
  manifest = await buildTools({ log: () => {} });
}, 300_000);

function entry(name: string): ToolManifestEntry {
  const found = manifest.tools.find((t) => t.name === name);
  if (!found) throw new Error(`tool ${name} missing from manifest`);
  return found;
}

function toolDir(e: ToolManifestEntry): string {
  return join(PUBLIC_DIR, e.dir);
}

// Compiled once per file, like the host's Module cache.
function compileCore(e: ToolManifestEntry, file: string): Promise<WebAssembly.Module> {
  const path = join(toolDir(e), file);
  let module = modules.get(path);
  if (!module) {
    module = readFile(path).then((bytes) => WebAssembly.compile(bytes));
    modules.set(path, module);
  }
  return module;
}

async function instantiate(
  name: string,
  getCoreModule?: (file: string) => Promise<WebAssembly.Module>,
  imports: ToolImports = {},
): Promise<ToolInstance> {
  const e = entry(name);
  const glue = (await import(pathToFileURL(join(toolDir(e), e.glue)).href)) as ToolGlueModule;
  return glue.instantiate(
    (file) => {
      if (!e.coreModules.includes(file)) throw new Error(`unexpected core module ${file}`);
      return getCoreModule ? getCoreModule(file) : compileCore(e, file);
    },
    imports,
  );
}

/** ok(...) payload of a fresh instance's call. */
async function call(name: string, args: unknown): Promise<string> {
  const tool = await instantiate(name);
  return tool.call(typeof args === "string" ? args : JSON.stringify(args));
}

async function callJson(name: string, args: unknown): Promise<unknown> {
  return JSON.parse(await call(name, args)) as unknown;
}

/** err(...) message: jco throws a ComponentError whose `payload` is the message. */
async function callError(name: string, args: unknown): Promise<string> {
  try {
    await call(name, args);
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    const payload = (error as { payload?: unknown }).payload;
    expect(typeof payload).toBe("string");
    expect((error as Error).message).toBe(payload);
    return payload as string;
  }
  throw new Error(`${name} returned ok for ${JSON.stringify(args)}`);
}

describe("manifest", () => {
  it("lists every tool and fixture with its files", async () => {
    expect(manifest.version).toBe(1);
    const own = manifest.tools.filter((t) => t.bundle === undefined);
    expect(own.map((t) => t.name)).toEqual([...TOOL_NAMES, ...FIXTURE_NAMES]);
    const onDisk = JSON.parse(await readFile(join(OUT_DIR, "manifest.json"), "utf8")) as unknown;
    expect(onDisk).toEqual(manifest);
    for (const t of own) {
      expect(t.fixture).toBe(FIXTURE_NAMES.includes(t.name));
      expect(t.dir).toBe(`tools/${t.name}/`);
      expect(t.glue).toBe(`${t.name}.js`);
      const imports = (HOST_IMPORTS[t.name] ?? SYNC_HOST_IMPORTS[t.name] ?? []).map((f) => `${HOST}#${f}`);
      expect(t.imports).toEqual(imports);
      expect(t.async).toBe(t.name in HOST_IMPORTS);
      // Host imports that return through memory add jco's shim and fixup modules.
      expect(t.coreModules).toEqual(
        imports.length ? [`${t.name}.core.wasm`, `${t.name}.core2.wasm`, `${t.name}.core3.wasm`] : [`${t.name}.core.wasm`],
      );
      expect(t.component).toBe(`${t.name}.component.wasm`);
      const component = await readFile(join(toolDir(t), t.component));
      expect(t.size).toBe(component.byteLength);
      expect(t.sha256).toBe(createHash("sha256").update(component).digest("hex"));
    }
  });

  it("lists the conformance bundle (tools/conformance/): fixtures, restricted, importing only what they use", async () => {
    const bundle = manifest.tools.filter((t) => t.bundle !== undefined);
    expect(bundle.length).toBe(31);
    const uses: Record<string, string[]> = {
      test_tool_with_logging: ["log", "now-ms"],
      test_logging_tool: ["log", "now-ms"],
      test_tool_with_progress: ["log", "now-ms"],
      test_sampling: ["client-request"],
      test_elicitation: ["client-request"],
      test_elicitation_sep1034_defaults: ["client-request"],
      test_elicitation_sep1330_enums: ["client-request"],
      // SEP-2322 (InputRequiredResult) and SEP-2575 fixtures of the 2026-07-28 revision.
      ...Object.fromEntries(
        ["elicitation", "sampling", "list_roots", "request_state", "tampered_state", "multiple_inputs", "multi_round", "capabilities", "prompt"].map((n) => [`test_input_required_result_${n}`, ["client-request"]]),
      ),
      test_missing_capability: ["client-request"],
      test_streaming_elicitation: ["client-request", "log"],
    };
    for (const t of bundle) {
      expect(t.bundle, t.name).toBe("conformance");
      expect(t.name).toMatch(/^test_/);
      expect(t.fixture).toBe(true);
      expect(t.metadata.categories).toEqual(expect.arrayContaining(["fixture", "restricted"]));
      expect(t.imports, t.name).toEqual((uses[t.name] ?? []).map((f) => `${HOST}#${f}`));
      // client-request waits for the client: JSPI glue, like files and HTTP.
      expect(t.async, t.name).toBe(t.imports.includes(`${HOST}#client-request`));
      expect(t.metadata.permissions).toEqual(t.async ? ["client"] : []);
    }
  });

  it("componentImports reads the host functions a component imports and rejects other imports", async () => {
    const { print } = await import("@bytecodealliance/jco");
    for (const t of manifest.tools) {
      const wat = await print(await readFile(join(toolDir(t), t.component)));
      expect(componentImports(wat), t.name).toEqual(t.imports);
    }
    const foreign = [
      "(component",
      "  (type $ty-wasi:cli/environment@0.2.0 (;0;)",
      "    (instance",
      "      (type (;0;) (list string))",
      '      (export (;0;) "get-arguments" (func (type 1)))',
      "    )",
      "  )",
      '  (import "wasi:cli/environment@0.2.0" (instance $wasi:cli/environment@0.2.0 (;0;) (type $ty-wasi:cli/environment@0.2.0)))',
      ")",
    ].join("\n");
    expect(() => componentImports(foreign)).toThrow(/unsupported component import: \(import "wasi:cli\/environment@0.2.0"/);
    expect(() => componentImports('(component\n  (import "f" (func $f (type 0)))\n)')).toThrow(/unsupported component import/);
  });

  it("core modules import only the manifest's host functions and export the canonical ABI", async () => {
    for (const t of manifest.tools) {
      const module = await compileCore(t, t.coreModules[0]!);
      const imports = WebAssembly.Module.imports(module).map((i) => `${i.module}#${i.name}:${i.kind}`);
      expect(imports.sort(), t.name).toEqual(t.imports.map((i) => `${i}:function`));
      const exported = WebAssembly.Module.exports(module).map((x) => `${x.name}:${x.kind}`);
      expect(exported).toEqual(
        expect.arrayContaining(["memory:memory", "cabi_realloc:function", "describe:function", "call:function"]),
      );
      // The host caps memory by rewriting the declared maximum; none is declared.
      expect(memoryLimits(await readFile(join(toolDir(t), t.coreModules[0]!))).maximum).toBeUndefined();
    }
  });
});

describe("describe()", () => {
  it.each(SYNC_NAMES)("%s returns valid metadata matching the manifest", async (name) => {
    const tool = await instantiate(name, undefined, name in SYNC_HOST_IMPORTS ? contextHost(() => ({ tag: "err", val: "describe must not ask" })) : {});
    const text = tool.describe();
    const metadata = JSON.parse(text) as Record<string, unknown>;
    expect(validateMetadata(metadata, name)).toEqual([]);
    expect(metadata).toEqual(entry(name).metadata);
    expect(metadata).toMatchObject({
      name,
      description: expect.any(String),
      version: expect.stringMatching(/^\d+\.\d+\.\d+$/),
      author: expect.any(String),
      tags: expect.any(Array),
      categories: expect.any(Array),
      inputSchema: expect.objectContaining({ type: "object" }),
      permissions: [],
      limits: { memoryMb: expect.any(Number), cpuMs: expect.any(Number) },
    });
    // describe() is pure: a second call on the same instance gives the same text.
    expect(tool.describe()).toBe(text);
  });

  // Their describe() through the glue runs in Chromium (tools-jspi.test.ts); here the
  // build's metadata (read through the core ABI) is checked.
  it.each(Object.keys(HOST_IMPORTS))("%s (JSPI) has valid metadata declaring its permissions", (name) => {
    const metadata = entry(name).metadata;
    expect(validateMetadata(metadata, name)).toEqual([]);
    expect(metadata.permissions).toEqual(PERMISSIONS[name]);
    expect(metadata.limits).toEqual({ memoryMb: expect.any(Number), cpuMs: expect.any(Number) });
  });

  it("JSPI glue needs WebAssembly.Suspending, which Node 20 lacks", async () => {
    if (typeof (WebAssembly as { Suspending?: unknown }).Suspending === "function") return;
    const unused = () => {
      throw new Error("not called");
    };
    const host = {
      readFile: unused, writeFile: unused, listDirectory: unused, stat: unused,
      httpFetch: unused, log: unused, nowMs: unused, randomBytes: unused,
    };
    await expect(instantiate("host_probe", undefined, { "mcp-sandbox:tool/host": host })).rejects.toThrow(/Suspending/);
  });

  it("system_info declares the system://info resource", () => {
    expect(entry("system_info").metadata).toMatchObject({
      categories: ["resource"],
      resource: { uri: "system://info", mimeType: "application/json" },
    });
  });

  it("system_env declares the system://env resource", () => {
    expect(entry("system_env").metadata).toMatchObject({
      categories: ["resource"],
      resource: { uri: "system://env", mimeType: "application/json" },
      permissions: [],
    });
    // Resources are produced for every agent: the producer needs no capability at all.
    expect(entry("system_env").imports).toEqual([]);
  });

  it("validateMetadata rejects malformed metadata", () => {
    expect(validateMetadata(null)).not.toEqual([]);
    expect(validateMetadata({ ...entry("text_stats").metadata, name: "Bad-Name" })).not.toEqual([]);
    expect(validateMetadata(entry("text_stats").metadata, "other")).not.toEqual([]);
    expect(validateMetadata({ ...entry("text_stats").metadata, limits: { memoryMb: -1 } })).not.toEqual([]);
    expect(validateMetadata({ ...entry("text_stats").metadata, extra: 1 })).not.toEqual([]);
    expect(validateMetadata({ ...entry("text_stats").metadata, categories: ["resource"] })).not.toEqual([]);
  });
});

describe("text_stats", () => {
  const PARAGRAPH =
    "The quick brown fox jumps over the lazy dog. The dog sleeps!\n" +
    "Isn't it nice? Yes.\n" +
    "\n" +
    "A second paragraph, with the fox again.";

  it("computes statistics of a known text", async () => {
    expect(await callJson("text_stats", { text: PARAGRAPH, top: 3 })).toEqual({
      characters: PARAGRAPH.length,
      charactersNoSpaces: PARAGRAPH.replace(/\s/g, "").length,
      words: 23,
      uniqueWords: 18,
      lines: 4,
      sentences: 5,
      paragraphs: 2,
      averageWordLength: 4, // 92 letters / 23 words
      readingTimeSeconds: 7, // ceil(23 / 200 * 60)
      topWords: [
        { word: "the", count: 4 },
        { word: "dog", count: 2 }, // ties in alphabetical order
        { word: "fox", count: 2 },
      ],
    });
  });

  it("lists 5 top words by default", async () => {
    const result = (await callJson("text_stats", { text: "g f e d c b a a" })) as { topWords: unknown[] };
    expect(result.topWords).toEqual([
      { word: "a", count: 2 },
      { word: "b", count: 1 },
      { word: "c", count: 1 },
      { word: "d", count: 1 },
      { word: "e", count: 1 },
    ]);
  });

  it("handles unicode text", async () => {
    expect(await callJson("text_stats", { text: "héllo wörld" })).toEqual({
      characters: 11,
      charactersNoSpaces: 10,
      words: 2,
      uniqueWords: 2,
      lines: 1,
      sentences: 1,
      paragraphs: 1,
      averageWordLength: 5,
      readingTimeSeconds: 1,
      topWords: [
        { word: "héllo", count: 1 },
        { word: "wörld", count: 1 },
      ],
    });
    // Case-insensitive beyond ASCII; ’ is an apostrophe; quotes around words are dropped.
    const mixed = (await callJson("text_stats", { text: "HÉLLO héllo don’t 'don't'" })) as Record<string, unknown>;
    expect(mixed).toMatchObject({ words: 4, uniqueWords: 2, topWords: [{ word: "don't", count: 2 }, { word: "héllo", count: 2 }] });
    // Characters are code points: the crab is one, the heart is two (U+2764 U+FE0F).
    const emoji = (await callJson("text_stats", { text: "I ❤️ 🦀 crabs" })) as Record<string, unknown>;
    expect(emoji).toMatchObject({ characters: 12, charactersNoSpaces: 9, words: 2 });
    // A combining accent stays part of its word.
    const decomposed = (await callJson("text_stats", { text: "cafe\u0301 CAFE\u0301" })) as Record<string, unknown>;
    expect(decomposed).toMatchObject({ words: 2, uniqueWords: 1, topWords: [{ word: "cafe\u0301", count: 2 }] });
    // Scripts without case or spaces between words.
    const cjk = (await callJson("text_stats", { text: "日本語のテキスト。二文目。" })) as Record<string, unknown>;
    expect(cjk).toMatchObject({ characters: 13, sentences: 2, words: 2 });
  });

  it("handles empty and blank text", async () => {
    expect(await callJson("text_stats", { text: "" })).toEqual({
      characters: 0,
      charactersNoSpaces: 0,
      words: 0,
      uniqueWords: 0,
      lines: 0,
      sentences: 0,
      paragraphs: 0,
      averageWordLength: 0,
      readingTimeSeconds: 0,
      topWords: [],
    });
    expect(await callJson("text_stats", { text: " \n\t " })).toMatchObject({
      characters: 4,
      charactersNoSpaces: 0,
      words: 0,
      lines: 2,
      sentences: 0,
      paragraphs: 0,
    });
  });

  it("counts lines with any line break and rounds averages to 2 decimals", async () => {
    expect(await callJson("text_stats", { text: "one\r\ntwo\rthree\n" })).toMatchObject({ lines: 3, paragraphs: 1 });
    expect(await callJson("text_stats", { text: "ab abc abc" })).toMatchObject({ averageWordLength: 2.67 });
    expect(await callJson("text_stats", { text: `${"a ".repeat(19)}ab` })).toMatchObject({ averageWordLength: 1.05 });
    expect(await callJson("text_stats", { text: "a bb" })).toMatchObject({ averageWordLength: 1.5 });
    expect(await callJson("text_stats", { text: "Pi is 3.14... Right?" })).toMatchObject({ sentences: 2 });
  });

  it("rejects invalid arguments", async () => {
    expect(await callError("text_stats", {})).toBe('invalid arguments: missing required property "text"');
    expect(await callError("text_stats", { text: 42 })).toBe('invalid arguments: "text" must be a string');
    expect(await callError("text_stats", { text: null })).toBe('invalid arguments: "text" must be a string');
    for (const top of [0, 51, 2.5, "3", null]) {
      expect(await callError("text_stats", { text: "a", top })).toBe(
        'invalid arguments: "top" must be an integer from 1 to 50',
      );
    }
    expect(await callError("text_stats", { text: "a", extra: true })).toBe('invalid arguments: unknown property "extra"');
    expect(await callError("text_stats", [])).toBe("invalid arguments: expected a JSON object");
    expect(await callError("text_stats", '{"text": "a"')).toMatch(/^invalid arguments: not valid JSON \(at offset 12: /);
    expect(await callJson("text_stats", { text: "a b", top: 1 })).toMatchObject({ topWords: [{ word: "a", count: 1 }] });
  });
});

describe("json_query", () => {
  const DATA = {
    store: {
      book: [
        { title: 'A "quoted" title', price: 8.95, tags: ["x", "y"] },
        { title: "Ünïcödé ✓ 🦀", price: 12, isbn: null, "": "empty key" },
      ],
      open: true,
      "key with space": { "a.b": [10, 20, -3.5e-7] },
      "it's": "single",
      "tab\there": "\u0001\\/",
    },
    empty: {},
    list: [],
  };
  const DOC = JSON.stringify(DATA, null, 2);

  async function query(json: string, path: string): Promise<{ found: boolean; type?: string; value?: unknown }> {
    return (await callJson("json_query", { json, path })) as { found: boolean; type?: string; value?: unknown };
  }

  it("finds nested values, array indices and quoted keys", async () => {
    expect(await query(DOC, "$.store.book[0].title")).toEqual({ found: true, type: "string", value: 'A "quoted" title' });
    expect(await query(DOC, "store.book[1].price")).toEqual({ found: true, type: "number", value: 12 });
    expect(await query(DOC, "$.store.book[1].isbn")).toEqual({ found: true, type: "null", value: null });
    expect(await query(DOC, '$.store["key with space"]["a.b"][2]')).toEqual({ found: true, type: "number", value: -3.5e-7 });
    expect(await query(DOC, "$.store['it\\'s']")).toEqual({ found: true, type: "string", value: "single" });
    expect(await query(DOC, '$.store["tab\\there"]')).toEqual({ found: true, type: "string", value: "\u0001\\/" });
    expect(await query(DOC, '$.store.book[1][""]')).toEqual({ found: true, type: "string", value: "empty key" });
    expect(await query(DOC, "$.store.open")).toEqual({ found: true, type: "boolean", value: true });
    expect(await query(DOC, "$.empty")).toEqual({ found: true, type: "object", value: {} });
    expect(await query(DOC, " $.list ")).toEqual({ found: true, type: "array", value: [] });
    expect(await query(DOC, "$")).toEqual({ found: true, type: "object", value: DATA });
    expect(await query(DOC, "")).toEqual({ found: true, type: "object", value: DATA });
    expect(await query("[[1, 2], [3]]", "[1][0]")).toEqual({ found: true, type: "number", value: 3 });
  });

  it("re-emits the value verbatim from the input", async () => {
    const json = ' \n\t{ "a" :\r\n [ 1 ,\n 2.50 ] , "s": "\\u00e9\\n" } \n';
    const raw = await call("json_query", { json, path: "a" });
    expect(raw).toBe('{"found":true,"type":"array","value":[ 1 ,\n 2.50 ]}');
    expect(await call("json_query", { json, path: "s" })).toBe('{"found":true,"type":"string","value":"\\u00e9\\n"}');
  });

  it("agrees with JSON.parse on every path of a document", async () => {
    const paths: [string, unknown][] = [];
    const walk = (value: unknown, path: string): void => {
      paths.push([path, value]);
      if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`));
      else if (value !== null && typeof value === "object") {
        for (const [k, v] of Object.entries(value)) {
          walk(v, /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`);
        }
      }
    };
    walk(DATA, "$");
    expect(paths.length).toBeGreaterThan(20);
    for (const [path, value] of paths) {
      const result = await query(DOC, path);
      expect(result, path).toMatchObject({ found: true, value });
    }
  });

  it("returns found:false for missing values", async () => {
    for (const path of [
      "$.store.missing",
      "$.store.book[2]",
      "$.store.book.title", // key on an array
      "$.store[0]", // index on an object
      "$.store.open.x", // key on a boolean
      "$.list[0]",
      "$.Store", // keys are case-sensitive
    ]) {
      expect(await call("json_query", { json: DOC, path }), path).toBe('{"found":false}');
    }
  });

  it("resolves duplicate keys to the last occurrence, like JSON.parse", async () => {
    expect(await query('{"a": 1, "a": {"b": 2}}', "a.b")).toEqual({ found: true, type: "number", value: 2 });
    expect(await query('{"a": {"b": 2}, "a": 1}', "a.b")).toEqual({ found: false });
    expect(await query('{"a": {"b": 2}, "a": 1}', "a")).toEqual({ found: true, type: "number", value: 1 });
  });

  it("decodes escapes in document keys", async () => {
    const json = '{"caf\\u00e9": 1, "x\\"y": 2, "\\ud83e\\udd80": 3}';
    expect(await query(json, "café")).toMatchObject({ value: 1 });
    expect(await query(json, '["x\\"y"]')).toMatchObject({ value: 2 });
    expect(await query(json, "🦀")).toMatchObject({ value: 3 });
  });

  it("rejects invalid JSON with its offset", async () => {
    const cases: [string, string][] = [
      ["", "invalid json at offset 0: expected a JSON value but found end of input"],
      ['{"a": 1,}', "invalid json at offset 8: expected a property name but found '}'"],
      ['{"a": 1} x', "invalid json at offset 9: expected end of input after the JSON value but found 'x'"],
      ['{"a": 01}', "invalid json at offset 7: expected ',' or '}' but found '1'"],
      ["[1, 2", "invalid json at offset 5: expected ',' or ']' but found end of input"],
      ['"abc', "invalid json at offset 0: unterminated string"],
      ['{"a": tru}', "invalid json at offset 6: invalid literal, expected 'true'"],
      ['["\u0001"]', "invalid json at offset 2: control character U+0001 in string must be escaped"],
      ['["\\x"]', "invalid json at offset 2: invalid escape sequence in string"],
      ['["\\u12g4"]', "invalid json at offset 2: invalid \\u escape in string"],
      ["[1.]", "invalid json at offset 3: invalid number: expected a digit after '.'"],
      ["[-]", "invalid json at offset 2: invalid number: expected a digit"],
      ["[1e+]", "invalid json at offset 4: invalid number: expected a digit in the exponent"],
      ["{'a': 1}", "invalid json at offset 1: expected a property name or '}' but found '''"],
      ["[NaN]", "invalid json at offset 1: expected a JSON value but found 'N'"],
    ];
    for (const [json, message] of cases) {
      expect(await callError("json_query", { json, path: "$" }), json).toBe(message);
    }
    // The whole document is validated, also after the value was found.
    expect(await callError("json_query", { json: '{"a": 1, "b": }', path: "a" })).toMatch(/^invalid json at offset 14: /);
  });

  it("limits nesting depth", async () => {
    const nested = (depth: number): string => "[".repeat(depth) + "]".repeat(depth);
    expect(await query(nested(512), "$[0][0]")).toEqual({ found: true, type: "array", value: JSON.parse(nested(510)) });
    expect(await callError("json_query", { json: nested(513), path: "$" })).toBe(
      "invalid json at offset 512: nesting deeper than 512 levels",
    );
  });

  it("rejects invalid paths", async () => {
    const cases: [string, string][] = [
      ["a..b", "expected a property name after '.' at position 2"],
      ["$.", "expected a property name after '.' at position 2"],
      ["a[", "expected an array index or a quoted key after '[' at position 1"],
      ["a[x]", "expected an array index or a quoted key after '[' at position 1"],
      ["a[-1]", "expected an array index or a quoted key after '[' at position 1"],
      ["a[0", "expected ']' at position 3"],
      ["a['b]", "unterminated quoted key starting at position 2"],
      ['a["\\q"]', "invalid escape in quoted key at position 3"],
      ["a b", "unexpected U+0020 at position 1"],
      ["a]", "unexpected ']' at position 1"],
      ["$$", "unexpected '$' at position 1"],
      ["a[99999999999]", "array index too large at position 2"],
    ];
    for (const [path, message] of cases) {
      expect(await callError("json_query", { json: "{}", path }), path).toBe(`invalid path: ${message}`);
    }
  });

  it("rejects invalid arguments", async () => {
    expect(await callError("json_query", { path: "a" })).toBe('invalid arguments: missing required property "json"');
    expect(await callError("json_query", { json: "{}" })).toBe('invalid arguments: missing required property "path"');
    expect(await callError("json_query", { json: {}, path: "a" })).toBe('invalid arguments: "json" must be a string');
    expect(await callError("json_query", { json: "{}", path: 1 })).toBe('invalid arguments: "path" must be a string');
    expect(await callError("json_query", { json: "{}", path: "a", x: 1 })).toBe('invalid arguments: unknown property "x"');
  });
});

describe("system_info", () => {
  const HOST = {
    server: { name: "browser-mcp-sandbox", version: "0.1.0" },
    tools: 3,
    sessions: 1,
    auditEntries: 42,
    now: "2025-01-01T00:00:00.000Z",
  };

  it("echoes host facts and reports on its own sandbox", async () => {
    const ascVersion = (createRequire(import.meta.url)("assemblyscript/package.json") as { version: string }).version;
    const info = (await callJson("system_info", HOST)) as {
      uri: string;
      host: unknown;
      sandbox: Record<string, unknown> & { memoryPages: number; memoryBytes: number };
    };
    expect(info.uri).toBe("system://info");
    expect(info.host).toEqual(HOST);
    expect(info.sandbox).toEqual({
      wasmPageSizeBytes: 65536,
      memoryPages: expect.any(Number),
      memoryBytes: expect.any(Number),
      pointerBits: 32,
      runtime: `AssemblyScript ${ascVersion}`,
      module: "system_info 0.1.0",
    });
    expect(info.sandbox.memoryPages).toBeGreaterThan(0);
    expect(info.sandbox.memoryBytes).toBe(info.sandbox.memoryPages * 65536);
  });

  it("grows with its input", async () => {
    const big = { ...HOST, blob: "x".repeat(200_000) };
    const info = (await callJson("system_info", big)) as { host: unknown; sandbox: { memoryPages: number } };
    expect(info.host).toEqual(big);
    expect(info.sandbox.memoryPages).toBeGreaterThan(200_000 / 65536);
  });

  it("requires a JSON object", async () => {
    expect(await callError("system_info", [1])).toBe("invalid arguments: expected a JSON object of host facts");
    expect(await callError("system_info", "{")).toMatch(/^invalid arguments: not valid JSON \(at offset 1: /);
  });
});

describe("system_env", () => {
  // The facts the service worker passes (src/server/resources.ts), for a Limited agent.
  const HOST = {
    server: { name: "browser-mcp-sandbox", version: "0.1.0" },
    agent: { id: "demo-limited", trustLevel: "Limited" },
    session: { protocolVersion: "2025-06-18" },
    tools: { visible: 6, names: ["execute_code", "json_query", "list_directory", "read_file", "text_stats", "write_file"] },
    executeCode: {
      visible: true,
      languages: { allowed: ["javascript"], runnable: { javascript: "always", python: "depends on the app window" } },
      limits: { memoryMb: 128, timeoutMs: 30000 },
    },
    permissions: {
      "files:read": { allowed: true, reason: "paths matching ./workspace/*" },
      "files:write": { allowed: true, reason: "paths matching ./workspace/*, files up to 10 MiB" },
      network: { allowed: false, reason: "network.requestsPerMinute is 0" },
      client: { allowed: true, reason: "requests go to your own client" },
    },
    limits: { memoryMb: 128, cpuSeconds: 60, concurrentCalls: 3, queueWaitMs: 2000, globalConcurrentCalls: 16 },
    rate: { callsPerMinute: 20, maxCallsPerSession: 50, sessionTimeoutMinutes: 60, quietHours: { start: "22:00", end: "06:00", timeZone: "UTC" } },
    workerCsp: "default-src 'none'; script-src 'self'",
    offline: { precached: true, files: 42 },
    now: "2025-01-01T00:00:00.000Z",
  };
  type Doc = {
    uri: string;
    summary: string[];
    capabilities: { name: string; wit: string; permission: string | null; allowed: boolean; reason: string }[];
    sandbox: Record<string, unknown>;
  } & Record<string, unknown>;

  it("lists every host capability of the WIT world with this agent's verdict", async () => {
    const doc = (await callJson("system_env", HOST)) as Doc;
    expect(doc.uri).toBe("system://env");
    const wit = await readFile(join(dirname(OUT_DIR), "..", "tools", "wit", "tool.wit"), "utf8");
    const witNames = [...wit.matchAll(/^\s*([a-z][a-z-]*): func/gm)].map((m) => m[1]);
    expect(doc.capabilities.map((c) => c.name)).toEqual(witNames);
    for (const c of doc.capabilities) expect(wit).toContain(c.wit);
    const byName = Object.fromEntries(doc.capabilities.map((c) => [c.name, c]));
    expect(byName["read-file"]).toMatchObject({ permission: "files:read", allowed: true, reason: "paths matching ./workspace/*" });
    expect(byName["stat"]).toMatchObject({ permission: "files:read", allowed: true });
    expect(byName["write-file"]).toMatchObject({ permission: "files:write", allowed: true });
    expect(byName["http-fetch"]).toMatchObject({ permission: "network", allowed: false, reason: "network.requestsPerMinute is 0" });
    expect(byName["client-request"]).toMatchObject({ permission: "client", allowed: true });
    for (const free of ["log", "now-ms", "random-bytes", "get-context"]) expect(byName[free]).toMatchObject({ permission: null, allowed: true });
  });

  it("echoes the host's facts in their order, writes a summary and observes itself", async () => {
    const ascVersion = (createRequire(import.meta.url)("assemblyscript/package.json") as { version: string }).version;
    const doc = (await callJson("system_env", HOST)) as Doc;
    const { permissions: _verdicts, ...echoed } = HOST;
    for (const [key, value] of Object.entries(echoed)) expect(doc[key], key).toEqual(value);
    // The verdicts become the capability list, where they stood.
    expect(Object.keys(doc)).toEqual(["uri", "summary", "server", "agent", "session", "tools", "executeCode", "capabilities", "limits", "rate", "workerCsp", "offline", "now", "sandbox"]);
    expect(doc.summary).toEqual([
      "Agent demo-limited (Limited), MCP protocol 2025-06-18, 6 tools visible.",
      "execute_code may run javascript: always. Each run: up to 128 MiB and 30000 ms.",
      "Host capabilities this agent's policy allows: read-file, write-file, list-directory, stat, client-request, log, now-ms, random-bytes, get-context. Refused: http-fetch (network.requestsPerMinute is 0). A tool must also declare the permission a capability needs; each use is decided and audited when it happens.",
      "Limits per call: 128 MiB memory, 60 s; 3 calls at once, waiting at most 2000 ms for a free slot; 20 calls a minute, 50 a session; no calls from 22:00 to 06:00 (UTC).",
      "Works offline: yes (42 files precached).",
    ]);
    expect(doc.sandbox).toEqual({
      wasmPageSizeBytes: 65536,
      memoryPages: expect.any(Number),
      memoryBytes: expect.any(Number),
      pointerBits: 32,
      hostImports: [],
      runtime: `AssemblyScript ${ascVersion}`,
      module: "system_env 0.1.0",
    });
    expect(doc.sandbox["memoryBytes"]).toBe((doc.sandbox["memoryPages"] as number) * 65536);
  });

  it("says when execute_code is out of reach, and when the host gave no verdict", async () => {
    const untrusted = {
      agent: { id: "u", trustLevel: "Untrusted" },
      executeCode: { visible: false, languages: { allowed: [], runnable: {} } },
      offline: { precached: false, files: 0 },
    };
    const doc = (await callJson("system_env", untrusted)) as Doc;
    expect(doc.summary[0]).toBe("Agent u (Untrusted).");
    expect(doc.summary[1]).toBe("execute_code is not available to this agent (not among the tools its policy allows).");
    expect(doc.summary).toContain("Works offline: no (the app's files are not precached).");
    expect(doc.capabilities.find((c) => c.name === "read-file")).toMatchObject({ allowed: false, reason: "unknown: the host gave no verdict for files:read" });
    // Keys the module writes itself are not taken from the host.
    const spoof = (await callJson("system_env", { uri: "x://y", capabilities: [], sandbox: 1, summary: "no" })) as Doc;
    expect(spoof.uri).toBe("system://env");
    expect(spoof.capabilities).toHaveLength(10);
    expect(Array.isArray(spoof.summary)).toBe(true);
  });

  it("requires a JSON object", async () => {
    expect(await callError("system_env", [1])).toBe("invalid arguments: expected a JSON object of host facts");
    expect(await callError("system_env", "{\"a\":")).toMatch(/^invalid arguments: not valid JSON \(at offset 5: /);
  });
});

/** A host import object with only get-context (what the context fixtures import). */
function contextHost(getContext: () => { tag: "ok" | "err"; val: string }): ToolImports {
  return { "mcp-sandbox:tool/host": { getContext } as never };
}

describe("fixtures", () => {
  it("context_probe returns the context get-context gives it; context_blind runs the same code, without declaring it", async () => {
    expect(entry("context_probe").metadata.context).toBe(true);
    expect(entry("context_blind").metadata.context).toBeUndefined();
    for (const name of ["context_probe", "context_blind"]) {
      const given = await instantiate(name, undefined, contextHost(() => ({ tag: "ok", val: '{"conversation":"c","variables":{"a":{"value":1,"sharing":"Private"}}}' })));
      expect(JSON.parse(given.call("{}") as string)).toEqual({ context: { conversation: "c", variables: { a: { value: 1, sharing: "Private" } } } });
      const refused = await instantiate(name, undefined, contextHost(() => ({ tag: "err", val: "not declared" })));
      expect(() => refused.call("{}")).toThrow(expect.objectContaining({ payload: "not declared" }));
    }
  });

  it("call_count counts the calls of its own instance: 1, 2, 3 on one, 1 on a fresh one", async () => {
    const tool = await instantiate("call_count");
    expect([1, 2, 3].map(() => JSON.parse(tool.call("{}") as string))).toEqual([{ calls: 1 }, { calls: 2 }, { calls: 3 }]);
    expect(JSON.parse((await instantiate("call_count")).call("{}") as string)).toEqual({ calls: 1 });
  });

  it("slow_start does its work in its start-up: every instance answers the same loop result", async () => {
    const [one, two] = [await instantiate("slow_start"), await instantiate("slow_start")];
    const spun = JSON.parse(one.call("{}") as string) as { spun: number };
    expect(Number.isInteger(spun.spun) && spun.spun >= 0 && spun.spun < 2 ** 32).toBe(true);
    expect(JSON.parse(two.call("{}") as string)).toEqual(spun);
  }, 20_000);

  it("trap traps, and the instance is unusable afterwards", async () => {
    const tool = await instantiate("trap");
    expect(() => tool.call("{}")).toThrow(WebAssembly.RuntimeError);
    expect(() => tool.describe()).toThrow(WebAssembly.RuntimeError);
    const fresh = await instantiate("trap");
    expect(() => fresh.call("{}")).toThrow(/unreachable/);
  });

  it("memory_hog traps once the declared memory maximum is reached", async () => {
    const e = entry("memory_hog");
    const bytes = await readFile(join(toolDir(e), e.coreModules[0]!));
    const initial = memoryLimits(bytes).initial;
    const capped = await WebAssembly.compile(withMemoryMaximum(bytes, initial + 32)); // +2 MiB
    const tool = await instantiate("memory_hog", () => Promise.resolve(capped));
    expect(JSON.parse(tool.describe())).toMatchObject({ name: "memory_hog" });
    expect(() => tool.call("{}")).toThrow(/unreachable/);
  });

  it("loop_forever never returns from call", async () => {
    const e = entry("loop_forever");
    expect((await instantiate("loop_forever")).describe()).toContain('"loop_forever"');
    // Run it in a worker thread that we can terminate.
    const glueUrl = pathToFileURL(join(toolDir(e), e.glue)).href;
    const worker = new Worker(
      `const { parentPort, workerData } = require("node:worker_threads");
       const { readFile } = require("node:fs/promises");
       (async () => {
         const { instantiate } = await import(workerData.glueUrl);
         const tool = await instantiate(async (f) => WebAssembly.compile(await readFile(new URL(f, workerData.glueUrl))), {});
         parentPort.postMessage("calling");
         tool.call("{}");
         parentPort.postMessage("returned");
       })().catch((error) => parentPort.postMessage("error: " + error.message));`,
      { eval: true, workerData: { glueUrl } },
    );
    const messages: string[] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        worker.on("error", reject);
        worker.on("message", (m: string) => {
          messages.push(m);
          if (m === "calling") resolve();
          else reject(new Error(m));
        });
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(messages).toEqual(["calling"]);
    } finally {
      await worker.terminate();
    }
  });
});

// ---- core module memory section helpers (what the host's memory cap does) ------------

interface Limits {
  initial: number;
  maximum?: number;
}

function readLeb(bytes: Uint8Array, offset: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[offset++]!;
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if ((byte & 0x80) === 0) return [value, offset];
  }
}

function writeLeb(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

/** Finds the memory section: [section start (id byte), payload start, payload end]. */
function memorySection(bytes: Uint8Array): [section: number, start: number, end: number] {
  let offset = 8; // magic + version
  while (offset < bytes.length) {
    const id = bytes[offset]!;
    const [size, start] = readLeb(bytes, offset + 1);
    if (id === 5) return [offset, start, start + size];
    offset = start + size;
  }
  throw new Error("no memory section");
}

function memoryLimits(bytes: Uint8Array): Limits {
  const [, start] = memorySection(bytes);
  const [count, flagsAt] = readLeb(bytes, start);
  expect(count).toBe(1);
  const flags = bytes[flagsAt]!;
  expect(flags & ~1).toBe(0); // not shared, not memory64
  const [initial, next] = readLeb(bytes, flagsAt + 1);
  return flags === 1 ? { initial, maximum: readLeb(bytes, next)[0] } : { initial };
}

function withMemoryMaximum(bytes: Uint8Array, maximum: number): Uint8Array<ArrayBuffer> {
  const [section, , end] = memorySection(bytes);
  const { initial } = memoryLimits(bytes);
  // One memory, flags 0x01 = "has maximum".
  const payload = [1, 0x01, ...writeLeb(initial), ...writeLeb(maximum)];
  const header = [5, ...writeLeb(payload.length)];
  return new Uint8Array([...bytes.subarray(0, section), ...header, ...payload, ...bytes.subarray(end)]);
}
