import { afterAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { admin, launchBrowser, openApp, openPage } from './harness';

// The demo agent page's code runner: a person runs execute_code as demo-trusted, sees result,
// stdout, duration and memory, typed errors, and stops an endless loop (notifications/cancelled).

const browser = await launchBrowser();
const { context, page } = await openApp(browser);
// The app registers the demo agents on a fresh sandbox and leaves their tokens for the demo page.
await page.waitForFunction(() => (localStorage.getItem('mcp-sandbox-demo-agents') ?? '').includes('demo-trusted'), null, { timeout: 15_000 });
// A real feature check: does this build's app window register a Python runtime?
const hasPython = await page
  .waitForFunction(() => (window as unknown as { sandboxHost: { codeLanguages: string[] } }).sandboxHost.codeLanguages.includes('python'), null, { timeout: 3_000 })
  .then(
    () => true,
    () => false,
  );
const demo: Page = await openPage(context, '/agent.html#demo-trusted');

afterAll(async () => {
  await context?.close();
  await browser?.close();
});

async function openRunner(): Promise<void> {
  await demo.getByTestId('demo-status').filter({ hasText: 'connected as demo-trusted' }).waitFor();
  await demo.getByTestId('code-editor').waitFor();
}

async function runExample(id: string): Promise<void> {
  await demo.getByTestId('code-example').selectOption(id);
  await demo.getByTestId('code-run').click();
}

describe('the demo agent page runs code', () => {
  it('runs a JavaScript example and shows its result, stdout, duration and memory', async () => {
    await openRunner();
    // What the agent may do, from system://env.
    expect(await demo.getByTestId('demo-env').textContent()).toContain('execute_code may run javascript');
    await runExample('js-sum');
    const result = demo.getByTestId('code-result');
    await result.waitFor();
    expect(await demo.getByTestId('code-value').textContent()).toContain('"total": 31');
    expect(await demo.getByTestId('code-stdout').textContent()).toContain('adding 8 numbers');
    expect(await demo.getByTestId('code-duration').textContent()).toMatch(/\d+(\.\d)? ms/);
    expect(await demo.getByTestId('code-memory').textContent()).toMatch(/MiB/);
    // Focus followed the run to its outcome.
    expect(await demo.evaluate(() => document.querySelector('demo-agent')!.shadowRoot!.querySelector('code-runner')!.shadowRoot!.activeElement?.id)).toBe('outcome-title');
  });

  it('stops an endless loop: the call is cancelled where it runs', async () => {
    await runExample('js-loop');
    await demo.locator('[data-testid=code-status][data-state=running]').waitFor();
    await demo.waitForTimeout(400);
    await demo.getByTestId('code-stop').click();
    const cancelled = demo.locator('[data-testid=code-error][data-code=cancelled]');
    await cancelled.waitFor();
    expect(await cancelled.textContent()).toContain('Cancelled');
    expect(await demo.getByTestId('code-run').isEnabled()).toBe(true);
    await expect
      .poll(async () => (await admin<{ event: string; tool: string; outcome: string }[]>(page, 'audit.list', { agentId: 'demo-trusted' })).filter((e) => e.event === 'call.result' && e.tool === 'execute_code').at(-1)?.outcome, { timeout: 5_000 })
      .toBe('cancelled');
  });

  it('shows typed errors: a policy denial with its rule, an uncaught error (run from the keyboard)', async () => {
    await runExample('js-fetch-denied');
    const denied = demo.locator('[data-testid=code-error][data-code=policy-denied]');
    await denied.waitFor();
    expect(await denied.locator('[data-fact=rule]').textContent()).toBe('network.domain-blocked');

    await demo.getByTestId('code-example').selectOption('js-error');
    await demo.getByTestId('code-editor').focus();
    await demo.keyboard.press('Control+Enter');
    const failed = demo.locator('[data-testid=code-error][data-code=tool-error]');
    await failed.waitFor();
    expect(await failed.textContent()).toContain('SyntaxError');
    expect(await demo.getByTestId('code-stderr').textContent()).toContain('about to parse');
  });

  it.skipIf(!hasPython)('runs Python, saying so while the interpreter starts', { timeout: 120_000 }, async () => {
    await demo.getByRole('radio', { name: /Python/ }).check();
    await runExample('py-stats');
    await demo.locator('[data-testid=code-status][data-state=python-starting]').waitFor();
    await demo.getByTestId('code-result').waitFor({ timeout: 90_000 });
    expect(await demo.getByTestId('code-stdout').textContent()).toContain("'count': 8");

    await runExample('py-traceback');
    const failed = demo.locator('[data-testid=code-error][data-code=tool-error]');
    await failed.waitFor({ timeout: 30_000 });
    expect(await failed.textContent()).toContain('ZeroDivisionError');
  });
});
