// Tools added while the sandbox runs: a component is built here (WAT → jco embed → jco new),
// uploaded through the app page's sandbox host (transpiled and introspected there, stored by
// the service worker), and called by an agent that connected before the upload, without a
// reload. Every bad input is refused with its code and leaves nothing registered.

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, callTool, connectAgent, recordNotifications, launchBrowser, openApp } from './harness';

const WIT_DIR = fileURLToPath(new URL('../../tools/wit', import.meta.url));

interface Variant {
  name?: string;
  version?: string;
  author?: string;
  output?: string;
  /** describe's body: 'ok' returns the metadata; the others misbehave. */
  describe?: 'ok' | 'trap' | 'loop' | 'junk';
  meta?: Record<string, unknown>;
}

const watString = (s: string) => [...new TextEncoder().encode(s)].map((b) => `\\${b.toString(16).padStart(2, '0')}`).join('');

/** A core module of the tool world (tools/README.md, ABI) as WAT, with static outputs. */
function toolWat(v: Variant): string {
  const meta = JSON.stringify({ name: v.name ?? 'uploaded_echo', description: 'An uploaded test tool.', version: v.version ?? '1.0.0', author: v.author ?? 'upload test', inputSchema: { type: 'object' }, permissions: [], limits: { memoryMb: 16, cpuMs: 1000 }, ...v.meta });
  const describeText = v.describe === 'junk' ? 'this is not JSON' : meta;
  const output = v.output ?? '{"uploaded":true}';
  const body =
    v.describe === 'trap' ? 'unreachable' : v.describe === 'loop' ? '(loop $l (br $l)) i32.const 0' : `i32.const 0 i32.const 1024 i32.store i32.const 4 i32.const ${new TextEncoder().encode(describeText).length} i32.store i32.const 0`;
  return `(module
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 8192))
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
      global.get $heap local.set $p
      global.get $heap local.get 3 i32.add global.set $heap
      local.get $p)
    (data (i32.const 1024) "${watString(describeText)}")
    (data (i32.const 4096) "${watString(output)}")
    (func (export "describe") (result i32) ${body})
    (func (export "call") (param i32 i32) (result i32)
      i32.const 8 i32.const 0 i32.store8
      i32.const 12 i32.const 4096 i32.store
      i32.const 16 i32.const ${new TextEncoder().encode(output).length} i32.store
      i32.const 8))`;
}

async function buildComponent(v: Variant): Promise<number[]> {
  const { parse, componentEmbed, componentNew } = await import('@bytecodealliance/jco');
  const core = await parse(toolWat(v));
  const embedded = await componentEmbed({ binary: core, witPath: WIT_DIR, world: 'tool', stringEncoding: 'utf8' } as never);
  return [...(await componentNew(embedded))];
}

/** Uploads through the app window's sandbox host; the error's code, or the record. */
async function upload(page: Page, bytes: number[] | { zeros: number; header: number[] }, fileName: string): Promise<{ record?: { name: string; version: string; code: { hash: string } }; code?: string; message?: string; details?: unknown; stages: string[] }> {
  return page.evaluate(
    async ({ bytes, fileName }) => {
      let data: Uint8Array;
      if (Array.isArray(bytes)) data = new Uint8Array(bytes);
      else {
        data = new Uint8Array(bytes.zeros);
        data.set(bytes.header);
      }
      const stages: string[] = [];
      const host = (window as unknown as { sandboxHost: { importTool(b: Uint8Array, f: string, o: unknown): Promise<unknown> } }).sandboxHost;
      try {
        const record = await host.importTool(data, fileName, { onProgress: (s: string) => stages.push(s) });
        return { record: record as never, stages };
      } catch (error) {
        const e = error as { code?: string; message: string; details?: unknown };
        return { code: e.code, message: e.message, details: e.details, stages };
      }
    },
    { bytes, fileName },
  );
}

