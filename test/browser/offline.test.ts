import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
// @ts-expect-error -- plain ESM script without types
import { startServer } from '../../scripts/serve.mjs';
import { callTool, connectAgent, launchBrowser } from './harness';

let browser: Browser;
let server: Server;
let url: string;

beforeAll(async () => {
  browser = await launchBrowser();
  // A server of its own, so this test can take it away.
  ({ server, url } = (await startServer({ root: fileURLToPath(new URL('../../dist/', import.meta.url)), port: 0 })) as { server: Server; url: string });
});
afterAll(async () => {
  await browser?.close();
  if (server.listening) await new Promise<void>((r) => server.close(() => r()));
});

describe('the installed app without a network', () => {
  // The README's "Try it in 60 seconds", step by step through the UI, then again offline.
  it('follows the README\'s 60-second path: demo agents, a call, a denial, the trail, then all of it offline', async () => {
    const own = (await startServer({ root: fileURLToPath(new URL('../../dist/', import.meta.url)), port: 0 })) as { server: Server; url: string };
    const context = await browser.newContext();
    try {
      // 1. Open the URL: the app registers the demo agents.
      const app = await context.newPage();
      await app.goto(own.url);
      await app.waitForFunction(() => 'sandboxHost' in window);
      await app.getByTestId('nav-agents').click();
      await app.getByText('demo-trusted').first().waitFor({ timeout: 15_000 });
      await app.waitForFunction(() => (localStorage.getItem('mcp-sandbox-demo-agents') ?? '').includes('demo-trusted'));

      // 2. "Open demo agent ↗": connected as demo-trusted; call text_stats.
      const [demo] = await Promise.all([context.waitForEvent('page'), app.getByRole('link', { name: 'Open demo agent' }).click()]);
      const useTool = async (name: string, args: Record<string, unknown>) => {
        await demo.getByRole('button', { name: new RegExp(`^${name}`) }).click();
        await demo.getByTestId('demo-args').fill(JSON.stringify(args));
        await demo.getByTestId('demo-call').click();
      };
      await demo.getByTestId('demo-agent-select').selectOption('demo-trusted');
      await demo.getByTestId('demo-status').filter({ hasText: 'connected as demo-trusted' }).waitFor({ timeout: 15_000 });
      await useTool('text_stats', { text: 'Hello from the demo agent.' });
      await demo.getByTestId('demo-result').filter({ hasText: /"words":\s*5\b/ }).waitFor({ timeout: 15_000 });

      // 3. A denied call: a blocked domain, refused with its rule.
      await useTool('fetch_url', { url: 'https://malware.example.com/' });
      const denial = demo.getByTestId('demo-error');
      await denial.waitFor({ timeout: 15_000 });
      expect(await denial.textContent()).toContain('policy-denied');
      expect(await denial.textContent()).toContain('network.domain-blocked');

      // 4. Both in the trail.
      await app.getByTestId('nav-audit').click();
      await app.locator('[data-testid="audit-row"]').filter({ hasText: 'text_stats' }).first().waitFor({ timeout: 15_000 });
      await app.locator('[data-testid="audit-row"]').filter({ hasText: 'fetch_url' }).first().waitFor({ timeout: 15_000 });

      // 5. Stop the server and reload both: everything comes from the cache and still runs.
      own.server.closeAllConnections();
      await new Promise<void>((r) => own.server.close(() => r()));
      expect(await fetch(own.url).then(() => 'reachable', () => 'unreachable')).toBe('unreachable');
      await app.reload();
      await app.waitForFunction(() => 'sandboxHost' in window);
      await demo.reload();
      await demo.getByTestId('demo-agent-select').selectOption('demo-trusted');
      await demo.getByTestId('demo-status').filter({ hasText: 'connected as demo-trusted' }).waitFor({ timeout: 15_000 });
      await useTool('text_stats', { text: 'Still works offline.' });
      await demo.getByTestId('demo-result').filter({ hasText: /"words":\s*3\b/ }).waitFor({ timeout: 15_000 });
      await app.getByTestId('nav-audit').click();
      await expect.poll(async () => app.locator('[data-testid="audit-row"]').filter({ hasText: 'text_stats' }).count(), { timeout: 15_000 }).toBeGreaterThan(1);
    } finally {
      await context.close();
      if (own.server.listening) await new Promise<void>((r) => own.server.close(() => r()));
    }
  });

  it('loads every page from its cache and runs tools after the server is gone', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForFunction(() => 'sandboxHost' in window);
    // Installed: the precache is complete once the worker is active.
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
      if (!navigator.serviceWorker.controller) await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
    });
    const cached = await page.evaluate(async () => (await Promise.all((await caches.keys()).map(async (k) => (await (await caches.open(k)).keys()).length))).reduce((a, b) => a + b, 0));
    expect(cached).toBeGreaterThan(10);

    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    const direct = await fetch(url).then(() => 'reachable', () => 'unreachable');
    expect(direct).toBe('unreachable');

    await page.reload();
    await page.waitForFunction(() => 'sandboxHost' in window);
    await connectAgent(page, 'offline', { agent: 'offline-agent' });
    const result = await callTool(page, 'offline', 'text_stats', { text: 'works without a network' });
    expect(result.isError).toBeFalsy();
    expect(JSON.parse(result.content[0]!.text).words).toBe(4);

    // Every page of the app comes from the cache too: the demo agent page loads, connects and
    // calls a tool (run by the app window above); the connector page is served.
    const agentPage = await context.newPage();
    await agentPage.goto(new URL('agent.html', url).href);
    await agentPage.waitForFunction(() => document.querySelector('demo-agent') !== null);
    expect(await agentPage.title()).not.toBe('');
    await connectAgent(agentPage, 'offline-demo', { agent: 'offline-demo-agent' });
    const fromAgentPage = await callTool(agentPage, 'offline-demo', 'text_stats', { text: 'from the agent page' });
    expect(fromAgentPage.isError).toBeFalsy();
    expect(JSON.parse(fromAgentPage.content[0]!.text).words).toBe(4);
    const connector = await agentPage.evaluate(async (href) => {
      const response = await fetch(href);
      return { status: response.status, text: await response.text() };
    }, new URL('connector.html', url).href);
    expect(connector.status).toBe(200);
    expect(connector.text).toMatch(/connector/i);
    await context.close();
  });
});
