// Editor typings for the parts of AssemblyScript's internal std library that tools use.
// asc resolves "~lib/..." itself; tsc (tools/tsconfig.json) only needs these declarations.
declare module "~lib/util/string" {
  /** Unicode White_Space (as String#trim uses it). */
  export function isSpace(c: u32): bool;
  /** Unicode Alphabetic property. */
  export function isAlpha(c: u32): bool;
}

/** Runtime allocation of a managed object (declared in std/assembly/rt/index.d.ts). */
declare function __new(size: usize, id: u32): usize;
