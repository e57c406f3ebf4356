// Pyodide's emscripten module factory (pyodide.asm.mjs) ships without types.
declare module 'pyodide/pyodide.asm.mjs' {
  const createPyodideModule: (settings: object) => Promise<unknown>;
  export default createPyodideModule;
}
