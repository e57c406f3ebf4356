import { describe, expect, it } from 'vitest';
import { ERROR_META_KEY } from '../../src/shared/errors';
import { SESSION_CHECKPOINT } from '../../src/store/session-checkpoints';
import type { SessionRecord } from '../../src/store/schema';
import { startHarness, swappableEndpoint, loggedEntries, type Harness } from './support/server-fixture';

const ECHO_ONLY = (session: Record<string, unknown>) => ({ version: 1, tools: { allowed: ['echo'] }, session: { callsPerMinute: 100_000, ...session } });
const errorOf = (r: { _meta?: Record<string, unknown> }) => r._meta?.[ERROR_META_KEY] as { code: string; details: { rule: string; limit?: unknown } } | undefined;

/** A lifetime that stops before the log goes idle: its held-back session records are never written. */
function stopsBeforeIdle(h: Harness): void {
  (h.ctx.audit as unknown as { storeSessions(): Promise<void> }).storeSessions = async () => undefined;
}

async function stored(h: Harness, id: string): Promise<SessionRecord> {
  return (await (await h.ctx.db.get()).get('sessions', id))!;
}

describe("a session's record", () => {
  it('is written with the first call of a busy spell and every SESSION_CHECKPOINT calls, not with every call; complete once the log is idle', async () => {
    const h = await startHarness();
    const client = await h.connect({ agent: 'busy' });
    const id = client.transport!.sessionId!;
    const calls = SESSION_CHECKPOINT + 44;
    const puts: number[] = [];
    const realPut = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
      if (this.name === 'sessions') puts.push((value as SessionRecord).callCount);
      return realPut.call(this, value, key);
    };
    try {
      for (let i = 0; i < calls; i++) await client.callTool({ name: 'echo', arguments: { text: `n${i}` } });
      await h.ctx.audit.settled();
    } finally {
      IDBObjectStore.prototype.put = realPut;
    }
    // With its first call (the stored record flagged: later calls may be missing from it), and
    // again SESSION_CHECKPOINT calls later.
    expect(puts).toEqual([1, SESSION_CHECKPOINT + 1]);
    const requests = (await loggedEntries(h.ctx)).filter((e) => e.event === 'call.request');
    expect(await stored(h, id)).toMatchObject({ callCount: SESSION_CHECKPOINT + 1, unflushed: true, countedThrough: requests[SESSION_CHECKPOINT]!.seq });
    // The log goes idle: the record is written complete.
    await h.ctx.audit.checkpoint();
    expect(await stored(h, id)).toMatchObject({ callCount: calls, unflushed: false, countedThrough: requests.at(-1)!.seq });
    expect((await h.ctx.sessions.get(id))!.callCount).toBe(calls);
  });

  it('of a lifetime stopped before the log went idle is completed from the log: the session call limit holds exactly', async () => {
    const first = await startHarness();
    await first.agent('capped', 'Untrusted', ECHO_ONLY({ maxCalls: 5 }));
    stopsBeforeIdle(first);
    const endpoint = swappableEndpoint(first.link);
    const client = await first.connect({ agent: 'capped' }, endpoint);
    const id = client.transport!.sessionId!;
    for (let i = 0; i < 3; i++) expect((await client.callTool({ name: 'echo', arguments: { text: `a${i}` } })).isError).toBeFalsy();
    await first.ctx.audit.settled();
    expect(await stored(first, id)).toMatchObject({ callCount: 1, unflushed: true });

    // The next lifetime: the same database, nothing in memory.
    const second = await startHarness(first.dbName, first.executor, false);
    endpoint.swap(second.link);
    for (let i = 0; i < 2; i++) expect((await client.callTool({ name: 'echo', arguments: { text: `b${i}` } })).isError).toBeFalsy();
    expect(errorOf(await client.callTool({ name: 'echo', arguments: { text: 'one too many' } }))).toMatchObject({ code: 'policy-denied', details: { rule: 'session.max-calls', limit: 5 } });
    expect((await second.ctx.sessions.get(id))!.callCount).toBe(5);
  });

  it('of an ended lifetime is listed complete without the session being used again, and written complete at the next checkpoint', async () => {
    const first = await startHarness();
    stopsBeforeIdle(first);
    const client = await first.connect({ agent: 'listed' });
    const id = client.transport!.sessionId!;
    for (let i = 0; i < 4; i++) await client.callTool({ name: 'echo', arguments: { text: `c${i}` } });
    await client.callTool({ name: 'no_such_tool', arguments: {} }).catch(() => null);
    const entries = await loggedEntries(first.ctx);
    expect(await stored(first, id)).toMatchObject({ callCount: 1, unflushed: true });

    const second = await startHarness(first.dbName, first.executor, false);
    const listed = (await second.ctx.sessions.list()).find((s) => s.id === id)!;
    const activity = entries.filter((e) => e.sessionId === id && (e.event === 'call.request' || e.event === 'call.rejected'));
    expect(listed).toMatchObject({ callCount: 4, lastActivityAt: Math.max(...activity.map((e) => e.ts)) });
    await second.ctx.audit.checkpoint();
    expect(await stored(second, id)).toMatchObject({ callCount: 4, unflushed: false, countedThrough: Math.max(...entries.filter((e) => e.sessionId === id).map((e) => e.seq)) });
  });
});
