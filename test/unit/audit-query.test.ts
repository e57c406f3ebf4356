import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/store/audit';
import { queryAudit, type AuditFilter } from '../../src/store/audit-query';
import { DbHandle } from '../../src/store/db';
import type { AuditEntry } from '../../src/store/schema';
import { freshDbName } from './support/server-fixture';

// The trail's query over the whole log: newest first, every filter field, paged without gaps or
// repeats, whichever index it walks.

async function logOf(count: number): Promise<DbHandle> {
  const handle = new DbHandle(freshDbName());
  let t = 1_000;
  // Several entries share a millisecond, as they do under load.
  const log = new AuditLog(handle, () => Math.floor(t++ / 3));
  const append = (i: number) => {
    const agentId = ['a', 'b', 'c'][i % 3]!;
    const tool = i % 5 === 0 ? null : ['x', 'y'][i % 2]!;
    return log.append({ event: tool ? 'call.result' : 'admin', outcome: i % 7 === 0 ? 'error' : tool ? 'ok' : 'info', agentId, tool });
  };
  // In batches (the log commits what is queued together), in order.
  for (let i = 0; i < count; i += 500) await Promise.all(Array.from({ length: Math.min(500, count - i) }, (_, j) => append(i + j)));
  return handle;
}

async function all(handle: DbHandle, filter: AuditFilter, limit: number, scanMax?: number): Promise<number[]> {
  const seqs: number[] = [];
  let before: number | null = null;
  for (let pages = 0; pages < 1_000; pages++) {
    const page = await queryAudit(handle, filter, before, limit, scanMax);
    seqs.push(...page.entries.map((e) => e.seq));
    if (page.next === null) return seqs;
    before = page.next;
  }
  throw new Error('no end');
}

describe('queryAudit', () => {
  it('pages through the whole log for every filter, newest first, exactly the matching entries', async () => {
    const handle = await logOf(1_200);
    const everything = (await (await handle.get()).getAll('audit')) as AuditEntry[];
    const filters: AuditFilter[] = [{}, { tool: 'x' }, { agentId: 'b' }, { agentId: 'a', tool: 'y' }, { outcome: 'error' }, { event: 'admin', agentId: 'c' }, { tool: 'nope' }];
    for (const filter of filters) {
      const expected = everything
        .filter((e) => (!filter.agentId || e.agentId === filter.agentId) && (!filter.tool || e.tool === filter.tool) && (!filter.event || e.event === filter.event) && (!filter.outcome || e.outcome === filter.outcome))
        .map((e) => e.seq)
        .reverse();
      for (const limit of [7, 200]) expect(await all(handle, filter, limit), JSON.stringify({ filter, limit })).toEqual(expected);
    }
  });

  it('reads a bounded number of records per request and says where to go on', async () => {
    const handle = await logOf(1_200);
    // Rare matches: one request stops after its scan budget (here 300 records) with a `next`.
    const first = await queryAudit(handle, { outcome: 'error', event: 'admin' }, null, 500, 300);
    expect(first.entries.length).toBeGreaterThan(0);
    expect(first.entries.length).toBeLessThan(500);
    expect(first.entries.every((e) => e.outcome === 'error' && e.event === 'admin')).toBe(true);
    expect(first.next).toBe(1_200 - 300 + 1);
    expect((await all(handle, { outcome: 'error', event: 'admin' }, 500, 300)).length).toBe(Math.ceil(1_200 / 35));
  });

  it('bounds the walk by a time range on every index, paged, exactly the entries written in [from, to)', { timeout: 30_000 }, async () => {
    const handle = await logOf(600);
    const everything = (await (await handle.get()).getAll('audit')) as AuditEntry[];
    const t = (seq: number) => everything[seq - 1]!.ts;
    // Bounds inside runs of entries sharing a millisecond, and bounds beyond the log.
    const ranges = [
      { from: t(300) },
      { to: t(500) },
      { from: t(300), to: t(301) },
      { from: t(250), to: t(400) },
      { from: t(600) + 1 },
      { to: t(1) },
      { from: t(1), to: t(600) + 1 },
    ];
    const filters: AuditFilter[] = [{}, { tool: 'x' }, { agentId: 'b' }, { agentId: 'a', tool: 'y' }, { outcome: 'error' }];
    for (const range of ranges) {
      for (const f of filters) {
        const filter = { ...f, ...range };
        const expected = everything
          .filter((e) => (!filter.agentId || e.agentId === filter.agentId) && (!filter.tool || e.tool === filter.tool) && (!filter.outcome || e.outcome === filter.outcome))
          .filter((e) => (range.from === undefined || e.ts >= range.from) && (range.to === undefined || e.ts < range.to))
          .map((e) => e.seq)
          .reverse();
        for (const limit of [23, 500]) expect(await all(handle, filter, limit), JSON.stringify({ filter, limit })).toEqual(expected);
      }
    }
  });

  it('reads only the range\'s records: a narrow range far back costs one request, not a walk from the newest entry', async () => {
    const handle = await logOf(1_200);
    const everything = (await (await handle.get()).getAll('audit')) as AuditEntry[];
    const from = everything[99]!.ts;
    const to = everything[150]!.ts;
    // A scan budget far smaller than the distance from the newest entry: the bisection starts the
    // walk inside the range, so the first request finds every match and says there is no more.
    const page = await queryAudit(handle, { from, to }, null, 500, 60);
    const expected = everything.filter((e) => e.ts >= from && e.ts < to).map((e) => e.seq).reverse();
    expect(page.entries.map((e) => e.seq)).toEqual(expected);
    expect(page.next).toBeNull();
  });
});
