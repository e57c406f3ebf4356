/**
 * Bounds on agent-supplied JSON, checked before anything walks it recursively.
 *
 * Redaction, schema validation, hashing, the audit and the UI all walk values recursively; a
 * value nested deeper than the stack allows would throw `RangeError` from inside any of them,
 * at a point where the call may already hold counters and slots. So a value is measured here,
 * once, by an iterative walk that stops at the first bound it passes, and refused with a typed
 * error naming that bound. Past this check every walk may assume the bounds hold.
 */

export interface JsonBounds {
  /** Deepest nesting of objects and arrays; the top-level value is depth 1. */
  readonly maxDepth: number;
  /** Object members and array items, counted over the whole value. */
  readonly maxNodes: number;
  /** Characters of keys and strings together, a close lower bound of the JSON text's size. */
  readonly maxChars: number;
}

/** What a tool call's arguments may be (the error names the bound passed). */
export const ARGUMENT_BOUNDS: JsonBounds = { maxDepth: 32, maxNodes: 20_000, maxChars: 2 * 1024 * 1024 };

export interface BoundExceeded {
  /** The bound passed, or `json` for a value JSON cannot carry (BigInt, Date, Map, function…). */
  readonly bound: keyof JsonBounds | 'json';
  readonly max: number;
  /** How far the walk had got when it stopped: at least `max + 1`, not the total. */
  readonly observed: number;
  /** JSON-pointer-like path of the first value past the bound, e.g. `/a/0/b`. */
  readonly at: string;
}

export interface JsonSize {
  readonly depth: number;
  readonly nodes: number;
  readonly chars: number;
}

/**
 * Measures `value` against `bounds` without recursion. Returns the first bound passed, or the
 * measured size. A value JSON cannot carry (structured clone can: BigInt, Date, Map, typed
 * arrays, functions are dropped) is refused as `json`; a cycle passes `maxDepth` or `maxNodes`.
 */
export function measureJson(value: unknown, bounds: JsonBounds): { ok: true; size: JsonSize } | { ok: false; exceeded: BoundExceeded } {
  let nodes = 0;
  let chars = 0;
  let depth = 0;
  const stack: { value: unknown; depth: number; path: string }[] = [{ value, depth: 1, path: '' }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    const v = item.value;
    if (typeof v === 'string') {
      chars += v.length;
      if (chars > bounds.maxChars) return exceeded('maxChars', bounds, chars, item.path);
      continue;
    }
    if (typeof v !== 'object' || v === null) {
      if (typeof v === 'bigint' || typeof v === 'function' || typeof v === 'symbol' || (typeof v === 'number' && !Number.isFinite(v))) return notJson(v, item.path);
      chars += 1;
      continue;
    }
    if (!Array.isArray(v) && Object.getPrototypeOf(v) !== Object.prototype && Object.getPrototypeOf(v) !== null) return notJson(v, item.path);
    depth = Math.max(depth, item.depth);
    if (item.depth > bounds.maxDepth) return exceeded('maxDepth', bounds, item.depth, item.path);
    const keys = Array.isArray(v) ? null : Object.keys(v);
    const count = keys === null ? (v as unknown[]).length : keys.length;
    nodes += count;
    if (nodes > bounds.maxNodes) return exceeded('maxNodes', bounds, nodes, item.path);
    if (keys === null) {
      const list = v as unknown[];
      for (let i = list.length - 1; i >= 0; i--) stack.push({ value: list[i], depth: item.depth + 1, path: `${item.path}/${i}` });
    } else {
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]!;
        chars += key.length;
        stack.push({ value: (v as Record<string, unknown>)[key], depth: item.depth + 1, path: `${item.path}/${escapePointer(key)}` });
      }
      if (chars > bounds.maxChars) return exceeded('maxChars', bounds, chars, item.path);
    }
  }
  return { ok: true, size: { depth, nodes, chars } };
}

function exceeded(bound: keyof JsonBounds, bounds: JsonBounds, observed: number, at: string) {
  return { ok: false as const, exceeded: { bound, max: bounds[bound], observed, at: at.length > 200 ? at.slice(0, 200) + '…' : at } };
}

function notJson(v: unknown, at: string) {
  const kind = typeof v === 'object' ? (Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null)?.constructor?.name ?? 'object' : typeof v;
  return { ok: false as const, exceeded: { bound: 'json' as const, max: 0, observed: 0, at: `${at.length > 200 ? at.slice(0, 200) + '…' : at} (${kind})` } };
}

function escapePointer(key: string): string {
  const short = key.length > 40 ? key.slice(0, 40) + '…' : key;
  return short.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Human wording of a passed bound, for error messages. */
export function describeBound(e: BoundExceeded): string {
  if (e.bound === 'json') return `holds a value JSON cannot carry at ${e.at}`;
  const what = { maxDepth: 'nested deeper than', maxNodes: 'has more members and items than', maxChars: 'has more characters than' }[e.bound];
  return `${what} ${e.max} (${e.bound}) at ${e.at || '/'}`;
}
