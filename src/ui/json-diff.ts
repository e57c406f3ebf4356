/** One difference between two JSON values: its path (JSON Pointer) and the value on each side (undefined: absent). */
export interface JsonChange {
  path: string;
  before: unknown;
  after: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const pointer = (path: string, key: string | number) => `${path}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;

/**
 * The differences between two JSON values, leaf by leaf (objects by key, arrays by index), in
 * document order; nothing when they are equal. Iterative, so any depth is fine.
 */
export function jsonDiff(before: unknown, after: unknown): JsonChange[] {
  const out: JsonChange[] = [];
  const stack: [string, unknown, unknown][] = [['', before, after]];
  while (stack.length) {
    const [path, a, b] = stack.pop()!;
    if (isObject(a) && isObject(b)) {
      const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort().reverse();
      for (const k of keys) stack.push([pointer(path, k), Object.hasOwn(a, k) ? a[k] : undefined, Object.hasOwn(b, k) ? b[k] : undefined]);
    } else if (Array.isArray(a) && Array.isArray(b)) {
      for (let i = Math.max(a.length, b.length) - 1; i >= 0; i--) stack.push([pointer(path, i), i < a.length ? a[i] : undefined, i < b.length ? b[i] : undefined]);
    } else if (JSON.stringify(a) !== JSON.stringify(b)) {
      out.push({ path: path || '/', before: a, after: b });
    }
  }
  return out;
}
