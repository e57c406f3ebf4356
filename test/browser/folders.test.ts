// Watched folders: components written into a folder become `discovered` tools. The
// origin-private file system stands in for a folder the person picked (both are
// FileSystemDirectoryHandles). An agent connected before the folder was added is told of every
// change, sees new versions and loses removed tools; bad files are reported and register nothing.

import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, callTool, connectAgent, recordNotifications, launchBrowser, openApp, openPage } from './harness';

const WIT_DIR = fileURLToPath(new URL('../../tools/wit', import.meta.url));
const FOLDER = 'watched-tools';

const watString = (s: string) => [...new TextEncoder().encode(s)].map((b) => `\\${b.toString(16).padStart(2, '0')}`).join('');

/** A tool-world core module (tools/README.md, ABI) whose describe and call return fixed strings. */
function toolWat(name: string, version: string, output: string): string {
  const meta = JSON.stringify({ name, description: 'A tool found in a watched folder.', version, author: 'folder test', inputSchema: { type: 'object' }, permissions: [], limits: { memoryMb: 16, cpuMs: 1000 } });
  const len = (s: string) => new TextEncoder().encode(s).length;
  return `(module
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 8192))
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
      global.get $heap local.set $p
      global.get $heap local.get 3 i32.add global.set $heap
      local.get $p)
    (data (i32.const 1024) "${watString(meta)}")
    (data (i32.const 4096) "${watString(output)}")
    (func (export "describe") (result i32)
      i32.const 0 i32.const 1024 i32.store i32.const 4 i32.const ${len(meta)} i32.store i32.const 0)
    (func (export "call") (param i32 i32) (result i32)
      i32.const 8 i32.const 0 i32.store8
      i32.const 12 i32.const 4096 i32.store
      i32.const 16 i32.const ${len(output)} i32.store
      i32.const 8))`;
}

async function buildComponent(name: string, version: string, output: string): Promise<number[]> {
  const { parse, componentEmbed, componentNew } = await import('@bytecodealliance/jco');
  const core = await parse(toolWat(name, version, output));
  const embedded = await componentEmbed({ binary: core, witPath: WIT_DIR, world: 'tool', stringEncoding: 'utf8' } as never);
  return [...(await componentNew(embedded))];
}

interface Report {
  folderId: string;
  added: string[];
  updated: string[];
  removed: string[];
  unchanged: string[];
  errors: { file: string; error: { code: string; message: string } }[];
}
interface Folder {
  id: string;
  name: string;
  lastScanAt: number | null;
  files: { file: string; hash: string; tool: string | null; error: { code: string } | null }[];
}
type Outcome<T> = { ok: T } | { error: { code?: string; message: string } };

/** Writes a file into the test folder of the origin-private file system. */
async function writeFile(page: Page, file: string, bytes: number[] | string): Promise<void> {
  await page.evaluate(
    async ({ folder, file, bytes }) => {
      const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle(folder, { create: true });
      const writable = await (await dir.getFileHandle(file, { create: true })).createWritable();
      await writable.write(typeof bytes === 'string' ? bytes : new Uint8Array(bytes));
      await writable.close();
    },
    { folder: FOLDER, file, bytes },
  );
}

async function deleteFile(page: Page, file: string): Promise<void> {
  await page.evaluate(
    async ({ folder, file }) => {
      const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle(folder, { create: true });
      await dir.removeEntry(file);
    },
    { folder: FOLDER, file },
  );
}

/** Calls `sandboxHost.folders[method]` in the page (`add` gets the test folder's handle). */
async function folders<T>(page: Page, method: 'add' | 'list' | 'remove' | 'rescan' | 'stop', arg?: unknown): Promise<Outcome<T>> {
  return page.evaluate(
    async ({ folder, method, arg }) => {
      const api = (window as unknown as { sandboxHost: { folders: Record<string, (a?: unknown) => Promise<unknown>> } }).sandboxHost.folders;
      try {
        const input = method === 'add' ? await (await navigator.storage.getDirectory()).getDirectoryHandle(folder, { create: true }) : arg;
        return { ok: ((await api[method]!(input)) ?? null) as never };
      } catch (error) {
        const e = error as { code?: string; message: string };
        return { error: { code: e.code, message: e.message } };
      }
    },
    { folder: FOLDER, method, arg },
  );
}

