import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { admin, connectAgent, launchBrowser, openApp } from './harness';
import { seedBundle } from './support/seed-bundle';

// Admin work at 100,000 entries (issue 14): the log is grown through the store's own API (the
// same chain, hashes and aggregates the service worker writes), then by real calls; each admin
// path is then exercised at that size. Speeds are the bench's business; here, what must hold.

const SEEDED_CALLS = 50_000; // two entries each
const AGENTS = ['seed-a', 'seed-b', 'seed-c', 'seed-d'];
const TOOLS = ['text_stats', 'json_query', 'fetch_url'];
const REAL_CALLS = 1_000;

let browser: Browser;
let context: BrowserContext;
let page: Page;
let seededThrough = 0;

async function calls(n: number, text: string): Promise<void> {
  await page.evaluate(
    async ({ n, text }) => {
      const c = (window as unknown as { agents: Record<string, { callTool(p: unknown): Promise<{ isError?: boolean }> }> }).agents['real']!;
      for (let i = 0; i < n; i += 10) {
        const results = await Promise.all(Array.from({ length: Math.min(10, n - i) }, (_, j) => c.callTool({ name: 'text_stats', arguments: { text: `${text} ${i + j}` } })));
        if (results.some((r) => r.isError)) throw new Error(`a call failed: ${JSON.stringify(results.find((r) => r.isError))}`);
      }
    },
    { n, text },
  );
}

beforeAll(async () => {
  browser = await launchBrowser();
  ({ context, page } = await openApp(browser));
  await page.evaluate(await seedBundle());
  seededThrough = (await page.evaluate(({ n, agents, tools }) => (window as unknown as { seedAudit: { seed(n: number, a: string[], t: string[]): Promise<{ newestSeq: number }> } }).seedAudit.seed(n, agents, tools), { n: SEEDED_CALLS, agents: AGENTS, tools: TOOLS })).newestSeq;
  await connectAgent(page, 'real', { agent: 'real-agent' });
  await calls(REAL_CALLS, 'real');
}, 300_000);
afterAll(async () => {
  await context?.close();
  await browser?.close();
});

