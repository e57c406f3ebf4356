import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { bundlePage } from './support/bundle-page';
import { admin, baseUrl, launchBrowser, openApp, openPage, registerAgent, startAgentSite } from './harness';

// The v2 SDK's `@modelcontextprotocol/client` Client, used unchanged by a page, over the
// postMessage path (the HTTP path: protocol-revisions.test.ts): the client library's
// `createTransport()` (straight to the service worker, a page of the app's origin) and
// `createRemoteTransport()` (through the connector iframe, a page of another origin). Beside it
// the 1.x SDK Client over the same transport, as `connect()` makes it.

let browser: Browser;
let context: BrowserContext;
let page: Page;
let site: Awaited<ReturnType<typeof startAgentSite>>;
let v2Bundle: string;


interface SandboxError {
  code?: string;
  details?: Record<string, unknown>;
}

interface Outcome {
  era?: string;
  version?: string;
  session?: string;
  sessionId?: string;
  tools?: string[];
  text?: string;
  denied?: { isError?: boolean; error?: SandboxError };
  unknown?: { typed: boolean; name: string; code?: number; message: string };
  thrown?: string;
}

/**
 * In the page: loads our client library from the sandbox, makes the transport, and drives the
 * v2 Client over it (or the 1.x Client `connect()`/`connectRemote()` make, for comparison):
 * list, a call, a denied call, a call of a tool that does not exist.
 */
async function drive(p: Page, kind: 'v2' | 'v1', options: { agent: string; token: string; remote?: boolean }): Promise<Outcome> {
  // A string, so that the test runner's transform does not rewrite the browser's own import().
  await p.evaluate(`import(${JSON.stringify(new URL('/client.js', baseUrl()).href)}).then((m) => { window.sandboxClientLib = m; })`);
  return p.evaluate(
    async ({ kind, options, sandbox }) => {
      type Result = { isError?: boolean; content: { text?: string }[]; _meta?: Record<string, unknown> };
      interface ClientLike {
        connect?(t: unknown): Promise<void>;
        listTools(): Promise<{ tools: { name: string }[] }>;
        callTool(p: unknown): Promise<Result>;
        close(): Promise<void>;
        getProtocolEra?(): string;
        getNegotiatedProtocolVersion?(): string;
        transport?: { session: string; sessionId?: string };
      }
      type Transport = { session: string; sessionId?: string };
      const lib = (window as unknown as { sandboxClientLib: {
        createTransport(o: unknown): Promise<Transport>;
        createRemoteTransport(o: unknown): Promise<Transport>;
        connect(o: unknown): Promise<ClientLike>;
        connectRemote(o: unknown): Promise<ClientLike>;
      } }).sandboxClientLib;
      const v2 = (window as unknown as { V2: { V2Client: new (info: unknown) => ClientLike; ProtocolError: new () => Error } }).V2;
      const out: Outcome = {};
      try {
        let client: ClientLike;
        let transport: Transport;
        if (kind === 'v2') {
          transport = options.remote ? await lib.createRemoteTransport({ ...options, sandbox }) : await lib.createTransport(options);
          client = new v2.V2Client({ name: 'v2-postmessage-page', version: '2.4.0' });
          await client.connect!(transport);
          out.era = client.getProtocolEra!();
          out.version = client.getNegotiatedProtocolVersion!();
        } else {
          client = options.remote ? await lib.connectRemote({ ...options, sandbox }) : await lib.connect(options);
          transport = client.transport!;
        }
        out.session = transport.session;
        out.sessionId = transport.sessionId;
        out.tools = (await client.listTools()).tools.map((t) => t.name);
        out.text = (await client.callTool({ name: 'text_stats', arguments: { text: 'over postMessage, v2' } })).content[0]?.text;
        const denied = await client.callTool({ name: 'fetch_url', arguments: { url: 'http://127.0.0.1/' } });
        out.denied = { isError: denied.isError, error: denied._meta?.['mcp-sandbox/error'] as SandboxError };
        try {
          await client.callTool({ name: 'no_such_tool', arguments: {} });
        } catch (error) {
          const e = error as Error & { code?: number };
          out.unknown = { typed: kind === 'v2' && e instanceof v2.ProtocolError, name: e.constructor.name, code: e.code, message: e.message };
        }
        await client.close();
      } catch (error) {
        out.thrown = String(error);
      }
      return out;
    },
    { kind, options, sandbox: baseUrl() },
  );
}

interface AuditEntry {
  event: string;
  outcome: string;
  sessionId: string | null;
  agentId: string | null;
  tool: string | null;
}

/** The denial without the id of the call refused (which differs from call to call). */
const sameness = (error: unknown): unknown => JSON.parse(JSON.stringify(error, (key, value: unknown) => (key === 'callId' ? undefined : value)));

