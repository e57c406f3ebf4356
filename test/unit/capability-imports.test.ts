import { describe, expect, it } from 'vitest';
import { reachesOut } from '../../src/sandbox/host/capability-imports';

/** A minimal core module that imports the given functions (each `() -> ()`). */
function importing(...names: [module: string, name: string][]): WebAssembly.Module {
  const bytes = (s: string) => [...new TextEncoder().encode(s)];
  const entries = names.flatMap(([m, n]) => [bytes(m).length, ...bytes(m), bytes(n).length, ...bytes(n), 0x00, 0x00]);
  const section = [names.length, ...entries];
  if (section.length > 127) throw new Error('keep the test modules small (one-byte section length)');
  return new WebAssembly.Module(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0, 0, 0, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x02, section.length, ...section]));
}

const HOST = 'mcp-sandbox:tool/host@0.1.0';

describe('which tools get a capability port', () => {
  it('none for a tool that imports no host function, or only the clock and random bytes', () => {
    expect(reachesOut({ 'a.core.wasm': importing() })).toBe(false);
    expect(reachesOut({ 'a.core.wasm': importing([HOST, 'now-ms'], [HOST, 'random-bytes']), 'a.core2.wasm': importing(['actual', '0']) })).toBe(false);
  });

  it('one for a tool that imports any function the service worker answers, in any of its modules', () => {
    for (const fn of ['read-file', 'write-file', 'list-directory', 'stat', 'http-fetch', 'log']) {
      expect(reachesOut({ 'a.core.wasm': importing([HOST, 'now-ms']), 'a.core2.wasm': importing([HOST, fn]) })).toBe(true);
    }
    // Another version of the interface counts too.
    expect(reachesOut({ 'a.core.wasm': importing(['mcp-sandbox:tool/host@0.2.0', 'read-file']) })).toBe(true);
  });
});
