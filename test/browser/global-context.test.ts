import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { admin, connectAgent, launchBrowser, openApp, registerAgent, stopServiceWorker } from './harness';

// The global context `context://global` (docs/context.md, "The global context"), read through the
// real client library in the app's page: what every agent sees (version, uptime of the service
// worker, tool counts, active sessions as counts, Global variables), what only a FullyTrusted
// agent sees (which agents have sessions), and what an agent may not see at all.

let browser: Browser;
let context: BrowserContext;
let page: Page;
const sessions: Record<string, string> = {};

beforeAll(async () => {
  browser = await launchBrowser();
  ({ context, page } = await openApp(browser));
  // The same FullyTrusted agent in two sessions.
  const topToken = await registerAgent(page, { id: 'gc-top' });
  sessions['top'] = await connectAgent(page, 'top', { agent: 'gc-top', token: topToken });
  sessions['top2'] = await connectAgent(page, 'top2', { agent: 'gc-top', token: topToken });
  sessions['low'] = await connectAgent(page, 'low', { agent: 'gc-low', token: await registerAgent(page, { id: 'gc-low', trustLevel: 'Untrusted' }) });
  sessions['walled'] = await connectAgent(page, 'walled', { agent: 'gc-walled', token: await registerAgent(page, { id: 'gc-walled', trustLevel: 'Trusted', policy: { version: 1, tools: { blocked: ['context://global'] } } }) });
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
});

interface GlobalDoc {
  server: { name: string; version: string };
  serviceWorker: { startedAt: string; uptimeMs: number; incarnation: string };
  tools: { callable: number; visibleToYou: number };
  sessions: { active: number; agentsWithActiveSessions: number; yours: { active: number; readFrom: string }; byAgent?: { agentId: string; active: number }[] };
  shared: { variables: Record<string, { value: unknown; sharing: string }> };
  reader: { agentId: string; trustLevel: string; visibility: string };
}
type Read = { ok: true; uris: string[]; text: string; doc: GlobalDoc; toolCount: number } | { ok: false; uris: string[]; code: number; message: string; data?: Record<string, unknown> };

/** resources/list, then resources/read of context://global, as `client` (an SDK Client in the page). */
async function readGlobal(client: string): Promise<Read> {
  return page.evaluate(async (client) => {
    type C = { listResources(): Promise<{ resources: { uri: string }[] }>; readResource(p: unknown): Promise<{ contents: { text: string }[] }>; listTools(): Promise<{ tools: unknown[] }> };
    const c = (window as unknown as { agents: Record<string, C> }).agents[client]!;
    const uris = (await c.listResources()).resources.map((r) => r.uri);
    try {
      const text = (await c.readResource({ uri: 'context://global' })).contents[0]!.text;
      return { ok: true as const, uris, text, doc: JSON.parse(text) as never, toolCount: (await c.listTools()).tools.length };
    } catch (error) {
      const e = error as { code: number; message: string; data?: Record<string, unknown> };
      return { ok: false as const, uris, code: e.code, message: e.message, ...(e.data ? { data: e.data } : {}) };
    }
  }, client) as Promise<Read>;
}

function ok(read: Read): Extract<Read, { ok: true }> {
  if (!read.ok) throw new Error(`context://global was refused: ${read.message}`);
  return read;
}

