// The person's UI, driven like a person would: through visible elements (data-testid), never
// through component internals. Screenshots land in the OS temp dir for a human to look at.
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { admin, callTool, connectAgent, errorCode, launchBrowser, openApp } from './harness';

let browser: Browser;
let context: BrowserContext;
let page: Page;
let token = '';

const shot = (name: string) => page.screenshot({ path: join(tmpdir(), `mcp-sandbox-ui-${name}.png`), fullPage: true });
const go = (hash: string) => page.evaluate((h) => (location.hash = h), hash);
const text = async (testId: string) => (await page.getByTestId(testId).first().innerText()).replace(/\s+/g, ' ').trim();

beforeAll(async () => {
  browser = await launchBrowser();
  ({ context, page } = await openApp(browser));
  await page.setViewportSize({ width: 1280, height: 800 });
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
});

describe('the admin UI', () => {
  it('registers the demo agents on a fresh sandbox and keeps their tokens for the demo page', async () => {
    await go('#agents');
    await page.locator('[data-testid=agent-row][data-agent=demo-trusted]').waitFor();
    const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('mcp-sandbox-demo-agents') ?? '{}') as Record<string, string>);
    expect(Object.keys(stored).sort()).toEqual(['demo-limited', 'demo-trusted']);
  });

  it('registers an agent through the form, shows its token once, and lists it', async () => {
    await page.getByTestId('register-open').click();
    const form = page.getByTestId('register-form');
    await form.locator('input[name=name]').fill('UI test agent');
    await form.locator('input[name=id]').fill('ui-agent');
    await form.locator('select[name=trustLevel]').selectOption('Trusted');
    await page.getByTestId('register-submit').click();

    await page.getByTestId('new-token').waitFor();
    token = await text('new-token');
    expect(token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(await text('token-reveal')).toContain('shown only this once');
    await shot('token');

    await page.getByTestId('dismiss-token').click();
    await page.getByTestId('new-token').waitFor({ state: 'detached' });
    const row = page.locator('[data-testid=agent-row][data-agent=ui-agent]');
    await row.waitFor();
    const cells = (await row.textContent())!.replace(/\s+/g, ' ');
    expect(cells).toContain('UI test agent');
    expect(cells).toContain('Trusted');
    expect(cells).toContain('active');
    // Gone for good: the token is nowhere on the page any more.
    expect(await page.getByText(token).count()).toBe(0);
  });

  it('shows an invalid policy field path from the server, then saves a valid one and the effective summary changes', async () => {
    await page.locator('[data-testid=agent-row][data-agent=ui-agent]').click();
    await page.getByTestId('agent-details').waitFor();
    await page.getByTestId('edit-policy').click();
    await page.getByTestId('policy-text').waitFor();
    expect(await text('eff-limits.memoryMb')).toContain('512 MB');

    await page.getByTestId('policy-text').fill('{"version": 1, "limits": {"memoryMb": -5}, "tool": {}}');
    await page.getByTestId('policy-validate').click();
    await expect.poll(() => text('policy-check')).toContain('found by the server');
    const errors = await text('policy-errors');
    expect(errors).toContain('limits.memoryMb — must be a positive integer');
    expect(errors).toContain('tool — is not a known field');
    await shot('policy-errors');

    // The live redaction preview follows the draft's patterns as it is typed.
    await page.getByTestId('policy-text').fill('{"version": 1, "data": {"sensitivePatterns": ["password"]}}');
    await page.getByTestId('redaction-sample').fill('my password is hunter2, card 4111 1111 1111 1111, hello world');
    await expect.poll(() => text('redaction-result')).toContain('my password is [REDACTED], card [REDACTED], hello world');
    await page.getByTestId('policy-text').fill('{"version": 1, "data": {"sensitivePatterns": []}}');
    await expect.poll(() => text('redaction-result')).toContain('my password is hunter2, card [REDACTED]');

    await page.getByTestId('policy-text').fill('{"version": 1, "limits": {"memoryMb": 64}}');
    expect(await text('policy-preview')).toContain('512 MB → 64 MB');
    await page.getByTestId('policy-save').click();
    await page.getByTestId('policy-notice').waitFor();
    await expect.poll(() => text('eff-limits.memoryMb')).toContain('64 MB policy');
    await shot('policy-saved');
  });

  it('exports the effective policy to <agent-id>.policy.json and validates an imported file', async () => {
    const download = page.waitForEvent('download');
    await page.getByTestId('policy-export').click();
    const file = await download;
    expect(file.suggestedFilename()).toBe('ui-agent.policy.json');
    expect(JSON.parse(await readFile((await file.path())!, 'utf8'))).toMatchObject({ version: 1, trustLevel: 'Trusted', limits: { memoryMb: 64 } });

    await page.getByTestId('policy-file').setInputFiles({ name: 'old.policy.json', mimeType: 'application/json', buffer: Buffer.from('{"version": 2}') });
    await expect.poll(() => text('policy-check')).toContain('found by the server');
    expect(await text('policy-errors')).toContain('version — must be 1');
    expect(await page.getByTestId('policy-text').inputValue()).toBe('{"version": 2}');
  });

  it('revokes one tool through the grants editor', async () => {
    await go('#agents/ui-agent');
    const form = page.getByTestId('grants-form');
    await form.locator('select').selectOption('tool');
    await form.locator('input').fill('json_query');
    await form.getByText('Deny', { exact: true }).click();
    await expect.poll(() => text('changes')).toContain('revoke tool json_query');
  });

  it('offers the registered tools, warns of a name no tool has, and undoes one change exactly', async () => {
    const form = page.getByTestId('grants-form');
    await form.locator('select').selectOption('tool');
    const options = await form.locator('datalist option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(options).toEqual(expect.arrayContaining(['json_query', 'text_stats']));
    await form.locator('input').fill('json_querry');
    await expect.poll(() => text('grant-unknown-tool')).toContain('no tool named “json_querry”');
    await form.locator('input').fill('json_query');
    await page.getByTestId('grant-unknown-tool').waitFor({ state: 'detached' });
    await form.getByText('Grant', { exact: true }).click();
    await expect.poll(() => text('changes')).toContain('grant tool json_query');
    // Undo the grant alone: the revoke before it stands, as if the grant had never been made.
    await page.getByTestId('changes').locator('tr', { hasText: 'grant' }).filter({ hasNotText: 'revoke' }).getByRole('button', { name: 'Undo' }).click();
    await expect.poll(() => text('changes')).not.toContain('grant tool json_query');
    expect(await text('changes')).toContain('revoke tool json_query');
    const agent = (await admin<{ id: string; changes: { op: string }[] }[]>(page, 'agents.list')).find((a) => a.id === 'ui-agent')!;
    expect(agent.changes.map((c) => c.op)).toEqual(['revoke']);
    const undone = (await admin<{ event: string; agentId: string; details: { method: string } }[]>(page, 'audit.list')).filter((e) => e.agentId === 'ui-agent' && e.details?.method === 'agents.undoChange');
    expect(undone).toHaveLength(1);
  });

  it("shows the agent's calls in the audit trail, with details, denial facts and a verified chain", async () => {
    await connectAgent(page, 'ui', { agent: 'ui-agent', token });
    const ok = await callTool(page, 'ui', 'text_stats', { text: 'Hello there, audit view.' });
    expect(ok.isError).toBeFalsy();
    const denied = await callTool(page, 'ui', 'json_query', { json: '{}', path: '$' });
    expect(errorCode(denied)).toBe('policy-denied');

    await go('#audit?agent=ui-agent');
    const request = page.locator('[data-testid=audit-row]', { hasText: 'call.request' }).filter({ hasText: 'text_stats' });
    await request.first().waitFor();
    expect(await page.getByTestId('filter-agent').inputValue()).toBe('ui-agent');
    await request.first().click();
    const details = page.getByTestId('audit-details');
    await details.waitFor();
    expect(await page.getByTestId('audit-args').getByTestId('json-tree').textContent()).toContain('text: "Hello there, audit view."');
    // Copy puts the value itself on the clipboard, as JSON.
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(page.url()).origin });
    await page.getByTestId('audit-args').getByTestId('json-copy').click();
    expect(JSON.parse(await page.evaluate(() => navigator.clipboard.readText()))).toEqual({ text: 'Hello there, audit view.' });
    expect(await text('audit-hash')).toMatch(/^[0-9a-f]{64}$/);
    expect(await details.textContent()).toContain('call.result · ok');

    await page.locator('[data-testid=audit-row]', { hasText: 'call.rejected' }).first().click();
    await expect.poll(() => text('audit-error')).toContain('policy-denied');
    expect(await text('audit-denial')).toContain('tool.blocked');

    await page.getByTestId('verify-whole').click();
    await expect.poll(() => text('chain')).toMatch(/chain verified · intact through #\d+ · \d+ entries/);
    await page.waitForTimeout(500); // let the charts draw
    await shot('audit');
  });

  it('shows origin and via of sessions, and reads and saves settings', async () => {
    await go('#sessions');
    const row = page.locator('[data-testid=sessions-table] tbody tr', { hasText: 'ui-agent' }).first();
    await row.waitFor();
    const cells = (await row.textContent())!.replace(/\s+/g, ' ');
    expect(cells).toContain(new URL(page.url()).origin);
    expect(cells).toContain('direct');

    await go('#settings');
    const input = page.getByTestId('settings-form').locator('input[name=globalConcurrentCalls]');
    await input.fill('12');
    await page.getByTestId('settings-save').click();
    await page.getByText('Saved.', { exact: false }).waitFor();
    await go('#agents');
    await go('#settings');
    await expect.poll(() => page.getByTestId('settings-form').locator('input[name=globalConcurrentCalls]').inputValue()).toBe('12');
  });

  it('works in a narrow window', async () => {
    await page.setViewportSize({ width: 420, height: 800 });
    await go('#agents');
    await page.locator('[data-testid=agent-row][data-agent=ui-agent]').waitFor();
    await shot('narrow-agents');
    const nav = await page.getByTestId('nav-audit').boundingBox();
    expect(nav!.y).toBeLessThan(120); // the navigation turns into tabs at the top
    // At phone width the trail's first rows are on the first screen (the charts are folded).
    await page.setViewportSize({ width: 390, height: 844 });
    await go('#audit');
    const first = page.locator('[data-testid=audit-row]').first();
    await first.waitFor();
    expect((await first.boundingBox())!.y).toBeLessThan(844);
    await page.getByTestId('audit-charts-panel').locator('summary').click();
    await expect.poll(async () => (await page.locator('audit-charts').boundingBox())?.height ?? 0).toBeGreaterThan(100);
    await page.setViewportSize({ width: 1280, height: 800 });
  });
});

