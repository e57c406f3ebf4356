import 'fake-indexeddb/auto';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AdminMethods, ToolRegistration } from '../../src/api/admin';
import { FolderWatcher, type FolderAdmin } from '../../src/sandbox/host/folder-watch';
import { ToolImportError, type ImportAdmin } from '../../src/sandbox/host/tool-import';
import { ToolRegistry, ToolUploads } from '../../src/server/registry';
import { DbHandle } from '../../src/store/db';
import type { WatchedFolderRecord } from '../../src/store/schema';
import { MANIFEST, freshDbName } from './support/server-fixture';

// ---- a folder in memory, shaped like a FileSystemDirectoryHandle ----

class FakeDir {
  readonly kind = 'directory';
  files = new Map<string, Uint8Array>();
  /** Modification time of each file (a write moves it on). */
  mtimes = new Map<string, number>();
  dirs = new Map<string, FakeDir>();
  /** How many times a file's bytes were read. */
  reads = 0;
  permission: PermissionState = 'granted';
  requestable: PermissionState = 'granted';
  unreadable = false;
  private clock = 0;
  constructor(readonly name: string) {}
  write(file: string, content: string | Uint8Array) {
    this.files.set(file, typeof content === 'string' ? new TextEncoder().encode(content) : content);
    this.mtimes.set(file, ++this.clock);
  }
  dir(name: string): FakeDir {
    let d = this.dirs.get(name);
    if (!d) this.dirs.set(name, (d = new FakeDir(name)));
    return d;
  }
  async *values(): AsyncGenerator<unknown> {
    if (this.unreadable) throw new Error('NotFoundError: the folder is gone');
    for (const [name, bytes] of this.files) {
      const lastModified = this.mtimes.get(name)!;
      yield { kind: 'file', name, getFile: async () => ({ size: bytes.byteLength, lastModified, arrayBuffer: async () => (this.reads++, bytes.slice().buffer) }) };
    }
    for (const d of this.dirs.values()) yield d;
    // A folder whose name ends in .wasm is not a component.
    if (!this.dirs.has('nested.wasm')) yield { kind: 'directory', name: 'nested.wasm', values: async function* () {} };
  }
  async isSameEntry(other: unknown) {
    return other === this;
  }
  async queryPermission() {
    return this.permission;
  }
  async requestPermission() {
    this.permission = this.requestable;
    return this.permission;
  }
}
const asHandle = (d: FakeDir) => d as unknown as FileSystemDirectoryHandle;

/** A tool "component": its metadata as JSON (the fake importer's describe). Anything else is not wasm. */
const tool = (name: string, version = '1.0.0', extra: Record<string, unknown> = {}) => JSON.stringify({ name, version, ...extra });

