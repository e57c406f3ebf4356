/**
 * Retention: the oldest audit entries are written to a file the person keeps, then removed from
 * the browser, without breaking the chain (docs/audit.md, "Retention").
 *
 * 1. `writeArchive` reads entries `firstSeq … through` in bounded steps (each on its own read
 *    transaction), checks their chain as it goes, and produces the file: the entries as JSON
 *    Lines, then one line `{"archive": checkpoint}`. The checkpoint names the last entry and its
 *    hash, where the file's chain starts, the SHA-256 of the lines before it, and is signed with
 *    this sandbox's archive key (ECDSA P-256; the private half never leaves IndexedDB).
 * 2. `pruneArchived` takes that checkpoint back once the file is kept: it checks the signature
 *    and that the log still holds exactly that entry, stores the checkpoint, and then removes the
 *    entries it vouches for in small transactions. Verification then starts from the newest
 *    checkpoint instead of the genesis (`chainStart`), so the chain still verifies end to end:
 *    file by file, and the browser's part from the last checkpoint.
 *
 * An entry of a call still open (its result not yet written) is never archived, nor the newest
 * entry (the log chains on from it).
 */
import type { Db, DbHandle } from './db';
import { base64ToBytes, bytesToBase64, canonicalJson } from './hash';
import { GENESIS_HASH, toJsonLines, verifyChain, type Tail } from './audit';
import type { ArchiveCheckpoint, SigningKeyRecord } from './schema';
import { openCalls } from './open-calls';
import { forgetThrough } from './search';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

const KEY_ID = 'archive';
const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
/** Entries read (and removed) per transaction: no step holds the store long enough to delay a call. */
export const ARCHIVE_STEP = 1_000;

export class ArchiveError extends Error {
  constructor(
    readonly code: 'archive-range' | 'archive-broken' | 'archive-signature' | 'archive-stale',
    message: string,
  ) {
    super(message);
    this.name = 'ArchiveError';
  }
}

/** What can be archived now: entries from `firstSeq` up to `maxThrough` (0 when nothing can). */
export interface ArchiveRange {
  /** The oldest entry still in the browser (one after the newest checkpoint). */
  firstSeq: number;
  newestSeq: number;
  /** The newest entry that may be archived: before the newest entry and before every open call's request. */
  maxThrough: number;
  /** The newest checkpoint, if entries were archived before. */
  archived: ArchiveCheckpoint | null;
}

export async function archiveRange(handle: DbHandle): Promise<ArchiveRange> {
  const db = await handle.get();
  const tx = db.transaction(['audit', 'archives']);
  const [newest, archived] = await Promise.all([tx.objectStore('audit').openCursor(null, 'prev'), tx.objectStore('archives').openCursor(null, 'prev')]);
  await tx.done;
  const newestSeq = newest ? Number(newest.key) : 0;
  let maxThrough = newestSeq - 1;
  // An open call's entries stay: its result will link to them, and recovery reads them.
  for (const { firstSeq } of (await openCalls(db)).open) maxThrough = Math.min(maxThrough, firstSeq - 1);
  const checkpoint = archived?.value ?? null;
  const firstSeq = (checkpoint?.through ?? 0) + 1;
  return { firstSeq, newestSeq, maxThrough: maxThrough >= firstSeq ? maxThrough : 0, archived: checkpoint };
}

/** The newest entry written before `ts` that may be archived (0 if none), found by bisection on `seq`. */
export async function throughBefore(handle: DbHandle, ts: number): Promise<number> {
  const range = await archiveRange(handle);
  const db = await handle.get();
  let lo = range.firstSeq - 1;
  let hi = range.maxThrough;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    const entry = await db.get('audit', mid);
    if (entry && entry.ts < ts) lo = mid;
    else hi = mid - 1;
  }
  return lo >= range.firstSeq ? lo : 0;
}

