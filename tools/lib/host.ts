// Guest bindings for the `host` interface of tools/wit/tool.wit (canonical ABI, by hand).
//
// Core imports ("mcp-sandbox:tool/host@0.1.0" "<name>") and the flattening they follow:
//   read-file       (path_ptr, path_len, ret) -> ()          ret: result<string, string>
//   write-file      (path_ptr, path_len, c_ptr, c_len, ret)  ret: result<u64, string>
//   list-directory  (path_ptr, path_len, ret) -> ()          ret: result<list<string>, string>
//   stat            (path_ptr, path_len, ret) -> ()          ret: result<string, string>
//   http-fetch      (req_ptr, req_len, ret) -> ()            ret: result<string, string>
//   client-request  (m_ptr, m_len, p_ptr, p_len, ret) -> ()  ret: result<string, string>
//   log             (level_ptr, level_len, msg_ptr, msg_len) -> ()
//   now-ms          () -> i64
//   random-bytes    (len, ret) -> ()                         ret: list<u8>
//   get-context     (ret) -> ()                              ret: result<string, string>
// Results that flatten to more than one value are written by the host to a return area
// the guest passes as the last argument:
//   result<string, string>:      tag u8 @0, ptr u32 @4, len u32 @8   (size 12, align 4)
//   result<list<string>, string>: same, ok ptr addresses `len` {ptr u32, len u32} pairs
//   result<u64, string>:         tag u8 @0, u64 @8 | ptr u32 @8, len u32 @12 (align 8)
//   list<u8>:                    ptr u32 @0, len u32 @4
// The host allocates strings and lists in our memory through cabi_realloc (lib/abi.ts);
// the stub runtime never frees them, which is fine for a per-call instance.
//
// AssemblyScript emits an import only for a function the tool actually calls, and
// wit-component keeps only those in the component: a tool's imports are exactly the
// host functions it uses (recorded in public/tools/manifest.json).

import { encode } from "./abi";

// Return area for host calls; read before the next host call.
const RET: usize = memory.data(16, 8);

// @ts-ignore: decorator
@external("mcp-sandbox:tool/host@0.1.0", "read-file")
declare function hostReadFile(pathPtr: usize, pathLen: usize, ret: usize): void;
// @ts-ignore: decorator
@external("mcp-sandbox:tool/host@0.1.0", "write-file")
declare function hostWriteFile(pathPtr: usize, pathLen: usize, contentsPtr: usize, contentsLen: usize, ret: usize): void;
// @ts-ignore: decorator
@external("mcp-sandbox:tool/host@0.1.0", "list-directory")
declare function hostListDirectory(pathPtr: usize, pathLen: usize, ret: usize): void;
// @ts-ignore: decorator
@external("mcp-sandbox:tool/host@0.1.0", "stat")
declare function hostStat(pathPtr: usize, pathLen: usize, ret: usize): void;
// @ts-ignore: decorator
@external("mcp-sandbox:tool/host@0.1.0", "http-fetch")
declare function hostHttpFetch(requestPtr: usize, requestLen: usize, ret: usize): void;
// @ts-ignore: decorator
@external("mcp-sandbox:tool/host@0.1.0", "client-request")
declare function hostClientRequest(methodPtr: usize, methodLen: usize, paramsPtr: usize, paramsLen: usize, ret: usize): void;
// @ts-ignore: decorator
@external("mcp-sandbox:tool/host@0.1.0", "log")
declare function hostLog(levelPtr: usize, levelLen: usize, messagePtr: usize, messageLen: usize): void;
// @ts-ignore: decorator
@external("mcp-sandbox:tool/host@0.1.0", "now-ms")
declare function hostNowMs(): u64;
// @ts-ignore: decorator
@external("mcp-sandbox:tool/host@0.1.0", "random-bytes")
declare function hostRandomBytes(len: u32, ret: usize): void;
// @ts-ignore: decorator
@external("mcp-sandbox:tool/host@0.1.0", "get-context")
declare function hostGetContext(ret: usize): void;

