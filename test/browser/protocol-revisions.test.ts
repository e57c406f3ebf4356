import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { bundlePage } from './support/bundle-page';
import { admin, launchBrowser, openPage, registerAgent } from './harness';

// Both protocol revisions on /mcp: a client of the 2026-07-28 revision (the v2 SDK's
// `@modelcontextprotocol/client`, stateless) and one of 2025-11-25 (the 1.x SDK, sessions),
// each used unchanged from the page, against one server core, policy and audit.

let browser: Browser;
let context: BrowserContext;
let page: Page;


interface Outcome {
  era?: string;
  version?: string;
  sessionId?: string;
  tools?: string[];
  results?: { isError?: boolean; text?: string; error?: { code?: string; details?: Record<string, unknown> } }[];
  /** What each HTTP request carried. */
  sent?: { method: string; rpc: string | null; session: string | null; version: string | null }[];
  thrown?: string;
  timings?: number[];
}

/**
 * Runs a client in the page: `v2` is the v2 SDK Client negotiating the revision (mode auto:
 * it probes with server/discover and stays stateless when offered 2026-07-28), `v1` the 1.x
 * SDK Client (initialize, sessions). Lists the tools, then makes each call in turn.
 */
function runClient(kind: 'v1' | 'v2', token: string, calls: { name: string; arguments: Record<string, unknown> }[], options: { repeat?: number } = {}): Promise<Outcome> {
  return page.evaluate(
    async ({ kind, token, calls, repeat }) => {
      interface ClientLike {
        connect(t: unknown): Promise<void>;
        listTools(): Promise<{ tools: { name: string }[] }>;
        callTool(p: unknown): Promise<{ isError?: boolean; content: { text?: string }[]; _meta?: Record<string, unknown> }>;
        close(): Promise<void>;
        getProtocolEra?(): string;
        getNegotiatedProtocolVersion?(): string;
      }
      type Ctor = new (...args: unknown[]) => unknown;
      const lib = (window as unknown as { McpClients: Record<string, Ctor> }).McpClients;
      const sent: NonNullable<Outcome['sent']> = [];
      const recording = async (url: string | URL, init?: RequestInit): Promise<Response> => {
        const headers = new Headers(init?.headers);
        const rpc = typeof init?.body === 'string' ? ((JSON.parse(init.body) as { method?: string }).method ?? null) : null;
        sent.push({ method: init?.method ?? 'GET', rpc, session: headers.get('mcp-session-id'), version: headers.get('mcp-protocol-version') });
        return fetch(url, init);
      };
      const url = new URL('/mcp', location.href);
      const requestInit = { headers: { Authorization: `Bearer ${token}` } };
      let client: ClientLike;
      let transport: { sessionId?: string };
      if (kind === 'v2') {
        client = new lib['V2Client']!({ name: 'v2-page-client', version: '2.4.0' }, { versionNegotiation: { mode: 'auto' }, jsonSchemaValidator: new lib['V2CfWorkerJsonSchemaValidator']!() }) as ClientLike;
        transport = new lib['V2Http']!(url, { requestInit, fetch: recording }) as { sessionId?: string };
      } else {
        client = new lib['V1Client']!({ name: 'v1-page-client', version: '1.32.2' }, { jsonSchemaValidator: new lib['CfWorkerJsonSchemaValidator']!() }) as ClientLike;
        transport = new lib['V1Http']!(url, { requestInit, fetch: recording }) as { sessionId?: string };
      }
      const out: Outcome = { sent };
      try {
        await client.connect(transport);
        out.era = client.getProtocolEra?.();
        out.version = client.getNegotiatedProtocolVersion?.();
        out.sessionId = transport.sessionId;
        out.tools = (await client.listTools()).tools.map((t) => t.name);
        out.results = [];
        for (const call of calls) {
          const r = await client.callTool(call);
          out.results.push({ isError: r.isError, text: r.content[0]?.text, error: r._meta?.['mcp-sandbox/error'] as { code?: string } | undefined });
        }
        if (repeat) {
          out.timings = [];
          for (let i = 0; i < repeat; i++) {
            const t0 = performance.now();
            await client.callTool(calls[0]);
            out.timings.push(performance.now() - t0);
          }
        }
        await client.close();
      } catch (error) {
        out.thrown = String(error);
      }
      return out;
    },
    { kind, token, calls, repeat: options.repeat ?? 0 },
  );
}

