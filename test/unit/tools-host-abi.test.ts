// The host ABI of the tools (tools/lib/host.ts) and the host-using tools' logic, in Node.
//
// The real build transpiles these tools for JSPI, which Node 20 lacks (their glue is
// tested in Chromium by tools-jspi.test.ts). Here the same component binaries are
// transpiled again, without JSPI, into a temporary directory, so synchronous host
// functions can drive every import: canonical ABI lowering and lifting, results, u64,
// lists, and jco's conventions for ok/err values.

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OUT_DIR, TRANSPILE_OPTIONS, buildTools } from "../../tools/build.mjs";
import type { ToolGlueModule, ToolInstance, ToolManifest } from "../../tools/types";

const PUBLIC_DIR = dirname(OUT_DIR);
const HOST_TOOLS = ["host_probe", "workspace_files", "fetch_url"];

let manifest: ToolManifest;
let tempDir: string;
const glues = new Map<string, { glue: ToolGlueModule; modules: Map<string, WebAssembly.Module> }>();

beforeAll(async () => {
  manifest = await buildTools({ log: () => {} });
  tempDir = await mkdtemp(join(tmpdir(), "mcp-sandbox-host-abi-"));
  const { transpile } = await import("@bytecodealliance/jco");
  for (const name of HOST_TOOLS) {
    const e = manifest.tools.find((t) => t.name === name)!;
    const component = await readFile(join(PUBLIC_DIR, e.dir, e.component));
    const { files } = await transpile(component, { ...TRANSPILE_OPTIONS, name });
    const modules = new Map<string, WebAssembly.Module>();
    for (const [file, bytes] of Object.entries(files)) {
      await writeFile(join(tempDir, file), bytes);
      if (file.endsWith(".wasm")) modules.set(file, await WebAssembly.compile(new Uint8Array(bytes)));
    }
    const glue = (await import(pathToFileURL(join(tempDir, `${name}.js`)).href)) as ToolGlueModule;
    glues.set(name, { glue, modules });
  }
}, 300_000);

afterAll(async () => {
  if (tempDir) await rm(tempDir, { recursive: true, force: true });
});

type Ok<T> = { tag: "ok"; val: T };
type Err = { tag: "err"; val: string };
const ok = <T>(val: T): Ok<T> => ({ tag: "ok", val });
const err = (val: string): Err => ({ tag: "err", val });

/** Synchronous host functions; each records its calls in `calls`. */
interface FakeHost {
  calls: unknown[][];
  functions: Record<string, (...args: never[]) => unknown>;
}

function fakeHost(overrides: Record<string, (...args: never[]) => unknown> = {}): FakeHost {
  const calls: unknown[][] = [];
  const files = new Map<string, string>([["./workspace/a.txt", "héllo 🦀\n"]]);
  const record =
    (name: string, fn: (...args: never[]) => unknown) =>
    (...args: never[]) => {
      calls.push([name, ...args]);
      return fn(...args);
    };
  const base: Record<string, (...args: never[]) => unknown> = {
    readFile: (path: string) => (files.has(path) ? ok(files.get(path)!) : err(`not found: ${path}`)),
    writeFile: (path: string, contents: string) => {
      files.set(path, contents);
      return ok(BigInt(Buffer.byteLength(contents)));
    },
    listDirectory: () => ok(["a.txt", "sub/", "ünï.md"]),
    stat: () => ok('{"size":11,"isDirectory":false,"modifiedMs":1700000000000}'),
    httpFetch: () => ok('{"status":200,"headers":{"content-type":"text/plain"},"body":"hello"}'),
    log: () => undefined,
    nowMs: () => 1700000000123n,
    randomBytes: (len: number) => new Uint8Array(len).map((_, i) => (i * 7) & 0xff),
  };
  const functions: Record<string, (...args: never[]) => unknown> = {};
  for (const [name, fn] of Object.entries({ ...base, ...overrides })) functions[name] = record(name, fn);
  return { calls, functions };
}

/** Linear memory of the most recent instance. */
let lastMemory: WebAssembly.Memory | undefined;

