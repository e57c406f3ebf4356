// The agent link's one refusal: only a page of the app's own origin, speaking for itself, may
// hand the service worker a port for MCP. The connector page (which speaks for other origins,
// whose origin a port cannot carry) is refused; an ordinary page is accepted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, openApp, openPage } from './harness';

let browser: Browser;
let context: BrowserContext;
let app: Page;

beforeAll(async () => {
  browser = await launchBrowser();
  ({ context, page: app } = await openApp(browser));
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
});

/** Offers the service worker an agent link from `page`; whether it said `ready` within 3 s. */
function offer(page: Page): Promise<boolean> {
  return page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    const channel = new MessageChannel();
    const ready = new Promise<boolean>((resolve) => {
      channel.port1.onmessage = (event) => resolve((event.data as { ready?: boolean } | null)?.ready === true);
      setTimeout(() => resolve(false), 3_000);
    });
    navigator.serviceWorker.controller!.postMessage({ channel: 'mcp-sandbox', v: 1, kind: 'agent-port', link: crypto.randomUUID() }, [channel.port2]);
    return ready;
  });
}

describe('who may hand the service worker an agent link', () => {
  it('an ordinary page of the app\'s origin: accepted', async () => {
    expect(await offer(app)).toBe(true);
  });

  it('the connector page, which speaks for other origins: refused', async () => {
    const connector = await openPage(context, '/connector.html');
    await connector.waitForFunction(() => navigator.serviceWorker.controller !== null);
    expect(await offer(connector)).toBe(false);
    await connector.close();
  });
});