beforeAll(async () => {
  v2Bundle = await bundlePage('v2-client.ts', 'V2');
  browser = await launchBrowser();
  // The app window hosts the tool workers; the agent page is another page of the app's origin.
  ({ context } = await openApp(browser));
  page = await openPage(context, '/agent.html');
  await page.evaluate(v2Bundle);
  site = await startAgentSite();
}, 120_000);
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await site?.close();
});

describe('the v2 @modelcontextprotocol/client Client over postMessage', () => {
  it('connects unchanged to the service worker (createTransport), lists, calls, and gets the policy denial and typed errors the 1.x Client gets', async () => {
    const token = await registerAgent(page, { id: 'v2-pm', trustLevel: 'Untrusted' });
    const modern = await drive(page, 'v2', { agent: 'v2-pm', token });
    expect(modern.thrown).toBeUndefined();
    // The 2025-11-25 revision with a session (the v2 Client's default negotiation, legacy).
    expect(modern).toMatchObject({ era: 'legacy', version: '2025-11-25' });
    expect(modern.sessionId).toBe(modern.session);
    expect(modern.tools).toContain('text_stats');
    expect(modern.tools).not.toContain('fetch_url');
    expect(JSON.parse(modern.text!)).toMatchObject({ words: 3, characters: 20 });
    expect(modern.denied).toMatchObject({ isError: true, error: { code: 'policy-denied', details: { rule: expect.stringMatching(/^tool\./) } } });
    // A JSON-RPC error is the v2 package's own error class, with the server's code and message.
    expect(modern.unknown).toMatchObject({ typed: true, code: -32602, message: expect.stringContaining('no_such_tool') });

    // The 1.x Client of connect(), same agent: the same denial, word for word.
    const legacy = await drive(page, 'v1', { agent: 'v2-pm', token });
    expect(legacy.thrown).toBeUndefined();
    expect(legacy.tools).toEqual(modern.tools);
    expect(sameness(legacy.denied)).toEqual(sameness(modern.denied));
    // The same server error; the 1.x McpError prefixes its message with "MCP error <code>: ".
    expect(legacy.unknown).toMatchObject({ typed: false, code: -32602, message: `MCP error -32602: ${modern.unknown!.message}` });

    // The v2 client's session is a session like any other: its client, its calls, audited.
    const sessions = await admin<{ id: string; agentId: string; clientInfo: { name: string; version: string }; callCount: number }[]>(page, 'sessions.list');
    expect(sessions.find((s) => s.id === modern.session)).toMatchObject({ agentId: 'v2-pm', clientInfo: { name: 'v2-postmessage-page', version: '2.4.0' } });
    const entries = await admin<AuditEntry[]>(page, 'audit.list');
    expect(entries.filter((e) => e.sessionId === modern.session).map((e) => [e.event, e.agentId, e.tool, e.outcome])).toEqual([
      ['session.open', 'v2-pm', null, 'info'],
      ['call.request', 'v2-pm', 'text_stats', 'pending'],
      ['call.result', 'v2-pm', 'text_stats', 'ok'],
      ['call.rejected', 'v2-pm', 'fetch_url', 'denied'],
      ['call.rejected', 'v2-pm', 'no_such_tool', 'denied'],
    ]);
  });

  it('connects unchanged from another origin through the connector iframe (createRemoteTransport), which closing removes', async () => {
    const token = await registerAgent(page, { id: 'v2-remote', trustLevel: 'Untrusted', origins: [new URL(site.url).origin] });
    const remote = await context.newPage();
    await remote.goto(site.url);
    await remote.evaluate(v2Bundle);
    const out = await drive(remote, 'v2', { agent: 'v2-remote', token, remote: true });
    expect(out.thrown).toBeUndefined();
    expect(out).toMatchObject({ era: 'legacy', version: '2025-11-25' });
    expect(JSON.parse(out.text!)).toMatchObject({ words: 3, characters: 20 });
    expect(out.denied).toMatchObject({ isError: true, error: { code: 'policy-denied' } });
    expect(out.unknown).toMatchObject({ typed: true, code: -32602 });
    // client.close() closed the transport, which let go of its connector iframe.
    expect(await remote.evaluate(() => document.querySelectorAll('iframe').length)).toBe(0);
    const sessions = await admin<{ id: string; agentId: string; origin?: string; clientInfo: { name: string } }[]>(page, 'sessions.list');
    expect(sessions.find((s) => s.id === out.session)).toMatchObject({ agentId: 'v2-remote', clientInfo: { name: 'v2-postmessage-page' } });
    await remote.close();
  });
});
