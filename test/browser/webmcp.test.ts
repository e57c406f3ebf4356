import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { admin, baseUrl, callTool, connectRemoteAgent, errorCode, launchBrowser, openApp, openPage, registerAgent, startAgentSite } from './harness';

// WebMCP: an agent site connects with the client library and offers its agent's tools to the
// browser's model context (`document.modelContext`, Chromium with --enable-features=WebMCPTesting).
// The browser's side is played by the model context's own executeTool, as an in-page agent would.

let browser: Browser;
let context: BrowserContext;
let app: Page;
let site: Awaited<ReturnType<typeof startAgentSite>>;
let page: Page;
let sessionId: string;

const AGENT = 'webmcp-agent';

/** Names the page's model context lists, sorted. */
const modelContextTools = (p: Page): Promise<string[]> =>
  p.evaluate(async () => {
    const mc = (document as unknown as { modelContext: { getTools(): Promise<{ name: string }[]> } }).modelContext;
    return (await mc.getTools()).map((t) => t.name).sort();
  });

const agentTools = (p: Page): Promise<string[]> =>
  p.evaluate(async (agent) => {
    const c = (window as unknown as { agents: Record<string, { listTools(): Promise<{ tools: { name: string }[] }> }> }).agents[agent]!;
    return (await c.listTools()).tools.map((t) => t.name).sort();
  }, AGENT);

async function untilTools(p: Page, check: (names: string[]) => boolean): Promise<string[]> {
  let names: string[] = [];
  for (let i = 0; i < 100; i++) {
    names = await modelContextTools(p);
    if (check(names)) return names;
    await p.waitForTimeout(50);
  }
  throw new Error(`model context tools never matched: ${names.join(', ')}`);
}

interface Executed {
  result?: unknown;
  error?: { name: string; message: string };
}

/**
 * Runs a registered tool the way the browser's agent does, through the model context. Chromium 156:
 * `document.modelContext.executeTool(registeredTool, inputObject)`, resolving to the result as JSON
 * text. Older builds (Debian's 150 among them) take the input as JSON text (retried so when the
 * object is refused), and
 * before that only `navigator.modelContextTesting.executeTool(name, jsonText)` existed.
 */
const executeThroughModelContext = (p: Page, name: string, input: Record<string, unknown>, handle: 'current' | 'stale' = 'current'): Promise<Executed> =>
  p.evaluate(
    async ({ name, input, stale }) => {
      type Registered = { name: string };
      type MC = { getTools?(): Promise<Registered[]>; executeTool?(tool: Registered, input: unknown): Promise<unknown> };
      const w = window as unknown as { staleTools?: Record<string, Registered> };
      const mc = (document as unknown as { modelContext?: MC }).modelContext;
      const parse = (out: unknown): unknown => (typeof out === 'string' ? JSON.parse(out) : out);
      const failure = (e: unknown) => ({ error: { name: (e as Error).name, message: (e as Error).message } });
      try {
        if (mc?.getTools && mc.executeTool) {
          const registered = stale ? w.staleTools?.[name] : (await mc.getTools()).find((t) => t.name === name);
          if (!registered) return failure(new Error(`${name} is not registered`));
          try {
            return { result: parse(await mc.executeTool(registered, input)) };
          } catch (error) {
            // Chromium 150 refuses an object with UnknownError "Failed to parse input arguments".
            if ((error as Error).name !== 'TypeError' && !/parse input/i.test((error as Error).message)) throw error;
            return { result: parse(await mc.executeTool(registered, JSON.stringify(input))) };
          }
        }
        const testing = (navigator as unknown as { modelContextTesting?: { executeTool(name: string, json: string): Promise<unknown> } }).modelContextTesting;
        if (!testing) return failure(new Error('no way to execute a WebMCP tool in this build'));
        return { result: parse(await testing.executeTool(name, JSON.stringify(input))) };
      } catch (error) {
        return failure(error);
      }
    },
    { name, input, stale: handle === 'stale' },
  );

type AuditRow = { event: string; tool: string | null; agentId: string | null; sessionId: string | null; outcome: string; args: unknown; details?: Record<string, unknown> | null };
const auditOf = async (): Promise<AuditRow[]> => (await admin<AuditRow[]>(app, 'audit.list', { agentId: AGENT })).filter((e) => e.event.startsWith('call.'));

