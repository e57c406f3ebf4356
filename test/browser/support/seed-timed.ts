// Test support, bundled for the page by seed-timed-bundle.ts: appends whole calls (request, then
// result or a refusal) with the timestamps given, through the store's own API (AuditLog: the
// chain, hashes and aggregates the service worker writes), so a test can hold a past that no
// page of rows loads.
import { AuditLog } from '../../../src/store/audit';
import { DbHandle } from '../../../src/store/db';

export interface TimedCall {
  ts: number;
  agentId: string;
  tool: string;
  /** `rejected`: a call.rejected alone; else a request and a result of that outcome. */
  outcome: 'ok' | 'error' | 'rejected';
  durationMs: number;
}

export async function seed(calls: TimedCall[]): Promise<{ newestSeq: number }> {
  const log = new AuditLog(new DbHandle());
  let newestSeq = 0;
  for (let i = 0; i < calls.length; i += 500) {
    const appends = calls.slice(i, i + 500).flatMap((c, k) => {
      const base = { ts: c.ts, sessionId: `timed-${c.agentId}`, agentId: c.agentId, tool: c.tool, callId: `timed-${i + k}` };
      if (c.outcome === 'rejected') return [log.append({ ...base, event: 'call.rejected', outcome: 'denied', details: { rule: 'seeded' } })];
      return [log.append({ ...base, event: 'call.request', outcome: 'pending', args: { text: `timed ${i + k}` } }), log.append({ ...base, event: 'call.result', outcome: c.outcome, durationMs: c.durationMs })];
    });
    const written = await Promise.all(appends);
    newestSeq = written.at(-1)!.seq;
  }
  await log.checkpoint();
  return { newestSeq };
}