async function instantiate(name: string, host: FakeHost): Promise<ToolInstance> {
  const { glue, modules } = glues.get(name)!;
  return glue.instantiate((file) => modules.get(file)!, { "mcp-sandbox:tool/host": host.functions as never }, async (module, imports) => {
    const instance = await WebAssembly.instantiate(module, imports);
    if (instance.exports.memory instanceof WebAssembly.Memory) lastMemory = instance.exports.memory;
    return instance;
  });
}

async function run(name: string, args: unknown, host = fakeHost()): Promise<string> {
  const tool = await instantiate(name, host);
  return tool.call(JSON.stringify(args));
}

async function runError(name: string, args: unknown, host = fakeHost()): Promise<string> {
  try {
    await run(name, args, host);
  } catch (error) {
    const payload = (error as { payload?: unknown }).payload;
    if (typeof payload !== "string") throw error;
    return payload;
  }
  throw new Error(`${name} returned ok for ${JSON.stringify(args)}`);
}

interface Outcome {
  fn: string;
  ok: boolean;
  value?: unknown;
  error?: string;
}

async function probe(calls: Record<string, unknown>[], host = fakeHost()): Promise<Outcome[]> {
  return JSON.parse(await run("host_probe", { calls }, host)) as Outcome[];
}

describe("host imports through host_probe (synchronous host)", () => {
  it("lowers arguments and lifts ok results of every import", async () => {
    const host = fakeHost();
    const text = await run("host_probe", {
      calls: [
        { fn: "read-file", path: "./workspace/a.txt" },
        { fn: "write-file", path: "./workspace/ü.txt", contents: "1234 ✓" },
        { fn: "list-directory", path: "./workspace" },
        { fn: "stat", path: "./workspace/a.txt" },
        { fn: "http-fetch", request: { method: "GET", url: "https://example.com/" } },
        { fn: "log", level: "info", message: "hi 🦀" },
        { fn: "now-ms" },
        { fn: "random-bytes", len: 5 },
      ],
    }, host);
    expect(JSON.parse(text)).toEqual([
      { fn: "read-file", ok: true, value: "héllo 🦀\n" },
      { fn: "write-file", ok: true, value: 8 },
      { fn: "list-directory", ok: true, value: ["a.txt", "sub/", "ünï.md"] },
      { fn: "stat", ok: true, value: '{"size":11,"isDirectory":false,"modifiedMs":1700000000000}' },
      { fn: "http-fetch", ok: true, value: '{"status":200,"headers":{"content-type":"text/plain"},"body":"hello"}' },
      { fn: "log", ok: true, value: null },
      { fn: "now-ms", ok: true, value: 1700000000123 },
      { fn: "random-bytes", ok: true, value: [0, 7, 14, 21, 28] },
    ]);
    expect(host.calls).toEqual([
      ["readFile", "./workspace/a.txt"],
      ["writeFile", "./workspace/ü.txt", "1234 ✓"],
      ["listDirectory", "./workspace"],
      ["stat", "./workspace/a.txt"],
      // A JSON request is passed on as its text, verbatim.
      ["httpFetch", '{"method":"GET","url":"https://example.com/"}'],
      ["log", "info", "hi 🦀"],
      ["nowMs"],
      ["randomBytes", 5],
    ]);
  });

  it("lifts err results with the host's message verbatim", async () => {
    const message = 'denied by policy rule files.write[0] "./secret/**" ✗';
    const host = fakeHost({
      readFile: () => err(message),
      writeFile: () => err(`${message} (write)`),
      listDirectory: () => err(""),
      stat: () => err("stat: nope"),
      httpFetch: () => err("network: host example.com is not allowed"),
    });
    expect(
      await probe(
        [
          { fn: "read-file", path: "./secret/x" },
          { fn: "write-file", path: "./secret/x", contents: "x" },
          { fn: "list-directory", path: "./secret" },
          { fn: "stat", path: "./secret/x" },
          { fn: "http-fetch", request: "{}" },
        ],
        host,
      ),
    ).toEqual([
      { fn: "read-file", ok: false, error: message },
      { fn: "write-file", ok: false, error: `${message} (write)` },
      { fn: "list-directory", ok: false, error: "" },
      { fn: "stat", ok: false, error: "stat: nope" },
      { fn: "http-fetch", ok: false, error: "network: host example.com is not allowed" },
    ]);
  });

  it("passes u64 values at full width", async () => {
    const host = fakeHost({ writeFile: () => ok(2n ** 64n - 1n), nowMs: () => 2 ** 53 + 2 });
    const text = await run("host_probe", { calls: [{ fn: "write-file", path: "p", contents: "" }, { fn: "now-ms" }] }, host);
    expect(text).toBe(
      '[{"fn":"write-file","ok":true,"value":18446744073709551615},{"fn":"now-ms","ok":true,"value":9007199254740994}]',
    );
    // A plain number is accepted for u64 as well.
    const small = fakeHost({ writeFile: () => ok(42) });
    expect(await probe([{ fn: "write-file", path: "p", contents: "" }], small)).toEqual([{ fn: "write-file", ok: true, value: 42 }]);
  });

  it("handles empty and large strings and lists", async () => {
    const big = "€".repeat(100_000); // 300,000 UTF-8 bytes
    const names = Array.from({ length: 1000 }, (_, i) => `file-${i}.txt`);
    const host = fakeHost({
      readFile: (path: string) => ok(path === "big" ? big : ""),
      listDirectory: (path: string) => ok(path === "many" ? names : []),
      randomBytes: (len: number) => Array.from({ length: len }, (_, i) => 255 - (i % 256)),
    });
    const out = await probe(
      [
        { fn: "read-file", path: "" },
        { fn: "read-file", path: "big" },
        { fn: "list-directory", path: "" },
        { fn: "list-directory", path: "many" },
        { fn: "random-bytes", len: 0 },
        { fn: "random-bytes", len: 1000 },
      ],
      host,
    );
    expect(out[0]).toEqual({ fn: "read-file", ok: true, value: "" });
    expect(out[1]).toEqual({ fn: "read-file", ok: true, value: big });
    expect(out[2]).toEqual({ fn: "list-directory", ok: true, value: [] });
    expect(out[3]).toEqual({ fn: "list-directory", ok: true, value: names });
    expect(out[4]).toEqual({ fn: "random-bytes", ok: true, value: [] });
    expect(out[5]!.value).toEqual(Array.from({ length: 1000 }, (_, i) => 255 - (i % 256)));
    expect(host.calls[0]).toEqual(["readFile", ""]);
    // Output is assembled in linear space (Array#join would be quadratic here: ~900 MB).
    expect(lastMemory!.buffer.byteLength).toBeLessThan(16 * 1024 * 1024);
  });

  it("uses as many random bytes as the host returns", async () => {
    const host = fakeHost({ randomBytes: () => new Uint8Array([9, 8]).buffer });
    expect(await probe([{ fn: "random-bytes", len: 64 }], host)).toEqual([{ fn: "random-bytes", ok: true, value: [9, 8] }]);
  });

  it("follows jco's conventions for other host return styles", async () => {
    const host = fakeHost({
      readFile: () => "plain value is ok",
      stat: () => {
        throw "a thrown string is err";
      },
      httpFetch: () => {
        throw Object.assign(new Error("ignored message"), { payload: "a payload property is err" });
      },
    });
    expect(
      await probe(
        [
          { fn: "read-file", path: "x" },
          { fn: "stat", path: "x" },
          { fn: "http-fetch", request: "{}" },
        ],
        host,
      ),
    ).toEqual([
      { fn: "read-file", ok: true, value: "plain value is ok" },
      { fn: "stat", ok: false, error: "a thrown string is err" },
      { fn: "http-fetch", ok: false, error: "a payload property is err" },
    ]);
  });

  it("a host function throwing an Error fails the call with that Error (not an err result)", async () => {
    const failure = new Error("host bug");
    const host = fakeHost({
      readFile: () => {
        throw failure;
      },
    });
    await expect(run("host_probe", { calls: [{ fn: "read-file", path: "x" }] }, host)).rejects.toBe(failure);
  });

  it("rejects invalid probe arguments before calling the host", async () => {
    const host = fakeHost();
    expect(await runError("host_probe", { calls: [{ fn: "now-ms" }, { fn: "read-file" }] }, host)).toBe(
      'invalid arguments: calls[1]: read-file requires "path"',
    );
    expect(await runError("host_probe", { calls: [{ fn: "nope" }] }, host)).toBe('invalid arguments: calls[0]: unknown fn "nope"');
    expect(await runError("host_probe", { calls: [{ fn: "random-bytes", len: -1 }] }, host)).toBe(
      'invalid arguments: calls[0]: "len" must be an integer from 0 to 4294967295',
    );
    expect(await runError("host_probe", {}, host)).toBe('invalid arguments: missing required property "calls"');
    expect(host.calls).toEqual([]);
  });
});

