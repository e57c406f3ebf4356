import { afterEach, describe, expect, it, vi } from 'vitest';
import { announceChanges, CHANGE_NOTICE_MS } from '../../src/server/change-feed';
import type { AuditEntry } from '../../src/store/schema';
import type { AuditLog } from '../../src/store/audit';

// The service worker tells open admin pages that the log grew: at most one notice per
// CHANGE_NOTICE_MS however many commits, carrying the newest seq and every event since the last.

function fakeLog() {
  let listener: ((entries: readonly AuditEntry[]) => void) | null = null;
  let failed: ((error: unknown) => void) | null = null;
  const log = { onCommitted: (l: typeof listener) => ((listener = l), () => (listener = null)), onCommitFailed: (l: typeof failed) => ((failed = l), () => (failed = null)) } as unknown as AuditLog;
  const commit = (...entries: [number, string][]) => listener?.(entries.map(([seq, event]) => ({ seq, event }) as AuditEntry));
  const fail = (name: string) => failed?.(Object.assign(new Error(name), { name }));
  return { log, commit, fail, subscribed: () => listener !== null && failed !== null };
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

  it('says at once that the quota is reached (once a second at most), and nothing of other failures', () => {
    vi.useFakeTimers();
    const { log, fail } = fakeLog();
    const posted: { kind: string }[] = [];
    announceChanges(log, { postMessage: (m: { kind: string }) => posted.push(m) });
    fail('AbortError');
    expect(posted).toEqual([]);
    fail('QuotaExceededError');
    fail('QuotaExceededError');
    expect(posted).toMatchObject([{ kind: 'storage-full' }]);
    vi.advanceTimersByTime(1_000);
    fail('QuotaExceededError');
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