async function setup(options: { slowMs?: number } = {}) {
  const db = new DbHandle(freshDbName());
  const registry = new ToolRegistry(db);
  const uploads = new ToolUploads(db);
  await registry.seed(MANIFEST, { fixtures: false, now: 1 });
  const folders = new Map<string, WatchedFolderRecord>();
  const registered: ToolRegistration[] = [];
  let now = 1000;
  const admin: FolderAdmin = {
    async request<M extends keyof AdminMethods>(method: M, params?: AdminMethods[M]['params']): Promise<AdminMethods[M]['result']> {
      const p = params as never as Record<string, unknown>;
      const result = await (async (): Promise<unknown> => {
        switch (method) {
          case 'folders.list':
            return [...folders.values()].map((f) => ({ ...f }));
          case 'folders.put':
            folders.set((p as unknown as WatchedFolderRecord).id, p as unknown as WatchedFolderRecord);
            return p;
          case 'folders.remove':
            return { removed: folders.delete(p.id as string) };
          case 'tools.list':
            return registry.list();
          case 'tools.remove':
            return uploads.remove(p.name as string);
          case 'tools.register':
            registered.push(p as unknown as ToolRegistration);
            return uploads.register(p as unknown as ToolRegistration, ++now);
          default:
            throw new Error(`unexpected ${method}`);
        }
      })();
      return result as AdminMethods[M]['result'];
    },
  };
  const stats = { imports: 0, running: 0, maxRunning: 0 };
  const importTool = async (bytes: Uint8Array, fileName: string, importAdmin: ImportAdmin) => {
    stats.imports++;
    stats.running++;
    stats.maxRunning = Math.max(stats.maxRunning, stats.running);
    try {
      if (options.slowMs) await new Promise((r) => setTimeout(r, options.slowMs));
      const text = new TextDecoder().decode(bytes);
      if (!text.startsWith('{')) throw new ToolImportError('not-wasm', `${fileName}: not WebAssembly`);
      const meta = JSON.parse(text) as Record<string, unknown>;
      const hash = createHash('sha256').update(bytes).digest('hex');
      const registration: ToolRegistration = {
        metadata: { description: 'found in a folder', author: 'me', inputSchema: { type: 'object' }, ...meta },
        files: { 'tool.js': bytes, 'tool.core.wasm': new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]) },
        glue: 'tool.js',
        coreModules: ['tool.core.wasm'],
        component: { sha256: hash, size: bytes.byteLength },
        source: 'uploaded',
      };
      return await importAdmin.request('tools.register', registration).catch((e: { code: string; message: string }) => {
        throw new ToolImportError(e.code, e.message);
      });
    } finally {
      stats.running--;
    }
  };
  const logged: unknown[] = [];
  const watcher = new FolderWatcher({ admin: async () => admin, importTool, now: () => ++now, locks: null, log: (_m, e) => logged.push(e) });
  return { watcher, registry, uploads, folders, registered, stats, logged };
}

