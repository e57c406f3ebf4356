import type { ToolRegistration, ToolVersions } from '../api/admin';
import type { IDBPTransaction } from 'idb';
import { validateToolMetadata, type FieldError, type ToolUploadErrorCode, type ValidToolMetadata } from '../shared/tool-metadata';
import type { DbHandle } from '../store/db';
import type { BuiltinManifestEntry, ToolManifest, ToolManifestEntry } from '../../tools/types';
import { CODE_RUNTIME_GLUE } from '../shared/execute-code';
import type { SandboxDB, ToolFileRecord, ToolRecord, ToolVersionSnapshot } from '../store/schema';

/** Where the service worker serves an uploaded tool's files (relative to the app root). */
export const UPLOADED_PREFIX = 'tools/uploaded/';
/** Staged files no tool refers to are swept after this long. */
const STAGED_TTL_MS = 10 * 60_000;
const HASH = /^[0-9a-f]{64}$/;
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** A refused registry change, with a stable code (and field errors for invalid metadata). */
export class ToolRegistryError extends Error {
  constructor(
    readonly code: ToolUploadErrorCode | 'unknown-tool' | 'invalid-input' | 'not-uploaded' | 'unknown-version',
    message: string,
    readonly errors?: FieldError[],
  ) {
    super(message);
    this.name = 'ToolRegistryError';
  }
}

// The bundled tools' manifest is written by `npm run build:tools`; its types live beside the build.
export type { BuiltinManifestEntry, ToolManifest, ToolManifestEntry, ToolMetadata } from '../../tools/types';

/** Builds the registry record of a bundled tool; code URLs are relative to the app root. */
export function recordFromManifest(tool: ToolManifestEntry, now: number): ToolRecord {
  return bundledRecord(tool, tool.dir + tool.glue, tool.fixture, now);
}

/**
 * Builds the registry record of a built-in tool (execute_code). Its glue URL is a marker, not a
 * file: the sandbox host runs it with its own interpreters; its core modules are the runtime
 * files (QuickJS's wasm), compiled and capped by the host like any tool's.
 */
export function recordFromBuiltin(tool: BuiltinManifestEntry, now: number): ToolRecord {
  return bundledRecord(tool, CODE_RUNTIME_GLUE, false, now);
}

/** The one shape of a build's tool record, component or built-in alike. */
function bundledRecord(tool: ToolManifestEntry | BuiltinManifestEntry, glueUrl: string, fixture: boolean, now: number): ToolRecord {
  const m = tool.metadata;
  const record: ToolRecord = {
    name: tool.name,
    description: m.description,
    version: m.version,
    author: m.author ?? 'unknown',
    tags: m.tags ?? [],
    categories: m.categories ?? [],
    inputSchema: m.inputSchema,
    ...(m.outputSchema ? { outputSchema: m.outputSchema } : {}),
    permissions: m.permissions ?? [],
    limits: m.limits ?? {},
    code: { hash: tool.sha256, size: tool.size, glueUrl, coreModules: Object.fromEntries(tool.coreModules.map((file) => [file, tool.dir + file])) },
    source: 'bundled',
    fixture,
    enabled: true,
    registeredAt: now,
    versions: [{ version: m.version, hash: tool.sha256, size: tool.size, at: now }],
    pinnedHash: null,
  };
  if (m.resource) record.resource = m.resource;
  if (m.context === true) record.context = true;
  return record;
}

function snapshotOf(record: ToolRecord): ToolVersionSnapshot {
  const { description, version, author, tags, categories, inputSchema, outputSchema, permissions, limits, resource, code, context } = record;
  return { description, version, author, tags, categories, inputSchema, permissions, limits, code, ...(outputSchema ? { outputSchema } : {}), ...(resource ? { resource } : {}), ...(context ? { context } : {}) };
}

/**
 * A record without the fields a version may or may not declare: spread under a version's
 * snapshot, which then says alone whether that version declared them (kept, one version's
 * `resource` or `outputSchema` would stay behind when going to a version without one).
 */
function withoutOptional(record: ToolRecord): ToolRecord {
  const { context: _context, resource: _resource, outputSchema: _outputSchema, ...rest } = record;
  return rest;
}

