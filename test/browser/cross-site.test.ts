import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { admin, baseUrl, callTool, connectRemoteAgent, launchBrowser, openApp, openPage, registerAgent, startAgentSite } from './harness';

// An agent page on another *site* gets a partitioned (here: blocked) sandbox in the connector
// iframe. Unless it asks for storage access it must fail at once with the cause and the fix,
// not wait out a timeout. Asking, the connector shows a button; on the person's click Chromium
// gives it storage access (a prompt the person answers: here the DevTools protocol sets the
// answer, as the person's "Allow" or "Block" would) and it reaches the sandbox through the open
// app window; refused, it fails at once with storage-access-denied. The same page on the
// sandbox's own site (another port) connects as before.

let browser: Browser;
let context: BrowserContext;
let app: Page;
let site: Awaited<ReturnType<typeof startAgentSite>>;
let crossSiteUrl: string;
let crossSiteOrigin: string;
const CONNECTOR = 'iframe[title="MCP sandbox connector"]';

beforeAll(async () => {
  browser = await launchBrowser();
  ({ context, page: app } = await openApp(browser));
  site = await startAgentSite();
  // localhost and 127.0.0.1 are different sites to the browser.
  crossSiteUrl = site.url.replace('127.0.0.1', 'localhost');
  crossSiteOrigin = new URL(crossSiteUrl).origin;
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await site?.close();
});

/**
 * The person's answer to Chromium's storage-access prompt for (this agent site, the sandbox),
 * set on a browser-level DevTools session kept for the whole file: Chromium drops a session's
 * permission overrides when it detaches.
 */
let browserCdp: CDPSession | undefined;
let contextId: string;
async function answerStorageAccess(setting: 'granted' | 'denied' | 'prompt'): Promise<void> {
  if (!browserCdp) {
    const page = await context.newCDPSession(app);
    contextId = ((await page.send('Target.getTargetInfo')) as { targetInfo: { browserContextId: string } }).targetInfo.browserContextId;
    await page.detach();
    browserCdp = await browser.newBrowserCDPSession();
  }
  await browserCdp.send('Browser.setPermission', { browserContextId: contextId, permission: { name: 'storage-access' }, setting, origin: crossSiteOrigin, embeddedOrigin: new URL(baseUrl()).origin });
}

/** Starts connectRemote in the agent page without waiting; the outcome lands in `window.outcome`. */
async function startConnecting(page: Page, options: { agent: string; token: string; storageAccess?: boolean }): Promise<void> {
  await page.evaluate(`import(${JSON.stringify(new URL('/client.js', baseUrl()).href)}).then((m) => { window.sandboxClientLib = m; })`);
  await page.evaluate(
    ({ options, sandbox }) => {
      const w = window as unknown as { sandboxClientLib: { connectRemote(o: unknown): Promise<{ transport: { sessionId: string } }> }; agents?: Record<string, unknown>; outcome?: unknown; started?: number };
      w.agents ??= {};
      w.started = performance.now();
      w.sandboxClientLib.connectRemote({ ...options, sandbox }).then(
        (client) => {
          w.agents![options.agent] = client;
          w.outcome = { sessionId: client.transport.sessionId, ms: performance.now() - w.started! };
        },
        (error: { code: string; message: string }) => (w.outcome = { error: { code: error.code, message: error.message }, ms: performance.now() - w.started! }),
      );
    },
    { options, sandbox: baseUrl() },
  );
}

type Outcome = { sessionId?: string; error?: { code: string; message: string }; ms: number };
const outcome = async (page: Page): Promise<Outcome> => {
  await page.waitForFunction(() => 'outcome' in window, null, { timeout: 20_000 });
  return page.evaluate(() => (window as unknown as { outcome: Outcome }).outcome);
};

