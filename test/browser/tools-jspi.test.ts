// The host-importing tools as built (JSPI glue from `npm run build:tools`), in Chromium:
// Node 20 has no JSPI. A page loads each tool's glue and core modules from a small local
// server and instantiates it with asynchronous host functions (an in-memory workspace
// and a canned HTTP response), the way the sandbox host will.

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, extname, resolve, sep } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { capMemory } from "../../src/sandbox/memory-limit";
import { OUT_DIR, buildTools } from "../../tools/build.mjs";
import type { ToolManifest } from "../../tools/types";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const TOOLS_ROOT = resolve(OUT_DIR);
const NOW = 1_700_000_000_123;

// Runs in the page (a module script). Fresh instance per call, shared host state per run.
const HARNESS = String.raw`
const manifest = await (await fetch("/tools/manifest.json")).json();
const loaded = new Map();

// capBytes: the server caps the modules' memory (as the sandbox host does).
async function load(name, capBytes) {
  const key = name + "|" + (capBytes ?? "");
  if (!loaded.has(key)) {
    const e = manifest.tools.find((t) => t.name === name);
    if (!e) throw new Error("no tool " + name);
    const { instantiate } = await import("/" + e.dir + e.glue);
    const modules = {};
    const query = capBytes ? "?capBytes=" + capBytes : "";
    for (const f of e.coreModules) modules[f] = await WebAssembly.compileStreaming(fetch("/" + e.dir + f + query));
    loaded.set(key, { e, instantiate, modules });
  }
  return loaded.get(key);
}

const utf8 = (s) => new TextEncoder().encode(s).length;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// setup: { files: {path: text}, deny: {fn: message}, http: {status, headers, body},
//          delayMs, throwString: fn, throwError: fn, capBytes, bigFile: length }
function makeHost(setup) {
  const files = new Map(Object.entries(setup.files ?? {}));
  const calls = [];
  const deny = setup.deny ?? {};
  const now = setup.now;
  const isDir = (p) => { const base = p.replace(/\/+$/, "") + "/"; return [...files.keys()].some((k) => k.startsWith(base)); };
  const async = (fn, body) => async (...args) => {
    calls.push([fn, ...args]);
    await sleep(setup.delayMs ?? 0); // really suspends the tool
    if (setup.throwString === fn) throw fn + " failed (thrown string)";
    if (setup.throwError === fn) throw new Error(fn + " failed (thrown Error)");
    if (deny[fn] !== undefined) return { tag: "err", val: deny[fn] };
    return body(...args);
  };
  const host = {
    readFile: async("read-file", (path) => path === "big" ? { tag: "ok", val: "x".repeat(setup.bigFile ?? 0) }
      : files.has(path) ? { tag: "ok", val: files.get(path) }
      : { tag: "err", val: (isDir(path) ? "is a directory: " : "no such file: ") + path }),
    writeFile: async("write-file", (path, contents) => { files.set(path, contents); return { tag: "ok", val: BigInt(utf8(contents)) }; }),
    listDirectory: async("list-directory", (path) => {
      if (!isDir(path)) return { tag: "err", val: "no such directory: " + path };
      const base = path.replace(/\/+$/, "") + "/";
      const names = new Set();
      for (const k of files.keys()) {
        if (!k.startsWith(base)) continue;
        const rest = k.slice(base.length);
        const slash = rest.indexOf("/");
        names.add(slash < 0 ? rest : rest.slice(0, slash + 1));
      }
      return { tag: "ok", val: [...names].sort() };
    }),
    stat: async("stat", (path) => files.has(path) ? { tag: "ok", val: JSON.stringify({ size: utf8(files.get(path)), isDirectory: false, modifiedMs: now }) }
      : isDir(path) ? { tag: "ok", val: JSON.stringify({ size: 0, isDirectory: true, modifiedMs: now }) }
      : { tag: "err", val: "no such file or directory: " + path }),
    httpFetch: async("http-fetch", () => ({ tag: "ok", val: JSON.stringify(setup.http ?? { status: 200, headers: {}, body: "" }) })),
    clientRequest: async("client-request", () => ({ tag: "err", val: "no client here" })),
    log: (level, message) => { calls.push(["log", level, message]); },
    nowMs: () => { calls.push(["now-ms"]); return BigInt(now); },
    randomBytes: (len) => { calls.push(["random-bytes", len]); return crypto.getRandomValues(new Uint8Array(len)); },
  };
  return { host, calls, files };
}

// Calls the tool once per element of argsList, each with a fresh instance, sharing one host.
export async function run(name, argsList, setup = {}) {
  const { instantiate, modules } = await load(name, setup.capBytes);
  const { host, calls, files } = makeHost(setup);
  const results = [];
  for (const args of argsList) {
    const tool = await instantiate((f) => modules[f], { "mcp-sandbox:tool/host": host });
    const describeResult = tool.describe();
    const pending = tool.call(JSON.stringify(args));
    const result = { isPromise: pending instanceof Promise, describeIsString: typeof describeResult === "string", describe: describeResult };
    try {
      result.ok = true;
      result.value = await pending;
    } catch (error) {
      result.ok = false;
      result.errorClass = error?.constructor?.name;
      result.message = String(error?.message ?? error);
      result.payload = error?.payload;
    }
    results.push(result);
  }
  return { results, calls, files: Object.fromEntries(files) };
}

export async function runConcurrently(specs) {
  return Promise.all(specs.map(([name, argsList, setup]) => run(name, argsList, setup)));
}

export const jspi = typeof WebAssembly.Suspending === "function" && typeof WebAssembly.promising === "function";
`;