/** Where verification of the browser's part of the log starts: the newest checkpoint (its signature checked), or the genesis. */
export async function chainStart(handle: DbHandle): Promise<{ from: Tail; archived: ArchiveCheckpoint | null; problem: string | null }> {
  const db = await handle.get();
  const newest = await db.transaction('archives').store.openCursor(null, 'prev');
  if (!newest) return { from: { seq: 0, hash: GENESIS_HASH }, archived: null, problem: null };
  const checkpoint = newest.value;
  const problem = await checkpointProblem(db, checkpoint);
  return { from: { seq: checkpoint.through, hash: checkpoint.hash }, archived: checkpoint, problem };
}

/**
 * Writes the archive file for entries `firstSeq … through` to `sink`, step by step, and returns
 * its checkpoint (also written, as the last line). Rejects, before writing the checkpoint, if the
 * range cannot be archived or the chain in it does not verify.
 */
export async function writeArchive(handle: DbHandle, through: number, sink: (chunk: string) => void | Promise<void>, now: number): Promise<ArchiveCheckpoint> {
  const range = await archiveRange(handle);
  if (!Number.isSafeInteger(through) || through < range.firstSeq || through > range.maxThrough) {
    throw new ArchiveError('archive-range', range.maxThrough ? `entries #${range.firstSeq}–#${range.maxThrough} can be archived, not through #${through}` : 'nothing can be archived yet: the log keeps its newest entry and every open call');
  }
  const previous: Tail = range.archived ? { seq: range.archived.through, hash: range.archived.hash } : { seq: 0, hash: GENESIS_HASH };
  const fileHash = sha256.create();
  const encoder = new TextEncoder();
  let at = previous;
  const db = await handle.get();
  while (at.seq < through) {
    const tx = db.transaction('audit');
    const records = await tx.store.getAll(IDBKeyRange.bound(at.seq, through, true, false), ARCHIVE_STEP);
    // Hashing and writing after the read transaction's end, never holding a call's write behind it.
    await tx.done;
    const verdict = await verifyChain(records, at);
    if (!verdict.ok) throw new ArchiveError('archive-broken', `the chain breaks at #${verdict.seq} (${verdict.reason}): verify it before archiving`);
    if (verdict.count === 0) throw new ArchiveError('archive-broken', `entry #${at.seq + 1} is missing`);
    const text = toJsonLines(records);
    fileHash.update(encoder.encode(text));
    await sink(text);
    at = { seq: verdict.headSeq, hash: verdict.head };
  }
  const key = await signingKey(db);
  const body: Omit<ArchiveCheckpoint, 'signature'> = {
    format: 1,
    firstSeq: range.firstSeq,
    through,
    hash: at.hash,
    previous: { through: previous.seq, hash: previous.hash },
    fileSha256: bytesToHex(fileHash.digest()),
    createdAt: now,
    publicKey: key.publicKey,
  };
  const signature = bytesToBase64(new Uint8Array(await crypto.subtle.sign(SIGNING, key.privateKey, encoder.encode(canonicalJson(body)))));
  const checkpoint: ArchiveCheckpoint = { ...body, signature };
  await sink(JSON.stringify({ archive: checkpoint }) + '\n');
  return checkpoint;
}

/**
 * Removes the entries a checkpoint vouches for, once its file is kept. Idempotent: a removal cut
 * short (the service worker stopped, or `budgetMs` spent) is finished by the same call again.
 * Returns how many entries were removed now, and whether none is left to remove.
 *
 * `budgetMs` bounds one call's work (checked between steps): removing 100,000 entries takes tens of
 * seconds on a slow disk or an older Chromium, longer than an admin request may stay unanswered
 * and than a person should wait without progress.
 */
