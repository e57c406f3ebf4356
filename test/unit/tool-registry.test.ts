import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import type { ToolRegistration } from '../../src/api/admin';
import { ToolRegistry, ToolUploads, recordFromManifest } from '../../src/server/registry';
import { statsFromAudit } from '../../src/server/tool-stats';
import { checkComponentBytes, parseToolMetadata, validateToolMetadata, wasmKind } from '../../src/shared/tool-metadata';
import { DbHandle, openStore } from '../../src/store/db';
import type { AuditEntry } from '../../src/store/schema';
import { MANIFEST, freshDbName } from './support/server-fixture';

const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);
const HASH_C = 'c'.repeat(64);

function upload(hash: string, meta: Record<string, unknown> = {}): ToolRegistration {
  return {
    metadata: { name: 'word_count', description: 'counts words', version: '1.0.0', author: 'me', inputSchema: { type: 'object' }, ...meta },
    files: { 'tool.js': new TextEncoder().encode(`export const v = "${hash}";`), 'tool.core.wasm': new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]) },
    glue: 'tool.js',
    coreModules: ['tool.core.wasm'],
    component: { sha256: hash, size: 100 },
    source: 'uploaded',
  };
}

async function setup() {
  const db = new DbHandle(freshDbName());
  return { db, registry: new ToolRegistry(db), uploads: new ToolUploads(db) };
}

describe('tool metadata validation', () => {
  const good = { name: 'my_tool', description: 'does things', version: '1.2.3', inputSchema: { type: 'object' } };

  it('accepts a minimal tool and fills the defaults', () => {
    expect(validateToolMetadata(good)).toEqual({ ok: true, metadata: { ...good, author: 'unknown', tags: [], categories: [], permissions: [], limits: {} } });
  });

  it('names every field at fault', () => {
    const result = validateToolMetadata({ name: 'My-Tool', description: '', version: 'one', inputSchema: { type: 'string' }, permissions: ['files:read', 'camera'], limits: { cpuMs: -1, gpus: 1 }, extra: 1 });
    expect(result.ok).toBe(false);
    const fields = (result as { errors: { field: string }[] }).errors.map((e) => e.field).sort();
    expect(fields).toEqual(['description', 'extra', 'inputSchema.type', 'limits.cpuMs', 'limits.gpus', 'name', 'permissions', 'version']);
  });

  it('refuses a name longer than 64 characters and a schema that is not an object', () => {
    expect(validateToolMetadata({ ...good, name: 'a'.repeat(65) }).ok).toBe(false);
    expect(validateToolMetadata({ ...good, name: 'a'.repeat(64) }).ok).toBe(true);
    expect(validateToolMetadata({ ...good, inputSchema: [] }).ok).toBe(false);
    expect(validateToolMetadata([]).ok).toBe(false);
  });

  it('bounds a tool\'s own metadata before anything walks it (a hostile describe nesting its schema 100,000 deep)', () => {
    let deep: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 100_000; i++) deep = { type: 'object', properties: { x: deep } };
    const result = validateToolMetadata({ ...good, inputSchema: deep });
    expect(result).toMatchObject({ ok: false, errors: [{ reason: expect.stringContaining('maxDepth') }] });
    expect(parseToolMetadata(JSON.stringify({ ...good, inputSchema: { type: 'object', enum: Array.from({ length: 6000 }, (_, i) => i) } }))).toMatchObject({ ok: false, code: 'invalid-metadata' });
  });

  it('tells junk JSON (describe-failed) from bad metadata (invalid-metadata)', () => {
    expect(parseToolMetadata('{not json')).toMatchObject({ ok: false, code: 'describe-failed' });
    expect(parseToolMetadata('{"name": 1}')).toMatchObject({ ok: false, code: 'invalid-metadata' });
    expect(parseToolMetadata(JSON.stringify(good))).toMatchObject({ ok: true });
  });

  it('tells components from core modules and from anything else', () => {
    expect(wasmKind(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]))).toBe('core');
    expect(wasmKind(new Uint8Array([0, 97, 115, 109, 0x0d, 0, 1, 0]))).toBe('component');
    expect(wasmKind(new TextEncoder().encode('hello world'))).toBe('not-wasm');
    expect(checkComponentBytes(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]))?.code).toBe('not-a-component');
    expect(checkComponentBytes(new Uint8Array(8 * 1024 * 1024 + 1))?.code).toBe('too-large');
    expect(checkComponentBytes(new Uint8Array([0, 97, 115, 109, 0x0d, 0, 1, 0]))).toBeNull();
  });
});