const PAGE = `<!doctype html><meta charset="utf-8"><title>tools-jspi</title>
<script type="module">import * as harness from "/harness.js"; window.harness = harness; window.harnessReady = true;</script>`;

const CONTENT_TYPES: Record<string, string> = {
  ".js": "text/javascript",
  ".wasm": "application/wasm",
  ".json": "application/json",
};

interface CallResult {
  isPromise: boolean;
  describeIsString: boolean;
  describe: string;
  ok: boolean;
  value?: string;
  errorClass?: string;
  message?: string;
  payload?: unknown;
}

interface Run {
  results: CallResult[];
  calls: unknown[][];
  files: Record<string, string>;
}

interface Setup {
  files?: Record<string, string>;
  deny?: Record<string, string>;
  http?: { status: number; headers: Record<string, string>; body: string };
  delayMs?: number;
  throwString?: string;
  throwError?: string;
  now?: number;
  capBytes?: number;
  bigFile?: number;
}

let manifest: ToolManifest;
let server: Server;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
  manifest = await buildTools({ log: () => {} });
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = decodeURIComponent(url.pathname);
    const capBytes = Number(url.searchParams.get("capBytes") ?? 0);
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      res.end(body);
    };
    if (path === "/") return send(200, "text/html; charset=utf-8", PAGE);
    if (path === "/harness.js") return send(200, "text/javascript", HARNESS);
    const file = resolve(dirname(TOOLS_ROOT), `.${path}`);
    if (!path.startsWith("/tools/") || !file.startsWith(TOOLS_ROOT + sep)) return send(404, "text/plain", "not found");
    readFile(file).then(
      (body) => send(200, CONTENT_TYPES[extname(file)] ?? "application/octet-stream", capBytes > 0 ? Buffer.from(capMemory(body, capBytes)) : body),
      () => send(404, "text/plain", "not found"),
    );
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address() as AddressInfo;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
  page = await (await browser.newContext()).newPage();
  page.on("pageerror", (error) => pageErrors.push(error.message));
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForFunction(() => (window as unknown as { harnessReady?: boolean }).harnessReady === true);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
});

function run(name: string, argsList: unknown[], setup: Setup = {}): Promise<Run> {
  return page.evaluate(
    ([name, argsList, setup]) =>
      (window as unknown as { harness: { run(n: string, a: unknown[], s: Setup): Promise<Run> } }).harness.run(name, argsList, setup),
    [name, argsList, { now: NOW, ...setup }] as const,
  );
}

