/**
 * The workspace files tools reach through the file capability, sealed at rest when asked.
 *
 * Invariants:
 * - Contents are sealed with the file's path as their context: sealed contents moved to another
 *   path do not open there.
 * - Sealing happens before the write's transaction, and opening after the read's: only IndexedDB
 *   requests may be awaited inside one.
 * - `path`, `size` and `modifiedMs` stay readable (listing and stat need them without the key).
 */
import type { DbHandle } from './db';
import type { WorkspaceFile, WorkspaceRecord } from './schema';
import { isSealed, type Sealer } from './sealing';

/** The file at `path` with its contents opened, or undefined when there is none. Rejects if sealed contents do not open. */
export async function readWorkspaceFile(handle: DbHandle, sealer: Sealer, path: string): Promise<WorkspaceFile | undefined> {
  const record = await (await handle.get()).get('workspace', path);
  if (!record) return undefined;
  if (typeof record.contents === 'string') return { ...record, contents: record.contents };
  if (!isSealed(record.contents)) throw new Error(`workspace file ${path} holds neither text nor sealed text`);
  const contents = await sealer.open(record.contents, path);
  if (typeof contents !== 'string') throw new Error(`workspace file ${path} does not hold sealed text`);
  return { ...record, contents };
}

/** Stores `file`, its contents sealed when `seal` (the writer's policy requires encryption at rest). */
export async function writeWorkspaceFile(handle: DbHandle, sealer: Sealer, file: WorkspaceFile, options: { seal: boolean }): Promise<void> {
  const record: WorkspaceRecord = options.seal ? { ...file, contents: await sealer.seal(file.contents, file.path) } : file;
  await (await handle.get()).put('workspace', record);
}