/** One raw request to /mcp in the 2026-07-28 form (no client library). */
function post2026(method: string, params: Record<string, unknown>, token?: string): Promise<{ status: number; authenticate: string | null; body: { error?: { code: number; message: string }; result?: Record<string, unknown> } }> {
  return page.evaluate(
    async ({ method, params, token }) => {
      const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
      const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json', 'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': method };
      // The revision's routing headers: Mcp-Name repeats the tool's name (as the v2 client sends it).
      if (typeof params['name'] === 'string') headers['Mcp-Name'] = params['name'];
      if (token) headers['Authorization'] = `Bearer ${token}`;
      const response = await fetch('/mcp', { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: { ...params, _meta: meta } }) });
      return { status: response.status, authenticate: response.headers.get('www-authenticate'), body: JSON.parse(await response.text()) };
    },
    { method, params, token },
  );
}

interface AuditEntry {
  event: string;
  outcome: string;
  sessionId: string | null;
  agentId: string | null;
  tool: string | null;
  details: Record<string, unknown> | null;
}

beforeAll(async () => {
  const code = await bundlePage('mcp-clients.ts', 'McpClients');
  browser = await launchBrowser();
  // The clients run in the app's page, standing for an agent page of the app's origin; the
  // app shell's own CSP (no eval) is not an agent page's, and the 1.x client's bundle evals.
  context = await browser.newContext({ bypassCSP: true });
  page = await openPage(context, '/');
  await page.evaluate(code);
}, 120_000);
afterAll(async () => {
  await context?.close();
  await browser?.close();
});

const STATS = { name: 'text_stats', arguments: { text: 'from the stateless revision' } };

