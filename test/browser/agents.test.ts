import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { admin, callTool, connectAgent, connectRemoteAgent, errorCode, launchBrowser, openApp, openPage, recordNotifications, registerAgent, startAgentSite, stopServiceWorker } from './harness';

let browser: Browser;
let context: BrowserContext;
let app: Page;
let siteA: Awaited<ReturnType<typeof startAgentSite>>;
let siteB: Awaited<ReturnType<typeof startAgentSite>>;
let pageA: Page;
let pageB: Page;
let tokenA: string;
let tokenB: string;

const listTools = (page: Page, agent: string) =>
  page.evaluate(async (agent) => {
    const c = (window as unknown as { agents: Record<string, { listTools(): Promise<{ tools: { name: string }[] }> }> }).agents[agent]!;
    return (await c.listTools()).tools.map((t) => t.name).sort();
  }, agent);
const denial = (r: { _meta?: Record<string, unknown> }) => r._meta?.['mcp-sandbox/error'] as { code: string; details: { rule: string; limit?: unknown; retryAfterMs?: number } } | undefined;

beforeAll(async () => {
  browser = await launchBrowser();
  ({ context, page: app } = await openApp(browser));
  await admin(app, 'tools.seed', { fixtures: true });
  [siteA, siteB] = await Promise.all([startAgentSite(), startAgentSite()]);
  // Two agents, each registered for its own origin, at different trust levels.
  tokenA = await registerAgent(app, { id: 'site-a', trustLevel: 'Untrusted', origins: [new URL(siteA.url).origin] });
  tokenB = await registerAgent(app, { id: 'site-b', trustLevel: 'FullyTrusted', origins: [new URL(siteB.url).origin] });
  pageA = await context.newPage();
  await pageA.goto(siteA.url);
  pageB = await context.newPage();
  await pageB.goto(siteB.url);
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await siteA?.close();
  await siteB?.close();
});

describe('agents on other origins, through the connector iframe', () => {
  it('refuses a wrong token and a wrong origin, and audits both', async () => {
    expect((await connectRemoteAgent(pageA, 'bad-token', { agent: 'site-a', token: tokenA.slice(1) + 'x' })).error).toMatchObject({ code: -32003 });
    // site-b's origin with site-a's valid credentials: the browser-given origin gives it away.
    expect((await connectRemoteAgent(pageB, 'wrong-origin', { agent: 'site-a', token: tokenA })).error).toMatchObject({ code: -32003 });
    const refused = (await admin<{ event: string; details: { reason: string; origin: string; via: string } }[]>(app, 'audit.list')).filter((e) => e.event === 'session.refused');
    expect(refused.map((e) => [e.details.reason, e.details.origin, e.details.via])).toEqual([
      ['wrong-token', new URL(siteA.url).origin, 'connector'],
      ['origin-not-allowed', new URL(siteB.url).origin, 'connector'],
    ]);
  });

  it('gives two agents of different trust levels different tool lists and different answers to the same call', async () => {
    expect((await connectRemoteAgent(pageA, 'a', { agent: 'site-a', token: tokenA })).error).toBeUndefined();
    expect((await connectRemoteAgent(pageB, 'b', { agent: 'site-b', token: tokenB })).error).toBeUndefined();
    expect(await listTools(pageA, 'a')).toEqual(['json_query', 'list_directory', 'read_file', 'text_stats']);
    expect(await listTools(pageB, 'b')).toEqual(expect.arrayContaining(['json_query', 'loop_forever', 'memory_hog', 'text_stats', 'trap']));

    const same = { json: '{"user":"ada","password":"hunter2"}', path: '$' };
    const a = await callTool(pageA, 'a', 'json_query', same);
    const b = await callTool(pageB, 'b', 'json_query', same);
    expect(a.content[0]!.text).not.toContain('hunter2'); // Untrusted: sensitive values redacted for the agent
    expect(a._meta!['mcp-sandbox/sensitive']).toMatchObject({ matchedPatterns: ['password'], redactedForAgent: true });
    expect(JSON.parse(b.content[0]!.text).value).toEqual({ user: 'ada', password: 'hunter2' });

    const trap = await callTool(pageA, 'a', 'trap', {});
    expect(denial(trap)).toMatchObject({ code: 'policy-denied', details: { rule: 'tool.not-allowed' } });
    expect(errorCode(await callTool(pageB, 'b', 'trap', {}))).toBe('trap');

    const sessions = await admin<{ agentId: string; origin: string; via: string }[]>(app, 'sessions.list');
    expect(sessions.filter((s) => s.agentId.startsWith('site-')).map((s) => [s.agentId, s.origin, s.via]).sort()).toEqual([
      ['site-a', new URL(siteA.url).origin, 'connector'],
      ['site-b', new URL(siteB.url).origin, 'connector'],
    ]);
  });

  it('opens exactly what an admin grant names, from the next call', async () => {
    await admin(app, 'agents.grant', { id: 'site-a', grant: { kind: 'tool', name: 'trap' } });
    expect(errorCode(await callTool(pageA, 'a', 'trap', {}))).toBe('trap'); // now it runs (and traps)
    expect(denial(await callTool(pageA, 'a', 'loop_forever', {}))).toMatchObject({ details: { rule: 'tool.not-allowed' } });
    expect(await listTools(pageA, 'a')).toEqual(['json_query', 'list_directory', 'read_file', 'text_stats', 'trap']);
    await admin(app, 'agents.revokeGrant', { id: 'site-a', revoke: { kind: 'tool', name: 'trap' } });
    expect(denial(await callTool(pageA, 'a', 'trap', {}))).toMatchObject({ details: { rule: 'tool.blocked' } });
    const changes = (await admin<{ event: string; agentId: string; details: { method: string } }[]>(app, 'audit.list')).filter((e) => e.event === 'admin' && e.agentId === 'site-a');
    expect(changes.map((e) => e.details.method)).toEqual(['agents.register', 'agents.grant', 'agents.revokeGrant']);
  });
});

