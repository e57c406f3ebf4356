import { afterEach, describe, expect, it, vi } from 'vitest';
import { announceChanges, CHANGE_NOTICE_MS } from '../../src/server/change-feed';
import type { AuditEntry } from '../../src/store/schema';
import type { AuditLog } from '../../src/store/audit';

// The service worker tells open admin pages that the log grew: at most one notice per
// CHANGE_NOTICE_MS however many commits, carrying the newest seq and every event since the last.

function fakeLog() {
  let listener: ((entries: readonly AuditEntry[]) => void) | null = null;
  const log = { onCommitted: (l: typeof listener) => ((listener = l), () => (listener = null)) } as unknown as AuditLog;
  const commit = (...entries: [number, string][]) => listener?.(entries.map(([seq, event]) => ({ seq, event }) as AuditEntry));
  return { log, commit, subscribed: () => listener !== null };
}

afterEach(() => void vi.useRealTimers());

describe('announceChanges', () => {
  it('coalesces a burst of commits into one notice with the newest seq and the distinct events', () => {
    vi.useFakeTimers();
    const { log, commit } = fakeLog();
    const posted: unknown[] = [];
    announceChanges(log, { postMessage: (m: unknown) => posted.push(m) });
    commit([1, 'call.request']);
    commit([2, 'call.result'], [3, 'call.request']);
    commit([4, 'call.result']);
    expect(posted).toEqual([]);
    vi.advanceTimersByTime(CHANGE_NOTICE_MS);
    expect(posted).toEqual([{ channel: 'mcp-sandbox', v: 1, kind: 'audit-appended', newestSeq: 4, events: ['call.request', 'call.result'] }]);
    commit([5, 'admin']);
    vi.advanceTimersByTime(CHANGE_NOTICE_MS);
    expect(posted.at(-1)).toMatchObject({ newestSeq: 5, events: ['admin'] });
    expect(posted).toHaveLength(2);
  });

  it('says nothing while nothing is committed, and nothing after it is stopped', () => {
    vi.useFakeTimers();
    const { log, commit, subscribed } = fakeLog();
    const posted: unknown[] = [];
    const stop = announceChanges(log, { postMessage: (m: unknown) => posted.push(m) });
    vi.advanceTimersByTime(10 * CHANGE_NOTICE_MS);
    expect(posted).toEqual([]);
    stop();
    expect(subscribed()).toBe(false);
    commit([1, 'admin']);
    vi.advanceTimersByTime(CHANGE_NOTICE_MS);
    expect(posted).toEqual([]);
  });
});