describe('uploading tools while the sandbox runs', () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const components: Record<string, number[]> = {};

  beforeAll(async () => {
    const variants: Record<string, Variant> = {
      v1: {},
      v2: { version: '1.1.0', output: '{"uploaded":2}' },
      trap: { name: 'describe_trap', describe: 'trap' },
      loop: { name: 'describe_loop', describe: 'loop' },
      junk: { name: 'describe_junk', describe: 'junk' },
      invalid: { name: 'bad_meta', meta: { inputSchema: { type: 'string' }, permissions: ['camera'] } },
      clash: { name: 'text_stats' },
      other: { version: '1.2.0', author: 'someone else' },
    };
    for (const [key, v] of Object.entries(variants)) components[key] = await buildComponent(v);
    browser = await launchBrowser();
    ({ context, page } = await openApp(browser));
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
  });

  it('an agent connected before the upload is told, sees the tool and calls it, without a reload', async () => {
    await connectAgent(page, 'early', { agent: 'upload-early' });
    await recordNotifications(page, 'early');
    const before = await page.evaluate(async () => (await (window as unknown as { agents: Record<string, { listTools(): Promise<{ tools: { name: string }[] }> }> }).agents.early!.listTools()).tools.map((t) => t.name));
    expect(before).not.toContain('uploaded_echo');

    const result = await upload(page, components.v1!, 'uploaded_echo.wasm');
    expect(result.code, result.message).toBeUndefined();
    expect(result.record).toMatchObject({ name: 'uploaded_echo', version: '1.0.0', source: 'uploaded' });
    expect(result.stages).toEqual(['checking', 'transpiling', 'introspecting', 'storing']);

    await page.waitForFunction(() => (window as unknown as { notified: string[] }).notified.includes('notifications/tools/list_changed'));
    const after = await page.evaluate(async () => (await (window as unknown as { agents: Record<string, { listTools(): Promise<{ tools: { name: string }[] }> }> }).agents.early!.listTools()).tools.map((t) => t.name));
    expect(after).toContain('uploaded_echo');
    const call = await callTool(page, 'early', 'uploaded_echo', {});
    expect(call.isError, JSON.stringify(call)).toBeFalsy();
    expect(call.content[0]!.text).toBe('{"uploaded":true}');
  });

  it('a new version replaces the old for new calls; the history is kept; stats come from the audit', async () => {
    const result = await upload(page, components.v2!, 'uploaded_echo-1.1.wasm');
    expect(result.record).toMatchObject({ version: '1.1.0' });
    const call = await callTool(page, 'early', 'uploaded_echo', {});
    expect(call.content[0]!.text).toBe('{"uploaded":2}');
    const versions = await admin<{ versions: { version: string }[]; current: string }>(page, 'tools.versions', { name: 'uploaded_echo' });
    expect(versions.versions.map((v) => v.version)).toEqual(['1.0.0', '1.1.0']);
    const [stats] = await admin<{ name: string; invocations: number; ok: number; successRate: number; p95Ms: number }[]>(page, 'tools.stats', { name: 'uploaded_echo' });
    expect(stats).toMatchObject({ name: 'uploaded_echo', invocations: 2, ok: 2, successRate: 1 });
    expect(stats!.p95Ms).toBeGreaterThan(0);
    // Pinned to 1.0.0: new calls run it again, and a newer upload is refused.
    await admin(page, 'tools.pin', { name: 'uploaded_echo', hash: (versions as unknown as { versions: { hash: string }[] }).versions[0]!.hash });
    expect((await callTool(page, 'early', 'uploaded_echo', {})).content[0]!.text).toBe('{"uploaded":true}');
    expect((await upload(page, await buildComponent({ version: '1.3.0' }), 'v13.wasm')).code).toBe('pinned');
    await admin(page, 'tools.pin', { name: 'uploaded_echo', hash: null });
    expect((await callTool(page, 'early', 'uploaded_echo', {})).content[0]!.text).toBe('{"uploaded":2}');
  });

  it('disable hides it from agents; remove deletes it and its files', async () => {
    await admin(page, 'tools.disable', { name: 'uploaded_echo' });
    expect((await callTool(page, 'early', 'uploaded_echo', {})).thrown).toBeDefined();
    await admin(page, 'tools.enable', { name: 'uploaded_echo' });
    expect((await callTool(page, 'early', 'uploaded_echo', {})).isError).toBeFalsy();
    const { code } = (await admin<{ name: string; code: { glueUrl: string } }[]>(page, 'tools.list')).find((t) => t.name === 'uploaded_echo')!;
    const status = (url: string) => page.evaluate(async (url) => (await fetch('/' + url)).status, url);
    expect(await status(code.glueUrl)).toBe(200);
    await admin(page, 'tools.remove', { name: 'uploaded_echo' });
    expect(await status(code.glueUrl)).toBe(404);
    expect((await admin<{ name: string }[]>(page, 'tools.list')).map((t) => t.name)).not.toContain('uploaded_echo');
  });

  it('refuses bad input with a typed code and registers nothing', async () => {
    const cases: [string, number[] | { zeros: number; header: number[] }, string][] = [
      ['not-wasm', [...new TextEncoder().encode('hello, I am not wasm')], 'text.wasm'],
      ['not-a-component', [0, 97, 115, 109, 1, 0, 0, 0], 'core.wasm'],
      ['too-large', { zeros: 8 * 1024 * 1024 + 1, header: [0, 97, 115, 109, 0x0d, 0, 1, 0] }, 'big.wasm'],
      ['not-a-component', [0, 97, 115, 109, 0x0d, 0, 1, 0, 0xff, 0xff], 'broken.wasm'],
      ['describe-failed', components.trap!, 'trap.wasm'],
      ['describe-failed', components.loop!, 'loop.wasm'],
      ['describe-failed', components.junk!, 'junk.wasm'],
      ['invalid-metadata', components.invalid!, 'invalid.wasm'],
      ['name-clash', components.clash!, 'clash.wasm'],
    ];
    const toolsBefore = (await admin<{ name: string }[]>(page, 'tools.list')).map((t) => t.name).sort();
    for (const [code, bytes, fileName] of cases) {
      const result = await upload(page, bytes, fileName);
      expect(result.code, `${fileName}: ${result.message}`).toBe(code);
    }
    const invalid = await upload(page, components.invalid!, 'invalid.wasm');
    expect((invalid.details as { errors: { field: string }[] }).errors.map((e) => e.field).sort()).toEqual(['inputSchema.type', 'permissions']);
    const loop = await upload(page, components.loop!, 'loop.wasm');
    expect(loop.message).toContain('timeout');
    expect((await admin<{ name: string }[]>(page, 'tools.list')).map((t) => t.name).sort()).toEqual(toolsBefore);
    // Nothing staged is left behind.
    const leftover = await page.evaluate(
      () =>
        new Promise<unknown>((resolve, reject) => {
          const open = indexedDB.open('mcp-sandbox');
          open.onsuccess = () => {
            const req = open.result.transaction('toolFiles').objectStore('toolFiles').getAllKeys();
            req.onsuccess = () => resolve(req.result);
            req.onerror = () => reject(req.error);
          };
        }),
    );
    expect(leftover).toEqual([]);
  });

  it('transpiles a component that imports async host functions for JSPI, like the build, and its capabilities work', async () => {
    // host_probe as built (a fixture, not seeded in this profile, so its name is free).
    const manifest = JSON.parse(await readFile(new URL('../../dist/tools/manifest.json', import.meta.url), 'utf8')) as { tools: { name: string; sha256: string; async: boolean }[] };
    const entry = manifest.tools.find((t) => t.name === 'host_probe')!;
    expect(entry.async).toBe(true);
    const bytes = [...(await readFile(new URL('../../dist/tools/host_probe/host_probe.component.wasm', import.meta.url)))];
    const result = await upload(page, bytes, 'host_probe.component.wasm');
    expect(result.code, result.message).toBeUndefined();
    expect(result.record).toMatchObject({ name: 'host_probe', source: 'uploaded', code: { hash: entry.sha256 } });
    const call = await callTool(page, 'early', 'host_probe', {
      calls: [
        { fn: 'write-file', path: './workspace/uploaded.txt', contents: 'from an uploaded tool' },
        { fn: 'read-file', path: './workspace/uploaded.txt' },
      ],
    });
    expect(call.isError, JSON.stringify(call)).toBeFalsy();
    expect(JSON.parse(call.content[0]!.text)).toMatchObject([{ fn: 'write-file', ok: true }, { fn: 'read-file', ok: true, value: 'from an uploaded tool' }]);
    await admin(page, 'tools.remove', { name: 'host_probe' });
  });

  it('also takes uploads through the admin API (tools.upload), forwarded by the service worker to the host', async () => {
    const bytes = components.v1!;
    await admin(page, 'ping'); // loads the admin library as window.sandboxAdminLib
    type Lib = { createAdminClient(): Promise<{ request(m: string, p: unknown): Promise<unknown> }> };
    const result = await page.evaluate(async (bytes) => {
      const client = await (window as unknown as { sandboxAdminLib: Lib }).sandboxAdminLib.createAdminClient();
      try {
        return { record: await client.request('tools.upload', { bytes: new Uint8Array(bytes), fileName: 'via-admin.wasm' }) };
      } catch (error) {
        return { code: (error as { code: string }).code, message: (error as Error).message };
      }
    }, bytes);
    expect(result).toMatchObject({ record: { name: 'uploaded_echo', version: '1.0.0' } });
    const refused = await page.evaluate(async () => {
      const client = await (window as unknown as { sandboxAdminLib: Lib }).sandboxAdminLib.createAdminClient();
      return client.request('tools.upload', { bytes: new Uint8Array([1, 2, 3]), fileName: 'x.wasm' }).catch((e: { code: string }) => e.code);
    });
    expect(refused).toBe('not-wasm');
    // A different author may not take the name.
    expect((await upload(page, components.other!, 'other.wasm')).code).toBe('name-clash');
  });
});