beforeAll(async () => {
  browser = await launchBrowser(['--enable-features=WebMCPTesting']);
  ({ context, page: app } = await openApp(browser));
  await admin(app, 'tools.seed', { fixtures: true });
  site = await startAgentSite();
  // Untrusted: trap (and every other fixture) is not in its template; its policy blocks read_file too.
  const token = await registerAgent(app, { id: AGENT, trustLevel: 'Untrusted', origins: [new URL(site.url).origin], policy: { version: 1, tools: { blocked: ['read_file'] } } });
  page = await context.newPage();
  page.on('pageerror', (error) => console.error(`[page error] ${error.message}`));
  await page.goto(site.url);
  const connected = await connectRemoteAgent(page, AGENT, { agent: AGENT, token });
  expect(connected.error).toBeUndefined();
  sessionId = connected.sessionId!;
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await site?.close();
});

describe('WebMCP: the agent site offers its sandboxed tools to the browser\'s model context', () => {
  it('this Chromium has document.modelContext with registerTool, getTools and executeTool (navigator.modelContext absent, or the same object: 156 and 150)', async () => {
    expect(
      await page.evaluate(() => {
        const mc = (document as unknown as { modelContext?: Record<string, unknown> }).modelContext;
        const nav = (navigator as unknown as { modelContext?: unknown }).modelContext;
        return { doc: !!mc, navAbsentOrSame: nav === undefined || nav === mc, methods: mc ? ['registerTool', 'getTools', 'executeTool'].filter((m) => typeof mc[m] === 'function') : [] };
      }),
    ).toEqual({ doc: true, navAbsentOrSame: true, methods: ['registerTool', 'getTools', 'executeTool'] });
    expect(await modelContextTools(page)).toEqual([]);
  });

  it('registers exactly the tools the agent may use: none its policy denies', async () => {
    const exposed = await page.evaluate(async (agent) => {
      const w = window as unknown as { sandboxClientLib: { exposeToWebMCP(c: unknown): Promise<{ available: boolean; tools: string[] }> }; agents: Record<string, unknown>; exposure: unknown };
      const exposure = await w.sandboxClientLib.exposeToWebMCP(w.agents[agent]);
      w.exposure = exposure;
      return { available: exposure.available, tools: [...exposure.tools] };
    }, AGENT);
    const visible = await agentTools(page);
    expect(exposed).toEqual({ available: true, tools: visible });
    expect(await modelContextTools(page)).toEqual(visible);
    expect(visible).toContain('text_stats');
    // Denied by the template (trap) and by the agent's own policy (read_file): not offered, and
    // the server refuses them to this agent's session anyway.
    expect(visible).not.toContain('trap');
    expect(visible).not.toContain('read_file');
    expect(errorCode(await callTool(page, AGENT, 'trap', {}))).toBe('policy-denied');
    expect(errorCode(await callTool(page, AGENT, 'read_file', { path: './sandbox/x' }))).toBe('policy-denied');
    // The descriptions and input schemas are the server's.
    const text = await page.evaluate(async () => {
      const mc = (document as unknown as { modelContext: { getTools(): Promise<{ name: string; description: string; inputSchema: unknown }[]> } }).modelContext;
      const t = (await mc.getTools()).find((x) => x.name === 'text_stats')!;
      return { description: t.description, inputSchema: typeof t.inputSchema === 'string' ? JSON.parse(t.inputSchema) : t.inputSchema };
    });
    expect(text.description.length).toBeGreaterThan(0);
    expect(text.inputSchema).toMatchObject({ type: 'object', properties: { text: { type: 'string' } } });
  });

  it('executing a tool through the model context runs it in the sandbox, as this agent, audited', async () => {
    const before = await auditOf();
    const executed = await executeThroughModelContext(page, 'text_stats', { text: 'Hello there. WebMCP calls too.' });
    expect(executed.error).toBeUndefined();
    const result = executed.result as { content: { type: string; text: string }[]; isError?: boolean };
    expect(result.isError).toBeUndefined();
    expect(result.content[0]!.type).toBe('text');
    expect(JSON.parse(result.content[0]!.text)).toMatchObject({ words: 5, sentences: 2 });
    const added = (await auditOf()).slice(before.length);
    expect(added.map((e) => [e.event, e.tool, e.agentId, e.sessionId, e.outcome])).toEqual([
      ['call.request', 'text_stats', AGENT, sessionId, 'pending'],
      ['call.result', 'text_stats', AGENT, sessionId, 'ok'],
    ]);
    // The trail tells it came through WebMCP.
    expect(added[0]!.details).toMatchObject({ via: 'webmcp' });
    expect(await admin(app, 'audit.verify')).toMatchObject({ ok: true });
  });

  it('a call the sandbox refuses comes back to the browser\'s agent as an isError result with the sandbox error code', async () => {
    const executed = await executeThroughModelContext(page, 'json_query', { json: 'not json', path: '$' });
    expect(executed.error).toBeUndefined();
    const result = executed.result as { isError?: boolean; _meta?: Record<string, { code: string }> };
    expect(result.isError).toBe(true);
    expect(result._meta?.['mcp-sandbox/error']?.code).toBeTruthy();
  });

  it('follows grants: a granted tool is added, a revoked one removed from the model context', async () => {
    await admin(app, 'agents.grant', { id: AGENT, grant: { kind: 'tool', name: 'trap' } });
    expect(await untilTools(page, (n) => n.includes('trap'))).toEqual(await agentTools(page));
    // Keep the browser's handle on text_stats, as an agent that listed tools earlier would.
    await page.evaluate(async () => {
      const mc = (document as unknown as { modelContext: { getTools(): Promise<{ name: string }[]> } }).modelContext;
      (window as unknown as { staleTools: Record<string, unknown> }).staleTools = Object.fromEntries((await mc.getTools()).map((t) => [t.name, t]));
    });
    await admin(app, 'agents.revokeGrant', { id: AGENT, revoke: { kind: 'tool', name: 'trap' } });
    await admin(app, 'agents.revokeGrant', { id: AGENT, revoke: { kind: 'tool', name: 'text_stats' } });
    const after = await untilTools(page, (n) => !n.includes('trap') && !n.includes('text_stats'));
    expect(after).toEqual(await agentTools(page));
    expect(after).toContain('json_query');
    // The browser's old handle leads nowhere: no call reaches the sandbox.
    const before = await auditOf();
    const stale = await executeThroughModelContext(page, 'text_stats', { text: 'still there?' }, 'stale');
    expect(stale.error).toBeDefined();
    expect((await auditOf()).length).toBe(before.length);
  });

  it('unregister() takes every tool back', async () => {
    await page.evaluate(() => (window as unknown as { exposure: { unregister(): Promise<void> } }).exposure.unregister());
    expect(await modelContextTools(page)).toEqual([]);
  });
});

