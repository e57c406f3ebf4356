import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { admin, callTool, connectAgent, launchBrowser, openApp } from './harness';

// An agent's notifications/cancelled stops the call where it runs: the looping worker is ended
// (and replaced), the call is audited as cancelled, and the next call is served at once.

let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  browser = await launchBrowser();
  ({ context, page } = await openApp(browser));
  await admin(page, 'tools.seed', { fixtures: true });
  await connectAgent(page, 'a', { agent: 'canceller' });
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
});

describe('cancellation', () => {
  for (const [name, args] of [
    ['loop_forever', {}],
    ['execute_code', { language: 'javascript', code: 'while (true) {}' }],
  ] as const) {
    it(`stops a looping ${name} call the agent cancels, audits it, and serves the next call`, async () => {
      const outcome = await page.evaluate(
        async ({ name, args }) => {
          const c = (window as unknown as { agents: Record<string, { callTool(p: unknown, s?: unknown, o?: unknown): Promise<unknown> }> }).agents['a']!;
          const controller = new AbortController();
          const call = c.callTool({ name, arguments: args }, undefined, { signal: controller.signal, timeout: 120_000 });
          await new Promise((r) => setTimeout(r, 300));
          controller.abort('the agent changed its mind');
          const error = await call.then(() => null, (e: Error) => e.message);
          return { error };
        },
        { name, args },
      );
      expect(outcome.error).toContain('changed its mind');
      // The service worker hears the cancel, the host ends the worker; the audit says so.
      await expect
        .poll(async () => (await admin<{ event: string; tool: string; outcome: string; error: { code: string } | null; durationMs: number }[]>(page, 'audit.list', { agentId: 'canceller' })).filter((e) => e.event === 'call.result' && e.tool === name).at(-1), { timeout: 5_000 })
        .toMatchObject({ outcome: 'cancelled', error: { code: 'cancelled' } });
      const stats = await page.evaluate(() => (window as unknown as { sandboxHost: { pool: { stats: { size: number; idle: number } } } }).sandboxHost.pool.stats);
      expect(stats.idle).toBe(stats.size);
      const next = await callTool(page, 'a', 'text_stats', { text: 'still here' });
      expect(next.isError).toBeFalsy();
    });
  }
});
