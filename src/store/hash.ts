import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
/**
 * The canonical form of a value: the text its hash is taken over.
 *
 * Invariants:
 * - Total: every value IndexedDB can hold (what structured clone keeps) has a text, or a
 *   `detail` saying why it has none (a Blob, whose bytes cannot be read synchronously). Nothing
 *   here throws, and nothing recurses: values are walked with an explicit stack, so nesting as
 *   deep as the store holds cannot overflow the call stack.
 * - Injective (form 2): two different values never share a text. Object keys are sorted (their
 *   order carries no meaning); everything else that structured clone keeps is in the text: own
 *   `__proto__` members, undefined members, holes, -0, NaN, BigInt, Dates, Maps (in insertion
 *   order), shared and cyclic references.
 * - A JSON value's text is the JSON of it with keys sorted: byte for byte what form 1 produced,
 *   but for an own `__proto__` member, which form 1 silently dropped (the hole form 2 closes).
 *   Every value JSON cannot carry is written with a token JSON never produces (`undefined`,
 *   `NaN`, `-0`, `12n`, `!Date(…)`), so it can never be mistaken for a JSON value, and `notJson`
 *   says where the first one is.
 * - Form 1 is the form entries were hashed in before form 2. It is kept to verify them, exactly as
 *   they were hashed; a value whose content form 1 ignored (an own `__proto__` member, a Date, a
 *   Map…) has no form-1 text, because a form-1 hash cannot vouch for it.
 */
export type CanonicalForm = 1 | 2;

export type Canonical =
  /** `notJson`: the first value JSON cannot carry (`NaN at /args/x`), or null when `text` is JSON. */
  | { ok: true; text: string; notJson: string | null }
  | { ok: false; detail: string };

/**
 * A value still to be written. It is also the value's place, for messages: `up` is the frame of
 * the value holding it and `key` its key there (a number for an array item), turned into a JSON
 * pointer only when a message needs one.
 */
interface Frame {
  readonly value: unknown;
  readonly up: Frame | null;
  readonly key: string | number;
}

/** A piece of output, a value to write, or (form 1) the end of an object's walk. */
type Task = string | Frame | { readonly leave: object };

class Uncanonical extends Error {}

/**
 * The canonical text of `value` in `form` (2 unless verifying an entry hashed before form 2), or
 * why it has none. Never throws, whatever the value (getters and proxies included).
 */
export function canonicalize(value: unknown, form: CanonicalForm = 2): Canonical {
  try {
    return form === 2 ? formTwo(value) : formOne(value);
  } catch (error) {
    return { ok: false, detail: error instanceof Uncanonical ? error.message : `the value could not be read: ${String((error as Error)?.message ?? error)}` };
  }
}

/** The canonical text of `value` (form 2). Throws a TypeError naming the value that has none. */
export function canonicalJson(value: unknown): string {
  const c = canonicalize(value);
  if (!c.ok) throw new TypeError(`no canonical form: ${c.detail}`);
  return c.text;
}

/*
 * Both forms walk with an explicit stack of tasks, pushed in reverse so that they pop in
 * writing order; the text is the concatenation of the strings popped.
 */