describe('admin work on a log of 100,000 entries', () => {
  it('has the entries, and statistics exact from the aggregates (seeded and real calls alike)', async () => {
    expect(seededThrough).toBeGreaterThanOrEqual(2 * SEEDED_CALLS);
    const stats = await admin<{ name: string; invocations: number; ok: number; errors: number }[]>(page, 'tools.stats');
    const byName = new Map(stats.map((s) => [s.name, s]));
    const seededOf = (k: number) => Math.ceil((SEEDED_CALLS - k) / TOOLS.length);
    // Seeded call j runs TOOLS[j % 3] and fails when j % 10 === 0.
    const errorsOf = (k: number) => Array.from({ length: SEEDED_CALLS }, (_, j) => j).filter((j) => j % 3 === k && j % 10 === 0).length;
    expect(byName.get('text_stats')).toMatchObject({ invocations: seededOf(0) + REAL_CALLS, errors: errorsOf(0), ok: seededOf(0) - errorsOf(0) + REAL_CALLS });
    expect(byName.get('json_query')).toMatchObject({ invocations: seededOf(1), errors: errorsOf(1) });
    const metrics = await admin<{ agentId: string; calls: number }[]>(page, 'agents.metrics');
    expect(metrics.find((m) => m.agentId === 'seed-c')).toMatchObject({ calls: SEEDED_CALLS / AGENTS.length });
    expect(metrics.find((m) => m.agentId === 'real-agent')).toMatchObject({ calls: REAL_CALLS });
  });

  it('serves calls while the whole chain is verified in the app, which ends intact', async () => {
    await page.goto(new URL('/#audit', page.url()).href);
    await page.waitForFunction(() => 'sandboxHost' in window);
    await connectAgent(page, 'real', { agent: 'real-agent-2' });
    await page.getByTestId('verify-whole').click();
    // Calls made while it runs are answered (the verification runs in the page's worker, in slices).
    await calls(100, 'during verification');
    await expect.poll(() => page.getByTestId('chain').first().innerText(), { timeout: 120_000 }).toMatch(/intact through #\d+/);
    const through = Number(/intact through #(\d+)/.exec(await page.getByTestId('chain').first().innerText())![1]);
    expect(through).toBeGreaterThan(2 * SEEDED_CALLS + 2 * REAL_CALLS);
  });

  it('finds an agent of the seeded past in the trail, from the index, and pages back through it', async () => {
    await page.goto(new URL('/#audit?agent=seed-c', page.url()).href);
    // The table is virtualised: `data-rows` counts the rows loaded. A first page fills the view
    // (60 entries), the next ones are 200.
    const loaded = async () => Number(await page.getByTestId('audit-table').getAttribute('data-rows'));
    await expect.poll(loaded, { timeout: 20_000 }).toBeGreaterThanOrEqual(60);
    // The view also reads the next page by itself when its end comes into view (a scroll event as
    // the rows change may say so): the button adds one page of 200 to whatever is loaded.
    await expect.poll(() => page.getByTestId('audit-older').isEnabled(), { timeout: 20_000 }).toBe(true);
    const before = await loaded();
    await page.getByTestId('audit-older').click();
    await expect.poll(loaded, { timeout: 20_000 }).toBeGreaterThanOrEqual(before + 200);
    expect(((await loaded()) - 60) % 200).toBe(0);
    const agents = await page.locator('[data-testid="audit-row"] td:nth-child(5)').allInnerTexts();
    expect(new Set(agents)).toEqual(new Set(['seed-c']));
  });

  it('streams the whole log as an export, every entry once, in order', async () => {
    const exported = await page.evaluate(async () => {
      const reader = (await fetch('/audit/export.jsonl')).body!.getReader();
      const decoder = new TextDecoder();
      let rest = '';
      let count = 0;
      let last = 0;
      let ordered = true;
      let chunks = 0;
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        chunks++;
        const lines = (rest + decoder.decode(r.value, { stream: true })).split('\n');
        rest = lines.pop()!;
        for (const line of lines) {
          const seq = (JSON.parse(line) as { seq: number }).seq;
          ordered &&= seq === last + 1;
          last = seq;
          count++;
        }
      }
      return { count, last, ordered, chunks };
    });
    expect(exported.ordered).toBe(true);
    expect(exported.count).toBe(exported.last);
    expect(exported.count).toBeGreaterThan(2 * SEEDED_CALLS);
    expect(exported.chunks).toBeGreaterThan(100);
  });

  it('archives the seeded past; the chain left verifies from the checkpoint and the statistics keep what left', async () => {
    const before = await admin<{ name: string; invocations: number }[]>(page, 'tools.stats');
    const text = await page.evaluate(async (through) => (await fetch(`/audit/archive.jsonl?through=${through}`)).text(), seededThrough);
    const checkpoint = (JSON.parse(text.trimEnd().split('\n').at(-1)!) as { archive: { through: number } }).archive;
    expect(checkpoint.through).toBe(seededThrough);
    // Removal is bounded per request (a few seconds each): asked again until done.
    let removed = 0;
    let requests = 0;
    for (let done = false; !done; requests++) {
      const step = await admin<{ removed: number; done: boolean; through: number }>(page, 'audit.prune', { checkpoint });
      expect(step.through).toBe(seededThrough);
      removed += step.removed;
      done = step.done;
    }
    expect(removed).toBe(seededThrough);
    console.log(`audit.prune: ${seededThrough} entries in ${requests} requests`);
    const retention = await admin<{ firstSeq: number; entries: number }>(page, 'audit.retention');
    expect(retention.firstSeq).toBe(seededThrough + 1);
    let from: { seq: number; hash: string } | undefined;
    for (;;) {
      const slice = await admin<{ ok: boolean; complete: boolean; headSeq: number; head: string; archivedThrough?: number }>(page, 'audit.verify', from ? { from, limit: 20_000 } : { limit: 20_000 });
      expect(slice.ok).toBe(true);
      if (!from) expect(slice.archivedThrough).toBe(seededThrough);
      if (slice.complete) break;
      from = { seq: slice.headSeq, hash: slice.head };
    }
    const after = await admin<{ name: string; invocations: number }[]>(page, 'tools.stats');
    expect(after.find((s) => s.name === 'json_query')).toEqual(before.find((s) => s.name === 'json_query'));
    // Removing 100,000 entries alone takes about 40 s in Debian's Chromium 150 (8 prune requests).
  }, 180_000);
});
