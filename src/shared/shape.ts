// The shape of arguments: what their members are, not what they hold. Named by a short hash, it
// says which forms of a call an agent uses (its tool preferences, src/server/preferences.ts; its
// common argument shapes, src/store/aggregates.ts) without keeping any value.

/**
 * The shape of a JSON value: what its members are, not what they hold. Objects list their keys
 * (sorted) with each member's shape; arrays the distinct shapes of their elements.
 */
export function argumentShape(value: unknown, depth = 0): string {
  if (depth > 8) return '…';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `[${[...new Set(value.map((v) => argumentShape(v, depth + 1)))].sort().join('|')}]`;
  if (typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${argumentShape((value as Record<string, unknown>)[k], depth + 1)}`).join(',')}}`;
  }
  return typeof value;
}

/** A short, stable hash of a shape (53-bit, hex): names the shape without spelling it out. */
export function shapeHash(shape: string): string {
  // cyrb53: two 32-bit multiply-xor lanes; not cryptographic (shapes are not secrets).
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < shape.length; i++) {
    const c = shape.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, '0');
}