describe('the folder watcher', () => {
  it('finds components in folders below the watched one (not hidden ones), and does not read a file again while its size and time are unchanged', async () => {
    const { watcher } = await setup();
    const dir = new FakeDir('tools');
    dir.write('top.wasm', tool('top_tool'));
    dir.dir('team').write('deep.wasm', tool('deep_tool'));
    dir.dir('team').dir('more').write('deeper.wasm', tool('deeper_tool'));
    dir.dir('.git').write('hidden.wasm', tool('hidden_tool'));
    const { folder, report } = await watcher.add(asHandle(dir));
    expect(report.added.sort()).toEqual(['deep_tool', 'deeper_tool', 'top_tool']);
    expect(folder.files.map((f) => f.file)).toEqual(['team/deep.wasm', 'team/more/deeper.wasm', 'top.wasm']);
    const reads = () => dir.reads + dir.dirs.get('team')!.reads + dir.dirs.get('team')!.dirs.get('more')!.reads;
    const before = reads();
    expect((await watcher.rescan(folder.id))[0]!.unchanged.sort()).toEqual(['deep_tool', 'deeper_tool', 'top_tool']);
    expect(reads()).toBe(before);
    // Written again (same bytes or not): read and hashed again.
    dir.dir('team').write('deep.wasm', tool('deep_tool', '1.0.1'));
    expect((await watcher.rescan(folder.id))[0]!.updated).toEqual(['deep_tool']);
    expect(reads()).toBe(before + 1);
  });

  it('imports new files as discovered tools, updates changed ones, withdraws removed ones', async () => {
    const { watcher, registry, registered } = await setup();
    const dir = new FakeDir('tools');
    dir.write('a.wasm', tool('alpha'));
    dir.write('b.wasm', tool('beta'));
    dir.write('notes.txt', 'ignored: not .wasm');
    const { folder, report } = await watcher.add(asHandle(dir));
    expect(report).toEqual({ folderId: folder.id, added: ['alpha', 'beta'], updated: [], removed: [], unchanged: [], errors: [] });
    expect(folder.files.map((f) => [f.file, f.tool, f.error])).toEqual([
      ['a.wasm', 'alpha', null],
      ['b.wasm', 'beta', null],
    ]);
    expect(registered.every((r) => r.source === 'discovered')).toBe(true);
    expect((await registry.get('alpha'))?.source).toBe('discovered');

    dir.write('a.wasm', tool('alpha', '1.1.0'));
    dir.files.delete('b.wasm');
    const [next] = await watcher.rescan();
    expect(next).toMatchObject({ added: [], updated: ['alpha'], removed: ['beta'], unchanged: [], errors: [] });
    expect((await registry.get('alpha'))?.version).toBe('1.1.0');
    expect(await registry.get('beta')).toBeUndefined();
    expect((await watcher.rescan(folder.id))[0]).toMatchObject({ unchanged: ['alpha'], added: [], updated: [], removed: [] });
  });

  it('a file renamed keeps its tool; a file that now describes another tool swaps them', async () => {
    const { watcher, registry } = await setup();
    const dir = new FakeDir('tools');
    dir.write('a.wasm', tool('alpha'));
    await watcher.add(asHandle(dir));
    dir.files.delete('a.wasm');
    dir.write('renamed.wasm', tool('alpha'));
    expect((await watcher.rescan())[0]).toMatchObject({ removed: ['alpha'], added: ['alpha'], errors: [] });
    dir.write('renamed.wasm', tool('gamma'));
    expect((await watcher.rescan())[0]).toMatchObject({ added: ['gamma'], removed: ['alpha'], errors: [] });
    expect(await registry.get('alpha')).toBeUndefined();
    expect((await watcher.list())[0]!.files).toEqual([{ file: 'renamed.wasm', hash: expect.any(String), tool: 'gamma', error: null, size: expect.any(Number), modifiedMs: expect.any(Number) }]);
  });

  it('bad files are reported, register nothing, and are not retried by interval scans until they change', async () => {
    const { watcher, registry, stats } = await setup();
    const dir = new FakeDir('tools');
    dir.write('bad.wasm', 'not wasm at all');
    dir.write('clash.wasm', tool('echo')); // a bundled tool's name
    dir.write('big.wasm', new Uint8Array(8 * 1024 * 1024 + 1));
    const { report } = await watcher.add(asHandle(dir));
    expect(report.errors.map((e) => [e.file, e.error.code])).toEqual([
      ['bad.wasm', 'not-wasm'],
      ['big.wasm', 'too-large'],
      ['clash.wasm', 'name-clash'],
    ]);
    expect((await registry.get('echo'))?.source).toBe('bundled');
    expect(stats.imports).toBe(2); // too-large is refused before reading

    watcher.start({ intervalMs: 100 });
    await new Promise((r) => setTimeout(r, 350));
    watcher.stop();
    expect(stats.imports).toBe(2);
    const [folder] = await watcher.list();
    expect(folder!.files.map((f) => f.error?.code)).toEqual(['not-wasm', 'too-large', 'name-clash']);

    // The person's rescan tries again; a changed file is tried again by any scan.
    await watcher.rescan();
    expect(stats.imports).toBe(4);
    dir.write('bad.wasm', tool('fixed'));
    watcher.start({ intervalMs: 100 });
    await new Promise((r) => setTimeout(r, 150));
    watcher.stop();
    expect((await registry.get('fixed'))?.source).toBe('discovered');
  });

  it('a refused rebuild keeps the last good version registered; deleting the file withdraws it', async () => {
    const { watcher, registry } = await setup();
    const dir = new FakeDir('tools');
    dir.write('a.wasm', tool('alpha'));
    await watcher.add(asHandle(dir));
    dir.write('a.wasm', 'broken build');
    const [report] = await watcher.rescan();
    expect(report!.errors).toEqual([{ file: 'a.wasm', error: { code: 'not-wasm', message: 'a.wasm: not WebAssembly' } }]);
    expect((await registry.get('alpha'))?.version).toBe('1.0.0');
    expect((await watcher.list())[0]!.files[0]).toMatchObject({ tool: 'alpha', error: { code: 'not-wasm' } });
    dir.files.delete('a.wasm');
    expect((await watcher.rescan())[0]).toMatchObject({ removed: ['alpha'], errors: [] });
    expect(await registry.get('alpha')).toBeUndefined();
  });

  it('one file per tool name across folders: another file with the name is a name-clash until the first goes', async () => {
    const { watcher, registry } = await setup();
    const one = new FakeDir('one');
    const two = new FakeDir('two');
    one.write('a.wasm', tool('alpha'));
    two.write('a2.wasm', tool('alpha', '2.0.0'));
    await watcher.add(asHandle(one));
    const { report } = await watcher.add(asHandle(two));
    expect(report.errors[0]).toMatchObject({ file: 'a2.wasm', error: { code: 'name-clash' } });
    expect(report.errors[0]!.error.message).toContain('a.wasm');
    expect((await registry.get('alpha'))?.version).toBe('1.0.0');
    one.files.delete('a.wasm');
    const [first, second] = await watcher.rescan();
    expect(first).toMatchObject({ removed: ['alpha'] });
    expect(second).toMatchObject({ added: ['alpha'], errors: [] });
    expect((await registry.get('alpha'))?.version).toBe('2.0.0');
  });

  it('a discovered tool removed by hand comes back on the next scan; uploads cannot take a discovered name', async () => {
    const { watcher, registry, uploads } = await setup();
    const dir = new FakeDir('tools');
    dir.write('a.wasm', tool('alpha'));
    await watcher.add(asHandle(dir));
    await uploads.remove('alpha');
    expect((await watcher.rescan())[0]).toMatchObject({ added: ['alpha'] });
    const upload: ToolRegistration = {
      metadata: { name: 'alpha', description: 'd', version: '3.0.0', author: 'me', inputSchema: { type: 'object' } },
      files: { 'tool.js': new Uint8Array([1]), 'tool.core.wasm': new Uint8Array([2]) },
      glue: 'tool.js',
      coreModules: ['tool.core.wasm'],
      component: { sha256: 'f'.repeat(64), size: 1 },
      source: 'uploaded',
    };
    await expect(uploads.register(upload, 5)).rejects.toMatchObject({ code: 'name-clash' });
    expect((await registry.get('alpha'))?.source).toBe('discovered');
  });

  it('a folder that cannot be read is reported and its tools stay; permission is asked only on the person’s rescan', async () => {
    const { watcher, registry } = await setup();
    const dir = new FakeDir('picked');
    dir.write('a.wasm', tool('alpha'));
    await watcher.add(asHandle(dir));
    dir.permission = 'prompt';
    dir.requestable = 'denied';
    watcher.start({ intervalMs: 100 });
    await new Promise((r) => setTimeout(r, 50));
    watcher.stop();
    expect(dir.permission).toBe('prompt'); // not asked without a gesture
    const [denied] = await watcher.rescan();
    expect(denied!.errors).toEqual([{ file: '.', error: { code: 'permission-needed', message: expect.stringContaining('denied') } }]);
    expect((await registry.get('alpha'))?.source).toBe('discovered');
    expect((await watcher.list())[0]!.files).toHaveLength(1);

    dir.permission = 'prompt';
    dir.requestable = 'granted';
    expect((await watcher.rescan())[0]).toMatchObject({ unchanged: ['alpha'], errors: [] });

    dir.unreadable = true;
    expect((await watcher.rescan())[0]!.errors).toMatchObject([{ file: '.', error: { code: 'folder-unreadable' } }]);
    expect((await registry.get('alpha'))?.source).toBe('discovered');
    await expect(watcher.add(Object.assign(new FakeDir('nope'), { requestable: 'denied', permission: 'prompt' }) as never)).rejects.toMatchObject({ code: 'permission-needed' });
  });

  it('removing a folder withdraws its tools and forgets it; adding the same folder twice watches it once', async () => {
    const { watcher, registry } = await setup();
    const dir = new FakeDir('tools');
    dir.write('a.wasm', tool('alpha'));
    const { folder } = await watcher.add(asHandle(dir));
    expect((await watcher.add(asHandle(dir))).folder.id).toBe(folder.id);
    expect(await watcher.list()).toHaveLength(1);
    await watcher.remove(folder.id);
    expect(await watcher.list()).toEqual([]);
    expect(await registry.get('alpha')).toBeUndefined();
    expect((await registry.get('echo'))?.source).toBe('bundled');
    await expect(watcher.remove(folder.id)).rejects.toMatchObject({ code: 'unknown-folder' });
    await expect(watcher.rescan(folder.id)).rejects.toMatchObject({ code: 'unknown-folder' });
  });

  it('never runs two scans at once: interval ticks skip a running scan, rescans wait for it', async () => {
    const { watcher, stats, registry } = await setup({ slowMs: 120 });
    const dir = new FakeDir('tools');
    dir.write('a.wasm', tool('alpha'));
    dir.write('b.wasm', tool('beta'));
    const added = watcher.add(asHandle(dir));
    watcher.start({ intervalMs: 100 });
    const reports = await Promise.all([watcher.rescan(), watcher.rescan(), added.then((r) => [r.report])]);
    await new Promise((r) => setTimeout(r, 300));
    watcher.stop();
    expect(stats.maxRunning).toBe(1);
    expect(stats.imports).toBe(2);
    expect(reports.flat().flatMap((r) => r.added).sort()).toEqual(['alpha', 'beta']);
    expect((await registry.list()).filter((t) => t.source === 'discovered').map((t) => t.name).sort()).toEqual(['alpha', 'beta']);
  });
});