function ok<T>(outcome: Outcome<T>): T {
  if ('error' in outcome) throw new Error(`${outcome.error.code}: ${outcome.error.message}`);
  return outcome.ok;
}

const listTools = (page: Page, agent: string) =>
  page.evaluate(
    async (agent) => (await (window as unknown as { agents: Record<string, { listTools(): Promise<{ tools: { name: string; _meta?: Record<string, { version?: string; hash?: string }> }[] }> }> }).agents[agent]!.listTools()).tools,
    agent,
  );

const resetNotified = (page: Page) => page.evaluate(() => void ((window as unknown as { notified: string[] }).notified.length = 0));
const waitNotified = (page: Page) => page.waitForFunction(() => (window as unknown as { notified: string[] }).notified.includes('notifications/tools/list_changed'));

describe('watched folders', () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const c: Record<string, number[]> = {};
  let folderId = '';

  beforeAll(async () => {
    c.v1 = await buildComponent('folder_echo', '1.0.0', '{"folder":1}');
    c.v2 = await buildComponent('folder_echo', '1.1.0', '{"folder":2}');
    c.v2rebuilt = await buildComponent('folder_echo', '1.1.0', '{"folder":"2b"}');
    c.clash = await buildComponent('text_stats', '9.0.0', '{}');
    c.interval = await buildComponent('folder_ticker', '1.0.0', '{"tick":true}');
    c.twin = await buildComponent('folder_echo', '5.0.0', '{"twin":true}');
    browser = await launchBrowser();
    ({ context, page } = await openApp(browser));
    // Scans in this file run when the test asks, so each report is the test's own.
    ok(await folders(page, 'stop'));
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
  });

  it('a component in an added folder becomes a discovered tool an agent connected before can call', async () => {
    await connectAgent(page, 'watcher', { agent: 'folders-agent' });
    await recordNotifications(page, 'watcher');
    expect((await listTools(page, 'watcher')).map((t) => t.name)).not.toContain('folder_echo');

    await writeFile(page, 'folder_echo.wasm', c.v1!);
    const { folder, report } = ok(await folders<{ folder: Folder; report: Report }>(page, 'add'));
    folderId = folder.id;
    expect(folder.name).toBe(FOLDER);
    expect(report).toMatchObject({ folderId, added: ['folder_echo'], updated: [], removed: [], errors: [] });
    expect(folder.files).toEqual([{ file: 'folder_echo.wasm', hash: expect.stringMatching(/^[0-9a-f]{64}$/), tool: 'folder_echo', error: null, size: expect.any(Number), modifiedMs: expect.any(Number) }]);
    expect(folder.lastScanAt).toBeGreaterThan(0);

    await waitNotified(page);
    const listed = (await listTools(page, 'watcher')).find((t) => t.name === 'folder_echo');
    expect(listed?._meta?.['mcp-sandbox/tool']).toMatchObject({ version: '1.0.0', hash: folder.files[0]!.hash });
    const call = await callTool(page, 'watcher', 'folder_echo', {});
    expect(call.isError, JSON.stringify(call)).toBeFalsy();
    expect(call.content[0]!.text).toBe('{"folder":1}');
    const record = (await admin<{ name: string; source: string }[]>(page, 'tools.list')).find((t) => t.name === 'folder_echo');
    expect(record?.source).toBe('discovered');

    // Adding the same folder again does not watch it twice.
    const again = ok(await folders<{ folder: Folder; report: Report }>(page, 'add'));
    expect(again.folder.id).toBe(folderId);
    expect(again.report.unchanged).toEqual(['folder_echo']);
    expect(ok(await folders<Folder[]>(page, 'list'))).toHaveLength(1);
  });

  it('a changed file (a new version) replaces the tool for new calls', async () => {
    await resetNotified(page);
    await writeFile(page, 'folder_echo.wasm', c.v2!);
    const [report] = ok(await folders<Report[]>(page, 'rescan', folderId));
    expect(report).toMatchObject({ added: [], updated: ['folder_echo'], removed: [], errors: [] });
    await waitNotified(page);
    const listed = (await listTools(page, 'watcher')).find((t) => t.name === 'folder_echo');
    expect(listed?._meta?.['mcp-sandbox/tool']?.version).toBe('1.1.0');
    expect((await callTool(page, 'watcher', 'folder_echo', {})).content[0]!.text).toBe('{"folder":2}');

    // Nothing changed: nothing to do.
    const [quiet] = ok(await folders<Report[]>(page, 'rescan', folderId));
    expect(quiet).toMatchObject({ added: [], updated: [], removed: [], unchanged: ['folder_echo'], errors: [] });
  });

  it('other code under the same version number replaces it too: the folder is the source of truth', async () => {
    await writeFile(page, 'folder_echo.wasm', c.v2rebuilt!);
    const [report] = ok(await folders<Report[]>(page, 'rescan'));
    expect(report!.updated).toEqual(['folder_echo']);
    expect((await callTool(page, 'watcher', 'folder_echo', {})).content[0]!.text).toBe('{"folder":"2b"}');
    const versions = await admin<{ source: string; versions: { version: string }[] }>(page, 'tools.versions', { name: 'folder_echo' });
    expect(versions.source).toBe('discovered');
    expect(versions.versions.map((v) => v.version)).toEqual(['1.0.0', '1.1.0', '1.1.0']);
  });

  it('bad files are reported with their code and register nothing; a broken rebuild keeps the last good version running', async () => {
    const toolsBefore = (await admin<{ name: string; code: { hash: string } }[]>(page, 'tools.list')).map((t) => `${t.name}@${t.code.hash}`).sort();
    await writeFile(page, 'notes.wasm', 'these are notes, not WebAssembly');
    await writeFile(page, 'broken.wasm', [0, 97, 115, 109, 0x0d, 0, 1, 0, 0xff, 0xff]);
    await writeFile(page, 'core.wasm', [0, 97, 115, 109, 1, 0, 0, 0]);
    await writeFile(page, 'clash.wasm', c.clash!);
    await writeFile(page, 'twin.wasm', c.twin!);
    await writeFile(page, 'readme.txt', 'not a .wasm file: not looked at');
    const [report] = ok(await folders<Report[]>(page, 'rescan', folderId));
    const codes = Object.fromEntries(report!.errors.map((e) => [e.file, e.error.code]));
    expect(codes).toEqual({ 'broken.wasm': 'not-a-component', 'clash.wasm': 'name-clash', 'core.wasm': 'not-a-component', 'notes.wasm': 'not-wasm', 'twin.wasm': 'name-clash' });
    expect(report!.errors.find((e) => e.file === 'twin.wasm')!.error.message).toContain('folder_echo.wasm');
    expect(report).toMatchObject({ added: [], updated: [], removed: [], unchanged: ['folder_echo'] });
    const [folder] = ok(await folders<Folder[]>(page, 'list'));
    expect(folder!.files.map((f) => [f.file, f.tool, f.error?.code ?? null])).toEqual([
      ['broken.wasm', null, 'not-a-component'],
      ['clash.wasm', null, 'name-clash'],
      ['core.wasm', null, 'not-a-component'],
      ['folder_echo.wasm', 'folder_echo', null],
      ['notes.wasm', null, 'not-wasm'],
      ['twin.wasm', null, 'name-clash'],
    ]);
    // A broken rebuild of a registered file: reported, and the last good version keeps serving.
    await writeFile(page, 'folder_echo.wasm', [0, 97, 115, 109, 0x0d, 0, 1, 0, 0xff, 0xff]);
    const [broken] = ok(await folders<Report[]>(page, 'rescan', folderId));
    expect(broken!.errors.find((e) => e.file === 'folder_echo.wasm')?.error.code).toBe('not-a-component');
    expect((await callTool(page, 'watcher', 'folder_echo', {})).content[0]!.text).toBe('{"folder":"2b"}');

    expect((await admin<{ name: string; code: { hash: string } }[]>(page, 'tools.list')).map((t) => `${t.name}@${t.code.hash}`).sort()).toEqual(toolsBefore);
    expect((await admin<{ name: string; source: string }[]>(page, 'tools.list')).find((t) => t.name === 'text_stats')?.source).toBe('bundled');
    // Nothing staged is left behind: every stored file belongs to a version of folder_echo.
    const versions = await admin<{ versions: { hash: string }[] }>(page, 'tools.versions', { name: 'folder_echo' });
    const kept = new Set(versions.versions.map((v) => v.hash));
    const stored = await page.evaluate(
      () =>
        new Promise<string[]>((resolve, reject) => {
          const open = indexedDB.open('mcp-sandbox');
          open.onsuccess = () => {
            const req = open.result.transaction('toolFiles').objectStore('toolFiles').getAll();
            req.onsuccess = () => resolve((req.result as { hash: string }[]).map((r) => r.hash));
            req.onerror = () => reject(req.error);
          };
        }),
    );
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.filter((h) => !kept.has(h))).toEqual([]);

    // Fixed again, and the clutter taken away.
    for (const f of ['notes.wasm', 'broken.wasm', 'core.wasm', 'clash.wasm', 'twin.wasm', 'readme.txt']) await deleteFile(page, f);
    await writeFile(page, 'folder_echo.wasm', c.v2rebuilt!);
    const [fixed] = ok(await folders<Report[]>(page, 'rescan', folderId));
    expect(fixed).toMatchObject({ added: [], updated: [], removed: [], unchanged: ['folder_echo'], errors: [] });
    expect(ok(await folders<Folder[]>(page, 'list'))[0]!.files.map((f) => f.file)).toEqual(['folder_echo.wasm']);
  });

  it('a deleted file withdraws its tool: gone from tools/list, and a call is an unknown-tool error', async () => {
    await resetNotified(page);
    await deleteFile(page, 'folder_echo.wasm');
    const [report] = ok(await folders<Report[]>(page, 'rescan', folderId));
    expect(report).toMatchObject({ added: [], updated: [], removed: ['folder_echo'], unchanged: [], errors: [] });
    await waitNotified(page);
    expect((await listTools(page, 'watcher')).map((t) => t.name)).not.toContain('folder_echo');
    const call = await callTool(page, 'watcher', 'folder_echo', {});
    expect(call.thrown?.message).toContain('Unknown tool');
    expect((await admin<{ name: string }[]>(page, 'tools.list')).map((t) => t.name)).not.toContain('folder_echo');
    expect(ok(await folders<Folder[]>(page, 'list'))[0]!.files).toEqual([]);
  });

  it('never runs two scans at once: concurrent rescans import a new file once', async () => {
    await writeFile(page, 'folder_echo.wasm', c.v1!);
    const reports = await page.evaluate((id) => {
      const api = (window as unknown as { sandboxHost: { folders: { rescan(id?: string): Promise<Report[]> } } }).sandboxHost.folders;
      return Promise.all([api.rescan(id), api.rescan(), api.rescan(id)]);
    }, folderId);
    const added = reports.flat().flatMap((r) => r.added);
    expect(added).toEqual(['folder_echo']);
    expect(reports.flat().flatMap((r) => r.errors)).toEqual([]);
  });

  it('rescans on an interval once watching starts', async () => {
    await page.evaluate(() => (window as unknown as { sandboxHost: { watchFolders(o: unknown): void } }).sandboxHost.watchFolders({ intervalMs: 250 }));
    await writeFile(page, 'folder_ticker.wasm', c.interval!);
    await expect.poll(async () => (await listTools(page, 'watcher')).map((t) => t.name), { timeout: 15_000 }).toContain('folder_ticker');
    expect((await callTool(page, 'watcher', 'folder_ticker', {})).content[0]!.text).toBe('{"tick":true}');
    await deleteFile(page, 'folder_ticker.wasm');
    await expect.poll(async () => (await listTools(page, 'watcher')).map((t) => t.name), { timeout: 15_000 }).not.toContain('folder_ticker');
    ok(await folders(page, 'stop'));
  });

  it('the watch survives a reload (the handle is kept in IndexedDB); removing the folder withdraws its tools', async () => {
    await page.close();
    page = await openPage(context, '/');
    // Should the app start watching on load, its first scan finishes before the test goes on.
    ok(await folders(page, 'stop'));
    ok(await folders(page, 'rescan'));
    const [folder] = ok(await folders<Folder[]>(page, 'list'));
    expect(folder).toMatchObject({ id: folderId, name: FOLDER, files: [{ file: 'folder_echo.wasm', tool: 'folder_echo', error: null }] });
    await writeFile(page, 'folder_echo.wasm', c.v2!);
    const [report] = ok(await folders<Report[]>(page, 'rescan'));
    expect(report!.updated).toEqual(['folder_echo']);

    ok(await folders(page, 'remove', folderId));
    expect(ok(await folders<Folder[]>(page, 'list'))).toEqual([]);
    const names = (await admin<{ name: string }[]>(page, 'tools.list')).map((t) => t.name);
    expect(names).not.toContain('folder_echo');
    expect(names).toContain('text_stats');
    expect(await folders(page, 'rescan', folderId)).toMatchObject({ error: { code: 'unknown-folder' } });
  });
});