describe("workspace_files (synchronous host)", () => {
  it("reads, writes, lists and stats through the host", async () => {
    const host = fakeHost();
    expect(JSON.parse(await run("workspace_files", { op: "read", path: "./workspace/a.txt" }, host))).toEqual({
      op: "read",
      path: "./workspace/a.txt",
      contents: "héllo 🦀\n",
    });
    expect(JSON.parse(await run("workspace_files", { op: "write", path: "./workspace/b.txt", contents: "ü" }, host))).toEqual({
      op: "write",
      path: "./workspace/b.txt",
      bytesWritten: 2,
    });
    expect(JSON.parse(await run("workspace_files", { op: "list", path: "./workspace" }, host))).toEqual({
      op: "list",
      path: "./workspace",
      entries: ["a.txt", "sub/", "ünï.md"],
    });
    expect(JSON.parse(await run("workspace_files", { op: "stat", path: "./workspace/a.txt" }, host))).toEqual({
      op: "stat",
      path: "./workspace/a.txt",
      size: 11,
      isDirectory: false,
      modifiedMs: 1700000000000,
    });
    expect(host.calls).toEqual([
      ["readFile", "./workspace/a.txt"],
      ["writeFile", "./workspace/b.txt", "ü"],
      ["listDirectory", "./workspace"],
      ["stat", "./workspace/a.txt"],
    ]);
  });

  it("passes the host's error message through verbatim", async () => {
    const message = 'files: "./workspace/secret.txt" is denied by rule deny[0] ("**/secret*")';
    const host = fakeHost({ readFile: () => err(message), writeFile: () => err(message) });
    expect(await runError("workspace_files", { op: "read", path: "./workspace/secret.txt" }, host)).toBe(message);
    expect(await runError("workspace_files", { op: "write", path: "./workspace/secret.txt", contents: "" }, host)).toBe(message);
  });

  it("rejects a malformed stat result from the host", async () => {
    const host = fakeHost({ stat: () => ok("[1]") });
    expect(await runError("workspace_files", { op: "stat", path: "x" }, host)).toBe("the host returned an invalid stat result: [1]");
  });

  it("validates its arguments without calling the host", async () => {
    const host = fakeHost();
    const cases: [unknown, string][] = [
      [{ path: "x" }, 'missing required property "op"'],
      [{ op: "read" }, 'missing required property "path"'],
      [{ op: "read", path: "" }, '"path" must not be empty'],
      [{ op: "delete", path: "x" }, '"op" must be one of "read", "write", "list", "stat"'],
      [{ op: "write", path: "x" }, 'op "write" requires "contents"'],
      [{ op: "read", path: "x", contents: "y" }, '"contents" is only allowed with op "write"'],
      [{ op: "read", path: 1 }, '"path" must be a string'],
      [{ op: "read", path: "x", mode: 1 }, 'unknown property "mode"'],
      [[], "expected a JSON object"],
    ];
    for (const [args, message] of cases) {
      expect(await runError("workspace_files", args, host), JSON.stringify(args)).toBe(`invalid arguments: ${message}`);
    }
    expect(host.calls).toEqual([]);
  });
});

