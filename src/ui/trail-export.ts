import type { AuditEntry } from '../store/schema';

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
