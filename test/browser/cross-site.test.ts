import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { connectRemoteAgent, launchBrowser, openApp, registerAgent, startAgentSite } from './harness';

// An agent page on another *site* gets a partitioned, empty sandbox in the connector iframe:
// it must fail at once with the cause and the fix, not wait out a timeout. The same page on
// the sandbox's own site (another port) still connects.

let browser: Browser;
let context: BrowserContext;
let app: Page;
let site: Awaited<ReturnType<typeof startAgentSite>>;

beforeAll(async () => {
  browser = await launchBrowser();
  ({ context, page: app } = await openApp(browser));
  site = await startAgentSite();
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await site?.close();
});

describe('a connector embedded by another site', () => {
  it('fails fast with cross-site, naming the cause and the fix', async () => {
    // localhost and 127.0.0.1 are different sites to the browser.
    const crossSiteUrl = site.url.replace('127.0.0.1', 'localhost');
    const token = await registerAgent(app, { id: 'far-away', trustLevel: 'Limited', origins: [new URL(crossSiteUrl).origin] });
    const agentPage = await context.newPage();
    await agentPage.goto(crossSiteUrl);
    const started = Date.now();
    const result = await connectRemoteAgent(agentPage, 'far', { agent: 'far-away', token });
    expect(result.error).toMatchObject({ code: 'cross-site', message: expect.stringContaining('another site') });
    expect(result.error!.message).toContain('Cross-site embedding');
    // Not the connector's 15 s timeout.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('still connects from the sandbox\'s own site (another port)', async () => {
    const token = await registerAgent(app, { id: 'near-by', trustLevel: 'Limited', origins: [new URL(site.url).origin] });
    const p = await context.newPage();
    await p.goto(site.url);
    const result = await connectRemoteAgent(p, 'near', { agent: 'near-by', token });
    expect(result.error).toBeUndefined();
    expect(result.sessionId).toBeTruthy();
  });
});
