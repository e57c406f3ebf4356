import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { admin, launchBrowser, openApp, registerAgent } from './harness';

let browser: Browser;
let context: BrowserContext;
let page: Page;

interface HttpAnswer {
  status: number;
  session: string | null;
  contentType: string | null;
  authenticate: string | null;
  /** JSON-RPC messages: the JSON body, or every `data:` event of an SSE body. */
  messages: { id?: number; result?: Record<string, unknown>; error?: { code: number; message: string } }[];
}

/** One HTTP request to the app's /mcp, made by the page with plain fetch (no client library). */
function post(body: unknown, options: { token?: string; session?: string; method?: string; origin?: string } = {}): Promise<HttpAnswer> {
  return page.evaluate(
    async ({ body, options }) => {
      const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };
      if (options.token) headers['Authorization'] = `Bearer ${options.token}`;
      if (options.session) headers['Mcp-Session-Id'] = options.session;
      if (options.session) headers['Mcp-Protocol-Version'] = '2025-11-25';
      const response = await fetch('/mcp', { method: options.method ?? 'POST', headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
      const text = await response.text();
      const type = response.headers.get('content-type');
      const messages = !text ? [] : type?.includes('text/event-stream') ? text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6))) : [JSON.parse(text)];
      return { status: response.status, session: response.headers.get('mcp-session-id'), contentType: type, authenticate: response.headers.get('www-authenticate'), messages };
    },
    { body, options },
  );
}

const initialize = (id = 1) => ({ jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'plain-http', version: '1.0.0' } } });

beforeAll(async () => {
  browser = await launchBrowser();
  ({ context, page } = await openApp(browser));
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
});

describe('MCP over Streamable HTTP at /mcp, answered by the service worker', () => {
  it('serves a plain HTTP client: initialize, tools/list, tools/call, under the same policy and audit', async () => {
    const token = await registerAgent(page, { id: 'http-agent' });
    const init = await post(initialize(), { token });
    expect(init.status).toBe(200);
    expect(init.session).toMatch(/^[0-9a-f-]{36}$/);
    expect(init.messages[0]).toMatchObject({ id: 1, result: { serverInfo: { name: expect.any(String) } } });
    const session = init.session!;
    expect((await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, { token, session })).status).toBe(202);

    const list = await post({ jsonrpc: '2.0', id: 2, method: 'tools/list' }, { token, session });
    expect(list.status).toBe(200);
    expect((list.messages[0]!.result!['tools'] as { name: string }[]).map((t) => t.name)).toContain('text_stats');

    const call = await post({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'text_stats', arguments: { text: 'over plain http' } } }, { token, session });
    expect(call.status).toBe(200);
    expect(call.contentType).toContain('text/event-stream');
    const content = call.messages[0]!.result!['content'] as { text: string }[];
    expect(JSON.parse(content[0]!.text).words).toBe(3);

    const sessions = await admin<{ id: string; agentId: string; via: string; callCount: number }[]>(page, 'sessions.list');
    expect(sessions.find((s) => s.id === session)).toMatchObject({ agentId: 'http-agent', via: 'http', callCount: 1 });
    const entries = await admin<{ event: string; sessionId: string; tool: string; outcome: string }[]>(page, 'audit.list');
    expect(entries.filter((e) => e.sessionId === session).map((e) => [e.event, e.tool, e.outcome])).toEqual([
      ['session.open', null, 'info'],
      ['call.request', 'text_stats', 'pending'],
      ['call.result', 'text_stats', 'ok'],
    ]);
  });

  it('applies the agent\'s policy: an Untrusted agent is refused a tool outside it, with the rule', async () => {
    const token = await registerAgent(page, { id: 'http-untrusted', trustLevel: 'Untrusted' });
    const session = (await post(initialize(), { token })).session!;
    const call = await post({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'fetch_url', arguments: { url: 'http://127.0.0.1/' } } }, { token, session });
    const result = call.messages[0]!.result!;
    expect(result['isError']).toBe(true);
    expect(result['_meta']).toMatchObject({ 'mcp-sandbox/error': { code: 'policy-denied', details: { rule: expect.stringMatching(/^tool\./) } } });
  });

  it('refuses a missing or wrong token, a revoked agent, another agent\'s session and a closed session', async () => {
    const token = await registerAgent(page, { id: 'http-owner' });
    const other = await registerAgent(page, { id: 'http-other' });
    const none = await post(initialize());
    expect(none.status).toBe(401);
    expect(none.authenticate).toContain('Bearer');
    expect((await post(initialize(), { token: `${token}x` })).status).toBe(401);
    expect((await post(initialize(), { token: 'not-a-token' })).status).toBe(401);

    const session = (await post(initialize(), { token })).session!;
    // Another agent cannot use it: as if it did not exist.
    expect((await post({ jsonrpc: '2.0', id: 2, method: 'tools/list' }, { token: other, session })).status).toBe(404);
    // A request without a session that is not initialize opens nothing.
    expect((await post({ jsonrpc: '2.0', id: 2, method: 'tools/list' }, { token })).status).toBe(400);
    // Closed by DELETE: gone.
    expect((await post(undefined, { token, session, method: 'DELETE' })).status).toBe(200);
    expect((await post({ jsonrpc: '2.0', id: 3, method: 'tools/list' }, { token, session })).status).toBe(404);

    await admin(page, 'agents.revoke', { id: 'http-other' });
    expect((await post(initialize(), { token: other })).status).toBe(401);

  });
});