describe('the registry and discovered tools', () => {
  const registration = (hash: string, meta: Record<string, unknown> = {}, source: 'uploaded' | 'discovered' = 'discovered'): ToolRegistration => ({
    metadata: { name: 'found', description: 'd', version: '1.0.0', author: 'me', inputSchema: { type: 'object' }, ...meta },
    files: { 'tool.js': new TextEncoder().encode(hash), 'tool.core.wasm': new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]) },
    glue: 'tool.js',
    coreModules: ['tool.core.wasm'],
    component: { sha256: hash, size: 10 },
    source,
  });
  const A = 'a'.repeat(64);
  const B = 'b'.repeat(64);
  const C = 'c'.repeat(64);

  it('other code under the same version replaces a discovered tool (not an uploaded one); a pin still holds', async () => {
    const db = new DbHandle(freshDbName());
    const uploads = new ToolUploads(db);
    await uploads.register(registration(A), 1);
    const again = await uploads.register(registration(B), 2);
    expect(again).toMatchObject({ source: 'discovered', code: { hash: B } });
    expect((await uploads.versions('found')).versions.map((v) => [v.version, v.hash])).toEqual([
      ['1.0.0', A],
      ['1.0.0', B],
    ]);
    await uploads.pin('found', A);
    await expect(uploads.register(registration(C), 3)).rejects.toMatchObject({ code: 'pinned' });
    await uploads.register(registration(A, { name: 'up' }, 'uploaded'), 4);
    await expect(uploads.register(registration(B, { name: 'up' }, 'uploaded'), 5)).rejects.toMatchObject({ code: 'name-clash' });
  });

  it('a name is never taken across sources, not even with the same bytes', async () => {
    const db = new DbHandle(freshDbName());
    const registry = new ToolRegistry(db);
    const uploads = new ToolUploads(db);
    await registry.seed(MANIFEST, { fixtures: false, now: 1 });
    await uploads.register(registration(A, { name: 'up' }, 'uploaded'), 1);
    await expect(uploads.register(registration(A, { name: 'up' }), 2)).rejects.toMatchObject({ code: 'name-clash' });
    await expect(uploads.register(registration(B, { name: 'echo' }), 3)).rejects.toMatchObject({ code: 'name-clash' });
    await expect(uploads.register(registration(A, { name: 'up' }, 'bundled' as never), 3)).rejects.toMatchObject({ code: 'invalid-input' });
    // The same uploaded bytes again are still a no-op.
    expect((await uploads.register(registration(A, { name: 'up' }, 'uploaded'), 4)).source).toBe('uploaded');
    // Discovered tools can be removed; bundled ones never.
    await uploads.register(registration(C), 5);
    expect(await uploads.remove('found')).toEqual({ removed: 'found' });
    await expect(uploads.remove('echo')).rejects.toMatchObject({ code: 'not-uploaded' });
  });
});
