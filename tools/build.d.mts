// Types for tools/build.mjs.
import type { ToolManifest, ToolMetadata } from "./types.js";

export type { HostFunctions, HostImport, ToolManifest, ToolManifestEntry, ToolMetadata } from "./types.js";

/** Absolute path of the build output directory (public/tools). */
export declare const OUT_DIR: string;

/** The host interface as core modules name it: "mcp-sandbox:tool/host@0.1.0". */
export declare const HOST_INTERFACE: string;

/** Options of jco's `transpile` for every tool (JSPI options are added for async tools). */
export declare const TRANSPILE_OPTIONS: Readonly<Record<string, unknown>>;

export interface BuildOptions {
  /** Rebuild every tool even if its inputs are unchanged. */
  force?: boolean;
  /** Receives the one-line-per-tool summary (default: console.log). */
  log?: (line: string) => void;
}

/** Builds all tools into public/tools/ and writes manifest.json; rejects on any failure. */
export declare function buildTools(options?: BuildOptions): Promise<ToolManifest>;

/** Problems with describe() metadata (empty when valid). */
export declare function validateMetadata(meta: unknown, expectedName?: string): string[];

/**
 * Host functions a component imports, from its text form (jco `print`), as sorted
 * "mcp-sandbox:tool/host@0.1.0#<function>"; throws on any other import.
 */
export declare function componentImports(wat: string): string[];

/** Example tools' directory (tools/examples): sources in <dir>/index.ts, ready components as <name>.wasm (committed). */
export declare const EXAMPLES_DIR: string;

/** Where the build copies the example components for the app to serve at /examples/<name>.wasm (public/examples). */
export declare const EXAMPLES_OUT_DIR: string;

export interface BuiltExample {
  name: string;
  /** The component's bytes, exactly as the build writes them to tools/examples/<name>.wasm. */
  component: Uint8Array;
  metadata: ToolMetadata;
  /** Host functions it imports, as componentImports() names them. */
  imports: string[];
}

/**
 * Builds tools/examples/<dirName>/index.ts through the bundled tools' pipeline in a temporary
 * directory (nothing else is written) and returns its component; rejects on any failure.
 */
export declare function buildExample(dirName: string): Promise<BuiltExample>;
