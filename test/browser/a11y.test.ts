import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { baseUrl, callTool, connectAgent, launchBrowser, openApp } from './harness';

// Accessibility, checked with axe-core (the engine most audits use) on every view of the app and
// on the demo agent page, with data in them: no serious or critical violation.

let browser: Browser;
let context: BrowserContext;
let page: Page;
let axeSource: string;

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[]; failureSummary?: string }[];
}

/** axe-core's serious and critical violations on the page as it is now, one line each. */
async function violations(p: Page): Promise<string[]> {
  // Evaluated, not added as a script tag: the app's CSP allows only its own scripts.
  await p.evaluate(axeSource);
  const found = await p.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: unknown, options: unknown): Promise<{ violations: Violation[] }> } }).axe;
    return (await axe.run(document, { resultTypes: ['violations'] })).violations;
  });
  return found.filter((v) => v.impact === 'serious' || v.impact === 'critical').flatMap((v) => v.nodes.map((n) => `${v.impact} ${v.id}: ${v.help} — ${JSON.stringify(n.target)}`));
}

beforeAll(async () => {
  axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  browser = await launchBrowser();
  ({ context, page } = await openApp(browser));
  await connectAgent(page, 'a', { agent: 'a11y-agent' });
  await callTool(page, 'a', 'text_stats', { text: 'Something for the views to show.' });
  await callTool(page, 'a', 'fetch_url', { url: 'http://127.0.0.1:1/' });
  // A conversation with a variable, for the Contexts view's details.
  await page.evaluate(async () => {
    const w = window as unknown as { sandboxClientLib: { setContextVariable(c: unknown, n: string, v: unknown, o: unknown): Promise<unknown> }; agents: Record<string, unknown> };
    await w.sandboxClientLib.setContextVariable(w.agents['a'], 'topic', 'a11y', { conversation: 'a11y-chat' });
  });
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
});

describe('accessibility (axe-core)', () => {
  for (const view of ['agents', 'agents/a11y-agent', 'policy', 'audit', 'tools', 'tools/text_stats', 'sessions', 'contexts', 'contexts/a11y-agent/a11y-chat', 'settings']) {
    it(`finds no serious or critical violation on #${view}`, async () => {
      await page.goto(new URL(`/#${view}`, baseUrl()).href);
      await page.waitForFunction(() => 'sandboxHost' in window);
      await page.waitForTimeout(800);
      expect(await violations(page)).toEqual([]);
    });
  }

  it('finds no serious or critical violation on the demo agent page', async () => {
    const agent = await context.newPage();
    await agent.goto(new URL('/agent.html', baseUrl()).href);
    await agent.waitForTimeout(1500);
    expect(await violations(agent)).toEqual([]);
  });
});

describe('keyboard only', () => {
  it('a skip link passes the navigation; a details panel takes focus when opened, Escape closes it and focus returns to its row', async () => {
    // A fresh load, so that the first Tab starts at the top of the document: from the previous
    // test's view, /#audit is a same-document navigation, and Chromium 150 then starts the next
    // Tab where the view change left focus (inside the Audit view).
    await page.goto('about:blank');
    await page.goto(new URL('/#audit', baseUrl()).href);
    await page.waitForFunction(() => 'sandboxHost' in window);
    await page.getByTestId('skip-link').waitFor({ state: 'attached' });
    const deepFocus = () =>
      page.evaluate(() => {
        let el: Element | null = document.activeElement;
        while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
        return el ? `${el.tagName.toLowerCase()}${el.getAttribute('data-testid') ? `[${el.getAttribute('data-testid')}]` : ''}${el.getAttribute('data-seq') ? `#${el.getAttribute('data-seq')}` : ''}` : null;
      });
    await page.keyboard.press('Tab');
    expect(await deepFocus()).toBe('button[skip-link]');
    await page.keyboard.press('Enter');
    expect(await deepFocus()).toBe('main');

    const row = page.locator('[data-testid="audit-row"]').nth(2);
    await row.waitFor();
    const seq = await row.getAttribute('data-seq');
    await row.focus();
    await page.keyboard.press('Enter');
    await expect.poll(deepFocus, { timeout: 5_000 }).toBe('div[audit-details]');
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('audit-details').count(), { timeout: 5_000 }).toBe(0);
    await expect.poll(deepFocus, { timeout: 5_000 }).toBe(`tr[audit-row]#${seq}`);
  });
});
