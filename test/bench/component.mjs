// A minimal tool component (tools/README.md ABI) built from WAT, as test/browser/upload.test.ts
// does: each version returns its own output, so each upload is a new component (new hash).
import { fileURLToPath } from 'node:url';

export async function benchComponent(version) {
  const { parse, componentEmbed, componentNew } = await import('@bytecodealliance/jco');
  const hex = (text) => [...new TextEncoder().encode(text)].map((b) => `\\${b.toString(16).padStart(2, '0')}`).join('');
  const meta = JSON.stringify({ name: 'bench_uploaded', description: 'Benchmark: a tool uploaded while the sandbox runs.', version, author: 'bench', inputSchema: { type: 'object' }, permissions: [], limits: { memoryMb: 16, cpuMs: 1000 } });
  const output = JSON.stringify({ version });
  const len = (text) => new TextEncoder().encode(text).length;
  const wat = `(module
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 8192))
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
      global.get $heap local.set $p global.get $heap local.get 3 i32.add global.set $heap local.get $p)
    (data (i32.const 1024) "${hex(meta)}")
    (data (i32.const 4096) "${hex(output)}")
    (func (export "describe") (result i32)
      i32.const 0 i32.const 1024 i32.store i32.const 4 i32.const ${len(meta)} i32.store i32.const 0)
    (func (export "call") (param i32 i32) (result i32)
      i32.const 8 i32.const 0 i32.store8 i32.const 12 i32.const 4096 i32.store i32.const 16 i32.const ${len(output)} i32.store i32.const 8))`;
  const embedded = await componentEmbed({ binary: await parse(wat), witPath: fileURLToPath(new URL('../../tools/wit', import.meta.url)), world: 'tool', stringEncoding: 'utf8' });
  return [...(await componentNew(embedded))];
}

/**
 * An Extism plugin (kernel ABI of `extism:host/env`) whose `echo` export copies its input to
 * its output, for the Extism peer measure.
 */
export async function extismEchoPlugin() {
  const { parse } = await import('@bytecodealliance/jco');
  const wat = `(module
    (import "extism:host/env" "input_length" (func $input_length (result i64)))
    (import "extism:host/env" "input_load_u8" (func $input_load_u8 (param i64) (result i32)))
    (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
    (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
    (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))
    (memory (export "memory") 1)
    (func (export "echo") (result i32) (local $n i64) (local $out i64) (local $i i64)
      (local.set $n (call $input_length))
      (local.set $out (call $alloc (local.get $n)))
      (block $done
        (loop $copy
          (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
          (call $store_u8 (i64.add (local.get $out) (local.get $i)) (call $input_load_u8 (local.get $i)))
          (local.set $i (i64.add (local.get $i) (i64.const 1)))
          (br $copy)))
      (call $output_set (local.get $out) (local.get $n))
      (i32.const 0)))`;
  return [...(await parse(wat))];
}