describe('a connector embedded by another site', () => {
  it('without asking for storage access, fails fast with cross-site, naming the cause and the fix', async () => {
    const token = await registerAgent(app, { id: 'far-away', trustLevel: 'Trusted', origins: [crossSiteOrigin] });
    const agentPage = await context.newPage();
    await agentPage.goto(crossSiteUrl);
    await startConnecting(agentPage, { agent: 'far-away', token });
    const result = await outcome(agentPage);
    expect(result.error).toMatchObject({ code: 'cross-site', message: expect.stringContaining('another site') });
    expect(result.error!.message).toContain('Cross-site embedding');
    expect(result.error!.message).toContain('storageAccess');
    // At once: not the connector's 15 s timeout (the iframe's load and the check, nothing else).
    expect(result.ms).toBeLessThan(1_000);
    expect(await agentPage.locator(CONNECTOR).count()).toBe(0);
    await agentPage.close();
  });

  it('asks on a click in the connector; allowed, it connects through the app window and calls a tool', async () => {
    const token = await registerAgent(app, { id: 'far-allowed', trustLevel: 'Trusted', origins: [crossSiteOrigin] });
    const agentPage = await context.newPage();
    await agentPage.goto(crossSiteUrl);
    await startConnecting(agentPage, { agent: 'far-allowed', token, storageAccess: true });
    // The connector is shown with its button, and nothing connects before the click.
    const frame = agentPage.frameLocator(CONNECTOR);
    const button = frame.getByRole('button', { name: 'Allow access to the MCP sandbox' });
    await button.waitFor({ timeout: 10_000 });
    expect(await agentPage.locator(CONNECTOR).isVisible()).toBe(true);
    await agentPage.waitForTimeout(300);
    expect(await agentPage.evaluate(() => 'outcome' in window)).toBe(false);

    // The person allows it in Chromium's prompt.
    await answerStorageAccess('granted');
    await button.click();
    const result = await outcome(agentPage);
    expect(result.error).toBeUndefined();
    expect(result.sessionId).toBeTruthy();
    // Shown for the click only.
    await agentPage.locator(CONNECTOR).waitFor({ state: 'hidden' });

    const call = await callTool(agentPage, 'far-allowed', 'text_stats', { text: 'one site to another' });
    expect(call.isError).toBeFalsy();
    expect(JSON.parse(call.content[0]!.text).words).toBe(4);
    // A policy denial travels back the same way, typed.
    const denied = await callTool(agentPage, 'far-allowed', 'fetch_url', { url: 'https://malware.example.com/' });
    expect(denied.isError).toBe(true);
    expect((denied._meta?.['mcp-sandbox/error'] as { code: string }).code).toBe('policy-denied');

    // The sandbox the person runs served it: the session is the agent page's origin, through the connector.
    const sessions = await admin<{ id: string; agentId: string; origin: string; via: string }[]>(app, 'sessions.list');
    expect(sessions.find((s) => s.id === result.sessionId)).toMatchObject({ agentId: 'far-allowed', origin: crossSiteOrigin, via: 'connector' });
    const entries = await admin<{ event: string; tool?: string; outcome?: string; agentId?: string }[]>(app, 'audit.list', { agentId: 'far-allowed' });
    expect(entries.some((e) => e.event === 'call.result' && e.tool === 'text_stats' && e.outcome === 'ok')).toBe(true);
    await agentPage.close();
  });

  it('allowed before, connects without a click (and without asking)', async () => {
    const token = await registerAgent(app, { id: 'far-again', trustLevel: 'Trusted', origins: [crossSiteOrigin] });
    const agentPage = await context.newPage();
    await agentPage.goto(crossSiteUrl);
    const result = await connectRemoteAgent(agentPage, 'again', { agent: 'far-again', token });
    expect(result.error).toBeUndefined();
    const call = await callTool(agentPage, 'again', 'text_stats', { text: 'no click needed' });
    expect(JSON.parse(call.content[0]!.text).words).toBe(3);
    await agentPage.close();
  });

  it('with no app window open, asks the person to open one, and connects when it opens', async () => {
    const token = await registerAgent(app, { id: 'far-waiting', trustLevel: 'Trusted', origins: [crossSiteOrigin] });
    await app.close();
    // A page that did not ask to show the connector learns it at once, typed.
    const quiet = await context.newPage();
    await quiet.goto(crossSiteUrl);
    await startConnecting(quiet, { agent: 'far-waiting', token });
    const told = await outcome(quiet);
    expect(told.error).toMatchObject({ code: 'no-app-window', message: expect.stringContaining('sandbox app is not open') });
    expect(told.ms).toBeLessThan(3_000);
    await quiet.close();

    const agentPage = await context.newPage();
    await agentPage.goto(crossSiteUrl);
    await startConnecting(agentPage, { agent: 'far-waiting', token, storageAccess: true });
    const frame = agentPage.frameLocator(CONNECTOR);
    const link = frame.getByRole('link', { name: 'Open the MCP sandbox app' });
    await link.waitFor({ timeout: 10_000 });
    expect(await frame.locator('main').getAttribute('data-state')).toBe('waiting-for-app');
    expect(await link.getAttribute('href')).toBe(new URL('/', baseUrl()).href);
    expect(await agentPage.evaluate(() => 'outcome' in window)).toBe(false);

    app = await openPage(context, '/');
    const result = await outcome(agentPage);
    expect(result.error).toBeUndefined();
    const call = await callTool(agentPage, 'far-waiting', 'text_stats', { text: 'the app opened' });
    expect(JSON.parse(call.content[0]!.text).words).toBe(3);
    await agentPage.close();
  });

  it('refused, fails at once with storage-access-denied, naming the cause and the fix', async () => {
    const token = await registerAgent(app, { id: 'far-refused', trustLevel: 'Trusted', origins: [crossSiteOrigin] });
    await answerStorageAccess('prompt');
    const agentPage = await context.newPage();
    await agentPage.goto(crossSiteUrl);
    await startConnecting(agentPage, { agent: 'far-refused', token, storageAccess: true });
    const button = agentPage.frameLocator(CONNECTOR).getByRole('button', { name: 'Allow access to the MCP sandbox' });
    await button.waitFor({ timeout: 10_000 });
    // The person blocks it in Chromium's prompt.
    await answerStorageAccess('denied');
    const clicked = await agentPage.evaluate(() => performance.now());
    await button.click();
    const result = await outcome(agentPage);
    expect(result.error).toMatchObject({ code: 'storage-access-denied', message: expect.stringContaining('refused the connector storage access') });
    expect(result.error!.message).toContain('open the sandbox app');
    expect(result.error!.message).toContain('Cross-site embedding');
    const sinceClick = await agentPage.evaluate((clicked) => (window as unknown as { outcome: Outcome; started: number }).started + (window as unknown as { outcome: Outcome }).outcome.ms - clicked, clicked);
    expect(sinceClick).toBeLessThan(1_000);
    expect(await agentPage.locator(CONNECTOR).count()).toBe(0);
    await agentPage.close();
  });

  it('still connects from the sandbox\'s own site (another port), with no question asked', async () => {
    const token = await registerAgent(app, { id: 'near-by', trustLevel: 'Limited', origins: [new URL(site.url).origin] });
    const p = await context.newPage();
    await p.goto(site.url);
    const result = await connectRemoteAgent(p, 'near', { agent: 'near-by', token });
    expect(result.error).toBeUndefined();
    expect(result.sessionId).toBeTruthy();
    expect(await p.locator(CONNECTOR).isVisible()).toBe(false);
  });
});