describe('grants as the agent sees them', () => {
  const notified = (page: Page) => page.evaluate(() => (window as unknown as { notified: string[] }).notified.filter((m) => m === 'notifications/tools/list_changed').length);

  it('tells the agent\'s live sessions at once when a grant or revoke changes its tools, and no other agent\'s', async () => {
    await recordNotifications(pageA, 'a');
    await recordNotifications(pageB, 'b');
    await admin(app, 'agents.grant', { id: 'site-a', grant: { kind: 'tool', name: 'loop_forever' } });
    await pageA.waitForFunction(() => (window as unknown as { notified: string[] }).notified.includes('notifications/tools/list_changed'));
    expect(await listTools(pageA, 'a')).toContain('loop_forever');
    await admin(app, 'agents.revokeGrant', { id: 'site-a', revoke: { kind: 'tool', name: 'loop_forever' } });
    await pageA.waitForFunction(() => (window as unknown as { notified: string[] }).notified.length >= 2);
    expect(await notified(pageA)).toBe(2);
    expect(await listTools(pageA, 'a')).not.toContain('loop_forever');
    // site-b's policy did not change: its session heard nothing.
    expect(await notified(pageB)).toBe(0);
  });

  it('refuses a grant of a tool name no tool has, and says which name was meant', async () => {
    const refused = await admin(app, 'agents.grant', { id: 'site-a', grant: { kind: 'tool', name: 'json_querry' } }).then(
      () => null,
      (error: Error) => error.message,
    );
    expect(refused).toMatch(/unknown-tool|no tool named "json_querry"/);
    expect(refused).toContain('json_query');
    expect(await listTools(pageA, 'a')).not.toContain('json_querry');
    // A pattern may name tools yet to come.
    await admin(app, 'agents.grant', { id: 'site-a', grant: { kind: 'tool', name: 'future_*' } });
    await admin(app, 'agents.revokeGrant', { id: 'site-a', revoke: { kind: 'tool', name: 'future_*' } });
  });
});

describe('a rate limit and a service-worker restart', () => {
  it('still holds after the worker is stopped and woken', async () => {
    const page = await openPage(context, '/');
    const token = await registerAgent(page, { id: 'rated', trustLevel: 'Untrusted', policy: { version: 1, session: { callsPerMinute: 3, maxCalls: 100 } } });
    await connectAgent(page, 'rated', { agent: 'rated', token });
    for (let i = 0; i < 3; i++) expect((await callTool(page, 'rated', 'text_stats', { text: `call ${i}` })).isError).toBeFalsy();
    const before = await admin<{ incarnation: string }>(page, 'server.info');
    await stopServiceWorker(context, page);
    const denied = await callTool(page, 'rated', 'text_stats', { text: 'one too many' });
    expect(denial(denied)).toMatchObject({ code: 'policy-denied', details: { rule: 'rate.calls-per-minute', limit: 3 } });
    expect(denial(denied)!.details.retryAfterMs).toBeGreaterThan(0);
    expect((await admin<{ incarnation: string }>(page, 'server.info')).incarnation).not.toBe(before.incarnation);
    const audit = await admin<{ event: string; agentId: string; error: { details: { rule: string } } | null }[]>(page, 'audit.list', { agentId: 'rated' });
    expect(audit.filter((e) => e.event === 'call.rejected').map((e) => e.error!.details.rule)).toEqual(['rate.calls-per-minute']);
    expect(await admin(page, 'audit.verify')).toMatchObject({ ok: true });
  });
});
