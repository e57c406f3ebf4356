/**
 * What the app window's sandbox host offers the app's own UI (handed over by
 * src/entries/app.ts, so the UI never imports sandbox code). Types only.
 */
import type { ToolRecord } from '../store/schema';

export type ImportStage = 'checking' | 'transpiling' | 'introspecting' | 'storing';

/** A refusal with a stable code (`not-wasm`, `not-a-component`, `too-large`, `describe-failed`, `invalid-metadata`, `name-clash`, `pinned`, …). */
export interface ImportFailure {
  code: string;
  message: string;
  /** For `invalid-metadata`: `{ errors: {path, reason}[] }`. */
  details?: unknown;
}

export interface ToolImporter {
  /** Checks, transpiles, introspects and registers one component file; resolves with the new record. */
  importTool(bytes: ArrayBuffer | Uint8Array, fileName: string, options?: { onProgress?: (stage: ImportStage) => void }): Promise<ToolRecord>;
}

/** A folder the person picked; its `.wasm` components are kept registered as `discovered` tools. */
export interface WatchedFolder {
  id: string;
  name: string;
  addedAt: number;
  lastScanAt: number | null;
  /** The components found in the last scan and what became of each. */
  files: { file: string; hash: string; tool: string | null; error: ImportFailure | null }[];
}

export interface ScanReport {
  folderId: string;
  added: string[];
  updated: string[];
  removed: string[];
  unchanged: string[];
  errors: { file: string; error: ImportFailure }[];
}

export interface FolderWatchApi {
  /** True where the File System Access API can pick folders (`showDirectoryPicker`). */
  readonly pickerSupported: boolean;
  list(): Promise<WatchedFolder[]>;
  /** Starts watching a folder (from `showDirectoryPicker()`, or the origin-private file system), scanning it at once. */
  add(handle: FileSystemDirectoryHandle): Promise<{ folder: WatchedFolder; report: ScanReport }>;
  /** Stops watching; the tools it registered are withdrawn. */
  remove(id: string): Promise<void>;
  /** Rescans one folder, or all. Also runs on an interval while the app is open. */
  rescan(id?: string): Promise<ScanReport[]>;
}
