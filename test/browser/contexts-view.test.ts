import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { admin, callTool, connectAgent, launchBrowser, openApp, registerAgent } from './harness';

// The app's Contexts view (docs/context.md, "In the app"): two agents write variables in two
// conversations over MCP; the view lists each agent's conversations, the variables that reach
// the selected one with their sharing rules, the history of its changes (from the audit), and
// sets its security level (audited); per-tool and per-agent statistics are drawn from the
// aggregates.

let browser: Browser;
let context: BrowserContext;
let page: Page;
const sessions: Record<string, string> = {};

const shot = (name: string) => page.screenshot({ path: join(tmpdir(), `mcp-sandbox-contexts-${name}.png`), fullPage: true });
const go = (hash: string) => page.evaluate((h) => (location.hash = h), hash);
const row = (agent: string, conversation: string) => page.locator(`[data-testid=context-row][data-agent="${agent}"][data-conversation="${conversation}"]`);
const variable = (name: string, sharing: string) => page.locator(`[data-testid=context-variables] [data-testid=variable-row][data-name="${name}"][data-sharing="${sharing}"]`);
const cells = async (locator: ReturnType<Page['locator']>) => (await locator.innerText()).replace(/\s+/g, ' ').trim();

/** The client library's setContextVariable, for a connected client in the page. */
async function setVar(client: string, name: string, value: unknown, options: Record<string, unknown>): Promise<void> {
  await page.evaluate(
    async ({ client, name, value, options }) => {
      const w = window as unknown as { sandboxClientLib: { setContextVariable(c: unknown, n: string, v: unknown, o: unknown): Promise<unknown> }; agents: Record<string, unknown> };
      await w.sandboxClientLib.setContextVariable(w.agents[client], name, value, options);
    },
    { client, name, value, options },
  );
}

beforeAll(async () => {
  browser = await launchBrowser();
  ({ context, page } = await openApp(browser));
  await page.setViewportSize({ width: 1280, height: 900 });
  sessions['a'] = await connectAgent(page, 'a', { agent: 'cv-alpha', token: await registerAgent(page, { id: 'cv-alpha' }) });
  sessions['b'] = await connectAgent(page, 'b', { agent: 'cv-beta', token: await registerAgent(page, { id: 'cv-beta', trustLevel: 'Trusted' }) });

  // Two conversations of each agent, variables of each rule an agent writes, one changed twice.
  await setVar('a', 'topic', 'invoices', { conversation: 'chat-1' });
  await setVar('a', 'topic', 'refunds', { conversation: 'chat-1' });
  await setVar('a', 'draft', { lines: 3 }, { conversation: 'chat-1', sharing: 'SessionOnly' });
  await setVar('a', 'lang', 'en', { conversation: 'chat-1', sharing: 'UserScoped' });
  await setVar('a', 'note', 'only in two', { conversation: 'chat-2' });
  await setVar('b', 'topic', 'beta-topic', { conversation: 'chat-1' });
  await setVar('b', 'mood', 'calm', { conversation: 'chat-2' });
  await admin(page, 'contexts.setGlobal', { name: 'motd', value: 'hello all' });
  // Something for the statistics: a success of each agent, and a failure.
  await callTool(page, 'a', 'text_stats', { text: 'one two three' });
  await callTool(page, 'b', 'text_stats', { text: 'four five' });
  await callTool(page, 'a', 'json_query', { json: '{not json', path: '$.a' });
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
});