/** Records from before schema v5 (or written by hand) get their history and pin. */
function normalized(record: ToolRecord): ToolRecord {
  if (Array.isArray(record.versions) && record.pinnedHash !== undefined) return record;
  return { ...record, versions: record.versions ?? [{ version: record.version, hash: record.code.hash, size: record.code.size, at: record.registeredAt }], pinnedHash: record.pinnedHash ?? null };
}

/** The URL (relative to the app root) an uploaded tool's file is served at. */
export function uploadedFileUrl(hash: string, file: string): string {
  return `${UPLOADED_PREFIX}${hash}/${file}`;
}

function toBuffer(bytes: ArrayBuffer | Uint8Array): ArrayBuffer {
  if (bytes instanceof ArrayBuffer) return bytes;
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function checkFiles(hash: string, files: Record<string, ArrayBuffer | Uint8Array>): void {
  if (typeof hash !== 'string' || !HASH.test(hash)) throw new ToolRegistryError('invalid-input', 'the component hash must be 64 hex digits (SHA-256)');
  if (!files || typeof files !== 'object' || Object.keys(files).length === 0) throw new ToolRegistryError('invalid-input', 'no files');
  for (const [file, bytes] of Object.entries(files)) {
    if (!FILE_NAME.test(file)) throw new ToolRegistryError('invalid-input', `invalid file name ${JSON.stringify(file)}`);
    if (!(bytes instanceof ArrayBuffer) && !(bytes instanceof Uint8Array)) throw new ToolRegistryError('invalid-input', `file ${file} is not bytes`);
  }
}

/**
 * Tool records this service-worker lifetime has read, per database. Every change to the tools
 * store goes through `ToolRegistry` or `ToolUploads`, in this service worker, and bumps the
 * generation when it commits; a read that raced a change is not kept (its generation moved).
 * A woken service worker starts empty, so nothing outlives a stop.
 */
const toolCache = new WeakMap<DbHandle, { generation: number; records: Map<string, ToolRecord | undefined> }>();
function cacheOf(handle: DbHandle) {
  let c = toolCache.get(handle);
  if (!c) toolCache.set(handle, (c = { generation: 0, records: new Map() }));
  return c;
}
/** Call after a write to the tools store has committed (or failed: a cache miss is harmless). */
function toolsChanged(handle: DbHandle): void {
  const c = cacheOf(handle);
  c.generation++;
  c.records.clear();
}

/** The tool registry. `get` (the call path's question) is answered from memory once read. */
export class ToolRegistry {
  constructor(private readonly handle: DbHandle) {}

  async get(name: string): Promise<ToolRecord | undefined> {
    const cache = cacheOf(this.handle);
    if (cache.records.has(name)) return cache.records.get(name);
    const generation = cache.generation;
    const stored = await (await this.handle.get()).get('tools', name);
    const record = stored && normalized(stored);
    if (cache.generation === generation) cache.records.set(name, record);
    return record;
  }

  async list(): Promise<ToolRecord[]> {
    return (await (await this.handle.get()).getAll('tools')).map(normalized);
  }

  /** Tools an agent can call: enabled and not resource producers. */
  async callable(): Promise<ToolRecord[]> {
    return (await this.list()).filter((t) => t.enabled && !t.resource && !isPrompt(t));
  }

  /** Prompt producers (category "prompt"): served by prompts/list and prompts/get, not as tools. */
  async prompts(): Promise<ToolRecord[]> {
    return (await this.list()).filter((t) => t.enabled && !t.resource && isPrompt(t));
  }

  async resources(): Promise<ToolRecord[]> {
    return (await this.list()).filter((t) => t.enabled && t.resource);
  }

  /**
   * Registers the bundled tools of a manifest, its built-ins included (fixtures only when
   * asked). A tool whose hash is unchanged is left as it is (enabled or not); a changed one is
   * replaced.
   */
  async seed(manifest: ToolManifest, options: { fixtures: boolean; now: number }): Promise<string[]> {
    const db = await this.handle.get();
    const tx = db.transaction('tools', 'readwrite');
    const added: string[] = [];
    const writes: Promise<unknown>[] = [];
    const bundled = [...manifest.tools.map((tool) => ({ tool, fixture: tool.fixture, build: () => recordFromManifest(tool, options.now) })), ...(manifest.builtins ?? []).map((tool) => ({ tool, fixture: false, build: () => recordFromBuiltin(tool, options.now) }))];
    for (const { tool, fixture, build } of bundled) {
      if (fixture && !options.fixtures) continue;
      const existing = await tx.store.get(tool.name);
      if (existing && existing.code.hash === tool.sha256) continue;
      // An uploaded tool keeps its name: a build does not silently replace it.
      if (existing && existing.source !== 'bundled') continue;
      const record = build();
      // A build's files replace the old ones, so a pin to an old bundled hash cannot hold.
      if (existing) record.versions = [...normalized(existing).versions, ...record.versions];
      writes.push(tx.store.put(record));
      added.push(tool.name);
    }
    try {
      await Promise.all([...writes, tx.done]);
    } finally {
      toolsChanged(this.handle);
    }
    return added;
  }
}

/**
 * Registry changes for tools added while the sandbox runs. Each is one IndexedDB transaction:
 * a refused change leaves nothing behind.
 */
export class ToolUploads {
  constructor(private readonly handle: DbHandle) {}

  /** Keeps an upload's files so its `describe` can run from their URLs; no tool exists yet. */
  async stage(hash: string, files: Record<string, ArrayBuffer | Uint8Array>, now: number): Promise<{ urls: Record<string, string> }> {
    checkFiles(hash, files);
    await this.sweep(now);
    const tx = (await this.handle.get()).transaction('toolFiles', 'readwrite');
    const urls: Record<string, string> = {};
    for (const [file, bytes] of Object.entries(files)) {
      const buffer = toBuffer(bytes);
      void tx.store.put({ key: `${hash}/${file}`, hash, file, bytes: buffer, size: buffer.byteLength, storedAt: now });
      urls[file] = uploadedFileUrl(hash, file);
    }
    await tx.done;
    return { urls };
  }

  /** Drops staged files older than STAGED_TTL_MS that no tool refers to (an importer that died). */
  private async sweep(now: number): Promise<void> {
    const tx = (await this.handle.get()).transaction(['tools', 'toolFiles'], 'readwrite');
    const used = new Set((await tx.objectStore('tools').getAll()).flatMap((t) => normalized(t).versions.map((v) => v.hash)));
    let cursor = await tx.objectStore('toolFiles').openCursor();
    while (cursor) {
      if (!used.has(cursor.value.hash) && now - cursor.value.storedAt > STAGED_TTL_MS) void cursor.delete();
      cursor = await cursor.continue();
    }
    await tx.done;
  }

  /** Drops the files of a hash no tool refers to (a refused upload). */
  async discard(hash: string): Promise<{ removed: number }> {
    const tx = (await this.handle.get()).transaction(['tools', 'toolFiles'], 'readwrite');
    const tools = await tx.objectStore('tools').getAll();
    if (tools.some((t) => normalized(t).versions.some((v) => v.hash === hash))) {
      await tx.done;
      return { removed: 0 };
    }
    const keys = await tx.objectStore('toolFiles').index('by-hash').getAllKeys(hash);
    for (const key of keys) void tx.objectStore('toolFiles').delete(key);
    await tx.done;
    return { removed: keys.length };
  }

  /**
   * Registers an uploaded tool: its files and record in one transaction. A name already taken
   * by another tool is refused (`name-clash`) unless this is a new version of the same uploaded
   * tool (same author, a version number not seen before); it then replaces the old one for new
   * calls and the history is kept. A pinned tool refuses new versions (`pinned`).
   *
   * A `discovered` tool (from a watched folder) follows the same rules, except that its file is
   * the source of truth: other code under a version number it already had replaces the current
   * code too (the history keeps both hashes). A name is never taken across sources.
   */
  async register(params: ToolRegistration, now: number): Promise<ToolRecord> {
    const checked = validateToolMetadata(params?.metadata);
    if (!checked.ok) throw new ToolRegistryError('invalid-metadata', `invalid metadata: ${checked.errors.map((e) => `${e.field}: ${e.reason}`).join('; ')}`, checked.errors);
    const m = checked.metadata;
    const hash = params.component?.sha256;
    checkFiles(hash, params.files);
    const source = params.source;
    if (source !== 'uploaded' && source !== 'discovered') throw new ToolRegistryError('invalid-input', 'only uploaded or discovered tools are registered this way');
    if (!Object.hasOwn(params.files, params.glue)) throw new ToolRegistryError('invalid-input', `the glue ${params.glue} is not among the files`);
    if (!Array.isArray(params.coreModules) || params.coreModules.length === 0 || !params.coreModules.every((f) => Object.hasOwn(params.files, f))) {
      throw new ToolRegistryError('invalid-input', 'every core module must be among the files');
    }
    const size = Number(params.component.size);
    if (!Number.isSafeInteger(size) || size <= 0) throw new ToolRegistryError('invalid-input', 'the component size must be a positive integer');

    const tx = (await this.handle.get()).transaction(['tools', 'toolFiles'], 'readwrite');
    const tools = tx.objectStore('tools');
    const stored = await tools.get(m.name);
    const existing = stored ? normalized(stored) : null;
    const refusal = existing && this.refusal(existing, source, m.version, m.author, hash);
    if (existing && (refusal || existing.code.hash === hash)) {
      tx.abort();
      await tx.done.catch(() => undefined);
      if (refusal) throw refusal;
      return existing; // the same component again: nothing to do
    }
    return this.write(tx, existing, params, m, hash, size, now);
  }

  /** Why an upload may not replace `existing` (null: it is a new version and may). */
  private refusal(existing: ToolRecord, source: 'uploaded' | 'discovered', version: string, author: string, hash: string): ToolRegistryError | null {
    // The same component again changes nothing, except that a folder never claims another source's tool.
    if (existing.code.hash === hash && (existing.source === source || source === 'uploaded')) return null;
    if (existing.source !== source) return new ToolRegistryError('name-clash', `a ${existing.source} tool named ${existing.name} exists; choose another name`);
    if (existing.pinnedHash !== null && existing.pinnedHash !== hash) return new ToolRegistryError('pinned', `${existing.name} is pinned to ${existing.pinnedHash.slice(0, 12)}…; unpin it to add a version`);
    if (existing.author !== author) return new ToolRegistryError('name-clash', `a tool named ${existing.name} by ${existing.author} exists; a new version must come from the same author`);
    const seen = existing.versions.find((v) => v.version === version);
    if (seen && seen.hash !== hash && source !== 'discovered') return new ToolRegistryError('name-clash', `${existing.name} ${version} exists with other code; a new version needs a new version number`);
    return null;
  }

  private async write(
    tx: IDBPTransaction<SandboxDB, ('tools' | 'toolFiles')[], 'readwrite'>,
    existing: ToolRecord | null,
    params: ToolRegistration,
    m: ValidToolMetadata,
    hash: string,
    size: number,
    now: number,
  ): Promise<ToolRecord> {
    const files = tx.objectStore('toolFiles');
    for (const [file, bytes] of Object.entries(params.files)) {
      const buffer = toBuffer(bytes);
      void files.put({ key: `${hash}/${file}`, hash, file, bytes: buffer, size: buffer.byteLength, storedAt: now } satisfies ToolFileRecord);
    }
    const record: ToolRecord = {
      name: m.name,
      description: m.description,
      version: m.version,
      author: m.author,
      tags: m.tags,
      categories: m.categories,
      inputSchema: m.inputSchema,
      permissions: m.permissions,
      limits: m.limits,
      code: {
        hash,
        size,
        glueUrl: uploadedFileUrl(hash, params.glue),
        coreModules: Object.fromEntries(params.coreModules.map((f) => [f, uploadedFileUrl(hash, f)])),
      },
      source: params.source,
      fixture: m.categories.includes('fixture'),
      enabled: existing?.enabled ?? true,
      registeredAt: existing?.registeredAt ?? now,
      versions: existing?.versions ?? [],
      pinnedHash: null,
    };
    if (m.resource) record.resource = m.resource;
    if (m.context) record.context = true;
    record.versions = [...record.versions, { version: m.version, hash, size, at: now, snapshot: snapshotOf(record) }];
    void tx.objectStore('tools').put(record);
    await tx.done.finally(() => toolsChanged(this.handle));
    return record;
  }

  async setEnabled(name: string, enabled: boolean): Promise<ToolRecord> {
    return this.update(name, (t) => ({ ...t, enabled }));
  }

  /**
   * Pins new calls to one version (null: follow the newest). An uploaded tool can go back to
   * any version it kept; a bundled tool has only its current build's files.
   */
  async pin(name: string, hash: string | null): Promise<ToolRecord> {
    return this.update(name, (t) => {
      if (hash === null) {
        const newest = t.versions[t.versions.length - 1];
        return newest?.snapshot ? { ...withoutOptional(t), ...newest.snapshot, pinnedHash: null } : { ...t, pinnedHash: null };
      }
      if (hash === t.code.hash) return { ...t, pinnedHash: hash };
      const version = t.versions.find((v) => v.hash === hash);
      if (!version?.snapshot) throw new ToolRegistryError('unknown-version', `${name} has no stored version ${hash.slice(0, 12)}…${t.source === 'bundled' ? ' (a bundled tool keeps only its current build)' : ''}`);
      return { ...withoutOptional(t), ...version.snapshot, pinnedHash: hash };
    });
  }

  async versions(name: string): Promise<ToolVersions> {
    const stored = await (await this.handle.get()).get('tools', name);
    if (!stored) throw new ToolRegistryError('unknown-tool', `no tool named ${name}`);
    const t = normalized(stored);
    return { name, source: t.source, current: t.code.hash, pinnedHash: t.pinnedHash, versions: t.versions.map(({ snapshot: _snapshot, ...v }) => v) };
  }

  /** Removes an uploaded or discovered tool, its history and its files, in one transaction. */
  async remove(name: string): Promise<{ removed: string }> {
    const tx = (await this.handle.get()).transaction(['tools', 'toolFiles'], 'readwrite');
    const stored = await tx.objectStore('tools').get(name);
    const refuse = async (error: ToolRegistryError) => {
      tx.abort();
      await tx.done.catch(() => undefined);
      throw error;
    };
    if (!stored) return refuse(new ToolRegistryError('unknown-tool', `no tool named ${name}`));
    if (stored.source === 'bundled') return refuse(new ToolRegistryError('not-uploaded', `${name} is bundled; only uploaded or discovered tools can be removed (disable it instead)`));
    const files = tx.objectStore('toolFiles');
    for (const hash of new Set(normalized(stored).versions.map((v) => v.hash))) {
      for (const key of await files.index('by-hash').getAllKeys(hash)) void files.delete(key);
    }
    void tx.objectStore('tools').delete(name);
    await tx.done.finally(() => toolsChanged(this.handle));
    return { removed: name };
  }

  /** A stored file of an uploaded (or staged) tool, for the service worker's fetch handler. */
  async file(hash: string, file: string): Promise<ToolFileRecord | undefined> {
    return (await this.handle.get()).get('toolFiles', `${hash}/${file}`);
  }

  private async update(name: string, change: (t: ToolRecord) => ToolRecord): Promise<ToolRecord> {
    const tx = (await this.handle.get()).transaction('tools', 'readwrite');
    const stored = await tx.store.get(name);
    let next: ToolRecord;
    try {
      if (!stored) throw new ToolRegistryError('unknown-tool', `no tool named ${name}`);
      next = change(normalized(stored));
    } catch (error) {
      tx.abort();
      await tx.done.catch(() => undefined);
      throw error;
    }
    void tx.store.put(next);
    await tx.done.finally(() => toolsChanged(this.handle));
    return next;
  }
}

/** A producer of an MCP prompt: its input schema's properties are the prompt's arguments, its output a `GetPromptResult`. */
export const PROMPT_CATEGORY = 'prompt';
/** A tool or resource producer whose output is the MCP result itself (content blocks, or resource contents), not one text. */
export const MCP_CONTENT_CATEGORY = 'mcp-content';

export function isPrompt(tool: { categories: readonly string[] }): boolean {
  return tool.categories.includes(PROMPT_CATEGORY);
}
