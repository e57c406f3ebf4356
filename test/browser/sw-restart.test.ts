import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { admin, callTool, connectAgent, launchBrowser, openApp, stopServiceWorker } from './harness';

let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  browser = await launchBrowser();
  ({ context, page } = await openApp(browser));
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
});

/** Connects an agent and starts a call that never ends; returns its request entry (once written). */
async function startLooping(name: string, agent: string): Promise<{ callId: string }[]> {
  await admin(page, 'tools.seed', { fixtures: true });
  await connectAgent(page, name, { agent });
  void page.evaluate((n) => {
    const c = (window as unknown as { agents: Record<string, { callTool(p: unknown): Promise<unknown> }> }).agents[n]!;
    void c.callTool({ name: 'loop_forever', arguments: {} });
  }, name);
  await page.waitForTimeout(300);
  const pending = (await admin<{ event: string; tool: string; callId: string; agentId: string }[]>(page, 'audit.list')).filter((e) => e.event === 'call.request' && e.tool === 'loop_forever' && e.agentId === agent);
  expect(pending).toHaveLength(1);
  return pending;
}

describe('a service worker stopped in the middle of a session', () => {
  it('comes back with fresh globals, serves the same session, and loses no audit entry', async () => {
    const session = await connectAgent(page, 'a', { agent: 'restart-agent' });
    expect((await callTool(page, 'a', 'text_stats', { text: 'one two' })).isError).toBeFalsy();
    const before = await admin<{ incarnation: string }>(page, 'server.info');
    const entriesBefore = await admin<{ seq: number }[]>(page, 'audit.list');

    await stopServiceWorker(context, page);

    // The next call of the same session wakes a new service-worker lifetime and succeeds.
    const after = await callTool(page, 'a', 'json_query', { json: '{"k":[1,2,3]}', path: 'k[2]' });
    expect(after.isError).toBeFalsy();
    expect(JSON.parse(after.content[0]!.text)).toMatchObject({ found: true, value: 3 });
    const now = await admin<{ incarnation: string }>(page, 'server.info');
    expect(now.incarnation).not.toBe(before.incarnation);

    const entries = await admin<{ seq: number; event: string; sessionId: string; tool: string; callId: string }[]>(page, 'audit.list');
    // Every entry from before is still there, unchanged in order, and the chain runs on.
    expect(entries.slice(0, entriesBefore.length)).toEqual(entriesBefore);
    const mine = entries.filter((e) => e.sessionId === session && e.event.startsWith('call.'));
    expect(mine.map((e) => [e.event, e.tool])).toEqual([
      ['call.request', 'text_stats'],
      ['call.result', 'text_stats'],
      ['call.request', 'json_query'],
      ['call.result', 'json_query'],
    ]);
    expect(await admin(page, 'audit.verify')).toMatchObject({ ok: true, count: entries.length });
    const sessions = await admin<{ id: string; callCount: number }[]>(page, 'sessions.list');
    expect(sessions.find((s) => s.id === session)?.callCount).toBe(2);
  });

  it('records a call cut off by the stop as interrupted on the next wake, and the chain stays whole', async () => {
    // Start a call that takes a second, and stop the service worker while it runs.
    const pending = await startLooping('b', 'interrupted-agent');
    await stopServiceWorker(context, page);

    expect((await callTool(page, 'b', 'text_stats', { text: 'after the stop' })).isError).toBeFalsy();
    const entries = await admin<{ event: string; callId: string; outcome: string; error: { code: string } | null }[]>(page, 'audit.list');
    const closing = entries.filter((e) => e.callId === pending[0]!.callId).map((e) => [e.event, e.outcome, e.error?.code ?? null]);
    expect(closing).toEqual([
      ['call.request', 'pending', null],
      ['call.interrupted', 'interrupted', 'interrupted'],
    ]);
    expect(await admin(page, 'audit.verify')).toMatchObject({ ok: true });
  });

  it("leaves a lifetime that still runs alone (an update's overlap), and closes its open call once it has ended", async () => {
    const pending = await startLooping('d', 'overlap-agent');
    const { incarnation } = await admin<{ incarnation: string }>(page, 'server.info');
    // The page takes over that lifetime's lock: to the next lifetime, the old one still runs, as
    // an old service worker does while the new one activates over it (skipWaiting).
    await page.evaluate(
      (name) =>
        new Promise<void>((taken) => {
          void navigator.locks.request(name, { steal: true }, () => {
            taken();
            return new Promise<void>((release) => ((window as unknown as { releaseLifetime: () => void }).releaseLifetime = release));
          });
        }),
      `mcp-sandbox/lifetime/${incarnation}`,
    );
    await stopServiceWorker(context, page);

    expect((await callTool(page, 'd', 'text_stats', { text: 'beside a live lifetime' })).isError).toBeFalsy();
    const closing = async () => (await admin<{ event: string; callId: string }[]>(page, 'audit.list')).filter((e) => e.callId === pending[0]!.callId).map((e) => e.event);
    expect(await closing()).toEqual(['call.request']);

    // That lifetime ends: its call, still open, is closed as interrupted, with no wake needed.
    await page.evaluate(() => (window as unknown as { releaseLifetime: () => void }).releaseLifetime());
    await expect.poll(closing, { timeout: 10_000 }).toEqual(['call.request', 'call.interrupted']);
    expect(await admin(page, 'audit.verify')).toMatchObject({ ok: true });
  });

  it('sends calls over the host link; after a wake, one call takes a port of its own while the host hands a new link', async () => {
    await connectAgent(page, 'c', { agent: 'link-agent' });
    await page.evaluate(() => {
      const w = window as unknown as { executes: number; hostHellos: number };
      w.executes = 0;
      navigator.serviceWorker.addEventListener('message', (event) => {
        if ((event.data as { kind?: string } | null)?.kind === 'execute') w.executes++;
      });
    });
    const executes = () => page.evaluate(() => (window as unknown as { executes: number }).executes);
    for (let i = 0; i < 3; i++) expect((await callTool(page, 'c', 'text_stats', { text: `linked ${i}` })).isError).toBeFalsy();
    expect(await executes()).toBe(0);

    await stopServiceWorker(context, page);
    for (let i = 0; i < 4; i++) expect((await callTool(page, 'c', 'text_stats', { text: `woken ${i}` })).isError).toBeFalsy();
    // The first call after the wake went as an `execute` envelope; the rest on the new link.
    expect(await executes()).toBe(1);
  });
});
