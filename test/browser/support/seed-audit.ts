// Test support, bundled for the page by seed-bundle.ts: grows the app's own audit log through
// the store's API (AuditLog: the same chain, hashes and aggregates the service worker writes),
// far faster than real calls. Seeded calls are whole (request and result), so no call is open.
import { AuditLog } from '../../../src/store/audit';
import { DbHandle } from '../../../src/store/db';

export async function seed(calls: number, agents: string[], tools: string[]): Promise<{ newestSeq: number }> {
  const log = new AuditLog(new DbHandle());
  let newestSeq = 0;
  const BATCH = 500;
  for (let i = 0; i < calls; i += BATCH) {
    const appends = [];
    for (let j = i; j < Math.min(calls, i + BATCH); j++) {
      const agentId = agents[j % agents.length]!;
      const tool = tools[j % tools.length]!;
      const callId = `seeded-${j}`;
      const base = { sessionId: `seeded-session-${agentId}`, agentId, callId, tool };
      appends.push(log.append({ ...base, event: 'call.request', outcome: 'pending', args: { text: `seeded call ${j}` } }));
      appends.push(log.append({ ...base, event: 'call.result', outcome: j % 10 === 0 ? 'error' : 'ok', durationMs: 1 + (j % 7), memoryBytes: 65_536, details: { output: `{"n":${j}}` } }));
    }
    const written = await Promise.all(appends);
    newestSeq = written[written.length - 1]!.seq;
  }
  await log.checkpoint();
  // Writing 2,000–3,000 entries a second (several times what calls can), the search index falls
  // behind by thousands (it keeps up at the rates calls reach): seeded as a log at rest is, caught up.
  await log.searchIndexed();
  return { newestSeq };
}
