// Hand-written canonical ABI for the `mcp-sandbox:tool` world (tools/wit/tool.wit).
//
// Core signatures that wit-component expects for this world:
//   describe: () -> i32                   pointer to { ptr: u32, len: u32 }
//   call:     (ptr: i32, len: i32) -> i32 pointer to { tag: u8, _pad, ptr: u32 @4, len: u32 @8 }
//   cabi_realloc(old_ptr, old_size, align, new_size) -> ptr
// Strings cross the boundary as UTF-8 (AssemblyScript strings are UTF-16).
//
// Memory is never freed: the stub runtime is a bump allocator and the host
// instantiates a fresh component for every invocation, so no cabi_post_* is needed.

// Return area for the flattened results; the host reads it before the next export call.
const RET_AREA: usize = memory.data(12, 4);

/** Allocator used by the host to lower arguments into our memory. */
export function cabi_realloc(oldPtr: usize, oldSize: usize, align: usize, newSize: usize): usize {
  // The stub runtime aligns every block to 16 bytes; nothing in this world asks for more.
  if (align > 16) unreachable();
  if (oldPtr == 0) return heap.alloc(newSize);
  return heap.realloc(oldPtr, newSize);
}

/** Reads a UTF-8 string the host lowered into our memory. */
export function liftString(ptr: usize, len: usize): string {
  return String.UTF8.decodeUnsafe(ptr, len);
}

/**
 * UTF-8 bytes of `s` for lowering to the host. REPLACE turns lone surrogates into
 * U+FFFD: the canonical ABI requires valid UTF-8 and a strict host (wasmtime) would
 * trap on WTF-8.
 */
export function encode(s: string): ArrayBuffer {
  return String.UTF8.encode(s, false, String.UTF8.ErrorMode.REPLACE);
}

/** Result of an export returning `string`. */
export function returnString(s: string): usize {
  const buf = encode(s);
  store<u32>(RET_AREA, <u32>changetype<usize>(buf));
  store<u32>(RET_AREA, <u32>buf.byteLength, 4);
  return RET_AREA;
}

function returnResult(tag: u8, s: string): usize {
  const buf = encode(s);
  store<u8>(RET_AREA, tag);
  store<u32>(RET_AREA, <u32>changetype<usize>(buf), 4);
  store<u32>(RET_AREA, <u32>buf.byteLength, 8);
  return RET_AREA;
}

/** `ok(s)` of an export returning `result<string, string>`. */
export function returnOk(s: string): usize {
  return returnResult(0, s);
}

/** `err(message)` of an export returning `result<string, string>`. */
export function returnErr(message: string): usize {
  return returnResult(1, message);
}
