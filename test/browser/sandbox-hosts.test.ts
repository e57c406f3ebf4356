import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { callTool, connectAgent, errorCode, launchBrowser, openPage } from './harness';

let browser: Browser;
let context: BrowserContext;
let agent: Page;

beforeAll(async () => {
  browser = await launchBrowser();
  context = await browser.newContext();
  // The demo agent page connects but does not host tool workers.
  agent = await openPage(context, '/agent.html');
  await connectAgent(agent, 'a', { agent: 'hostless-agent' });
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
});

describe('which window runs the tools', () => {
  it('fails with a typed no-sandbox-host error when no app window is open', async () => {
    const result = await callTool(agent, 'a', 'text_stats', { text: 'anyone there' });
    expect(result.isError).toBe(true);
    expect(errorCode(result)).toBe('no-sandbox-host');
  });

  it('runs calls in an app window once one opens, and another takes over when it closes', async () => {
    const first = await openPage(context, '/');
    expect((await callTool(agent, 'a', 'text_stats', { text: 'now it runs' })).isError).toBeFalsy();
    const second = await openPage(context, '/');
    await second.close();
    // The newest host is gone; the call falls to the remaining one.
    const result = await callTool(agent, 'a', 'text_stats', { text: 'after takeover' });
    expect(result.isError).toBeFalsy();
    expect(JSON.parse(result.content[0]!.text).words).toBe(2);
    await first.close();
    expect(errorCode(await callTool(agent, 'a', 'text_stats', { text: 'alone again' }))).toBe('no-sandbox-host');
  });
});