describe('WebMCP on the demo agent page', () => {
  it('a checkbox offers the demo agent\'s tools to the browser\'s agent, and takes them back', async () => {
    await app.waitForFunction(() => (localStorage.getItem('mcp-sandbox-demo-agents') ?? '').includes('demo-trusted'), null, { timeout: 15_000 });
    const demo = await openPage(context, '/agent.html#demo-trusted');
    await demo.getByTestId('demo-status').filter({ hasText: 'connected as demo-trusted' }).waitFor();
    const box = demo.getByTestId('demo-webmcp');
    await box.check();
    await demo.getByTestId('demo-webmcp-status').filter({ hasText: /^\d+ tools? offered/ }).waitFor();
    const offered = await modelContextTools(demo);
    // What the page lists for the agent (tools/list when it connected).
    const visible = await demo.evaluate(() => (document.querySelector('demo-agent') as unknown as { tools: { name: string }[] }).tools.map((t) => t.name).sort());
    expect(visible.length).toBeGreaterThan(0);
    expect(offered).toEqual(visible);
    await box.uncheck();
    await untilTools(demo, (n) => n.length === 0);
    await demo.close();
  });
});

describe('WebMCP without the flag', () => {
  it('feature-detects: a typed error, or with ifUnavailable skip a no-op result saying so', async () => {
    const plain = await launchBrowser();
    try {
      const p = await (await plain.newContext()).newPage();
      await p.goto(site.url);
      // A string, so that the test runner's transform leaves the browser's own import() alone.
      await p.evaluate(`import(${JSON.stringify(new URL('/client.js', baseUrl()).href)}).then((m) => { window.sandboxClientLib = m; })`);
      const outcome = await p.evaluate(async () => {
        const m = (window as unknown as { sandboxClientLib: unknown }).sandboxClientLib as { exposeToWebMCP(c: unknown, o?: unknown): Promise<{ available: boolean; reason?: string; tools: string[] }>; WebMcpUnavailableError: new () => Error };
        const thrown = await m.exposeToWebMCP({}).then(
          () => null,
          (e: Error & { code?: string }) => ({ name: e.name, code: e.code, typed: e instanceof m.WebMcpUnavailableError }),
        );
        const skipped = await m.exposeToWebMCP({}, { ifUnavailable: 'skip' });
        return { hasModelContext: 'modelContext' in document, thrown, skipped: { available: skipped.available, reason: skipped.reason, tools: skipped.tools } };
      });
      expect(outcome.hasModelContext).toBe(false);
      expect(outcome.thrown).toEqual({ name: 'WebMcpUnavailableError', code: 'webmcp-unavailable', typed: true });
      expect(outcome.skipped).toMatchObject({ available: false, tools: [] });
      expect(outcome.skipped.reason).toMatch(/WebMCPTesting/);
    } finally {
      await plain.close();
    }
  });
});