export async function pruneArchived(handle: DbHandle, checkpoint: ArchiveCheckpoint, beforeRemoving: () => Promise<void> = async () => {}, budgetMs = Infinity): Promise<{ removed: number; done: boolean }> {
  const started = performance.now();
  const db = await handle.get();
  const problem = await checkpointProblem(db, checkpoint);
  if (problem) throw new ArchiveError('archive-signature', problem);
  const kept = await db.get('archives', checkpoint.through);
  if (!kept || canonicalJson(kept) !== canonicalJson(checkpoint)) {
    const range = await archiveRange(handle);
    if (checkpoint.firstSeq !== range.firstSeq) throw new ArchiveError('archive-stale', `the log now starts at #${range.firstSeq}, this archive at #${checkpoint.firstSeq}: archive again`);
    if (checkpoint.through > range.maxThrough) throw new ArchiveError('archive-range', `entry #${checkpoint.through} can no longer be archived (an open call or the newest entry)`);
    const entry = await db.get('audit', checkpoint.through);
    if (entry?.hash !== checkpoint.hash) throw new ArchiveError('archive-stale', `entry #${checkpoint.through} is not the one this archive ends with`);
    await beforeRemoving();
    await db.put('archives', checkpoint);
  }
  let removed = 0;
  for (;;) {
    // The entries' postings go with them (search.ts; record 0, the index's progress, stays).
    const tx = db.transaction(['audit', 'searchBlocks', 'searchWindows'], 'readwrite');
    const keys = await tx.objectStore('audit').getAllKeys(IDBKeyRange.upperBound(checkpoint.through), ARCHIVE_STEP);
    if (keys.length === 0) {
      // Last, the window across the archive's end keeps only its newer postings (also where an
      // earlier run removed the entries and stopped before this).
      await Promise.all([forgetThrough(tx.objectStore('searchBlocks'), tx.objectStore('searchWindows'), checkpoint.through), tx.done]);
      return { removed, done: true };
    }
    await Promise.all([tx.objectStore('audit').delete(IDBKeyRange.bound(keys[0]!, keys[keys.length - 1]!)), forgetThrough(tx.objectStore('searchBlocks'), tx.objectStore('searchWindows'), keys[keys.length - 1]!, false), tx.done]);
    removed += keys.length;
    if (performance.now() - started >= budgetMs) return { removed, done: false };
    // A call's transaction waiting behind this one runs now.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

/** Why a checkpoint cannot vouch for anything here (null when it can): not signed by this sandbox's key, or not matching its signature. */
async function checkpointProblem(db: Db, checkpoint: ArchiveCheckpoint): Promise<string | null> {
  const ours = await db.get('signingKeys', KEY_ID);
  if (!ours || ours.publicKey.x !== checkpoint.publicKey?.x || ours.publicKey.y !== checkpoint.publicKey?.y) return `archive checkpoint #${checkpoint.through} is not signed by this sandbox's archive key`;
  return (await verifyCheckpointSignature(checkpoint)) ? null : `archive checkpoint #${checkpoint.through} does not match its signature`;
}

/** Whether the checkpoint's signature verifies with the public key it names (anyone can check a file with this). */
export async function verifyCheckpointSignature(checkpoint: ArchiveCheckpoint): Promise<boolean> {
  try {
    const { signature, ...body } = checkpoint;
    const key = await crypto.subtle.importKey('jwk', checkpoint.publicKey, ALGORITHM, false, ['verify']);
    return await crypto.subtle.verify(SIGNING, key, base64ToBytes(signature), new TextEncoder().encode(canonicalJson(body)));
  } catch {
    return false;
  }
}

/** This sandbox's archive key, made on first use (two makers at once: the first stored wins). */
async function signingKey(db: Db): Promise<SigningKeyRecord> {
  const found = await db.get('signingKeys', KEY_ID);
  if (found) return found;
  const pair = await crypto.subtle.generateKey(ALGORITHM, false, ['sign', 'verify']);
  const jwk = await crypto.subtle.exportKey('jwk', pair.publicKey);
  const record: SigningKeyRecord = { id: KEY_ID, alg: 'ECDSA-P256', privateKey: pair.privateKey, publicKey: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, createdAt: Date.now() };
  try {
    await db.add('signingKeys', record);
    return record;
  } catch {
    return (await db.get('signingKeys', KEY_ID))!;
  }
}
