import { describe, expect, it } from 'vitest';
import { callRows } from '../../src/ui/call-rows';
import type { AuditEntry } from '../../src/store/schema';

const e = (seq: number, event: string, outcome: string, callId: string | null = null) => ({ seq, event, outcome, callId }) as AuditEntry;

describe('callRows', () => {
  it('folds each call into one row showing its closing entry and outcome, newest first, and keeps other entries as they are', () => {
    const newestFirst = [
      e(9, 'call.result', 'denied', 'b'),
      e(8, 'call.capability', 'denied', 'b'),
      e(7, 'admin', 'info'),
      e(6, 'call.capability', 'ok', 'b'),
      e(5, 'call.request', 'pending', 'c'),
      e(4, 'call.request', 'pending', 'b'),
      e(3, 'call.result', 'ok', 'a'),
      e(2, 'call.request', 'pending', 'a'),
      e(1, 'session.open', 'ok'),
    ];
    const rows = callRows(newestFirst);
    expect(rows.map((r) => [r.entry.seq, r.outcome, r.entries.map((x) => x.seq), r.capabilities])).toEqual([
      [9, 'denied', [4, 6, 8, 9], 2],
      [7, 'info', [7], 0],
      [5, 'pending', [5], 0],
      [3, 'ok', [2, 3], 0],
      [1, 'ok', [1], 0],
    ]);
  });

  it('a refused call is one row of its own; an interrupted call ends interrupted', () => {
    const rows = callRows([e(3, 'call.interrupted', 'interrupted', 'x'), e(2, 'call.request', 'pending', 'x'), e(1, 'call.rejected', 'denied', 'y')]);
    expect(rows.map((r) => [r.entry.event, r.outcome])).toEqual([
      ['call.interrupted', 'interrupted'],
      ['call.rejected', 'denied'],
    ]);
  });
});