describe('context://global through the real client', () => {
  it('is listed and read by an agent, with the version, uptime, tool counts and the Global variables', async () => {
    await admin(page, 'contexts.setGlobal', { name: 'motd', value: 'maintenance at noon' });
    const read = ok(await readGlobal('top'));
    expect(read.uris).toContain('context://global');
    const info = await admin<{ incarnation: string }>(page, 'server.info');
    expect(read.doc.server).toMatchObject({ name: 'browser-mcp-sandbox', version: expect.any(String) });
    expect(read.doc.serviceWorker.incarnation).toBe(info.incarnation);
    expect(read.doc.serviceWorker.uptimeMs).toBeGreaterThan(0);
    expect(Date.now() - Date.parse(read.doc.serviceWorker.startedAt)).toBeGreaterThanOrEqual(read.doc.serviceWorker.uptimeMs - 5_000);
    expect(read.doc.tools.visibleToYou).toBe(read.toolCount);
    expect(read.doc.tools.callable).toBeGreaterThanOrEqual(read.doc.tools.visibleToYou);
    expect(read.doc.shared.variables['motd']).toMatchObject({ value: 'maintenance at noon', sharing: 'Global' });
    // FullyTrusted, Permissive conversation: which agents have sessions (its own two among them).
    expect(read.doc.reader).toMatchObject({ agentId: 'gc-top', trustLevel: 'FullyTrusted', visibility: 'agents' });
    expect(read.doc.sessions.byAgent).toEqual(expect.arrayContaining([{ agentId: 'gc-top', active: 2 }, { agentId: 'gc-low', active: 1 }]));
    expect(read.doc.sessions.yours).toEqual({ active: 2, readFrom: sessions['top'] });
  });

  it('shows an Untrusted agent counts only: no other agent, no session id but its own, no other agent\'s variables', async () => {
    await page.evaluate(async () => {
      const lib = (window as unknown as { sandboxClientLib: { setContextVariable(c: unknown, n: string, v: unknown, o?: unknown): Promise<unknown> }; agents: Record<string, unknown> });
      await lib.sandboxClientLib.setContextVariable(lib.agents['top'], 'plan', 'top-secret-plan', { sharing: 'UserScoped' });
    });
    const read = ok(await readGlobal('low'));
    expect(read.uris).toContain('context://global');
    expect(read.doc.reader).toMatchObject({ agentId: 'gc-low', trustLevel: 'Untrusted', visibility: 'counts' });
    expect(read.doc.sessions).not.toHaveProperty('byAgent');
    expect(read.doc.sessions.yours).toEqual({ active: 1, readFrom: sessions['low'] });
    expect(read.doc.sessions.active).toBeGreaterThanOrEqual(4);
    expect(read.doc.sessions.agentsWithActiveSessions).toBeGreaterThanOrEqual(3);
    for (const hidden of ['gc-top', 'gc-walled', sessions['top']!, sessions['top2']!, sessions['walled']!, 'top-secret-plan']) expect(read.text).not.toContain(hidden);
    // The Global variables are for everyone.
    expect(read.doc.shared.variables['motd']?.value).toBe('maintenance at noon');
  });

  it('is neither listed nor readable for an agent whose policy blocks it, and the refusal is audited', async () => {
    const read = await readGlobal('walled');
    expect(read.uris).not.toContain('context://global');
    expect(read).toMatchObject({ ok: false, code: -32602, data: { code: 'policy-denied', rule: 'tool.blocked', layer: 'agent' } });
    expect(JSON.stringify(read)).not.toContain('maintenance at noon');
    const entries = await admin<{ event: string; outcome: string; details: { uri?: string }; error: { details: { rule: string; layer: string } } }[]>(page, 'audit.list', { agentId: 'gc-walled' });
    expect(entries.filter((e) => e.event === 'resource.read')).toMatchObject([{ outcome: 'denied', details: { uri: 'context://global' }, error: { details: { rule: 'tool.blocked', layer: 'agent' } } }]);
  });

  it('after a service-worker stop, gives the new lifetime\'s start and uptime', async () => {
    const before = ok(await readGlobal('top')).doc.serviceWorker;
    await stopServiceWorker(context, page);
    const after = ok(await readGlobal('top')).doc;
    expect(after.serviceWorker.incarnation).not.toBe(before.incarnation);
    expect(Date.parse(after.serviceWorker.startedAt)).toBeGreaterThan(Date.parse(before.startedAt));
    // What is stored survives: the Global variables and the sessions' activity.
    expect(after.shared.variables['motd']?.value).toBe('maintenance at noon');
    expect(after.sessions.yours.active).toBe(2);
  });
});
