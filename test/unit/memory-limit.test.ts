import { describe, expect, it } from 'vitest';
import { capMemory, MemoryLimitError, WASM_PAGE } from '../../src/sandbox/memory-limit';

/** (module (memory (export "memory") MIN [MAX]) (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)) */
function moduleWithMemory(min: number, max?: number): Uint8Array {
  const limits = max === undefined ? [0x00, min] : [0x01, min, max];
  const memorySection = [0x01, ...limits];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f, // type: (i32) -> i32
    0x03, 0x02, 0x01, 0x00, // func 0 has type 0
    0x05, memorySection.length, ...memorySection,
    0x07, 0x11, 0x02, 0x06, ...[0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79], 0x02, 0x00, 0x04, ...[0x67, 0x72, 0x6f, 0x77], 0x00, 0x00,
    0x0a, 0x08, 0x01, 0x06, 0x00, 0x20, 0x00, 0x40, 0x00, 0x0b,
  ]);
}

async function instantiate(bytes: Uint8Array) {
  const instance = await WebAssembly.instantiate(await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>));
  return instance.exports as { memory: WebAssembly.Memory; grow(pages: number): number };
}

describe('capping a module memory', () => {
  it('is a valid module before capping, growing freely', async () => {
    const { grow } = await instantiate(moduleWithMemory(1));
    expect(grow(10)).toBe(1);
  });

  it('stops memory.grow at the cap when the module declares no maximum', async () => {
    const exports = await instantiate(capMemory(moduleWithMemory(1), 4 * WASM_PAGE));
    expect(exports.grow(3)).toBe(1);
    expect(exports.grow(1)).toBe(-1);
    expect(exports.memory.buffer.byteLength).toBe(4 * WASM_PAGE);
  });

  it('keeps a smaller maximum the module declared itself', async () => {
    const exports = await instantiate(capMemory(moduleWithMemory(1, 2), 100 * WASM_PAGE));
    expect(exports.grow(1)).toBe(1);
    expect(exports.grow(1)).toBe(-1);
  });

  it('refuses a module whose initial memory is already over the cap', () => {
    expect(() => capMemory(moduleWithMemory(8), 4 * WASM_PAGE)).toThrow(MemoryLimitError);
  });

  it('refuses bytes that are not a core module', () => {
    expect(() => capMemory(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), WASM_PAGE)).toThrow(/not a WebAssembly module/);
    expect(() => capMemory(Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]), WASM_PAGE)).toThrow(/not a core module/);
  });
});

/** (module (import "env" "f" (func)) (import "a" "a" (memory MIN [MAX])) (import "g" "g" (global i32)) (func (export "grow") ...) (func (export "size") ...)) */
function moduleImportingMemory(min: number, max?: number): Uint8Array {
  const limits = max === undefined ? [0x00, min] : [0x01, min, max];
  const name = (s: string) => [s.length, ...[...s].map((c) => c.charCodeAt(0))];
  const imports = [0x03, ...name('env'), ...name('f'), 0x00, 0x01, ...name('a'), ...name('a'), 0x02, ...limits, ...name('g'), ...name('g'), 0x03, 0x7f, 0x00];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x09, 0x02, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x60, 0x00, 0x00, // types: (i32) -> i32, () -> ()
    0x02, imports.length, ...imports,
    0x03, 0x02, 0x01, 0x00,
    0x07, 0x08, 0x01, 0x04, ...[0x67, 0x72, 0x6f, 0x77], 0x00, 0x01, // export "grow" = func 1 (func 0 is the import)
    0x0a, 0x08, 0x01, 0x06, 0x00, 0x20, 0x00, 0x40, 0x00, 0x0b,
  ]);
}

describe('capping an imported memory (emscripten modules import theirs)', () => {
  const link = async (bytes: Uint8Array, memory: WebAssembly.Memory) => {
    const module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
    const instance = await WebAssembly.instantiate(module, { env: { f: () => undefined }, a: { a: memory }, g: { g: new WebAssembly.Global({ value: 'i32' }, 0) } });
    return instance.exports as { grow(pages: number): number };
  };

  it('is a valid module before capping that links any memory', async () => {
    const { grow } = await link(moduleImportingMemory(1), new WebAssembly.Memory({ initial: 1, maximum: 100 }));
    expect(grow(10)).toBe(1);
  });

  it('writes the cap into the import, so only a memory within it links', async () => {
    const capped = capMemory(moduleImportingMemory(1), 4 * WASM_PAGE);
    expect(WebAssembly.Module.imports(new WebAssembly.Module(capped as Uint8Array<ArrayBuffer>)).map((i) => i.kind)).toEqual(['function', 'memory', 'global']);
    await expect(link(capped, new WebAssembly.Memory({ initial: 1, maximum: 100 }))).rejects.toThrow(WebAssembly.LinkError);
    await expect(link(capped, new WebAssembly.Memory({ initial: 1 }))).rejects.toThrow(WebAssembly.LinkError);
    const { grow } = await link(capped, new WebAssembly.Memory({ initial: 1, maximum: 4 }));
    expect(grow(3)).toBe(1);
    expect(grow(1)).toBe(-1);
  });

  it('keeps a smaller declared maximum and refuses an initial size over the cap', async () => {
    const capped = capMemory(moduleImportingMemory(1, 2), 100 * WASM_PAGE);
    await expect(link(capped, new WebAssembly.Memory({ initial: 1, maximum: 3 }))).rejects.toThrow(WebAssembly.LinkError);
    expect(() => capMemory(moduleImportingMemory(8), 4 * WASM_PAGE)).toThrow(MemoryLimitError);
  });

  it('caps the QuickJS module of execute_code', async () => {
    const { readFile } = await import('node:fs/promises');
    const { createRequire } = await import('node:module');
    const wasm = await readFile(createRequire(import.meta.url).resolve('@jitl/quickjs-wasmfile-release-sync/wasm'));
    const capped = capMemory(wasm, 64 * 1024 * 1024);
    const memory = WebAssembly.Module.imports(new WebAssembly.Module(capped as Uint8Array<ArrayBuffer>)).filter((i) => i.kind === 'memory');
    expect(memory).toEqual([{ module: 'a', name: 'a', kind: 'memory' }]);
    expect(() => capMemory(wasm, 8 * 1024 * 1024)).toThrow(MemoryLimitError);
  });
});
