// Types for tools/build.mjs.
import type { ToolManifest } from "./types.js";

export type { ToolManifest, ToolManifestEntry, ToolMetadata } from "./types.js";

/** Absolute path of the build output directory (public/tools). */
export declare const OUT_DIR: string;

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
