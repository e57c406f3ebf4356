import { describe, expect, it } from 'vitest';
import { HttpEndpoint } from '../../src/server/http-endpoint';
import { startHarness, TEST_ORIGIN } from './support/server-fixture';

const headers = (extra: Record<string, string> = {}) => ({ 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...extra });
const initialize = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'n', version: '1' } } });

describe('the Streamable HTTP endpoint', () => {
  it('refuses a request whose Origin is not the app\'s, before anything else (a page cannot forge one; defence in depth)', async () => {
    const h = await startHarness();
    const token = await h.agent('http-unit');
    const endpoint = new HttpEndpoint(h.ctx, TEST_ORIGIN);
    const foreign = await endpoint.handle(new Request(`${TEST_ORIGIN}/mcp`, { method: 'POST', headers: headers({ Authorization: `Bearer ${token}`, Origin: 'https://evil.example' }), body: initialize }));
    expect(foreign.status).toBe(403);
    const own = await endpoint.handle(new Request(`${TEST_ORIGIN}/mcp`, { method: 'POST', headers: headers({ Authorization: `Bearer ${token}`, Origin: TEST_ORIGIN }), body: initialize }));
    expect(own.status).toBe(200);
    expect(own.headers.get('mcp-session-id')).toBeTruthy();
  });

  it('bounds the initialize body it reads itself', async () => {
    const h = await startHarness();
    const token = await h.agent('http-big');
    const endpoint = new HttpEndpoint(h.ctx, TEST_ORIGIN);
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x'.repeat(100_000), version: '1' } } });
    const response = await endpoint.handle(new Request(`${TEST_ORIGIN}/mcp`, { method: 'POST', headers: headers({ Authorization: `Bearer ${token}` }), body: big }));
    expect(response.status).toBe(413);
  });
});
