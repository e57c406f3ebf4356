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