describe("fetch_url (synchronous host)", () => {
  function httpHost(response: unknown): FakeHost {
    return fakeHost({ httpFetch: () => ok(typeof response === "string" ? response : JSON.stringify(response)) });
  }

  it("builds the request JSON and returns status, headers and body", async () => {
    const host = httpHost({ status: 201, headers: { "content-type": "application/json", "x-a": "1" }, body: '{"id":7}', statusText: "Created" });
    const result = JSON.parse(
      await run(
        "fetch_url",
        { url: "https://api.example.com/items", method: "POST", headers: { "Content-Type": "application/json" }, body: '{"a":"é"}' },
        host,
      ),
    ) as unknown;
    expect(result).toEqual({
      status: 201,
      headers: { "content-type": "application/json", "x-a": "1" },
      body: '{"id":7}',
      truncated: false,
      totalBytes: 8,
    });
    expect(host.calls).toHaveLength(1);
    expect(JSON.parse(host.calls[0]![1] as string)).toEqual({
      method: "POST",
      url: "https://api.example.com/items",
      headers: { "Content-Type": "application/json" },
      body: '{"a":"é"}',
    });
    // Defaults: GET, no headers, no body member.
    const get = httpHost({ status: 200, headers: {}, body: "" });
    await run("fetch_url", { url: "http://example.com" }, get);
    expect(get.calls[0]![1]).toBe('{"method":"GET","url":"http://example.com","headers":{}}');
  });

  it("truncates the body to maxBytes UTF-8 bytes at a character boundary", async () => {
    const body = "ab€🦀c"; // 1 + 1 + 3 + 4 + 1 = 10 bytes
    const host = httpHost({ status: 200, headers: {}, body });
    const cut = async (maxBytes: number) =>
      JSON.parse(await run("fetch_url", { url: "https://x.test/", maxBytes }, host)) as { body: string; truncated: boolean; totalBytes: number };
    expect(await cut(10)).toMatchObject({ body, truncated: false, totalBytes: 10 });
    expect(await cut(9)).toMatchObject({ body: "ab€🦀", truncated: true, totalBytes: 10 });
    expect(await cut(8)).toMatchObject({ body: "ab€", truncated: true });
    expect(await cut(4)).toMatchObject({ body: "ab", truncated: true });
    expect(await cut(0)).toMatchObject({ body: "", truncated: true });
    // Default 65536.
    const long = httpHost({ status: 200, headers: {}, body: "x".repeat(70_000) });
    const result = JSON.parse(await run("fetch_url", { url: "https://x.test/" }, long)) as { body: string; truncated: boolean; totalBytes: number };
    expect(result.body).toHaveLength(65536);
    expect(result).toMatchObject({ truncated: true, totalBytes: 70_000 });
  });

  it("passes the host's error through and rejects malformed responses", async () => {
    const denied = fakeHost({ httpFetch: () => err("network: evil.test is not in the allow list") });
    expect(await runError("fetch_url", { url: "https://evil.test/" }, denied)).toBe("network: evil.test is not in the allow list");
    expect(await runError("fetch_url", { url: "https://x.test/" }, httpHost({ status: 200, headers: {} }))).toBe(
      'the host returned an invalid http-fetch response: missing "body"',
    );
    expect(await runError("fetch_url", { url: "https://x.test/" }, httpHost("nope"))).toMatch(
      /^the host returned an invalid http-fetch response: expected a JSON object/,
    );
  });

  it("validates its arguments without calling the host", async () => {
    const host = fakeHost();
    const cases: [unknown, string][] = [
      [{}, 'missing required property "url"'],
      [{ url: "ftp://x" }, '"url" must be an absolute http:// or https:// URL'],
      [{ url: "https://" }, '"url" must be an absolute http:// or https:// URL'],
      [{ url: "https://x", method: "get" }, '"method" must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS'],
      [{ url: "https://x", body: "b" }, '"body" is not allowed with GET'],
      [{ url: "https://x", headers: { a: 1 } }, '"headers" must be an object of strings'],
      [{ url: "https://x", headers: [] }, '"headers" must be an object of strings'],
      [{ url: "https://x", maxBytes: 1.5 }, '"maxBytes" must be an integer from 0 to 4194304'],
      [{ url: "https://x", maxBytes: 4194305 }, '"maxBytes" must be an integer from 0 to 4194304'],
      [{ url: "https://x", timeout: 1 }, 'unknown property "timeout"'],
    ];
    for (const [args, message] of cases) {
      expect(await runError("fetch_url", args, host), JSON.stringify(args)).toBe(`invalid arguments: ${message}`);
    }
    expect(host.calls).toEqual([]);
    expect(JSON.parse(await run("fetch_url", { url: "HTTPS://X.TEST/" }, httpHost({ status: 204, headers: {}, body: "" })))).toMatchObject({ status: 204 });
  });
});
