import { describe, expect, it } from 'vitest';
import { jsonDiff } from '../../src/ui/json-diff';

describe('jsonDiff', () => {
  it('names each changed, added and removed leaf by its JSON Pointer, in document order', () => {
    const before = { version: 1, tools: { allow: ['a', 'b'] }, limits: { cpuMs: 100 }, 'x/y': 1 };
    const after = { version: 1, tools: { allow: ['a', 'c', 'd'] }, network: { allow: ['example.com'] }, 'x/y': 2 };
    expect(jsonDiff(before, after)).toEqual([
      { path: '/limits', before: { cpuMs: 100 }, after: undefined },
      { path: '/network', before: undefined, after: { allow: ['example.com'] } },
      { path: '/tools/allow/1', before: 'b', after: 'c' },
      { path: '/tools/allow/2', before: undefined, after: 'd' },
      { path: '/x~1y', before: 1, after: 2 },
    ]);
  });

  it('finds nothing between equal values, and compares unlike kinds whole', () => {
    expect(jsonDiff({ a: [1, { b: null }] }, { a: [1, { b: null }] })).toEqual([]);
    expect(jsonDiff(null, { a: 1 })).toEqual([{ path: '/', before: null, after: { a: 1 } }]);
    expect(jsonDiff({ a: [1] }, { a: { 0: 1 } })).toEqual([{ path: '/a', before: [1], after: { 0: 1 } }]);
  });

  it('walks any depth without recursion', () => {
    let a: unknown = 1;
    let b: unknown = 2;
    for (let i = 0; i < 50_000; i++) [a, b] = [{ k: a }, { k: b }];
    expect(jsonDiff(a, b)).toHaveLength(1);
  });
});
