// Types for the tool build output (public/tools/) and the jco glue it contains.
// Type declarations only: safe to `import type` from any context (page, worker, SW, Node).

/** JSON returned by a tool's `describe` export. */
export interface ToolMetadata {
  /** Tool name as listed to agents: lowercase letters, digits and underscores. */
  name: string;
  description: string;
  /** Semantic version of the tool. */
  version: string;
  author: string;
  tags: string[];
  /**
   * e.g. "text", "data", "resource" (served as an MCP resource), "prompt" (served as an MCP
   * prompt), "mcp-content" (the output is the MCP result itself), "fixture", "restricted"
   * (reached only by agents whose policy names it).
   */
  categories: string[];
  /** JSON Schema of the `call` argument object (`type: "object"`). */
  inputSchema: Record<string, unknown> & { type: "object" };
  /**
   * Capabilities the tool needs from the host: "files:read", "files:write", "network", "client".
   * (log, now-ms and random-bytes need none.)
   */
  permissions: string[];
  /** The tool's own default maximums; the host applies the stricter of these and policy. */
  limits?: { memoryMb?: number; cpuMs?: number };
  /** Present when the tool backs an MCP resource (category "resource"). */
  resource?: { uri: string; mimeType: string };
  /** JSON Schema of the structured output (built-in tools only, e.g. execute_code). */
  outputSchema?: Record<string, unknown> & { type: "object" };
  /** True: the tool receives the calling conversation's context through `get-context` (docs/context.md). */
  context?: boolean;
}

/** One entry of public/tools/manifest.json. Paths are relative to public/. */
export interface ToolManifestEntry {
  name: string;
  /** Directory of the tool's files, relative to public/, with a trailing slash. */
  dir: string;
  /** File name (in `dir`) of the jco glue ES module exporting `instantiate`. */
  glue: string;
  /** File names (in `dir`) of the core modules the glue requests via getCoreModule. */
  coreModules: string[];
  /** File name (in `dir`) of the component binary. */
  component: string;
  /** Lowercase hex SHA-256 of the component bytes. */
  sha256: string;
  /** Component size in bytes. */
  size: number;
  /** True for test fixtures (loop_forever, memory_hog, trap, host_probe), which must not be listed to agents. */
  fixture: boolean;
  /** The fixture bundle a tool of tools/<bundle>/ belongs to ("conformance"); such tools are restricted. */
  bundle?: string;
  /**
   * Host functions the component imports, sorted, e.g.
   * "mcp-sandbox:tool/host@0.1.0#read-file". Empty for tools that need no host.
   */
  imports: HostImport[];
  /**
   * True when the component imports an asynchronous host function (read-file, write-file,
   * list-directory, stat, http-fetch, client-request): its glue uses JSPI, needs `WebAssembly.Suspending`
   * (Chromium; not Node 20) and its `call` returns a Promise.
   */
  async: boolean;
  metadata: ToolMetadata;
}

/** Functions of interface `mcp-sandbox:tool/host@0.1.0` (tools/wit/tool.wit). */
export type HostFunctionName =
  | "read-file"
  | "write-file"
  | "list-directory"
  | "stat"
  | "http-fetch"
  | "client-request"
  | "log"
  | "now-ms"
  | "random-bytes"
  | "get-context";

export type HostImport = `mcp-sandbox:tool/host@0.1.0#${HostFunctionName}`;

/**
 * What a host function may return for a WIT `result<T, string>`: `{ tag: "ok", val }` or
 * `{ tag: "err", val: message }` (the form to use). jco also treats any other return value
 * as `ok(value)`, a thrown non-Error value `x` as `err(x)` and a thrown object with an own
 * `payload` property as `err(payload)`; a thrown `Error` is not an `err`: it propagates out
 * of `call` (which then rejects or throws with it).
 */
export type HostResult<T> = { tag: "ok"; val: T } | { tag: "err"; val: string };

