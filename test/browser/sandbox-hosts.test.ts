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
  it('fails with a typed no-sandbox-host error when no app window is open, calls and resource reads alike', async () => {
    const result = await callTool(agent, 'a', 'text_stats', { text: 'anyone there' });
    expect(result.isError).toBe(true);
    expect(errorCode(result)).toBe('no-sandbox-host');
    // Resources are written by producers that run in the sandbox too: the read says why it cannot.
    await expect(readEnv(agent, 'a')).rejects.toThrow(/no-sandbox-host/);
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

  it('the demo agent page says when no app window is open, and opens one on request', async () => {
    // A fresh sandbox (its own browser context): the app registers the demo agents and leaves
    // their tokens for the agent page, then closes.
    const fresh = await browser.newContext();
    const app = await openPage(fresh, '/');
    // Both demo tokens stored before another agent is registered (only an empty sandbox gets them).
    await app.waitForFunction(() => Object.values(localStorage).some((v) => v.includes('demo-trusted') && v.includes('demo-limited')));
    await connectAgent(app, 'probe', { agent: 'probe-agent' });
    expect((await readEnv(app, 'probe'))['sandboxHosts']).toEqual({ open: 1 });
    const demo = await openPage(fresh, '/agent.html#demo-trusted');
    await app.close();
    await demo.reload();
    await demo.getByTestId('demo-no-host').waitFor();
    const opened = fresh.waitForEvent('page');
    await demo.getByTestId('demo-no-host').getByRole('button', { name: 'Open the app' }).click();
    const host = await opened;
    await host.waitForFunction(() => 'sandboxHost' in window);
    await demo.getByTestId('demo-no-host').waitFor({ state: 'detached' });
    await demo.getByText('text_stats', { exact: true }).click();
    await demo.getByTestId('demo-call').click();
    await demo.getByTestId('demo-result').waitFor();
    await fresh.close();
  });
});

/** system://env as the connected agent reads it. */
function readEnv(page: Page, name: string): Promise<Record<string, unknown>> {
  return page.evaluate(async (name) => {
    const c = (window as unknown as { agents: Record<string, { readResource(p: unknown): Promise<{ contents: { text: string }[] }> }> }).agents[name]!;
    return JSON.parse((await c.readResource({ uri: 'system://env' })).contents[0]!.text) as Record<string, unknown>;
  }, name);
}
