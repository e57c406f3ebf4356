/**
 * Some jco glue (e.g. for QuickJS-built components) compiles small helper modules itself at
 * load time: `new WebAssembly.Module(new Uint8Array([0x00, 0x61, …]))`. Tool workers may not
 * compile wasm (their CSP forbids it), so the importer lifts each such literal out into a core
 * module file of its own — compiled by the host like every other — and the glue asks the worker
 * for the compiled module instead. Pure text and bytes; the glue is our transpiler's output.
 */

/** The global a tool worker defines before it imports glue, returning a posted module by file name. */
export const INLINE_MODULE_GLOBAL = '__mcpSandboxInlineModule';

const LITERAL = /new WebAssembly\.Module\(\s*new Uint8Array\(\s*\[([0-9a-fA-Fx,\s]*)\]\s*\)\s*\)/g;

export function liftInlineModules(glue: string, baseName: string): { glue: string; modules: Record<string, Uint8Array> } {
  const modules: Record<string, Uint8Array> = {};
  let index = 0;
  const patched = glue.replace(LITERAL, (_match, list: string) => {
    const bytes = Uint8Array.from(
      list
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .map((s) => Number(s)),
    );
    const name = `${baseName}.inline${index++}.wasm`;
    modules[name] = bytes;
    return `globalThis.${INLINE_MODULE_GLOBAL}(${JSON.stringify(name)})`;
  });
  return { glue: patched, modules };
}