/**
 * The import object's entry for the host interface. Key: "mcp-sandbox:tool/host" (no
 * version). Names are jco's camelCase of the WIT names. The glue reads only the functions
 * the component imports (manifest `imports`), but throws if one of those is missing.
 * The first five may return Promises in tools with `async: true` (JSPI suspends the tool
 * while they run); in tools built without JSPI every function must return synchronously.
 * log, nowMs and randomBytes must always be synchronous.
 */
export interface HostFunctions {
  readFile(path: string): MaybePromise<HostResult<string>>;
  /** ok: bytes written, as a number or bigint (lowered as u64). */
  writeFile(path: string, contents: string): MaybePromise<HostResult<number | bigint>>;
  /** ok: entry names; directories end with "/". */
  listDirectory(path: string): MaybePromise<HostResult<string[]>>;
  /** ok: JSON {"size","isDirectory","modifiedMs"}. */
  stat(path: string): MaybePromise<HostResult<string>>;
  /** requestJson: {"method","url","headers","body"?}; ok: JSON {"status","headers","body"}. */
  httpFetch(requestJson: string): MaybePromise<HostResult<string>>;
  log(level: string, message: string): void;
  /** Lowered as u64: a non-negative integer number or a bigint. */
  nowMs(): number | bigint;
  /** `len` bytes (a Uint8Array, ArrayBuffer or number[]). */
  randomBytes(len: number): Uint8Array | ArrayBuffer | number[];
  /** Synchronous: the conversation context's JSON for a tool that declared `context: true`, else err. */
  getContext?(): HostResult<string>;
}

type MaybePromise<T> = T | Promise<T>;

/** The `imports` argument of a tool glue's `instantiate`. */
export interface ToolImports {
  "mcp-sandbox:tool/host"?: HostFunctions;
}

/**
 * A built-in tool (not a component): the sandbox host runs it itself (execute_code: an
 * interpreter per language). Its metadata comes from src/shared/<name>.json.
 */
export interface BuiltinManifestEntry {
  name: string;
  /** Directory of its runtime files, relative to public/, with a trailing slash. */
  dir: string;
  /** Runtime files (in `dir`) the host compiles, e.g. QuickJS's core module. */
  coreModules: string[];
  /** Lowercase hex SHA-256 of the metadata and every runtime file: changes with either. */
  sha256: string;
  /** Bytes of the runtime files. */
  size: number;
  metadata: ToolMetadata;
}

export interface ToolManifest {
  version: 1;
  tools: ToolManifestEntry[];
  /** Built-in tools (absent in manifests written before there were any). */
  builtins?: BuiltinManifestEntry[];
}

/** Exports of an instantiated tool component (world `mcp-sandbox:tool/tool`). */
export interface ToolInstance {
  /** Returns the metadata JSON text (synchronous in every tool). */
  describe(): string;
  /**
   * Runs the tool with a JSON argument object. Returns the `ok` payload; an `err`
   * result is thrown as an Error with `payload` (the message); a trap is thrown as a
   * WebAssembly.RuntimeError, after which the instance is unusable. In tools with
   * `async: true` (JSPI) `call` is an async function: it returns a Promise, which
   * resolves to the payload or rejects with those errors.
   */
  call(args: string): string | Promise<string>;
}

/** Returns the compiled core module for a file name listed in `coreModules`. */
export type GetCoreModule = (fileName: string) => WebAssembly.Module | Promise<WebAssembly.Module>;

/**
 * The glue module (`glue`) produced by `jco transpile --instantiation async`.
 * `instantiate` returns a Promise with the default `instantiateCore`
 * (WebAssembly.instantiate); it returns the instance synchronously when both
 * getCoreModule and instantiateCore are synchronous, e.g.
 * `(m, i) => new WebAssembly.Instance(m, i)` with a cached Module. `await` covers both.
 */
export interface ToolGlueModule {
  instantiate(
    getCoreModule: GetCoreModule,
    imports: ToolImports,
    instantiateCore?: (
      module: WebAssembly.Module,
      imports?: WebAssembly.Imports,
    ) => WebAssembly.Instance | Promise<WebAssembly.Instance>,
  ): ToolInstance | Promise<ToolInstance>;
}
