/**
 * Caps the linear memories a core module defines by rewriting its memory section before it is
 * compiled. V8 then enforces the cap exactly: `memory.grow` past it returns -1, and a module
 * whose initial size is already larger fails to load. Memories it imports (emscripten's, e.g.
 * QuickJS) get the same maximum in their import type, so no larger memory links. Pure: bytes in,
 * bytes out.
 */

export const WASM_PAGE = 65536;

export class MemoryLimitError extends Error {
  constructor(
    message: string,
    readonly initialBytes: number,
    readonly limitBytes: number,
  ) {
    super(message);
    this.name = 'MemoryLimitError';
  }
}

interface Reader {
  bytes: Uint8Array;
  pos: number;
}

function readU32(r: Reader): number {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (r.pos >= r.bytes.length) throw new Error('wasm: unexpected end while reading LEB128');
    const byte = r.bytes[r.pos++]!;
    result += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return result;
    shift += 7;
    if (shift > 35) throw new Error('wasm: LEB128 too long');
  }
}

function writeU32(value: number): number[] {
  const out: number[] = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}

/** Returns the module with every defined or imported memory's maximum at most `limitBytes`. */
export function capMemory(module: Uint8Array, limitBytes: number): Uint8Array {
  const limitPages = Math.floor(limitBytes / WASM_PAGE);
  if (module.length < 8 || module[0] !== 0x00 || module[1] !== 0x61 || module[2] !== 0x73 || module[3] !== 0x6d) throw new Error('wasm: not a WebAssembly module');
  if (module[4] !== 0x01) throw new Error('wasm: not a core module (a component must be transpiled first)');
  const r: Reader = { bytes: module, pos: 8 };
  const parts: Uint8Array[] = [module.subarray(0, 8)];
  while (r.pos < module.length) {
    const start = r.pos;
    const id = module[r.pos++]!;
    const size = readU32(r);
    const bodyStart = r.pos;
    const end = bodyStart + size;
    if (end > module.length) throw new Error('wasm: section runs past the end');
    if (id === 5) {
      parts.push(rewriteMemorySection(module.subarray(bodyStart, end), limitPages, limitBytes));
    } else if (id === 2) {
      parts.push(rewriteImportSection(module.subarray(bodyStart, end), limitPages, limitBytes));
    } else {
      parts.push(module.subarray(start, end));
    }
    r.pos = end;
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Reads one memory type (limits) and returns it with its maximum capped. */
function cappedMemoryType(r: Reader, limitPages: number, limitBytes: number): number[] {
  const flags = readU32(r);
  if (flags & 0x04) throw new Error('wasm: 64-bit memories are not supported');
  const shared = (flags & 0x02) !== 0;
  const min = readU32(r);
  const max = flags & 0x01 ? readU32(r) : Infinity;
  if (min > limitPages) throw new MemoryLimitError(`the module needs ${min * WASM_PAGE} bytes of memory at start, over its limit of ${limitBytes} bytes`, min * WASM_PAGE, limitBytes);
  return [...writeU32(0x01 | (shared ? 0x02 : 0)), ...writeU32(min), ...writeU32(Math.min(max, limitPages))];
}

function rewriteMemorySection(body: Uint8Array, limitPages: number, limitBytes: number): Uint8Array {
  const r: Reader = { bytes: body, pos: 0 };
  const count = readU32(r);
  const content: number[] = writeU32(count);
  for (let i = 0; i < count; i++) content.push(...cappedMemoryType(r, limitPages, limitBytes));
  if (r.pos !== body.length) throw new Error('wasm: trailing bytes in the memory section');
  return Uint8Array.from([5, ...writeU32(content.length), ...content]);
}

/** Copies the import section, capping the maximum of every imported memory; other imports are copied as they are. */
function rewriteImportSection(body: Uint8Array, limitPages: number, limitBytes: number): Uint8Array {
  const r: Reader = { bytes: body, pos: 0 };
  const count = readU32(r);
  const out: Uint8Array[] = [Uint8Array.from(writeU32(count))];
  const copy = (from: number) => out.push(body.subarray(from, r.pos));
  const skipName = () => {
    const length = readU32(r);
    r.pos += length;
    if (r.pos > body.length) throw new Error('wasm: import name runs past the section');
  };
  // A value or reference type: one byte, or (typed references) 0x63/0x64 and a heap type.
  const skipType = () => {
    const type = body[r.pos++];
    if (type === 0x63 || type === 0x64) readU32(r);
  };
  const skipLimits = () => {
    const flags = readU32(r);
    readU32(r);
    if (flags & 0x01) readU32(r);
  };
  for (let i = 0; i < count; i++) {
    const start = r.pos;
    skipName();
    skipName();
    const kind = body[r.pos++];
    switch (kind) {
      case 0x00: // function: type index
        readU32(r);
        copy(start);
        break;
      case 0x01: // table: reference type, limits
        skipType();
        skipLimits();
        copy(start);
        break;
      case 0x02: // memory
        out.push(body.subarray(start, r.pos), Uint8Array.from(cappedMemoryType(r, limitPages, limitBytes)));
        break;
      case 0x03: // global: value type, mutability
        skipType();
        r.pos++;
        copy(start);
        break;
      case 0x04: // tag: attribute, type index
        r.pos++;
        readU32(r);
        copy(start);
        break;
      default:
        throw new Error(`wasm: unknown import kind ${String(kind)}`);
    }
  }
  if (r.pos !== body.length) throw new Error('wasm: trailing bytes in the import section');
  const content = out.reduce((n, p) => n + p.length, 0);
  const section = new Uint8Array(1 + writeU32(content).length + content);
  section.set([2, ...writeU32(content)]);
  let at = 1 + writeU32(content).length;
  for (const p of out) {
    section.set(p, at);
    at += p.length;
  }
  return section;
}
