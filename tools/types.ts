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
  /** e.g. "text", "data", "resource" (served as an MCP resource), "fixture". */
  categories: string[];
  /** JSON Schema of the `call` argument object (`type: "object"`). */
  inputSchema: Record<string, unknown> & { type: "object" };
  /** Capabilities the tool needs from the host (none until host imports exist). */
  permissions: string[];
  /** The tool's own default maximums; the host applies the stricter of these and policy. */
  limits?: { memoryMb?: number; cpuMs?: number };
  /** Present when the tool backs an MCP resource (category "resource"). */
  resource?: { uri: string; mimeType: string };
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
  /** True for test fixtures (loop_forever, memory_hog, trap), which must not be listed to agents. */
  fixture: boolean;
  metadata: ToolMetadata;
}

export interface ToolManifest {
  version: 1;
  tools: ToolManifestEntry[];
}

/** Exports of an instantiated tool component (world `mcp-sandbox:tool/tool`). */
export interface ToolInstance {
  /** Returns the metadata JSON text. */
  describe(): string;
  /**
   * Runs the tool with a JSON argument object. Returns the `ok` payload; an `err`
   * result is thrown as an Error with `payload` (the message); a trap is thrown as a
   * WebAssembly.RuntimeError, after which the instance is unusable.
   */
  call(args: string): string;
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
    imports: Record<string, unknown>,
    instantiateCore?: (
      module: WebAssembly.Module,
      imports?: WebAssembly.Imports,
    ) => WebAssembly.Instance | Promise<WebAssembly.Instance>,
  ): ToolInstance | Promise<ToolInstance>;
}