describe('the tool registry: uploads, versions, pins', () => {
  it('registers an uploaded tool with its files in one go and serves them by hash', async () => {
    const { registry, uploads } = await setup();
    const record = await uploads.register(upload(HASH_A), 1000);
    expect(record).toMatchObject({ name: 'word_count', source: 'uploaded', enabled: true, pinnedHash: null, code: { hash: HASH_A, glueUrl: `tools/uploaded/${HASH_A}/tool.js`, coreModules: { 'tool.core.wasm': `tools/uploaded/${HASH_A}/tool.core.wasm` } } });
    expect(record.versions).toHaveLength(1);
    expect((await registry.callable()).map((t) => t.name)).toEqual(['word_count']);
    expect((await uploads.file(HASH_A, 'tool.js'))?.size).toBeGreaterThan(0);
  });

  it('refuses invalid metadata with field errors, and stores nothing', async () => {
    const { db, registry, uploads } = await setup();
    await expect(uploads.register(upload(HASH_A, { name: 'Bad Name' }), 1)).rejects.toMatchObject({ code: 'invalid-metadata', errors: [{ field: 'name' }] });
    expect(await registry.list()).toEqual([]);
    expect(await (await db.get()).count('toolFiles')).toBe(0);
  });

  it('takes a new version of the same tool; keeps the history; new calls run the newest', async () => {
    const { registry, uploads } = await setup();
    await uploads.register(upload(HASH_A), 1);
    await uploads.setEnabled('word_count', false);
    const v2 = await uploads.register(upload(HASH_B, { version: '1.1.0', description: 'counts words faster' }), 2);
    expect(v2).toMatchObject({ version: '1.1.0', description: 'counts words faster', enabled: false, code: { hash: HASH_B } });
    expect((await uploads.versions('word_count')).versions.map((v) => [v.version, v.hash])).toEqual([['1.0.0', HASH_A], ['1.1.0', HASH_B]]);
    expect((await registry.get('word_count'))?.code.hash).toBe(HASH_B);
    // Uploading the same component again changes nothing.
    expect((await uploads.register(upload(HASH_B, { version: '1.1.0', description: 'counts words faster' }), 3)).versions).toHaveLength(2);
  });

  it('refuses a name clash: a bundled name, another author, or a reused version number', async () => {
    const { registry, uploads } = await setup();
    await registry.seed(MANIFEST, { fixtures: false, now: 1 });
    await expect(uploads.register(upload(HASH_A, { name: 'echo' }), 2)).rejects.toMatchObject({ code: 'name-clash' });
    expect((await registry.get('echo'))?.source).toBe('bundled');
    await uploads.register(upload(HASH_A), 3);
    await expect(uploads.register(upload(HASH_B, { version: '2.0.0', author: 'someone else' }), 4)).rejects.toMatchObject({ code: 'name-clash' });
    await expect(uploads.register(upload(HASH_B), 5)).rejects.toMatchObject({ code: 'name-clash' });
    expect((await uploads.versions('word_count')).versions).toHaveLength(1);
  });

  it('pins: refuses new versions while pinned, goes back to an old version, and unpins to the newest', async () => {
    const { registry, uploads } = await setup();
    await uploads.register(upload(HASH_A), 1);
    await uploads.register(upload(HASH_B, { version: '1.1.0', inputSchema: { type: 'object', required: ['text'] } }), 2);
    const pinned = await uploads.pin('word_count', HASH_A);
    expect(pinned).toMatchObject({ pinnedHash: HASH_A, version: '1.0.0', inputSchema: { type: 'object' }, code: { hash: HASH_A } });
    await expect(uploads.register(upload(HASH_C, { version: '1.2.0' }), 3)).rejects.toMatchObject({ code: 'pinned' });
    expect((await registry.get('word_count'))?.code.hash).toBe(HASH_A);
    await expect(uploads.pin('word_count', HASH_C)).rejects.toMatchObject({ code: 'unknown-version' });
    const unpinned = await uploads.pin('word_count', null);
    expect(unpinned).toMatchObject({ pinnedHash: null, version: '1.1.0', code: { hash: HASH_B } });
    expect((await uploads.register(upload(HASH_C, { version: '1.2.0' }), 4)).code.hash).toBe(HASH_C);
  });

  it('pins and unpins to exactly a version\'s own declarations: a field only another version declared does not stay behind', async () => {
    const { registry, uploads } = await setup();
    await uploads.register(upload(HASH_A, { categories: ['resource'], resource: { uri: 'words://count', mimeType: 'application/json' }, context: true }), 1);
    await uploads.register(upload(HASH_B, { version: '1.1.0' }), 2);
    expect(await registry.get('word_count')).not.toHaveProperty('resource');
    expect(await uploads.pin('word_count', HASH_A)).toMatchObject({ resource: { uri: 'words://count' }, context: true, categories: ['resource'] });
    const unpinned = await uploads.pin('word_count', null);
    expect(unpinned.code.hash).toBe(HASH_B);
    expect(unpinned).not.toHaveProperty('resource');
    expect(unpinned).not.toHaveProperty('context');
    expect(await registry.get('word_count')).not.toHaveProperty('resource');
  });

  it('removes uploaded tools with their files, never bundled ones', async () => {
    const { db, registry, uploads } = await setup();
    await registry.seed(MANIFEST, { fixtures: false, now: 1 });
    await uploads.register(upload(HASH_A), 1);
    await uploads.register(upload(HASH_B, { version: '1.1.0' }), 2);
    await expect(uploads.remove('echo')).rejects.toMatchObject({ code: 'not-uploaded' });
    await expect(uploads.remove('nope')).rejects.toMatchObject({ code: 'unknown-tool' });
    expect(await uploads.remove('word_count')).toEqual({ removed: 'word_count' });
    expect(await registry.get('word_count')).toBeUndefined();
    expect(await (await db.get()).count('toolFiles')).toBe(0);
    expect(await registry.get('echo')).toBeDefined();
  });

  it('stages files for introspection and discards them unless a tool refers to them', async () => {
    const { db, uploads } = await setup();
    const { urls } = await uploads.stage(HASH_A, upload(HASH_A).files, 1);
    expect(urls['tool.js']).toBe(`tools/uploaded/${HASH_A}/tool.js`);
    expect(await uploads.discard(HASH_A)).toEqual({ removed: 2 });
    await uploads.stage(HASH_B, upload(HASH_B).files, 2);
    await uploads.register(upload(HASH_B), 3);
    expect(await uploads.discard(HASH_B)).toEqual({ removed: 0 });
    expect(await (await db.get()).count('toolFiles')).toBe(2);
  });

  it('disables and enables: a disabled tool is not callable', async () => {
    const { registry, uploads } = await setup();
    await registry.seed(MANIFEST, { fixtures: false, now: 1 });
    await uploads.setEnabled('echo', false);
    expect((await registry.callable()).map((t) => t.name)).not.toContain('echo');
    await uploads.setEnabled('echo', true);
    expect((await registry.callable()).map((t) => t.name)).toContain('echo');
  });

  it('keeps a bundled tool’s history across builds', async () => {
    const { registry, uploads } = await setup();
    await registry.seed(MANIFEST, { fixtures: false, now: 1 });
    const rebuilt = { ...MANIFEST, tools: MANIFEST.tools.map((t) => (t.name === 'echo' ? { ...t, sha256: 'new-hash', metadata: { ...t.metadata, version: '1.0.1' } } : t)) };
    expect(await registry.seed(rebuilt, { fixtures: false, now: 2 })).toEqual(['echo']);
    expect((await uploads.versions('echo')).versions.map((v) => v.hash)).toEqual(['hash-of-echo', 'new-hash']);
  });

  it('migrates v4 tool records: history and pin are filled in', async () => {
    const name = freshDbName();
    const v4 = await openStore(name, 4);
    const { versions: _v, pinnedHash: _p, ...old } = recordFromManifest(MANIFEST.tools[0]!, 7);
    await v4.put('tools', old as never);
    v4.close();
    const current = await openStore(name);
    expect(await current.get('tools', 'echo')).toMatchObject({ pinnedHash: null, versions: [{ version: '1.0.0', hash: 'hash-of-echo', size: 1234, at: 7 }] });
    current.close();
  });
});

