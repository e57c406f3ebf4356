import { capMemory } from '../memory-limit';
import type { ToolCode } from '../../shared/wire';

/**
 * Compiles each tool's core modules once per (tool hash, memory cap) in the trusted page and
 * keeps the `WebAssembly.Module`s: posting a compiled module to a worker and instantiating it
 * costs a fraction of compiling again (DESIGN.md, fact 8).
 */
export class ModuleCache {
  private readonly compiled = new Map<string, Promise<Record<string, WebAssembly.Module>>>();

  constructor(private readonly base: string) {}

  /** What names one tool's compiled, capped modules: here, and to a worker (`ToolJob.moduleKey`). */
  static keyOf(code: ToolCode, memoryBytes: number): string {
    return `${code.hash}|${memoryBytes}`;
  }

  /**
   * The compiled, capped modules of a tool. `sources` (core module name → bytes) compiles from
   * bytes already in hand (an upload being introspected) instead of fetching `code`'s URLs.
   */
  get(code: ToolCode, memoryBytes: number, sources?: Record<string, Uint8Array>): Promise<Record<string, WebAssembly.Module>> {
    const key = ModuleCache.keyOf(code, memoryBytes);
    let entry = this.compiled.get(key);
    if (!entry) {
      entry = this.compile(code, memoryBytes, sources);
      this.compiled.set(key, entry);
      entry.catch(() => this.compiled.delete(key));
    }
    return entry;
  }

  private async compile(code: ToolCode, memoryBytes: number, sources?: Record<string, Uint8Array>): Promise<Record<string, WebAssembly.Module>> {
    const out: Record<string, WebAssembly.Module> = {};
    for (const [name, url] of Object.entries(code.coreModules)) {
      let bytes = sources?.[name];
      if (!bytes) {
        const response = await fetch(new URL(url, this.base));
        if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
        bytes = new Uint8Array(await response.arrayBuffer());
      }
      out[name] = await WebAssembly.compile(capMemory(bytes, memoryBytes) as Uint8Array<ArrayBuffer>);
    }
    return out;
  }
}
