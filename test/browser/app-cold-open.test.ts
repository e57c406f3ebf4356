// The app's cold open (issue 12): a fresh page loads the code of the view it opens on and nothing
// of the others, asks that view's first read once (early, beside its code), and hosts tool
// workers only after the first rows are drawn; every other view loads when first shown, also
// with the server gone (its chunk comes from the service worker's precache).
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
// @ts-expect-error -- plain ESM script without types
import { startServer } from '../../scripts/serve.mjs';
import { baseUrl, callTool, connectAgent, launchBrowser, openPage } from './harness';

const VIEWS = ['agents', 'policy', 'audit', 'tools', 'sessions', 'contexts', 'settings'];

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

/**
 * Before the page's own scripts: counts the admin requests it posts to the service worker, and
 * notes the chunks it has requested in the frame its first audit row appears.
 */
function watchColdOpen(): void {
  const w = window as unknown as { adminAsked: string[]; atFirstRow: string[] | null };
  w.adminAsked = [];
  w.atFirstRow = null;
  const post = ServiceWorker.prototype.postMessage;
  ServiceWorker.prototype.postMessage = function (this: ServiceWorker, message: unknown, ...rest: unknown[]) {
    const m = message as { kind?: string; method?: string; params?: unknown } | null;
    if (m?.kind === 'admin') w.adminAsked.push(`${m.method} ${JSON.stringify(m.params ?? null)}`);
    return (post as (...args: unknown[]) => void).call(this, message, ...rest);
  } as typeof post;
  const look = () => {
    const row = document.querySelector('sandbox-app')?.shadowRoot?.querySelector('audit-view')?.shadowRoot?.querySelector('[data-testid="audit-row"]');
    if (row) w.atFirstRow = performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname);
    else requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
}

const chunk = (paths: string[], name: string) => paths.some((p) => new RegExp(`^/assets/${name}-[\\w-]+\\.js$`).test(p));

describe('a cold open of the app', () => {
  it('at #audit loads the Audit view alone, reads its first rows once, and hosts tools after them', async () => {
    const context = await browser.newContext();
    try {
      const first = await openPage(context, '/');
      await connectAgent(first, 'seed', { agent: 'cold-open-agent' });
      expect((await callTool(first, 'seed', 'text_stats', { text: 'one entry at least' })).isError).toBeFalsy();
      await first.close();
      // The service worker announces appended entries at most four times a second: none may
      // reach the page below while it opens (an early read that may predate one is not used).
      await new Promise((resolve) => setTimeout(resolve, 1_000));

      const page = await context.newPage();
      await page.addInitScript(watchColdOpen);
      await page.goto(new URL('/#audit', baseUrl()).href);
      await page.locator('[data-testid="audit-row"]').first().waitFor();
      await page.waitForFunction(() => (window as unknown as { atFirstRow: unknown }).atFirstRow !== null);
      const atFirstRow = await page.evaluate(() => (window as unknown as { atFirstRow: string[] }).atFirstRow);
      expect(chunk(atFirstRow, 'audit-view')).toBe(true);
      for (const other of VIEWS.filter((v) => v !== 'audit')) expect(chunk(atFirstRow, `${other}-view`), `${other}-view loaded before the first rows`).toBe(false);
      // Neither the sandbox host's code nor the charts' (uPlot) come before the rows.
      expect(chunk(atFirstRow, 'app-host')).toBe(false);
      expect(chunk(atFirstRow, 'uplot-chart')).toBe(false);

      // The view's first read went out once: the early one, whose answer the view took.
      const asked = await page.evaluate(() => (window as unknown as { adminAsked: string[] }).adminAsked);
      expect(asked.filter((a) => a === 'audit.tail {"limit":100}')).toHaveLength(1);

      // Then this window hosts tool workers: a call runs in it (it is the only app window).
      await page.waitForFunction(() => 'sandboxHost' in window);
      await connectAgent(page, 'after', { agent: 'cold-open-agent-2' });
      const result = await callTool(page, 'after', 'text_stats', { text: 'hosted by the window opened at the audit view' });
      expect(result.isError).toBeFalsy();
      expect(JSON.parse(result.content[0]!.text).words).toBe(9);
      // The charts' code follows the rows.
      await page.waitForFunction(() => customElements.get('audit-charts') !== undefined);
    } finally {
      await context.close();
    }
  });

  it('loads every other view when first shown, also with the server gone', async () => {
    const own = (await startServer({ root: fileURLToPath(new URL('../../dist/', import.meta.url)), port: 0 })) as { server: Server; url: string };
    const context = await browser.newContext();
    try {
      const app = await context.newPage();
      await app.goto(own.url);
      await app.waitForFunction(() => 'sandboxHost' in window);
      await app.evaluate(async () => {
        await navigator.serviceWorker.ready;
        if (!navigator.serviceWorker.controller) await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
      });
      own.server.closeAllConnections();
      await new Promise<void>((r) => own.server.close(() => r()));

      // A fresh page at #settings, offline: each view's code is fetched (from the precache) as
      // the person first goes to it, and the view renders.
      const page = await context.newPage();
      await page.goto(`${own.url}#settings`);
      await page.getByTestId('nav-settings').waitFor();
      for (const view of VIEWS) await showView(page, view);
      expect(await page.getByTestId('view-failure').count()).toBe(0);
    } finally {
      await context.close();
      if (own.server.listening) await new Promise<void>((r) => own.server.close(() => r()));
    }
  });
});

/** Goes to a view through the navigation and waits until its element is defined and has drawn. */
async function showView(page: Page, view: string): Promise<void> {
  await page.getByTestId(`nav-${view}`).click();
  await page.waitForFunction(
    (tag) => {
      const element = document.querySelector('sandbox-app')?.shadowRoot?.querySelector(tag);
      return customElements.get(tag) !== undefined && (element?.shadowRoot?.childElementCount ?? 0) > 0;
    },
    `${view}-view`,
    { timeout: 15_000 },
  );
}