describe('the Contexts view', () => {
  it('is in the navigation and lists the conversations of each agent', async () => {
    await page.getByTestId('nav-contexts').click();
    expect(await page.evaluate(() => location.hash)).toBe('#contexts');
    for (const [agent, conversation] of [
      ['cv-alpha', 'chat-1'],
      ['cv-alpha', 'chat-2'],
      ['cv-beta', 'chat-1'],
      ['cv-beta', 'chat-2'],
    ] as const)
      await row(agent, conversation).waitFor();
    expect(await cells(page.locator('[data-testid=context-agent][data-agent=cv-alpha]'))).toContain('2 conversations');
    // Each row: the number of its own variables and its level.
    expect(await cells(row('cv-alpha', 'chat-1'))).toMatch(/\b1\b.*Permissive/);
    expect(await cells(page.getByTestId('global-variables'))).toContain('motd');
    // Filtered to one agent.
    await page.getByTestId('contexts-agent-filter').selectOption('cv-beta');
    await expect.poll(() => row('cv-alpha', 'chat-1').count()).toBe(0);
    expect(await row('cv-beta', 'chat-2').count()).toBe(1);
    await page.getByTestId('contexts-agent-filter').selectOption('');
  });

  it('shows the variables that reach a conversation with their sharing rules, and none of another agent', async () => {
    await row('cv-alpha', 'chat-1').click();
    expect(await page.evaluate(() => location.hash)).toBe('#contexts/cv-alpha/chat-1');
    await page.getByTestId('context-details').waitFor();
    const expected: [string, string, string][] = [
      ['topic', 'Private', '"refunds"'],
      ['draft', 'SessionOnly', '{"lines":3}'],
      ['lang', 'UserScoped', '"en"'],
      ['motd', 'Global', '"hello all"'],
    ];
    for (const [name, sharing, value] of expected) {
      const text = await cells(variable(name, sharing));
      expect(text).toContain(value);
      expect(await variable(name, sharing).getByTestId('sharing').innerText()).toBe(sharing);
    }
    const listed = await page.locator('[data-testid=context-variables] [data-testid=variable-row]').evaluateAll((rows) => rows.map((r) => `${r.getAttribute('data-name')}:${r.getAttribute('data-sharing')}`));
    expect(listed.sort()).toEqual(['draft:SessionOnly', 'lang:UserScoped', 'motd:Global', 'topic:Private']);
    // Another conversation's Private variable and the other agent's are not there.
    const details = await cells(page.getByTestId('context-details'));
    for (const hidden of ['only in two', 'beta-topic', 'calm']) expect(details).not.toContain(hidden);
    await shot('details');
  });

  it('shows the history of the conversation, and of one variable, from the audit', async () => {
    const history = page.locator('[data-testid=context-history] [data-testid=history-row]');
    await expect.poll(() => history.count()).toBe(4);
    expect(await history.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-op')))).toEqual(['set', 'set', 'set', 'set']);

    await variable('topic', 'Private').click();
    await expect.poll(() => history.count()).toBe(2);
    expect(await cells(history.nth(0))).toMatch(/"invoices"\s*→\s*"refunds"/);
    expect(await cells(history.nth(1))).toMatch(/–\s*→\s*"invoices"/);
    // Each row links to its audit entry.
    const seq = await history.nth(0).getAttribute('data-seq');
    expect(await history.nth(0).locator(`a[href="#audit/${seq}"]`).count()).toBe(1);

    // A Global variable's history is the admin's changes.
    await variable('motd', 'Global').click();
    await expect.poll(() => history.count()).toBe(1);
    expect(await cells(history.nth(0))).toMatch(/"hello all".*admin/);
    await page.getByTestId('history-all').click();
    await expect.poll(() => history.count()).toBe(4);
  });

  it('sets the security level as the admin; the change is audited and narrows calls in that conversation', async () => {
    await page.getByTestId('level-select').selectOption('Strict');
    await page.getByTestId('level-apply').click();
    await expect.poll(() => page.getByTestId('level-message').innerText()).toContain('Strict');
    await expect.poll(() => cells(page.getByTestId('context-level'))).toBe('Strict');
    await expect.poll(() => cells(row('cv-alpha', 'chat-1'))).toContain('Strict');
    const history = page.locator('[data-testid=context-history] [data-testid=history-row]');
    await expect.poll(() => history.first().getAttribute('data-op')).toBe('level');
    expect(await cells(history.first())).toMatch(/Permissive\s*→\s*Strict.*admin/);

    const entries = await admin<{ event: string; agentId: string; details: Record<string, unknown> }[]>(page, 'audit.list', { agentId: 'cv-alpha' });
    expect(entries.filter((e) => e.event === 'context.change' && e.details['op'] === 'level')).toMatchObject([{ details: { conversation: 'chat-1', actor: 'admin', before: { level: 'Permissive' }, after: { level: 'Strict' } } }]);
    // The level is in force: Strict (the Untrusted template) does not allow execute_code.
    const denied = await page.evaluate(async () => {
      const c = (window as unknown as { agents: Record<string, { callTool(p: unknown): Promise<{ isError?: boolean; _meta?: Record<string, unknown> }> }> }).agents['a']!;
      return c.callTool({ name: 'execute_code', arguments: { language: 'javascript', code: '1' }, _meta: { 'mcp-sandbox/conversation': 'chat-1' } });
    });
    expect(denied._meta?.['mcp-sandbox/error']).toMatchObject({ code: 'policy-denied', details: { layer: 'context' } });

    // A Custom document that is not valid is refused with the field named; nothing changes.
    await page.getByTestId('level-select').selectOption('Custom');
    await page.getByTestId('level-custom').fill('{"version": 1, "limits": {"memoryMb": -1}}');
    await page.getByTestId('level-apply').click();
    await expect.poll(() => page.getByTestId('level-message').innerText()).toContain('policy.limits.memoryMb');
    expect(await cells(page.getByTestId('context-level'))).toBe('Strict');
    await shot('level');
  });

  it('draws per-tool and per-agent statistics from the aggregates', async () => {
    const tools = page.getByTestId('tool-stats');
    await expect.poll(() => tools.getAttribute('data-tools')).toContain('text_stats');
    expect((await tools.getAttribute('data-tools'))!.split(',')).toEqual(expect.arrayContaining(['text_stats', 'json_query']));
    // uPlot drew the chart.
    expect(await page.locator('[data-testid=chart-tool-stats] canvas').count()).toBe(1);
    const stats = await admin<{ name: string; invocations: number; successRate: number | null }[]>(page, 'tools.stats');
    const textStats = stats.find((t) => t.name === 'text_stats')!;
    expect(await cells(page.locator('[data-testid=tool-stats-row][data-tool=text_stats]'))).toContain(`${textStats.invocations} ${Math.round(textStats.successRate! * 100)} %`);
    const agents = page.getByTestId('agent-stats');
    await expect.poll(() => agents.getAttribute('data-agents')).toContain('cv-alpha');
    expect(await page.locator('[data-testid=chart-agent-stats] canvas').count()).toBe(1);
    expect(await cells(page.locator('[data-testid=agent-stats-row][data-agent=cv-beta]'))).toMatch(/^cv-beta 1 1 0 0 .* 2$/);
    await shot('stats');
  });

  it('the audit view offers context.change as an event filter', async () => {
    await go('#audit');
    const options = await page.getByTestId('filter-event').locator('option').evaluateAll((o) => o.map((x) => (x as HTMLOptionElement).value));
    expect(options).toContain('context.change');
  });
});