/** Outcome of a host call returning `result<T, string>`: `value` if ok, else `error`. */
export class HostResult<T> {
  constructor(public ok: bool, public value: T, public error: string) {}
}

// @ts-ignore: decorator
@inline function ptr(buf: ArrayBuffer): usize {
  return changetype<usize>(buf);
}

// @ts-ignore: decorator
@inline function len(buf: ArrayBuffer): usize {
  return <usize>buf.byteLength;
}

function stringAt(at: usize): string {
  return String.UTF8.decodeUnsafe(<usize>load<u32>(at), <usize>load<u32>(at, 4));
}

/** Lifts a result<string, string> from RET. */
function liftStringResult(): HostResult<string> {
  const text = stringAt(RET + 4);
  return load<u8>(RET) == 0 ? new HostResult<string>(true, text, "") : new HostResult<string>(false, "", text);
}

/** UTF-8 text of a workspace file. */
export function readFile(path: string): HostResult<string> {
  const p = encode(path);
  hostReadFile(ptr(p), len(p), RET);
  return liftStringResult();
}

/** Creates or replaces a workspace file; ok = bytes written. */
export function writeFile(path: string, contents: string): HostResult<u64> {
  const p = encode(path);
  const c = encode(contents);
  hostWriteFile(ptr(p), len(p), ptr(c), len(c), RET);
  if (load<u8>(RET) == 0) return new HostResult<u64>(true, load<u64>(RET, 8), "");
  return new HostResult<u64>(false, 0, stringAt(RET + 8));
}

/** Entry names of a workspace directory; directory names end with "/". */
export function listDirectory(path: string): HostResult<string[]> {
  const p = encode(path);
  hostListDirectory(ptr(p), len(p), RET);
  if (load<u8>(RET) != 0) return new HostResult<string[]>(false, [], stringAt(RET + 4));
  const base = <usize>load<u32>(RET, 4);
  const count = <i32>load<u32>(RET, 8);
  const names = new Array<string>(count);
  for (let i = 0; i < count; i++) names[i] = stringAt(base + (<usize>i << 3));
  return new HostResult<string[]>(true, names, "");
}

/** JSON {"size","isDirectory","modifiedMs"} of a workspace path. */
export function stat(path: string): HostResult<string> {
  const p = encode(path);
  hostStat(ptr(p), len(p), RET);
  return liftStringResult();
}

/** HTTP through the host: request and response are JSON (see tools/wit/tool.wit). */
export function httpFetch(requestJson: string): HostResult<string> {
  const r = encode(requestJson);
  hostHttpFetch(ptr(r), len(r), RET);
  return liftStringResult();
}

/** A request to the calling agent's MCP client ("sampling/createMessage", "elicitation/create"); ok: its result as JSON. */
export function clientRequest(method: string, paramsJson: string): HostResult<string> {
  const m = encode(method);
  const p = encode(paramsJson);
  hostClientRequest(ptr(m), len(m), ptr(p), len(p), RET);
  return liftStringResult();
}

/** Writes to the host's log ("debug" | "info" | "warn" | "error"). */
export function log(level: string, message: string): void {
  const l = encode(level);
  const m = encode(message);
  hostLog(ptr(l), len(l), ptr(m), len(m));
}

/** Milliseconds since the Unix epoch. */
export function nowMs(): u64 {
  return hostNowMs();
}

/** `n` cryptographically secure random bytes (as many as the host returned). */
export function randomBytes(n: u32): Uint8Array {
  hostRandomBytes(n, RET);
  const count = <i32>load<u32>(RET, 4);
  const out = new Uint8Array(count);
  memory.copy(out.dataStart, <usize>load<u32>(RET), <usize>count);
  return out;
}

/**
 * The calling conversation's context as JSON (docs/context.md, "Into tools"): only for a tool
 * whose metadata declares "context": true; any other tool gets the host's refusal.
 */
export function getContext(): HostResult<string> {
  hostGetContext(RET);
  return liftStringResult();
}
