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
  it('loads from its cache and runs tools after the server is gone', async () => {
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
    await context.close();
  });
});