function json(result: CallResult | undefined): unknown {
  expect(result, "no result").toBeDefined();
  expect(result!.ok, `call failed: ${result!.message}`).toBe(true);
  return JSON.parse(result!.value!) as unknown;
}

describe("JSPI tools in Chromium", () => {
  it("the page has JSPI; describe() is synchronous and call() returns a Promise", async () => {
    expect(await page.evaluate(() => (window as unknown as { harness: { jspi: boolean } }).harness.jspi)).toBe(true);
    for (const e of manifest.tools.filter((t) => t.async)) {
      const { results } = await run(e.name, [e.name === "host_probe" ? { calls: [] } : {}]);
      const r = results[0]!;
      expect(r.describeIsString).toBe(true);
      expect(JSON.parse(r.describe)).toEqual(e.metadata);
      expect(r.isPromise).toBe(true);
    }
    expect(manifest.tools.filter((t) => t.async).map((t) => t.name).sort()).toEqual([
      "fetch_url", "host_probe", "list_directory", "read_file",
      // the conformance fixtures that ask the client (client-request)
      "test_elicitation", "test_elicitation_sep1034_defaults", "test_elicitation_sep1330_enums",
      "test_input_required_result_capabilities", "test_input_required_result_elicitation", "test_input_required_result_list_roots",
      "test_input_required_result_multi_round", "test_input_required_result_multiple_inputs", "test_input_required_result_prompt",
      "test_input_required_result_request_state", "test_input_required_result_sampling", "test_input_required_result_tampered_state",
      "test_missing_capability", "test_sampling", "test_streaming_elicitation",
      "workspace_files", "write_file",
    ]);
  });

  it("workspace_files: write -> read -> list -> stat round trip through the host", async () => {
    const { results, calls, files } = await run(
      "workspace_files",
      [
        { op: "write", path: "./workspace/notes/today.md", contents: "héllo ✓" },
        { op: "read", path: "./workspace/notes/today.md" },
        { op: "list", path: "./workspace/notes" },
        { op: "list", path: "./workspace" },
        { op: "stat", path: "./workspace/notes/today.md" },
        { op: "stat", path: "./workspace/notes" },
      ],
      { files: { "./workspace/readme.txt": "hi" }, delayMs: 5 },
    );
    expect(results.map(json)).toEqual([
      { op: "write", path: "./workspace/notes/today.md", bytesWritten: 10 },
      { op: "read", path: "./workspace/notes/today.md", contents: "héllo ✓" },
      { op: "list", path: "./workspace/notes", entries: ["today.md"] },
      { op: "list", path: "./workspace", entries: ["notes/", "readme.txt"] },
      { op: "stat", path: "./workspace/notes/today.md", size: 10, isDirectory: false, modifiedMs: NOW },
      { op: "stat", path: "./workspace/notes", size: 0, isDirectory: true, modifiedMs: NOW },
    ]);
    expect(calls).toEqual([
      ["write-file", "./workspace/notes/today.md", "héllo ✓"],
      ["read-file", "./workspace/notes/today.md"],
      ["list-directory", "./workspace/notes"],
      ["list-directory", "./workspace"],
      ["stat", "./workspace/notes/today.md"],
      ["stat", "./workspace/notes"],
    ]);
    expect(files).toEqual({ "./workspace/readme.txt": "hi", "./workspace/notes/today.md": "héllo ✓" });
  });

  it("workspace_files: an err from the host is the tool's err with the host's exact message", async () => {
    const denied = 'files: "./workspace/secret.txt" is denied by rule files.deny[0] ("**/secret*")';
    const { results } = await run(
      "workspace_files",
      [
        { op: "read", path: "./workspace/secret.txt" },
        { op: "write", path: "./workspace/secret.txt", contents: "x" },
        { op: "read", path: "./workspace/missing.txt" },
        { op: "list", path: "./nowhere" },
      ],
      { deny: { "read-file": denied, "write-file": `${denied} (write)` } },
    );
    expect(results.map((r) => [r.ok, r.errorClass, r.payload, r.message])).toEqual([
      [false, "ComponentError", denied, denied],
      [false, "ComponentError", `${denied} (write)`, `${denied} (write)`],
      // deny applies to read-file, so the missing file is denied too
      [false, "ComponentError", denied, denied],
      [false, "ComponentError", "no such directory: ./nowhere", "no such directory: ./nowhere"],
    ]);
    const missing = await run("workspace_files", [{ op: "read", path: "./workspace/missing.txt" }]);
    expect(missing.results[0]!.payload).toBe("no such file: ./workspace/missing.txt");
  });

  it("fetch_url: returns the canned status, headers and body, and truncates", async () => {
    const http = { status: 203, headers: { "content-type": "text/plain; charset=utf-8", "x-request-id": "abc" }, body: `${"x".repeat(100)}é` };
    const { results, calls } = await run(
      "fetch_url",
      [
        { url: "https://example.com/data?q=1", method: "POST", headers: { Accept: "text/plain" }, body: "ping" },
        { url: "https://example.com/data", maxBytes: 50 },
        { url: "https://example.com/data", maxBytes: 101 },
      ],
      { http },
    );
    expect(results.map(json)).toEqual([
      { status: 203, headers: http.headers, body: http.body, truncated: false, totalBytes: 102 },
      { status: 203, headers: http.headers, body: "x".repeat(50), truncated: true, totalBytes: 102 },
      // é is two bytes: it does not fit in 101, and is not split
      { status: 203, headers: http.headers, body: "x".repeat(100), truncated: true, totalBytes: 102 },
    ]);
    expect(calls.map(([fn, request]) => [fn, JSON.parse(request as string) as unknown])).toEqual([
      ["http-fetch", { method: "POST", url: "https://example.com/data?q=1", headers: { Accept: "text/plain" }, body: "ping" }],
      ["http-fetch", { method: "GET", url: "https://example.com/data", headers: {} }],
      ["http-fetch", { method: "GET", url: "https://example.com/data", headers: {} }],
    ]);
    const big = await run("fetch_url", [{ url: "https://example.com/big" }], { http: { status: 200, headers: {}, body: "y".repeat(70_000) } });
    expect(json(big.results[0])).toMatchObject({ status: 200, body: "y".repeat(65_536), truncated: true, totalBytes: 70_000 });
    const denied = await run("fetch_url", [{ url: "https://evil.test/" }], { deny: { "http-fetch": "network: evil.test is not allowed for this agent" } });
    expect(denied.results[0]).toMatchObject({ ok: false, payload: "network: evil.test is not allowed for this agent" });
  });

  it("host_probe: exercises every import, including the synchronous ones", async () => {
    const { results, calls } = await run(
      "host_probe",
      [
        {
          calls: [
            { fn: "write-file", path: "./workspace/a.txt", contents: "abc" },
            { fn: "read-file", path: "./workspace/a.txt" },
            { fn: "list-directory", path: "./workspace" },
            { fn: "stat", path: "./workspace/a.txt" },
            { fn: "http-fetch", request: { method: "GET", url: "https://example.com/", headers: {} } },
            { fn: "log", level: "warn", message: "probe ✓" },
            { fn: "now-ms" },
            { fn: "random-bytes", len: 16 },
            { fn: "random-bytes", len: 0 },
            { fn: "read-file", path: "./workspace/none" },
          ],
        },
      ],
      { http: { status: 200, headers: { a: "b" }, body: "ok" }, delayMs: 2 },
    );
    const out = json(results[0]) as { fn: string; ok: boolean; value?: unknown; error?: string }[];
    expect(out.slice(0, 7)).toEqual([
      { fn: "write-file", ok: true, value: 3 },
      { fn: "read-file", ok: true, value: "abc" },
      { fn: "list-directory", ok: true, value: ["a.txt"] },
      { fn: "stat", ok: true, value: JSON.stringify({ size: 3, isDirectory: false, modifiedMs: NOW }) },
      { fn: "http-fetch", ok: true, value: JSON.stringify({ status: 200, headers: { a: "b" }, body: "ok" }) },
      { fn: "log", ok: true, value: null },
      { fn: "now-ms", ok: true, value: NOW },
    ]);
    const random = out[7]!.value as number[];
    expect(random).toHaveLength(16);
    expect(random.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)).toBe(true);
    expect(new Set(random).size).toBeGreaterThan(1);
    expect(out[8]).toEqual({ fn: "random-bytes", ok: true, value: [] });
    expect(out[9]).toEqual({ fn: "read-file", ok: false, error: "no such file: ./workspace/none" });
    expect(calls).toEqual([
      ["write-file", "./workspace/a.txt", "abc"],
      ["read-file", "./workspace/a.txt"],
      ["list-directory", "./workspace"],
      ["stat", "./workspace/a.txt"],
      ["http-fetch", '{"method":"GET","url":"https://example.com/","headers":{}}'],
      ["log", "warn", "probe ✓"],
      ["now-ms"],
      ["random-bytes", 16],
      ["random-bytes", 0],
      ["read-file", "./workspace/none"],
    ]);
  });

  it("async host functions: a thrown string is an err; a thrown Error rejects call()", async () => {
    const thrownString = await run("host_probe", [{ calls: [{ fn: "stat", path: "x" }] }], { throwString: "stat" });
    expect(json(thrownString.results[0])).toEqual([{ fn: "stat", ok: false, error: "stat failed (thrown string)" }]);
    const thrownError = await run("host_probe", [{ calls: [{ fn: "stat", path: "x" }] }], { throwError: "stat" });
    expect(thrownError.results[0]).toMatchObject({ ok: false, errorClass: "Error", message: "stat failed (thrown Error)", payload: undefined });
  });

  it("a trap while the host lowers a result (memory cap reached) rejects call() with a RuntimeError", async () => {
    const capBytes = 2 * 1024 * 1024;
    const small = await run("host_probe", [{ calls: [{ fn: "read-file", path: "big" }] }], { capBytes, bigFile: 100_000 });
    expect(json(small.results[0])).toEqual([{ fn: "read-file", ok: true, value: "x".repeat(100_000) }]);
    const big = await run("host_probe", [{ calls: [{ fn: "read-file", path: "big" }] }], { capBytes, bigFile: 8_000_000 });
    expect(big.results[0]).toMatchObject({ ok: false, errorClass: "RuntimeError", payload: undefined });
  });

  it("concurrent calls of separate instances in one page do not interfere", async () => {
    const specs = [
      ["host_probe", [{ calls: [{ fn: "read-file", path: "a" }, { fn: "read-file", path: "a" }] }], { now: NOW, files: { a: "first" }, delayMs: 30 }],
      ["host_probe", [{ calls: [{ fn: "read-file", path: "a" }, { fn: "now-ms" }] }], { now: NOW + 1, files: { a: "second" }, delayMs: 1 }],
      ["workspace_files", [{ op: "read", path: "a" }], { now: NOW, files: { a: "third" }, delayMs: 10 }],
    ] as const;
    const runs = await page.evaluate(
      (specs) => (window as unknown as { harness: { runConcurrently(s: unknown): Promise<Run[]> } }).harness.runConcurrently(specs),
      specs,
    );
    expect(json(runs[0]!.results[0])).toEqual([
      { fn: "read-file", ok: true, value: "first" },
      { fn: "read-file", ok: true, value: "first" },
    ]);
    expect(json(runs[1]!.results[0])).toEqual([
      { fn: "read-file", ok: true, value: "second" },
      { fn: "now-ms", ok: true, value: NOW + 1 },
    ]);
    expect(json(runs[2]!.results[0])).toEqual({ op: "read", path: "a", contents: "third" });
  });

  it("no uncaught errors in the page", () => {
    expect(pageErrors).toEqual([]);
  });
});