describe('the demo agent page', () => {
  it('connects as a demo agent with its stored token, calls a tool and shows the result', async () => {
    const demo = await context.newPage();
    await demo.goto(new URL('/agent.html#demo-trusted', page.url()).href);
    await demo.getByTestId('demo-call').waitFor();
    expect(await demo.getByTestId('demo-status').textContent()).toContain('connected as demo-trusted');
    await demo.getByText('text_stats', { exact: true }).click();
    await demo.getByTestId('demo-call').click();
    await demo.getByTestId('demo-result').waitFor();
    expect(await demo.getByTestId('demo-result').textContent()).toContain('"words"');
    await demo.screenshot({ path: join(tmpdir(), 'mcp-sandbox-ui-demo-agent.png'), fullPage: true });
    await demo.close();
  });

  it('offers every tool an example its schema accepts', async () => {
    const demo = await context.newPage();
    await demo.goto(new URL('/agent.html#demo-trusted', page.url()).href);
    await demo.getByTestId('demo-call').waitFor();
    const names = await demo.locator('button.tool strong').allTextContents();
    expect(names).toEqual(expect.arrayContaining(['read_file', 'text_stats']));
    // write_file before read_file, so there is a file to read.
    const order = [...names].sort((a, b) => (a === 'write_file' ? -1 : b === 'write_file' ? 1 : 0));
    const refused: string[] = [];
    for (const name of order) {
      await demo.locator('button.tool', { has: demo.getByText(name, { exact: true }) }).click();
      await demo.getByTestId('demo-call').click();
      await demo.locator('[data-testid=demo-result], [data-testid=demo-error]').first().waitFor();
      await demo.getByTestId('demo-call').and(demo.locator(':not([disabled])')).waitFor();
      const error = demo.getByTestId('demo-error');
      if ((await error.count()) && /invalid-arguments|-32602/.test((await error.textContent()) ?? '')) refused.push(name);
    }
    expect(refused).toEqual([]);
    await demo.close();
  });
});
