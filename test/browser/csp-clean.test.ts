import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext } from 'playwright-core';
import { baseUrl, callTool, connectAgent, launchBrowser } from './harness';

// The app runs under a CSP without 'unsafe-eval'. Nothing of ours (or of the libraries we ship)
// may even try to evaluate a string: each try is a violation report and, worse, a sign that some
// code path depends on eval. zod probes `new Function('')` unless told it is jitless.

let browser: Browser;
let context: BrowserContext;

beforeAll(async () => {
  browser = await launchBrowser();
  context = await browser.newContext();
  // Every CSP violation in any page of the app, recorded from the first script on.
  await context.addInitScript(() => {
    const w = window as unknown as { cspViolations: string[] };
    w.cspViolations = [];
    addEventListener('securitypolicyviolation', (e: SecurityPolicyViolationEvent) => w.cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
  });
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
});

describe('the content security policy', () => {
  it('is never violated by the app, the demo agent page, or a tool call through the client library', async () => {
    const app = await context.newPage();
    await app.goto(baseUrl());
    await app.waitForFunction(() => 'sandboxHost' in window);
    await connectAgent(app, 'c', { agent: 'csp-agent' });
    expect((await callTool(app, 'c', 'text_stats', { text: 'no eval here' })).isError).toBeFalsy();
    for (const view of ['#agents', '#tools', '#sessions', '#audit', '#policies', '#settings']) {
      await app.goto(new URL(`/${view}`, baseUrl()).href);
      await app.waitForTimeout(300);
    }
    const agent = await context.newPage();
    await agent.goto(new URL('/agent.html', baseUrl()).href);
    await agent.waitForTimeout(1_500);
    expect(await app.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)).toEqual([]);
    expect(await agent.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)).toEqual([]);
  });
});
