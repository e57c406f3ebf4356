/** Deep copy of plain data (objects, arrays, primitives): policies never share structure. */
export function clone<T>(value: T): T {
  if (Array.isArray(value)) return value.map(clone) as T;
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, child]) => [key, clone(child)])) as T;
  }
  return value;
}