describe('both protocol revisions on /mcp', () => {
  it('a 2026-07-28 client (v2 SDK, unchanged) lists and calls a tool as a registered agent, with no session; the audit names the agent', async () => {
    const token = await registerAgent(page, { id: 'rev-2026' });
    const out = await runClient('v2', token, [STATS]);
    expect(out.thrown).toBeUndefined();
    expect(out).toMatchObject({ era: 'modern', version: '2026-07-28' });
    expect(out.sessionId).toBeUndefined();
    // Stateless on the wire: discover, never initialize, no session header on any request.
    expect(out.sent!.map((s) => s.rpc)).toEqual(['server/discover', 'tools/list', 'tools/call']);
    expect(out.sent!.every((s) => s.session === null && s.version === '2026-07-28')).toBe(true);
    expect(out.tools).toContain('text_stats');
    expect(JSON.parse(out.results![0]!.text!).words).toBe(4);

    // The agent's implicit session carries its counters; the audit names agent and session.
    const sessions = await admin<{ id: string; agentId: string; via: string; protocolVersion: string; callCount: number; clientInfo: { name: string } }[]>(page, 'sessions.list');
    expect(sessions.find((s) => s.id === 'stateless:rev-2026')).toMatchObject({ agentId: 'rev-2026', via: 'http', protocolVersion: '2026-07-28', callCount: 1, clientInfo: { name: 'v2-page-client' } });
    const entries = await admin<AuditEntry[]>(page, 'audit.list');
    expect(entries.filter((e) => e.sessionId === 'stateless:rev-2026').map((e) => [e.event, e.agentId, e.tool, e.outcome])).toEqual([
      ['session.open', 'rev-2026', null, 'info'],
      ['call.request', 'rev-2026', 'text_stats', 'pending'],
      ['call.result', 'rev-2026', 'text_stats', 'ok'],
    ]);

    // A second client of the same agent is served in the same implicit session.
    expect((await runClient('v2', token, [STATS])).results![0]!.isError).toBeUndefined();
    const again = await admin<{ id: string; callCount: number }[]>(page, 'sessions.list');
    expect(again.find((s) => s.id === 'stateless:rev-2026')?.callCount).toBe(2);
  });

  it('a 2025-11-25 client (1.x SDK, unchanged) still works over HTTP, with a session', async () => {
    const token = await registerAgent(page, { id: 'rev-2025' });
    const out = await runClient('v1', token, [STATS]);
    expect(out.thrown).toBeUndefined();
    expect(out.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.sent!.map((s) => s.rpc).slice(0, 2)).toEqual(['initialize', 'notifications/initialized']);
    expect(out.tools).toContain('text_stats');
    expect(JSON.parse(out.results![0]!.text!).words).toBe(4);
    const entries = await admin<AuditEntry[]>(page, 'audit.list');
    expect(entries.filter((e) => e.sessionId === out.sessionId).map((e) => [e.event, e.agentId, e.tool])).toEqual([
      ['session.open', 'rev-2025', null],
      ['call.request', 'rev-2025', 'text_stats'],
      ['call.result', 'rev-2025', 'text_stats'],
    ]);
  });

  it('a tool that asks the client (elicitation, sampling, roots) works with both clients unchanged: a request on the 2025 stream, InputRequiredResult rounds on 2026', async () => {
    await admin(page, 'tools.seed', { fixtures: true });
    const tools = ['test_input_required_result_multi_round', 'test_input_required_result_multiple_inputs'];
    const token = await registerAgent(page, { id: 'rev-asks', trustLevel: 'Trusted', policy: { version: 1, tools: { allowed: tools } } });
    const out = await page.evaluate(
      async ({ token, tools }) => {
        type Handler = (request: { method: string; params: { message?: string } }) => unknown;
        interface ClientLike {
          connect(t: unknown): Promise<void>;
          setRequestHandler(method: unknown, handler: Handler): void;
          callTool(p: unknown): Promise<{ isError?: boolean; content: { text?: string }[] }>;
          close(): Promise<void>;
        }
        type Ctor = new (...args: unknown[]) => unknown;
        const lib = (window as unknown as { McpClients: Record<string, Ctor & Record<string, unknown>> }).McpClients;
        const url = new URL('/mcp', location.href);
        const requestInit = { headers: { Authorization: `Bearer ${token}` } };
        const capabilities = { elicitation: {}, sampling: {}, roots: {} };
        const results: Record<string, { asked: string[]; posts: number; isError?: boolean; text?: string; thrown?: string }> = {};
        for (const kind of ['v2', 'v1'] as const) {
          const asked: string[] = [];
          let posts = 0;
          const counting = (input: string | URL, init?: RequestInit) => {
            if (init?.method === 'POST' && typeof init.body === 'string' && init.body.includes('"tools/call"')) posts++;
            return fetch(input, init);
          };
          const answer = (method: string, params: { message?: string }) => {
            asked.push(`${method}${params.message ? ` ${params.message}` : ''}`);
            if (method === 'elicitation/create') return { action: 'accept', content: params.message?.includes('color') ? { color: 'teal' } : { name: `Ada-${kind}` } };
            if (method === 'sampling/createMessage') return { role: 'assistant', content: { type: 'text', text: 'hello there' }, model: 'page-model', stopReason: 'endTurn' };
            return { roots: [{ uri: 'file:///workspace', name: 'workspace' }] };
          };
          const client = (
            kind === 'v2'
              ? new lib['V2Client']!({ name: 'v2-asks', version: '2.4.0' }, { capabilities, versionNegotiation: { mode: 'auto' }, jsonSchemaValidator: new lib['V2CfWorkerJsonSchemaValidator']!() })
              : new lib['V1Client']!({ name: 'v1-asks', version: '1.32.2' }, { capabilities, jsonSchemaValidator: new lib['CfWorkerJsonSchemaValidator']!() })
          ) as ClientLike;
          const schemas = lib['V1Schemas'] as unknown as Record<string, unknown>;
          for (const method of ['elicitation/create', 'sampling/createMessage', 'roots/list']) {
            const handler: Handler = (request) => answer(method, (request.params ?? (request as unknown as { message?: string })) as { message?: string });
            if (kind === 'v2') client.setRequestHandler(method, handler);
            else client.setRequestHandler(schemas[method], handler);
          }
          const transport = kind === 'v2' ? new lib['V2Http']!(url, { requestInit, fetch: counting }) : new lib['V1Http']!(url, { requestInit, fetch: counting });
          await client.connect(transport);
          for (const tool of tools) {
            const key = `${kind}:${tool}`;
            try {
              posts = 0;
              asked.length = 0;
              const r = await client.callTool({ name: tool, arguments: {} });
              results[key] = { asked: [...asked], posts, isError: r.isError, text: r.content[0]?.text };
            } catch (error) {
              results[key] = { asked: [...asked], posts, thrown: String(error) };
            }
          }
          await client.close();
        }
        return results;
      },
      { token, tools },
    );
    for (const kind of ['v2', 'v1']) {
      const multi = out[`${kind}:test_input_required_result_multi_round`]!;
      expect(multi.thrown, JSON.stringify(multi)).toBeUndefined();
      expect(multi.isError).toBeUndefined();
      expect(multi.text).toBe(`name: {"action":"accept","content":{"name":"Ada-${kind}"}}; color: {"action":"accept","content":{"color":"teal"}}`);
      expect(multi.asked).toEqual(['elicitation/create Step 1: What is your name?', 'elicitation/create Step 2: What is your favorite color?']);
      const all = out[`${kind}:test_input_required_result_multiple_inputs`]!;
      expect(all.thrown, JSON.stringify(all)).toBeUndefined();
      expect(all.text).toMatch(/^name: .*Ada.*; greeting: .*hello there.*; roots: .*file:\/\/\/workspace/);
      expect(all.asked.map((a) => a.split(' ')[0]).sort()).toEqual(['elicitation/create', 'roots/list', 'sampling/createMessage']);
    }
    // 2026: the tool ran once per round (three for two questions in turn, two for three at once);
    // 2025: once, asking on the call's own stream.
    expect(out['v2:test_input_required_result_multi_round']!.posts).toBe(3);
    expect(out['v2:test_input_required_result_multiple_inputs']!.posts).toBe(2);
    expect(out['v1:test_input_required_result_multi_round']!.posts).toBe(1);
    const entries = await admin<AuditEntry[]>(page, 'audit.list');
    const stateless = entries.filter((e) => e.sessionId === 'stateless:rev-asks' && e.event === 'call.result');
    expect(stateless.map((e) => e.outcome)).toEqual(['error', 'error', 'ok', 'error', 'ok']);
  });

  it('delivers list changes and resource updates on a subscriptions/listen stream of 2026: acknowledged first, tagged, only what was asked, only for its agent', async () => {
    const token = await registerAgent(page, { id: 'rev-listen', trustLevel: 'Trusted' });
    const other = await registerAgent(page, { id: 'rev-listen-other', trustLevel: 'Trusted' });
    // Two streams of this agent (one asks tools and a resource, one only prompts) and one of another agent.
    await page.evaluate(
      async ({ token, other }) => {
        const frames: Record<string, unknown[]> = {};
        const controllers: AbortController[] = [];
        const open = async (name: string, bearer: string, id: number, notifications: Record<string, unknown>) => {
          frames[name] = [];
          const controller = new AbortController();
          controllers.push(controller);
          const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
          const response = await fetch('/mcp', {
            method: 'POST',
            signal: controller.signal,
            headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', Authorization: `Bearer ${bearer}` },
            body: JSON.stringify({ jsonrpc: '2.0', id, method: 'subscriptions/listen', params: { notifications, _meta: meta } }),
          });
          frames[`${name}:type`] = [response.headers.get('content-type')];
          const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
          void (async () => {
            let buffer = '';
            for (;;) {
              const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
              if (done) return frames[name]!.push('closed');
              buffer += value;
              let end: number;
              while ((end = buffer.indexOf('\n\n')) >= 0) {
                const data = buffer.slice(0, end).split('\n').find((l) => l.startsWith('data: '));
                buffer = buffer.slice(end + 2);
                if (data) frames[name]!.push(JSON.parse(data.slice(6)));
              }
            }
          })();
        };
        await open('tools', token, 7, { toolsListChanged: true, resourceSubscriptions: ['system://info'] });
        await open('prompts', token, 'p-1' as unknown as number, { promptsListChanged: true });
        await open('other', other, 9, { toolsListChanged: true });
        (window as unknown as { listen: unknown }).listen = { frames, controllers };
      },
      { token, other },
    );
    const frames = () => page.evaluate(() => (window as unknown as { listen: { frames: Record<string, unknown[]> } }).listen.frames) as Promise<Record<string, { method?: string; params?: Record<string, unknown> }[]>>;
    await expect.poll(async () => (await frames())['other']?.length).toBe(1);
    const acks = await frames();
    expect(acks['tools:type']).toEqual(['text/event-stream']);
    expect(acks['tools']).toEqual([{ jsonrpc: '2.0', method: 'notifications/subscriptions/acknowledged', params: { notifications: { toolsListChanged: true, resourceSubscriptions: ['system://info'] }, _meta: { 'io.modelcontextprotocol/subscriptionId': 7 } } }]);
    expect(acks['prompts']![0]).toMatchObject({ method: 'notifications/subscriptions/acknowledged', params: { notifications: { promptsListChanged: true }, _meta: { 'io.modelcontextprotocol/subscriptionId': 'p-1' } } });

    // The person changes this agent's policy: its streams hear it, the other agent's does not.
    await admin(page, 'agents.update', { id: 'rev-listen', policy: { version: 1, session: { callsPerMinute: 77 } } });
    await expect.poll(async () => (await frames())['prompts']?.length).toBe(2);
    await expect.poll(async () => (await frames())['tools']?.length).toBe(3);
    const after = await frames();
    expect(after['tools']!.slice(1)).toEqual([
      { jsonrpc: '2.0', method: 'notifications/tools/list_changed', params: { _meta: { 'io.modelcontextprotocol/subscriptionId': 7 } } },
      { jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri: 'system://info', _meta: { 'io.modelcontextprotocol/subscriptionId': 7 } } },
    ]);
    expect(after['prompts']![1]).toMatchObject({ method: 'notifications/prompts/list_changed', params: { _meta: { 'io.modelcontextprotocol/subscriptionId': 'p-1' } } });
    expect(after['other']).toHaveLength(1);

    // Ending the request ends the stream: a later change is heard by no closed stream.
    await page.evaluate(() => (window as unknown as { listen: { controllers: AbortController[] } }).listen.controllers.forEach((c) => c.abort()));
    await admin(page, 'agents.update', { id: 'rev-listen', policy: { version: 1, session: { callsPerMinute: 78 } } });
    await page.waitForTimeout(300);
    const ended = await frames();
    expect(ended['tools']!.filter((f) => typeof f === 'object')).toHaveLength(3);

    // A filter that is not one, or a listen without a valid token, is refused.
    const bad = await post2026('subscriptions/listen', { notifications: { toolsListChanged: 'yes' } }, token);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: -32602, message: expect.stringMatching(/toolsListChanged must be a boolean/) });
    const anonymous = await post2026('subscriptions/listen', { notifications: { toolsListChanged: true } });
    expect(anonymous.status).toBe(401);
  });

  it('refuses a tool outside the policy the same way for both revisions', async () => {
    const token = await registerAgent(page, { id: 'rev-untrusted', trustLevel: 'Untrusted' });
    const denied = { name: 'fetch_url', arguments: { url: 'http://127.0.0.1/' } };
    const modern = await runClient('v2', token, [denied]);
    const legacy = await runClient('v1', token, [denied]);
    for (const out of [modern, legacy]) {
      expect(out.thrown).toBeUndefined();
      expect(out.tools).not.toContain('fetch_url');
      expect(out.results![0]).toMatchObject({ isError: true, error: { code: 'policy-denied', details: { rule: expect.stringMatching(/^tool\./) } } });
    }
    // The same refusal, word for word, apart from the id of the call refused.
    const sameness = (error: unknown): unknown => JSON.parse(JSON.stringify(error, (key, value: unknown) => (key === 'callId' ? undefined : value)));
    expect(sameness(modern.results![0]!.error)).toEqual(sameness(legacy.results![0]!.error));
    const entries = await admin<AuditEntry[]>(page, 'audit.list');
    const rejected = entries.filter((e) => e.agentId === 'rev-untrusted' && e.event === 'call.rejected');
    expect(rejected.map((e) => e.sessionId)).toEqual(['stateless:rev-untrusted', legacy.sessionId]);
    expect(sameness(rejected[0]!.details)).toEqual(sameness(rejected[1]!.details));
    // Nothing ran: no request entry for the denied tool in either revision.
    expect(entries.filter((e) => e.agentId === 'rev-untrusted' && e.event === 'call.request')).toEqual([]);
  });

  it('counts calls of both revisions against the same agent counters, and the implicit session against session.maxCalls', async () => {
    const token = await registerAgent(page, { id: 'rev-rated', policy: { version: 1, session: { callsPerMinute: 3, maxCalls: 100 } } });
    // Two calls over a 2025 session, then two stateless ones: the fourth call of the minute is refused.
    const legacy = await runClient('v1', token, [STATS, STATS]);
    expect(legacy.results!.map((r) => r.isError)).toEqual([undefined, undefined]);
    const modern = await runClient('v2', token, [STATS, STATS]);
    expect(modern.results![0]!.isError).toBeUndefined();
    expect(modern.results![1]).toMatchObject({ isError: true, error: { code: 'policy-denied', details: { rule: 'rate.calls-per-minute' } } });

    const capped = await registerAgent(page, { id: 'rev-capped', policy: { version: 1, session: { callsPerMinute: 1000, maxCalls: 2 } } });
    const out = await runClient('v2', capped, [STATS, STATS]);
    expect(out.results!.map((r) => r.isError)).toEqual([undefined, undefined]);
    // Another client of the same agent is in the same implicit session: the cap holds.
    const third = await runClient('v2', capped, [STATS]);
    expect(third.results![0]).toMatchObject({ isError: true, error: { code: 'policy-denied', details: { rule: 'session.max-calls' } } });
  });

  it('refuses a missing or wrong token, and a revoked agent, on the 2026 path too', async () => {
    const token = await registerAgent(page, { id: 'rev-auth' });
    for (const bad of [undefined, `${token}x`, 'not-a-token']) {
      const answer = await post2026('tools/list', {}, bad);
      expect(answer.status).toBe(401);
      expect(answer.authenticate).toContain('Bearer');
      expect(answer.body.error?.code).toBe(-32003);
      expect((await post2026('server/discover', {}, bad)).status).toBe(401);
    }
    const refused = await runClient('v2', `${token}x`, [STATS]);
    expect(refused.thrown).toBeDefined();
    expect(refused.sent!.map((s) => s.rpc)).toEqual(['server/discover']);
    // The right token works raw too; revoked, it no longer does.
    const ok = await post2026('tools/call', STATS, token);
    expect(ok.status).toBe(200);
    expect(ok.body.result).toMatchObject({ resultType: 'complete', _meta: { 'io.modelcontextprotocol/serverInfo': { name: expect.any(String) } } });
    await admin(page, 'agents.revoke', { id: 'rev-auth' });
    expect((await post2026('tools/call', STATS, token)).status).toBe(401);
    const entries = await admin<AuditEntry[]>(page, 'audit.list');
    expect(entries.filter((e) => e.agentId === 'rev-auth' && e.event === 'call.request')).toHaveLength(1);
  });

  it('answers the revision\'s own errors: unsupported version, header mismatch, removed and unknown methods, missing envelope', async () => {
    const token = await registerAgent(page, { id: 'rev-errors' });
    const answers = await page.evaluate(async (token) => {
      const send = async (body: unknown, extra: Record<string, string> = {}) => {
        const response = await fetch('/mcp', { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: `Bearer ${token}`, ...extra }, body: JSON.stringify(body) });
        return { status: response.status, body: (await response.json()) as { error?: { code: number; data?: unknown } } };
      };
      const meta = (version: string) => ({ 'io.modelcontextprotocol/protocolVersion': version, 'io.modelcontextprotocol/clientCapabilities': {} });
      return {
        future: await send({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: meta('2027-01-01') } }),
        mismatch: await send({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: meta('2026-07-28') } }, { 'Mcp-Method': 'tools/call' }),
        removed: await send({ jsonrpc: '2.0', id: 1, method: 'logging/setLevel', params: { level: 'info', _meta: meta('2026-07-28') } }),
        ping: await send({ jsonrpc: '2.0', id: 4, method: 'ping', params: { _meta: meta('2026-07-28') } }),
        unknown: await send({ jsonrpc: '2.0', id: 5, method: 'no/such-method', params: { _meta: meta('2026-07-28') } }),
        noEnvelope: await send({ jsonrpc: '2.0', id: 1, method: 'tools/list' }, { 'MCP-Protocol-Version': '2026-07-28' }),
        // A version that is no date: still the new era's envelope, answered there with the request's id.
        notADate: await send({ jsonrpc: '2.0', id: 301, method: 'server/discover', params: { _meta: meta('v999.0.0') } }, { 'MCP-Protocol-Version': 'v999.0.0' }),
        // Header and body disagree on the version: a mismatch, before the version is judged.
        versionMismatch: await send({ jsonrpc: '2.0', id: 302, method: 'server/discover', params: { _meta: meta('v999.0.0') } }, { 'MCP-Protocol-Version': '2026-07-28' }),
        nameMismatch: await send({ jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'text_stats', arguments: { text: 'x' }, _meta: meta('2026-07-28') } }, { 'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'tools/call', 'Mcp-Name': 'wrong_tool' }),
        nameMissing: await send({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'text_stats', arguments: { text: 'x' }, _meta: meta('2026-07-28') } }, { 'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'tools/call' }),
        // Mcp-Name as the v2 client sends it: whitespace around it is no difference.
        nameSpaced: await send({ jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'text_stats', arguments: { text: 'x' }, _meta: meta('2026-07-28') } }, { 'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'tools/call', 'Mcp-Name': '  text_stats ' }),
      };
    }, token);
    expect(answers.future).toMatchObject({ status: 400, body: { error: { code: -32022, data: { supported: expect.arrayContaining(['2026-07-28']) } } } });
    expect(answers.mismatch).toMatchObject({ status: 400, body: { error: { code: -32020 } } });
    // Removed and unknown methods: 404 on HTTP, as the revision says.
    expect(answers.removed).toMatchObject({ status: 404, body: { error: { code: -32601 } } });
    expect(answers.ping).toMatchObject({ status: 404, body: { id: 4, error: { code: -32601 } } });
    expect(answers.unknown).toMatchObject({ status: 404, body: { id: 5, error: { code: -32601 } } });
    expect(answers.noEnvelope).toMatchObject({ status: 400, body: { error: { code: -32602 } } });
    expect(answers.notADate).toMatchObject({ status: 400, body: { id: 301, error: { code: -32022, data: { supported: ['2026-07-28', '2025-11-25'], requested: 'v999.0.0' } } } });
    expect(answers.versionMismatch).toMatchObject({ status: 400, body: { id: 302, error: { code: -32020 } } });
    expect(answers.nameMismatch).toMatchObject({ status: 400, body: { id: 6, error: { code: -32020 } } });
    expect(answers.nameMissing).toMatchObject({ status: 400, body: { id: 7, error: { code: -32020 } } });
    expect(answers.nameSpaced).toMatchObject({ status: 200, body: { id: 8, result: { resultType: 'complete' } } });
  });

  it('measures tools/call over /mcp: 2025 session vs 2026 stateless (reported, not asserted)', async () => {
    const token = await registerAgent(page, { id: 'rev-bench' });
    const p50 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const p90 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)]!;
    const legacy = await runClient('v1', token, [STATS], { repeat: 60 });
    const modern = await runClient('v2', token, [STATS], { repeat: 60 });
    console.log(`tools/call over /mcp, 60 calls each: 2025-11-25 session p50 ${p50(legacy.timings!).toFixed(2)} ms p90 ${p90(legacy.timings!).toFixed(2)} ms; 2026-07-28 stateless p50 ${p50(modern.timings!).toFixed(2)} ms p90 ${p90(modern.timings!).toFixed(2)} ms`);
    expect(modern.timings).toHaveLength(60);
  });
});
