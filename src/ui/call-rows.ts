import { CLOSING_EVENTS, type AuditEntry } from '../store/schema';

/** One row of the trail in calls mode: a call's entries folded, or one entry that belongs to no call. */
export interface CallRow {
  /** The entry the row shows (a call's closing entry when it has one, else its first). */
  entry: AuditEntry;
  /** Every entry of the call loaded, oldest first (one for an entry of no call). */
  entries: AuditEntry[];
  /** The call's outcome: its result's, rejection's or interruption's; `pending` while none is loaded. */
  outcome: AuditEntry['outcome'];
  /** Host capability uses recorded (`call.capability`). */
  capabilities: number;
}

/**
 * Folds trail entries into one row per call (newest first, by the call's newest entry), keeping
 * entries of no call (sessions, admin changes) as rows of their own.
 */
export function callRows(newestFirst: readonly AuditEntry[]): CallRow[] {
  const rows: CallRow[] = [];
  const byCall = new Map<string, CallRow>();
  for (const e of newestFirst) {
    if (!e.callId) {
      rows.push({ entry: e, entries: [e], outcome: e.outcome, capabilities: 0 });
      continue;
    }
    let row = byCall.get(e.callId);
    if (!row) {
      row = { entry: e, entries: [], outcome: 'pending', capabilities: 0 };
      byCall.set(e.callId, row);
      rows.push(row);
    }
    row.entries.unshift(e);
    if (e.event === 'call.capability') row.capabilities++;
    if (CLOSING_EVENTS.has(e.event)) {
      row.entry = e;
      row.outcome = e.outcome;
    } else if (!CLOSING_EVENTS.has(row.entry.event)) {
      row.entry = e;
    }
  }
  return rows;
}
