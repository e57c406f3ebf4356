import { describe, expect, it } from 'vitest';
import { loggedEntries, startHarness } from './support/server-fixture';

// A call the agent's page labels as having come through its WebMCP model context
// (`_meta['mcp-sandbox/via']`, set by src/client/webmcp.ts) is recorded so; the label decides nothing.
describe('calls labelled as coming through WebMCP', () => {
  it('records the label on the request and on a refusal, and nothing for an unlabelled call or another value', async () => {
    const h = await startHarness();
    h.executor.next = () => ({ ok: true, output: 'done', durationMs: 1, memoryBytes: 0 });
    const client = await h.connect({ agent: 'via-agent' });
    await client.callTool({ name: 'echo', arguments: { text: 'a' }, _meta: { 'mcp-sandbox/via': 'webmcp' } });
    await client.callTool({ name: 'echo', arguments: { text: 'b' } });
    await client.callTool({ name: 'echo', arguments: { text: 'c' }, _meta: { 'mcp-sandbox/via': 'something-else' } });
    // Refused (arguments outside the schema): still labelled.
    await client.callTool({ name: 'echo', arguments: { wrong: 1 }, _meta: { 'mcp-sandbox/via': 'webmcp' } });
    const entries = (await loggedEntries(h.ctx)).filter((e) => e.agentId === 'via-agent' && (e.event === 'call.request' || e.event === 'call.rejected'));
    expect(entries.map((e) => [e.event, e.details?.['via'] ?? null])).toEqual([
      ['call.request', 'webmcp'],
      ['call.request', null],
      ['call.request', null],
      ['call.rejected', 'webmcp'],
    ]);
  });
});