function formTwo(root: unknown): Canonical {
  const out: string[] = [];
  // Objects in the order they are first written; a later occurrence is written as `!ref(n)`, so
  // shared and cyclic references are kept and a value is never walked twice.
  const ids = new Map<object, number>();
  const keyText = keyTexts();
  let notJson: string | null = null;
  const nonJson = (what: string, at: Frame) => {
    notJson ??= `${what} at ${pointer(at)}`;
  };
  const stack: Task[] = [{ value: root, up: null, key: '' }];
  while (stack.length > 0) {
    const task = stack.pop()!;
    if (typeof task === 'string') {
      out.push(task);
      continue;
    }
    if (!('value' in task)) continue;
    const v = task.value;
    switch (typeof v) {
      case 'string':
        out.push(JSON.stringify(v));
        continue;
      case 'boolean':
        out.push(v ? 'true' : 'false');
        continue;
      case 'number':
        out.push(number(v));
        if (!Number.isFinite(v) || Object.is(v, -0)) nonJson(number(v), task);
        continue;
      case 'bigint':
        out.push(`${v}n`);
        nonJson('a BigInt', task);
        continue;
      case 'undefined':
        out.push('undefined');
        nonJson('undefined', task);
        continue;
      case 'object':
        break;
      default:
        throw new Uncanonical(`a ${typeof v} at ${pointer(task)} cannot be stored, so it has no canonical form`);
    }
    if (v === null) {
      out.push('null');
      continue;
    }
    const seen = ids.get(v);
    if (seen !== undefined) {
      out.push(`!ref(${seen})`);
      nonJson('a repeated reference', task);
      continue;
    }
    ids.set(v, ids.size);
    const kind = kindOf(v);
    if (kind === 'Array') {
      const list = v as unknown[];
      const keys = Object.keys(list);
      // Dense, and no named members: `[…]` as JSON writes it.
      if (keys.length === list.length && (list.length === 0 || keys[list.length - 1] === String(list.length - 1))) {
        out.push('[');
        stack.push(']');
        for (let i = list.length - 1; i >= 0; i--) {
          stack.push({ value: list[i], up: task, key: i });
          if (i) stack.push(',');
        }
      } else {
        // Holes are absent members; named members are kept as structured clone keeps them.
        out.push(`!Array(${list.length})`);
        pushMembers(stack, list, sortedKeys(keys), task, true, keyText);
        nonJson('a sparse array or one with named members', task);
      }
    } else if (kind === 'Object') {
      // Own enumerable string keys are exactly what structured clone keeps of an object
      // (a class instance comes back as a plain object), and `__proto__` is one of them.
      pushMembers(stack, v as Record<string, unknown>, sortedKeys(Object.keys(v)), task, true, keyText);
    } else {
      const tasks = builtIn(v, kind, task, keyText);
      for (let i = tasks.length - 1; i >= 0; i--) stack.push(tasks[i]!);
      nonJson(`a ${kind}`, task);
    }
  }
  return { ok: true, text: out.join(''), notJson };
}

/** Form 2's text of an object structured clone keeps other than arrays and plain objects, as tasks in writing order. */
function builtIn(v: object, kind: string, at: Frame, keyText: (key: string, first: boolean) => string): Task[] {
  const child = (key: string, value: unknown): Frame => ({ value, up: at, key });
  switch (kind) {
    case 'Date':
      return [`!Date(${number(Date.prototype.getTime.call(v))})`];
    case 'RegExp': {
      const r = v as RegExp;
      return [`!RegExp(${JSON.stringify(r.source)},${JSON.stringify(r.flags)})`];
    }
    case 'Boolean':
      return [`!Boolean(${Boolean.prototype.valueOf.call(v) ? 'true' : 'false'})`];
    case 'Number':
      return [`!Number(${number(Number.prototype.valueOf.call(v))})`];
    case 'String':
      return [`!String(${JSON.stringify(String.prototype.valueOf.call(v))})`];
    case 'BigInt':
      return [`!BigInt(${BigInt.prototype.valueOf.call(v)}n)`];
    case 'Map': {
      // Insertion order is kept by structured clone, so it is part of the value.
      const tasks: Task[] = ['!Map['];
      let i = 0;
      for (const [key, value] of Map.prototype.entries.call(v) as IterableIterator<[unknown, unknown]>) {
        if (i) tasks.push(',');
        tasks.push(child(`key ${i}`, key), ',', child(`value ${i}`, value));
        i++;
      }
      tasks.push(']');
      return tasks;
    }
    case 'Set': {
      const tasks: Task[] = ['!Set['];
      let i = 0;
      for (const item of Set.prototype.values.call(v) as IterableIterator<unknown>) {
        if (i) tasks.push(',');
        tasks.push(child(`item ${i}`, item));
        i++;
      }
      tasks.push(']');
      return tasks;
    }
    case 'ArrayBuffer': {
      const buffer = v as ArrayBuffer & { resizable?: boolean; maxByteLength?: number };
      const bytes = JSON.stringify(bytesToBase64(new Uint8Array(buffer)));
      return [buffer.resizable ? `!ArrayBuffer(${bytes},${buffer.maxByteLength})` : `!ArrayBuffer(${bytes})`];
    }
    case 'Error': {
      // What structured clone keeps of an error: its name (one of the standard ones), message,
      // stack and cause, whichever it has.
      const e = v as Error;
      const kept: Record<string, unknown> = { name: String(e.name) };
      for (const key of ['message', 'stack', 'cause']) if (Object.prototype.hasOwnProperty.call(e, key)) kept[key] = (e as unknown as Record<string, unknown>)[key];
      const tasks: Task[] = [];
      pushMembers(tasks, kept, sortedKeys(Object.keys(kept)), at, true, keyText);
      return ['!Error', ...tasks.reverse()];
    }
  }
  if (ArrayBuffer.isView(v)) {
    // A view is its type, its window and its buffer; the buffer is a value of its own, so views
    // sharing one buffer are written sharing it.
    return [`!${kind}(${v.byteOffset},${v.byteLength},`, child('buffer', v.buffer), ')'];
  }
  throw new Uncanonical(`a ${kind} at ${pointer(at)} has no canonical form (its contents cannot be read synchronously, or structured clone does not keep it)`);
}

