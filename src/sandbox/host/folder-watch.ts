import type { AdminMethods } from '../../api/admin';
import type { FolderWatchApi, ImportFailure, ScanReport, WatchedFolder } from '../../api/host';
import { MAX_COMPONENT_BYTES } from '../../shared/tool-metadata';
import { ToolImportError, type ImportAdmin } from './tool-import';

type FolderRecord = AdminMethods['folders.put']['params'];
type FileEntry = FolderRecord['files'][number];
type Tool = AdminMethods['tools.register']['result'];

/** The part of the admin API the watcher uses (the service worker keeps folders and tools). */
export interface FolderAdmin {
  request<M extends keyof AdminMethods>(method: M, params?: AdminMethods[M]['params']): Promise<AdminMethods[M]['result']>;
}

export interface FolderWatchOptions {
  admin(): Promise<FolderAdmin>;
  /**
   * The upload path (tool-import.ts `importTool`) run with the admin given, which marks the
   * registration `discovered` and refuses a name another watched file provides.
   */
  importTool(bytes: Uint8Array, fileName: string, admin: ImportAdmin): Promise<unknown>;
  now?: () => number;
  /** Web Locks, so that no two scans run at once in any window of the origin (null: this window only). */
  locks?: LockManager | null;
  log?: (message: string, error: unknown) => void;
}

/** Default interval between scans while the app is open. */
export const DEFAULT_SCAN_INTERVAL_MS = 5000;
/** One scan at a time, across every folder and every app window of the origin. */
const SCAN_LOCK = 'mcp-sandbox:folder-scan';
/** Stands for the folder itself in `ScanReport.errors` (permission, folder gone). */
export const FOLDER_ITSELF = '.';
/**
 * Refusals that depend on the file's bytes or on a deliberate registry state: a file refused
 * so is not tried again by interval scans until it changes (an on-demand rescan tries again).
 * Anything else (storage, timeouts of the admin round trip, no transpiler) is retried every scan.
 */
const STICKY = new Set(['not-wasm', 'not-a-component', 'too-large', 'describe-failed', 'invalid-metadata', 'name-clash', 'pinned']);

/** `queryPermission`/`requestPermission` of the File System Access API (not in TypeScript's DOM lib). */
interface PermissionHandle {
  queryPermission?(descriptor: { mode: 'read' | 'readwrite' }): Promise<PermissionState>;
  requestPermission?(descriptor: { mode: 'read' | 'readwrite' }): Promise<PermissionState>;
}

/** An error with a stable code, as the UI shows it. */
export class FolderWatchError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'FolderWatchError';
  }
}

/**
 * Watched folders (the seed guide's auto-discovery): the person picks folders, and their
 * top-level `.wasm` components are kept registered as `discovered` tools through the upload
 * path. Each scan hashes every component and compares with the last scan: new files are
 * imported, changed ones imported again (the registry's version rules decide), removed ones
 * withdrawn. Folders and their handles live in IndexedDB (admin `folders.*`), so a scan in any
 * app window, after any reload, starts from what the last one left; this object keeps only its
 * timer.
 */
export class FolderWatcher implements FolderWatchApi {
  readonly pickerSupported: boolean = typeof (globalThis as { showDirectoryPicker?: unknown }).showDirectoryPicker === 'function';
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly now: () => number;
  private readonly locks: LockManager | null;
  // Without Web Locks: scans of this window, one after the other.
  private chain: Promise<unknown> = Promise.resolve();
  private scanning = false;

