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

describe('the 2026-07-28 revision on the same endpoint: stateless, an implicit session per agent', () => {
  const envelope = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'stateless-unit', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
  const call = (id: number) => JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' }, _meta: envelope } });
  const send = async (endpoint: HttpEndpoint, token: string, body: string) => {
    const response = await endpoint.handle(new Request(`${TEST_ORIGIN}/mcp`, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: `Bearer ${token}`, 'MCP-Protocol-Version': '2026-07-28' }, body }));
    return { status: response.status, body: (await response.json()) as { result?: { resultType?: string; isError?: boolean; _meta?: Record<string, { details?: { rule?: string } }> } } };
  };

  it('counts the calls of every stateless request in the agent\'s implicit session, which starts anew once idle past session.timeoutMinutes', async () => {
    let now = Date.UTC(2026, 10, 30, 12);
    const h = await startHarness(undefined, undefined, true, () => now);
    const token = await h.agent('stateless-capped', 'FullyTrusted', { version: 1, session: { timeoutMinutes: 10, maxCalls: 1, callsPerMinute: 1000 } });
    const endpoint = new HttpEndpoint(h.ctx, TEST_ORIGIN);

    const first = await send(endpoint, token, call(1));
    expect(first).toMatchObject({ status: 200, body: { result: { resultType: 'complete' } } });
    expect(first.body.result!.isError, JSON.stringify(first.body)).toBeUndefined();
    // A later request (say, of another client of the same agent) is in the same session: its cap holds.
    now += 60_000;
    const second = await send(endpoint, token, call(2));
    expect(second.body.result).toMatchObject({ isError: true, _meta: { 'mcp-sandbox/error': { details: { rule: 'session.max-calls' } } } });
    expect(await h.ctx.sessions.get('stateless:stateless-capped')).toMatchObject({ agentId: 'stateless-capped', via: 'http', protocolVersion: '2026-07-28', callCount: 1 });

    // Idle longer than the timeout: a new session, counted from zero (never a session.timeout refusal).
    now += 11 * 60_000;
    const third = await send(endpoint, token, call(3));
    expect(third.body.result!.isError).toBeUndefined();
    expect(await h.ctx.sessions.get('stateless:stateless-capped')).toMatchObject({ createdAt: now, callCount: 1 });
    const db = await h.ctx.db.get();
    const opens = (await db.getAll('audit')).filter((e) => e.sessionId === 'stateless:stateless-capped' && e.event === 'session.open');
    expect(opens.map((e) => e.details?.['reinitialized'])).toEqual([false, true]);
  });
  it('stops the call where it runs when the client ends its request (the revision\'s cancellation)', async () => {
    const h = await startHarness();
    const token = await h.agent('stateless-cancel');
    const endpoint = new HttpEndpoint(h.ctx, TEST_ORIGIN);
    let aborted!: () => void;
    const sawAbort = new Promise<void>((resolve) => (aborted = resolve));
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    h.executor.next = (_request, _capabilities, signal) =>
      new Promise((resolve) => {
        started();
        signal?.addEventListener('abort', () => {
          aborted();
          resolve({ ok: false, error: { code: 'cancelled', message: 'cancelled' }, durationMs: 1, memoryBytes: 0 });
        });
      });
    const controller = new AbortController();
    const pending = endpoint.handle(new Request(`${TEST_ORIGIN}/mcp`, { method: 'POST', signal: controller.signal, headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', Authorization: `Bearer ${token}` }, body: call(1) }));
    const response = await pending;
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    await running;
    controller.abort();
    await sawAbort;
  });
});