/**
 * Pushes `{"k":v,…}` onto `stack` (in reverse, to pop in writing order), for the given keys in
 * the given order; undefined members are left out unless `keepUndefined`.
 */
function pushMembers(stack: Task[], v: Record<string, unknown> | unknown[], keys: readonly string[], at: Frame, keepUndefined: boolean, keyText: (key: string, first: boolean) => string): void {
  const record = v as Record<string, unknown>;
  const kept = keepUndefined ? keys : keys.filter((key) => record[key] !== undefined);
  stack.push('}');
  for (let i = kept.length - 1; i >= 0; i--) {
    const key = kept[i]!;
    stack.push({ value: record[key], up: at, key }, keyText(key, i === 0));
  }
  stack.push('{');
}

/** `"key":` (and `,"key":`), made once per key of a walk: most values repeat their keys. */
function keyTexts(): (key: string, first: boolean) => string {
  const made = new Map<string, string>();
  return (key, first) => {
    let text = made.get(key);
    if (text === undefined) {
      text = `${JSON.stringify(key)}:`;
      made.set(key, text);
    }
    return first ? text : ',' + text;
  };
}

/**
 * Keys in the order form 1 wrote them: it sorted them and put them into a fresh object, whose
 * own keys list array indices first, in numeric order, then the rest in insertion (sorted) order.
 */
function sortedKeys(keys: readonly string[]): string[] {
  let indices: string[] | null = null;
  let names: string[] | null = null;
  for (const key of keys) {
    if (isArrayIndex(key)) (indices ??= []).push(key);
    else (names ??= []).push(key);
  }
  if (!indices) return names ? names.sort() : [];
  indices.sort((a, b) => Number(a) - Number(b));
  return names ? indices.concat(names.sort()) : indices;
}

function isArrayIndex(key: string): boolean {
  const c = key.charCodeAt(0);
  // Most keys are names: rule them out before the pattern.
  return c >= 48 && c <= 57 && /^(?:0|[1-9][0-9]{0,9})$/.test(key) && Number(key) <= 4294967294;
}

/** JSON's number text, and a token JSON never writes for the numbers it cannot carry. */
function number(n: number): string {
  if (Object.is(n, -0)) return '-0';
  return Number.isFinite(n) ? JSON.stringify(n) : String(n);
}

/** `Array`, `Object` (plain objects and class instances), or the built-in tag: `Date`, `Map`, `Uint8Array`, `Blob`… */
function kindOf(v: object): string {
  if (Array.isArray(v)) return 'Array';
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto === Object.prototype || proto === null) return 'Object';
  return Object.prototype.toString.call(v).slice(8, -1);
}

