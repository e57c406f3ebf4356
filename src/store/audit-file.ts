/**
 * Verifies an audit file on its own, anywhere (the app, or Node: `npm run audit:verify`): an
 * export (`audit/export.jsonl`) or an archive (`audit/archive.jsonl`), read line by line.
 *
 * - Entries must form an intact chain (hashes, links, no gaps), from the genesis, or from the
 *   signed archive checkpoint an export starts with when older entries were archived, or from
 *   `from` (the end of the previous file, when several are checked in order).
 * - An archive ends with its checkpoint: it must name the last entry and its hash, start where
 *   the file starts, carry the SHA-256 of the bytes before it, and its signature must verify
 *   with the public key it names.
 * - A **segment** (the trail's "Export view, verifiable": the entries a filter matched, in seq
 *   order) starts with `{"segment": {"after": {seq, hash}}}` and continues the chain from there:
 *   each matched entry in full (its hash recomputed), each entry between them as a link line
 *   `{"link": {seq, prevHash, hash}}` (its content left out, its place in the chain kept). What
 *   verifies: every full entry is unchanged and the whole run is one unbroken chain from `after`
 *   to the last line, which the person compares with the live log's entry of that seq.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { verifyCheckpointSignature } from './archive';
import { GENESIS_HASH, verifyChain, type Tail } from './audit';
import type { ArchiveCheckpoint } from './schema';

export interface FileVerdict {
  ok: boolean;
  /** Entries checked. */
  entries: number;
  /** Where the chain in the file starts (`signed`: from a signed checkpoint of an earlier archive). */
  from: Tail & { signed: boolean };
  /** The last entry checked: what the next file (or the browser's log) links to. */
  head: Tail;
  /** An archive's closing checkpoint, checked. */
  archive: ArchiveCheckpoint | null;
  /** For a segment: entries present only as links (their content not in the file). */
  links?: number;
  /** What is wrong, at which line, when not ok. */
  problem?: string;
}

/** The first line of a segment: where its chain starts. */
export interface SegmentHeader {
  segment: { after: Tail };
}
/** An entry of a segment that the filter did not match: its place in the chain, not its content. */
export interface LinkLine {
  link: { seq: number; prevHash: string; hash: string };
}

const isSegmentLine = (v: unknown): v is SegmentHeader => {
  const after = (v as { segment?: { after?: Partial<Tail> } } | null)?.segment?.after;
  return typeof v === 'object' && v !== null && 'segment' in v && Number.isSafeInteger(after?.seq) && (after!.seq as number) >= 0 && typeof after?.hash === 'string';
};
const isLinkLine = (v: unknown): v is LinkLine => typeof v === 'object' && v !== null && 'link' in v;

const isCheckpointLine = (v: unknown): v is { archive: ArchiveCheckpoint } => typeof v === 'object' && v !== null && 'archive' in v && typeof (v as { archive: unknown }).archive === 'object';

export async function verifyAuditFile(lines: AsyncIterable<string> | Iterable<string>, from: Tail = { seq: 0, hash: GENESIS_HASH }): Promise<FileVerdict> {
  const hasher = sha256.create();
  const encoder = new TextEncoder();
  const verdict: FileVerdict = { ok: false, entries: 0, from: { ...from, signed: false }, head: from, archive: null };
  const fail = (line: number, problem: string) => ({ ...verdict, ok: false, problem: `line ${line}: ${problem}` });
  let n = 0;
  for await (const raw of lines) {
    n++;
    if (raw.trim() === '') continue;
    if (verdict.archive) return fail(n, 'text after the archive checkpoint');
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      return fail(n, 'not JSON');
    }
    if (isSegmentLine(value)) {
      if (n !== 1 || verdict.entries > 0) return fail(n, 'a segment header is only valid as the first line');
      const { after } = value.segment;
      verdict.from = { seq: after.seq, hash: after.hash, signed: false };
      verdict.head = { seq: after.seq, hash: after.hash };
      verdict.links = 0;
      continue;
    }
    if (isLinkLine(value)) {
      if (verdict.links === undefined) return fail(n, 'a link line outside a segment (a full export holds every entry in full)');
      const { seq, prevHash, hash } = value.link ?? ({} as LinkLine['link']);
      if (!Number.isSafeInteger(seq) || typeof prevHash !== 'string' || typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) return fail(n, 'a malformed link line');
      if (seq !== verdict.head.seq + 1) return fail(n, `link #${seq}: a gap after #${verdict.head.seq}`);
      if (prevHash !== verdict.head.hash) return fail(n, `link #${seq}: it does not link to #${verdict.head.seq}`);
      hasher.update(encoder.encode(raw + '\n'));
      verdict.head = { seq, hash };
      verdict.links++;
      continue;
    }
    if (isCheckpointLine(value)) {
      if (verdict.links !== undefined) return fail(n, 'an archive checkpoint inside a segment');
      const checkpoint = value.archive;
      if (!(await verifyCheckpointSignature(checkpoint))) return fail(n, `archive checkpoint #${checkpoint.through} does not match its signature`);
      if (verdict.entries === 0 && n === 1) {
        // An export of a log whose older entries were archived: it continues from that checkpoint.
        verdict.from = { seq: checkpoint.through, hash: checkpoint.hash, signed: true };
        verdict.head = { seq: checkpoint.through, hash: checkpoint.hash };
        continue;
      }
      if (checkpoint.through !== verdict.head.seq || checkpoint.hash !== verdict.head.hash) return fail(n, `the checkpoint names #${checkpoint.through}, the file ends at #${verdict.head.seq}`);
      if (checkpoint.previous.through !== verdict.from.seq || checkpoint.previous.hash !== verdict.from.hash) return fail(n, `the checkpoint says the file starts after #${checkpoint.previous.through}, it starts after #${verdict.from.seq}`);
      if (bytesToHex(hasher.digest()) !== checkpoint.fileSha256) return fail(n, 'the file\'s bytes are not those the checkpoint names (SHA-256)');
      verdict.archive = checkpoint;
      continue;
    }
    hasher.update(encoder.encode(raw + '\n'));
    const checked = await verifyChain([value], verdict.head);
    if (!checked.ok) return fail(n, `entry #${checked.seq}: ${checked.reason}${'detail' in checked ? ` (${checked.detail})` : ''}`);
    verdict.head = { seq: checked.headSeq, hash: checked.head };
    verdict.entries++;
  }
  return { ...verdict, ok: true };
}