describe('tool statistics from the audit log', () => {
  const entry = (seq: number, event: AuditEntry['event'], tool: string, outcome: AuditEntry['outcome'], durationMs: number | null = null, memoryBytes: number | null = null): AuditEntry =>
    ({ seq, ts: seq * 10, event, tool, outcome, durationMs, memoryBytes, sessionId: 's', agentId: 'a', callId: `c${seq}`, args: null, error: null, details: null, prevHash: '', hash: '' }) as AuditEntry;

  it('counts invocations, outcomes, mean and p95 time, peak memory and last use', () => {
    const entries: AuditEntry[] = [];
    for (let i = 1; i <= 20; i++) {
      entries.push(entry(2 * i - 1, 'call.request', 'echo', 'pending'));
      entries.push(entry(2 * i, 'call.result', 'echo', i === 20 ? 'error' : 'ok', i, i * 1000));
    }
    entries.push(entry(100, 'call.rejected', 'echo', 'denied'));
    const [echo, idle] = statsFromAudit(entries, ['echo', 'idle']);
    expect(echo).toEqual({ name: 'echo', invocations: 20, ok: 19, errors: 1, denied: 0, successRate: 0.95, meanMs: 10.5, p95Ms: 19, peakMemoryBytes: 20000, lastUsedAt: 390 });
    expect(idle).toEqual({ name: 'idle', invocations: 0, ok: 0, errors: 0, denied: 0, successRate: null, meanMs: null, p95Ms: null, peakMemoryBytes: null, lastUsedAt: null });
  });
});