/**
 * Form 1 stopped walking past this many characters of text. An entry's largest part, the
 * arguments, came in a message of at most 4 MiB; a value shared many times over (which form 1
 * wrote out in full each time) is stopped here rather than walked for minutes.
 */
const FORM_ONE_MAX_CHARS = 8 * 1024 * 1024;

/**
 * Form 1, as `JSON.stringify` of the value with keys sorted wrote it: undefined members were
 * left out, undefined items, holes, NaN and ±Infinity written `null`, -0 written `0`. Values it
 * could not write (BigInt, cycles) or whose content it ignored have no form-1 text.
 */
function formOne(root: unknown): Canonical {
  const out: string[] = [];
  const open = new Set<object>();
  const keyText = keyTexts();
  let chars = 0;
  const write = (text: string) => {
    out.push(text);
    chars += text.length;
    if (chars > FORM_ONE_MAX_CHARS) throw new Uncanonical(`its form-1 text passes ${FORM_ONE_MAX_CHARS} characters`);
  };
  const stack: Task[] = [{ value: root, up: null, key: '' }];
  while (stack.length > 0) {
    const task = stack.pop()!;
    if (typeof task === 'string') {
      write(task);
      continue;
    }
    if (!('value' in task)) {
      open.delete(task.leave);
      continue;
    }
    const v = task.value;
    switch (typeof v) {
      case 'string':
      case 'number':
      case 'boolean':
        write(JSON.stringify(v));
        continue;
      case 'undefined':
        // Only array items reach here: undefined members were left out.
        if (typeof task.key === 'number') {
          write('null');
          continue;
        }
        throw new Uncanonical(`undefined at ${pointer(task)} has no form-1 text`);
      case 'object':
        break;
      default:
        throw new Uncanonical(`a ${typeof v} at ${pointer(task)} has no form-1 text`);
    }
    if (v === null) {
      write('null');
      continue;
    }
    if (open.has(v)) throw new Uncanonical(`a cycle at ${pointer(task)} has no form-1 text`);
    open.add(v);
    stack.push({ leave: v });
    const kind = kindOf(v);
    if (kind === 'Array') {
      const list = v as unknown[];
      if (Object.keys(list).some((key) => !isArrayIndex(key))) throw new Uncanonical(`the named members of the array at ${pointer(task)} were not covered by its form-1 hash`);
      write('[');
      stack.push(']');
      for (let i = list.length - 1; i >= 0; i--) {
        stack.push({ value: list[i], up: task, key: i });
        if (i) stack.push(',');
      }
    } else if (kind === 'Object') {
      const keys = Object.keys(v);
      if (keys.includes('__proto__')) throw new Uncanonical(`the own __proto__ member at ${pointer(task)} was not covered by its form-1 hash`);
      pushMembers(stack, v as Record<string, unknown>, sortedKeys(keys), task, false, keyText);
    } else {
      throw new Uncanonical(`the contents of the ${kind} at ${pointer(task)} were not covered by its form-1 hash`);
    }
  }
  return { ok: true, text: out.join(''), notJson: null };
}

/** JSON pointer of a value's place (`/args/0/x`; `/` for the value itself). */
function pointer(at: Frame): string {
  const keys: string[] = [];
  for (let a: Frame | null = at; a?.up; a = a.up) keys.push(String(a.key).replace(/~/g, '~0').replace(/\//g, '~1'));
  const path = keys.reverse().join('/');
  return path ? `/${path.length > 200 ? path.slice(0, 200) + '…' : path}` : '/';
}

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

export function base64ToBytes(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export async function sha256Hex(data: string | Uint8Array): Promise<string> {
  // Hashed on the calling thread (@noble/hashes): an entry is a few hundred bytes, for which
  // `crypto.subtle.digest`'s round trip to another thread costs more than the hashing, and
  // every append and verification awaited one.
  return bytesToHex(sha256(typeof data === 'string' ? utf8ToBytes(data) : data));
}
