import type { AuditEntry } from '../store/schema';
import type { LinkLine, SegmentHeader } from '../store/audit-file';
import type { Tail } from '../store/audit';

/** CSV columns of a trail export, in order. */
export const CSV_COLUMNS = ['seq', 'time', 'event', 'outcome', 'agent', 'tool', 'callId', 'sessionId', 'durationMs', 'memoryBytes', 'error', 'rule', 'hash', 'prevHash', 'replayOf'] as const;

/** One CSV field (RFC 4180): quoted when it holds a comma, quote or line break; a leading =, +, - or @ is quoted with a ' so a spreadsheet does not run it. */
export function csvField(value: unknown): string {
  let text = value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) || text !== String(value ?? '') ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The entries as CSV rows (no header). */
export function csvRows(entries: readonly AuditEntry[]): string {
  return entries
    .map((e) => {
      const rule = e.error?.details?.['rule'];
      const row = [e.seq, new Date(e.ts).toISOString(), e.event, e.outcome, e.agentId, e.tool, e.callId, e.sessionId, e.durationMs, e.memoryBytes, e.error?.code, typeof rule === 'string' ? rule : '', e.hash, e.prevHash, e.replayOf];
      return row.map(csvField).join(',') + '\r\n';
    })
    .join('');
}

export const csvHeader = (): string => CSV_COLUMNS.join(',') + '\r\n';

/** One page of `audit.segment` (src/api/admin.ts). */
export interface SegmentPage {
  after: Tail | null;
  lines: (AuditEntry | LinkLine)[];
  next: number | null;
}

/**
 * The lines of a verifiable segment holding the entries `seqs` (any order; the filter's matches):
 * a header naming where the chain before the first one ends, then every entry from the first to
 * the last, the matched ones as stored and the others as links (src/store/audit-file.ts), read
 * page by page. `npm run audit:verify` checks the file; an empty selection gives no lines.
 */
export async function segmentLines(seqs: readonly number[], page: (from: number, to: number, include: number[]) => Promise<SegmentPage>): Promise<string[]> {
  if (seqs.length === 0) return [];
  const sorted = [...new Set(seqs)].sort((a, b) => a - b);
  const first = sorted[0]!;
  const last = sorted[sorted.length - 1]!;
  const out: string[] = [];
  let from: number | null = first;
  let i = 0;
  while (from !== null) {
    const include: number[] = [];
    while (i < sorted.length && sorted[i]! < from + 2_000) include.push(sorted[i++]!);
    const p = await page(from, last, include);
    if (out.length === 0) {
      if (!p.after) throw new Error(`entry #${first} is no longer in the log (archived?): the segment cannot start there`);
      out.push(JSON.stringify({ segment: { after: p.after } } satisfies SegmentHeader) + '\n');
    }
    for (const line of p.lines) out.push(JSON.stringify(line) + '\n');
    from = p.next;
  }
  return out;
}