  constructor(private readonly options: FolderWatchOptions) {
    this.now = options.now ?? Date.now;
    this.locks = options.locks !== undefined ? options.locks : ((globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks ?? null);
  }

  /**
   * Rescans every watched folder now and then every `intervalMs` (default 5 s) while this
   * window is open. Calling it again restarts the timer with the new interval. A tick that
   * finds a scan running (here or in another app window) is skipped.
   */
  start(options: { intervalMs?: number } = {}): void {
    this.stop();
    const intervalMs = Math.max(100, options.intervalMs ?? DEFAULT_SCAN_INTERVAL_MS);
    const tick = () => void this.exclusive(false, () => this.scanAll(null, false)).catch((error) => this.log('scan failed', error));
    this.timer = setInterval(tick, intervalMs);
    tick();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  get watching(): boolean {
    return this.timer !== null;
  }

  async list(): Promise<WatchedFolder[]> {
    const admin = await this.options.admin();
    return (await admin.request('folders.list')).sort((a, b) => a.addedAt - b.addedAt).map(view);
  }

  async add(handle: FileSystemDirectoryHandle): Promise<{ folder: WatchedFolder; report: ScanReport }> {
    if (!handle || handle.kind !== 'directory') throw new FolderWatchError('invalid-input', 'a folder (FileSystemDirectoryHandle) is needed');
    // Asked first, while the click that picked the folder still counts as a user gesture.
    const permission = await this.permission(handle, true);
    if (permission !== 'granted') throw new FolderWatchError('permission-needed', `reading ${handle.name || 'the folder'} was not allowed (${permission})`);
    const result = await this.exclusive(true, async () => {
      const admin = await this.options.admin();
      const folders = await admin.request('folders.list');
      let folder: FolderRecord | undefined;
      for (const f of folders) if (await same(f.handle, handle)) folder = f;
      if (folder) {
        // Picked again: keep its history, take the new handle (it carries the new grant).
        folder = { ...folder, handle };
      } else {
        folder = { id: crypto.randomUUID(), name: handle.name || 'origin-private file system', handle, addedAt: this.now(), lastScanAt: null, files: [] };
        folders.push(folder);
      }
      await admin.request('folders.put', folder);
      const [entry] = await this.scanFolders(admin, folders.map((f) => (f.id === folder.id ? folder : f)), [folder.id], true);
      return entry!;
    });
    return { folder: view(result!.folder), report: result!.report };
  }

  async remove(id: string): Promise<void> {
    await this.exclusive(true, async () => {
      const admin = await this.options.admin();
      const folder = (await admin.request('folders.list')).find((f) => f.id === id);
      if (!folder) throw new FolderWatchError('unknown-folder', `no watched folder ${id}`);
      // Forgotten first, so that no scan brings its tools back; then they are withdrawn.
      await admin.request('folders.remove', { id });
      const tools = byName(await admin.request('tools.list'));
      const failed: string[] = [];
      for (const f of folder.files) {
        if (!f.tool || tools.get(f.tool)?.source !== 'discovered') continue;
        await admin.request('tools.remove', { name: f.tool }).catch((error: { code?: string; message?: string }) => {
          if (error.code !== 'unknown-tool') failed.push(`${f.tool}: ${error.message ?? String(error)}`);
        });
      }
      if (failed.length) throw new FolderWatchError('withdraw-failed', `stopped watching ${folder.name}, but could not withdraw ${failed.join('; ')} (remove them as tools)`);
    });
  }

  async rescan(id?: string): Promise<ScanReport[]> {
    const reports = await this.exclusive(true, () => this.scanAll(id ?? null, true));
    return reports ?? [];
  }

  private async scanAll(id: string | null, interactive: boolean): Promise<ScanReport[]> {
    const admin = await this.options.admin();
    const folders = await admin.request('folders.list');
    if (id !== null && !folders.some((f) => f.id === id)) throw new FolderWatchError('unknown-folder', `no watched folder ${id}`);
    const ids = id !== null ? [id] : folders.sort((a, b) => a.addedAt - b.addedAt).map((f) => f.id);
    // Nothing watched: nothing more to ask the service worker.
    if (ids.length === 0) return [];
    return (await this.scanFolders(admin, folders, ids, interactive)).map((r) => r.report);
  }

  /** Scans the folders named, in order; `all` is every watched folder (a tool name belongs to one file among them). */
  private async scanFolders(admin: FolderAdmin, all: FolderRecord[], ids: string[], interactive: boolean): Promise<{ folder: FolderRecord; report: ScanReport }[]> {
    const tools = byName(await admin.request('tools.list'));
    // Which file provides each discovered tool: `<folder id>/<file>`.
    const claims = new Map<string, string>();
    for (const f of all) for (const file of f.files) if (file.tool) claims.set(file.tool, `${f.id}/${file.file}`);
    const out: { folder: FolderRecord; report: ScanReport }[] = [];
    for (const id of ids) {
      const folder = all.find((f) => f.id === id)!;
      out.push(await this.scanFolder(admin, folder, tools, claims, interactive));
    }
    return out;
  }

  private async scanFolder(admin: FolderAdmin, folder: FolderRecord, tools: Map<string, Tool>, claims: Map<string, string>, interactive: boolean): Promise<{ folder: FolderRecord; report: ScanReport }> {
    const report: ScanReport = { folderId: folder.id, added: [], updated: [], removed: [], unchanged: [], errors: [] };
    const folderError = (code: string, message: string) => {
      // Nothing is withdrawn because a folder cannot be read: its tools stay as they were.
      report.errors.push({ file: FOLDER_ITSELF, error: { code, message } });
      return { folder, report };
    };
    const permission = await this.permission(folder.handle, interactive);
    if (permission !== 'granted') return folderError('permission-needed', `reading ${folder.name} needs the person's permission again (${permission}): rescan it, or pick it again`);
    let found: [string, FileSystemFileHandle][];
    try {
      found = await wasmFiles(folder.handle);
    } catch (error) {
      return folderError('folder-unreadable', `${folder.name} cannot be read: ${message(error)}`);
    }

    const previous = new Map(folder.files.map((f) => [f.file, f]));
    const present = new Set(found.map(([name]) => name));
    const next: FileEntry[] = [];
    const owns = (file: string, tool: string | null): tool is string => !!tool && tools.get(tool)?.source === 'discovered' && claims.get(tool) === `${folder.id}/${file}`;
    const withdraw = async (tool: string): Promise<ImportFailure | null> => {
      try {
        await admin.request('tools.remove', { name: tool });
      } catch (error) {
        if ((error as { code?: string }).code !== 'unknown-tool') return failure(error);
      }
      tools.delete(tool);
      claims.delete(tool);
      report.removed.push(tool);
      return null;
    };

    // Removed files first, so that a file renamed in the folder can take its tool at once.
    for (const prev of folder.files) {
      if (present.has(prev.file)) continue;
      if (!owns(prev.file, prev.tool)) {
        if (prev.tool && claims.get(prev.tool) === `${folder.id}/${prev.file}`) claims.delete(prev.tool);
        continue;
      }
      const error = await withdraw(prev.tool);
      if (error) {
        // Kept (with its error) so the next scan tries again.
        next.push({ ...prev, error });
        report.errors.push({ file: prev.file, error });
      }
    }

    for (const [file, handle] of found) {
      const key = `${folder.id}/${file}`;
      const prev = previous.get(file);
      const kept = prev && owns(file, prev.tool) ? prev.tool : null;
      let stamp: { size?: number; modifiedMs?: number } = {};
      const refuse = (hash: string, error: ImportFailure) => {
        next.push({ file, hash, tool: kept, error, ...stamp });
        report.errors.push({ file, error });
      };
      let blob: File;
      let bytes: Uint8Array | null = null;
      let hash: string;
      try {
        blob = await handle.getFile();
        if (blob.size > MAX_COMPONENT_BYTES) {
          refuse('', { code: 'too-large', message: `${file} is ${blob.size} bytes; at most ${MAX_COMPONENT_BYTES} (8 MiB) are accepted` });
          continue;
        }
        stamp = { size: blob.size, modifiedMs: blob.lastModified };
        // Same size and modification time as when it was last hashed: not read again.
        if (prev?.hash && prev.size === stamp.size && prev.modifiedMs === stamp.modifiedMs) hash = prev.hash;
        else {
          bytes = new Uint8Array(await blob.arrayBuffer());
          hash = await sha256(bytes);
        }
      } catch (error) {
        refuse(prev?.hash ?? '', { code: 'unreadable', message: `${file} cannot be read: ${message(error)}` });
        continue;
      }

      if (prev && prev.hash === hash) {
        if (!prev.error && kept) {
          next.push({ ...prev, ...stamp });
          report.unchanged.push(kept);
          continue;
        }
        if (prev.error && STICKY.has(prev.error.code) && !interactive) {
          next.push({ ...prev, tool: kept, ...stamp });
          report.errors.push({ file, error: prev.error });
          continue;
        }
        // Otherwise tried again: its tool went missing (removed by hand), or the last try failed
        // for a passing reason, or the person asked for this rescan.
      }

      try {
        bytes ??= new Uint8Array(await blob.arrayBuffer());
        const record = (await this.options.importTool(bytes, file, discoveredAdmin(admin, key, claims))) as Tool;
        if (record.source !== 'discovered') throw new ToolImportError('name-clash', `a ${record.source} tool named ${record.name} exists; choose another name`);
        const existing = tools.get(record.name);
        tools.set(record.name, record);
        claims.set(record.name, key);
        if (kept && kept !== record.name) {
          // The file now describes another tool: the one it provided before goes.
          const error = await withdraw(kept);
          if (error) report.errors.push({ file, error: { ...error, message: `${file} now provides ${record.name}; withdrawing ${kept} failed: ${error.message}` } });
        }
        next.push({ file, hash, tool: record.name, error: null, ...stamp });
        if (!existing) report.added.push(record.name);
        else if (existing.code.hash !== record.code.hash) report.updated.push(record.name);
        else report.unchanged.push(record.name);
      } catch (error) {
        // Nothing of it is registered (the import discards what it staged); the tool the file
        // provided before, if any, keeps running until the file is fixed or removed.
        refuse(hash, failure(error));
      }
    }

    next.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    const scanned: FolderRecord = { ...folder, lastScanAt: this.now(), files: next };
    await admin.request('folders.put', scanned);
    return { folder: scanned, report };
  }

  private async permission(handle: FileSystemDirectoryHandle, interactive: boolean): Promise<PermissionState> {
    const h = handle as unknown as PermissionHandle;
    try {
      let state: PermissionState = h.queryPermission ? await h.queryPermission({ mode: 'read' }) : 'granted';
      // Asking needs a user gesture: only on the person's own add or rescan.
      if (state === 'prompt' && interactive && h.requestPermission) state = await h.requestPermission({ mode: 'read' });
      return state;
    } catch {
      return 'prompt';
    }
  }

  /** Runs `run` holding the scan lock; without `wait`, returns null at once if it is held. */
  private async exclusive<T>(wait: boolean, run: () => Promise<T>): Promise<T | null> {
    if (this.locks) return this.locks.request(SCAN_LOCK, wait ? {} : { ifAvailable: true }, (lock) => (lock ? run() : null));
    if (!wait && this.scanning) return null;
    const turn = this.chain.then(async () => {
      this.scanning = true;
      try {
        return await run();
      } finally {
        this.scanning = false;
      }
    });
    this.chain = turn.catch(() => undefined);
    return turn;
  }

  private log(text: string, error: unknown): void {
    (this.options.log ?? ((m, e) => console.warn(`[folders] ${m}`, e)))(text, error);
  }
}

/**
 * The admin the import path talks to for one file: its registration is `discovered`, and a
 * name another watched file provides is refused before anything is stored (`name-clash`).
 */
function discoveredAdmin(admin: FolderAdmin, key: string, claims: Map<string, string>): ImportAdmin {
  const request = (method: string, params: unknown): Promise<unknown> => {
    if (method !== 'tools.register') return admin.request(method as keyof AdminMethods, params as never);
    const registration = params as AdminMethods['tools.register']['params'];
    const name = (registration.metadata as { name?: unknown } | null)?.name;
    const owner = typeof name === 'string' ? claims.get(name) : undefined;
    if (owner && owner !== key) {
      return Promise.reject(new ToolImportError('name-clash', `${String(name)} is already provided by the watched file ${owner.slice(owner.indexOf('/') + 1)}; one file per tool name`));
    }
    return admin.request('tools.register', { ...registration, source: 'discovered' });
  };
  return { request } as ImportAdmin;
}

/** The `.wasm` files at the top level of a folder (sub-folders are not searched), by name. */
/** Folders below a watched one that are looked into, and how many components a folder may hold. */
const MAX_DEPTH = 4;
const MAX_FILES = 1_000;

/**
 * The `.wasm` files of a folder and of its folders (to MAX_DEPTH; hidden ones and
 * `node_modules` skipped), by path inside it, sorted. A folder that cannot be read fails the
 * whole scan: its tools must not be withdrawn because it could not be looked into this time.
 */
async function wasmFiles(dir: FileSystemDirectoryHandle, prefix = '', depth = 0, out: [string, FileSystemFileHandle][] = []): Promise<[string, FileSystemFileHandle][]> {
  for await (const handle of (dir as unknown as { values(): AsyncIterable<FileSystemHandle> }).values()) {
    if (out.length >= MAX_FILES) break;
    if (handle.name.startsWith('.')) continue;
    if (handle.kind === 'file' && handle.name.toLowerCase().endsWith('.wasm')) out.push([prefix + handle.name, handle as FileSystemFileHandle]);
    else if (handle.kind === 'directory' && depth < MAX_DEPTH && handle.name !== 'node_modules') await wasmFiles(handle as FileSystemDirectoryHandle, `${prefix}${handle.name}/`, depth + 1, out);
  }
  return depth === 0 ? out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) : out;
}

async function same(a: FileSystemDirectoryHandle, b: FileSystemDirectoryHandle): Promise<boolean> {
  try {
    return await a.isSameEntry(b);
  } catch {
    return false;
  }
}

function view({ id, name, addedAt, lastScanAt, files }: FolderRecord): WatchedFolder {
  return { id, name, addedAt, lastScanAt, files: files.map((f) => ({ ...f })) };
}

function byName(tools: Tool[]): Map<string, Tool> {
  return new Map(tools.map((t) => [t.name, t]));
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A refusal as stored with the folder: code, message and plain-data details. */
function failure(error: unknown): ImportFailure {
  const e = error as { code?: unknown; message?: unknown; details?: unknown };
  const out: ImportFailure = { code: typeof e?.code === 'string' ? e.code : 'import-failed', message: typeof e?.message === 'string' ? e.message : String(error) };
  if (e?.details !== undefined) {
    try {
      out.details = JSON.parse(JSON.stringify(e.details)) as unknown;
    } catch {
      // Not plain data: left out.
    }
  }
  return out;
}
