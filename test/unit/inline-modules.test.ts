import { describe, expect, it } from 'vitest';
import { INLINE_MODULE_GLOBAL, liftInlineModules } from '../../src/sandbox/inline-modules';

describe('lifting helper modules out of jco glue', () => {
  it('replaces each literal module with a lookup and keeps its exact bytes', () => {
    const glue = `const a = new WebAssembly.Module(new Uint8Array([
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ]));
    const b = new WebAssembly.Module(new Uint8Array([0x00,0x61,0x73,0x6d,0x01,0x00,0x00,0x00,0x00,0x01,0x00]));
    const keep = new WebAssembly.Module(bytesFromSomewhere);`;
    const { glue: patched, modules } = liftInlineModules(glue, 'tool');
    expect(Object.keys(modules)).toEqual(['tool.inline0.wasm', 'tool.inline1.wasm']);
    expect([...modules['tool.inline0.wasm']!]).toEqual([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
    expect(modules['tool.inline1.wasm']!.length).toBe(11);
    expect(patched).toContain(`const a = globalThis.${INLINE_MODULE_GLOBAL}("tool.inline0.wasm");`);
    expect(patched).toContain(`const b = globalThis.${INLINE_MODULE_GLOBAL}("tool.inline1.wasm");`);
    // Anything that is not a literal byte list is left alone (and would still be refused by the worker's CSP).
    expect(patched).toContain('new WebAssembly.Module(bytesFromSomewhere)');
    for (const bytes of Object.values(modules)) expect(WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>)).toBe(true);
  });

  it('leaves glue without literal modules unchanged', () => {
    const glue = 'export async function instantiate() {}';
    expect(liftInlineModules(glue, 'tool')).toEqual({ glue, modules: {} });
  });
});
