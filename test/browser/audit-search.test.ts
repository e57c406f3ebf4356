import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { admin, callTool, connectAgent, launchBrowser, openApp, registerAgent } from './harness';
import { seedBundle } from './support/seed-bundle';

// Free-text search of the audit trail, from the index kept in IndexedDB (src/store/search.ts),
// and the virtualised table, on a log of more than 6,000 entries: a few real calls first, then
// 3,000 seeded calls, so what is searched for lies far beyond the trail's first load.

const SEEDED_CALLS = 3_000;
const AGENTS = ['seed-a', 'seed-b', 'seed-c', 'seed-d'];
const TOOLS = ['text_stats', 'json_query', 'fetch_url'];

let browser: Browser;
let context: BrowserContext;
let page: Page;
/** The searcher agent's token (a test after a reload connects it again). */
let token: string;
/** The seqs of the real calls' entries. */
const seqs: Record<string, number> = {};

interface Entry {
  seq: number;
  event: string;
  agentId: string | null;
  outcome: string;
  callId: string | null;
  args: unknown;
}

const rows = () => page.locator('[data-testid="audit-row"]');
const shownSeqs = () => rows().evaluateAll((r) => r.map((x) => Number(x.getAttribute('data-seq'))));
const table = () => page.getByTestId('audit-table');
const attr = async (name: string) => Number(await table().getAttribute(name));

async function search(text: string): Promise<void> {
  await page.getByTestId('audit-search').fill(text);
}

beforeAll(async () => {
  browser = await launchBrowser();
  ({ context, page } = await openApp(browser));
  token = await registerAgent(page, { id: 'searcher', trustLevel: 'FullyTrusted', policy: { version: 1, data: { sensitivePatterns: ['password'] } } });
  await connectAgent(page, 's', { agent: 'searcher', token });
  // Output: "kangarooshoe", a word only the output holds (the arguments hold "kan", "garoo", "shoe").
  const code = await callTool(page, 's', 'execute_code', { language: 'javascript', code: '["kan", "garoo", "shoe"].join("")', input: {} });
  expect(code.isError).toBeUndefined();
  expect(code.content[0]!.text).toContain('kangarooshoe');
  // Arguments holding a secret the audit redacts ("my password is …"), in its arguments and in the
  // output (text_stats lists the top words, lowercased: the secret is written lowercase here, as
  // the audit's redactor masks the learned secret as it was sent, not its lowercase form).
  expect((await callTool(page, 's', 'text_stats', { text: 'zebracorn meadow: my password is hunter2xyz' })).isError).toBeUndefined();
  const tail = await admin<Entry[]>(page, 'audit.tail', { limit: 20 });
  const mine = tail.filter((e) => e.agentId === 'searcher' && e.callId);
  const [codeCall, secretCall] = [...new Set(mine.map((e) => e.callId))];
  seqs['codeRequest'] = mine.find((e) => e.callId === codeCall && e.event === 'call.request')!.seq;
  seqs['codeResult'] = mine.find((e) => e.callId === codeCall && e.event === 'call.result')!.seq;
  seqs['secretRequest'] = mine.find((e) => e.callId === secretCall && e.event === 'call.request')!.seq;
  // The audit kept the arguments redacted.
  expect(JSON.stringify(mine.find((e) => e.seq === seqs['secretRequest'])!.args)).not.toMatch(/hunter2xyz/i);
  await page.evaluate(await seedBundle());
  await page.evaluate(({ n, agents, tools }) => (window as unknown as { seedAudit: { seed(n: number, a: string[], t: string[]): Promise<unknown> } }).seedAudit.seed(n, agents, tools), { n: SEEDED_CALLS, agents: AGENTS, tools: TOOLS });
}, 240_000);
afterAll(async () => {
  await context?.close();
  await browser?.close();
});

describe('search', () => {
  it('finds a call by a word of its output and by a word of its arguments, from the whole log', async () => {
    await page.goto(new URL('/#audit', page.url()).href);
    await expect.poll(() => attr('data-rows'), { timeout: 20_000 }).toBe(1000);
    // The real calls lie beyond the first load (1,000 entries of 6,000).
    expect(await shownSeqs()).not.toContain(seqs['codeResult']);
    await search('kangarooshoe');
    await expect.poll(shownSeqs, { timeout: 10_000 }).toEqual([seqs['codeResult']]);
    expect(page.url()).toContain('q=kangarooshoe');
    await search('garoo shoe');
    await expect.poll(shownSeqs, { timeout: 10_000 }).toEqual([seqs['codeRequest']]);
    // The last word, as typed, is a prefix.
    await search('kangaroos');
    await expect.poll(shownSeqs, { timeout: 10_000 }).toEqual([seqs['codeResult']]);
    await search('zebracorn');
    await expect.poll(shownSeqs, { timeout: 10_000 }).toEqual([seqs['secretRequest']]);
    // Kept in the hash: a reload searches again.
    await page.reload();
    await expect.poll(shownSeqs, { timeout: 15_000 }).toEqual([seqs['secretRequest']]);
    expect(await page.getByTestId('audit-search').inputValue()).toBe('zebracorn');
  });

  it('does not find a secret the audit redacted, and the index does not hold it', async () => {
    const page1 = await admin<{ entries: Entry[]; next: number | null }>(page, 'audit.query', { filter: { text: 'Hunter2xyz' } });
    expect(page1, JSON.stringify(page1)).toMatchObject({ entries: [], next: null });
    await page.goto(new URL('/#audit?q=hunter2xyz', page.url()).href);
    await expect.poll(() => page.getByTestId('audit-count').innerText(), { timeout: 15_000 }).toMatch(/^0 matching entries of the whole log loaded \(all\)/);
    expect(await rows().count()).toBe(0);
    // The index itself (written a window behind the log, or within a second of it going idle):
    // the entry's other words are there, the secret is not, under any entry.
    const readIndex = (seq: number) =>
      page.evaluate(async (seq) => {
        const db = await new Promise<IDBDatabase>((resolve, reject) => {
          const r = indexedDB.open('mcp-sandbox');
          r.onsuccess = () => resolve(r.result);
          r.onerror = () => reject(r.error);
        });
        const get = <T,>(req: IDBRequest<T>) => new Promise<T>((resolve, reject) => ((req.onsuccess = () => resolve(req.result)), (req.onerror = () => reject(req.error))));
        const tx = db.transaction(['searchBlocks', 'searchWindows']);
        const progress = (await get(tx.objectStore('searchWindows').get(0))) as { indexedThrough: number };
        const blocks = (await get(tx.objectStore('searchBlocks').getAll())) as { term: string; seqs: number[] }[];
        db.close();
        return {
          indexedThrough: progress.indexedThrough,
          terms: blocks.filter((b) => b.seqs.includes(seq)).map((b) => b.term),
          secret: blocks.filter((b) => b.term.startsWith('hunter')).length,
          zebra: blocks.filter((b) => b.term === 'zebracorn').reduce((n, b) => n + b.seqs.length, 0),
        };
      }, seq);
    await expect.poll(async () => (await readIndex(seqs['secretRequest']!)).indexedThrough, { timeout: 10_000 }).toBeGreaterThanOrEqual(seqs['secretRequest']!);
    const held = await readIndex(seqs['secretRequest']!);
    expect(held.terms).toEqual(expect.arrayContaining(['zebracorn', 'meadow', 'password', 'redacted']));
    expect(held.terms.join(' ')).not.toMatch(/hunter/);
    expect(held.secret).toBe(0);
    expect(held.zebra).toBe(1);
  });

  it('combines with the agent, outcome and time filters, paged from the index', async () => {
    // Seeded call j: agent AGENTS[j % 4], tool TOOLS[j % 3], "seeded call j" in its arguments, error when j % 10 === 0.
    await page.goto(new URL('/#audit?agent=seed-b&outcome=error&q=seeded%20call', page.url()).href);
    // "seeded call" matches requests only (results hold {"n": j}); errors are results: none.
    await expect.poll(() => page.getByTestId('audit-count').innerText(), { timeout: 15_000 }).toMatch(/^0 matching entries of the whole log loaded \(all\)/);
    await page.goto(new URL('/#audit?agent=seed-b&event=call.request&q=seeded%20call', page.url()).href);
    await expect.poll(() => page.getByTestId('audit-count').innerText(), { timeout: 20_000 }).toMatch(/^60 matching/); // a first page fills the view: 60 entries
    expect(new Set(await page.locator('[data-testid="audit-row"] td:nth-child(5)').allInnerTexts())).toEqual(new Set(['seed-b']));
    // The tool filter and the words together: text_stats calls of seed-b holding "seeded" (j % 12 === 9 … as j % 4 === 1 and j % 3 === 0).
    const textStats = Array.from({ length: SEEDED_CALLS }, (_, j) => j).filter((j) => j % 4 === 1 && j % 3 === 0);
    let all: number[] = [];
    let beforeSeq: number | null = null;
    do {
      const p: { entries: Entry[]; next: number | null } = await admin(page, 'audit.query', { filter: { agentId: 'seed-b', tool: 'text_stats', event: 'call.request', text: 'seeded' }, beforeSeq, limit: 500 });
      all = [...all, ...p.entries.map((e) => e.seq)];
      beforeSeq = p.next;
    } while (beforeSeq !== null);
    expect(all.length).toBe(textStats.length);
    // A time range that holds none of them: nothing.
    const none = await admin<{ entries: Entry[] }>(page, 'audit.query', { filter: { text: 'seeded', from: 0, to: 1 } });
    expect(none.entries).toEqual([]);
    // The same words with the outcome of results: the results of seed-c's failed calls hold {"n": j}, not "seeded".
    const errors = await admin<{ entries: Entry[] }>(page, 'audit.query', { filter: { agentId: 'seed-c', outcome: 'error', text: 'seeded' }, limit: 500 });
    expect(errors.entries).toEqual([]);
    const byNumber = await admin<{ entries: Entry[] }>(page, 'audit.query', { filter: { agentId: 'seed-c', outcome: 'error', text: 'n 1210 ' }, limit: 500 });
    expect(byNumber.entries.map((e) => [e.agentId, e.outcome, e.event])).toEqual([['seed-c', 'error', 'call.result']]);
  });
});

describe('the virtualised table', () => {
  it('renders a bounded number of rows with thousands loaded, and reads older pages as it is scrolled to the end', async () => {
    await page.goto(new URL('/#audit', page.url()).href);
    await expect.poll(() => attr('data-rows'), { timeout: 20_000 }).toBe(1000);
    const newest = (await shownSeqs())[0]!;
    const bounded = async () => {
      const rendered = await rows().count();
      expect(rendered).toBe(await attr('data-rendered'));
      expect(rendered).toBeLessThanOrEqual(150);
      expect(rendered).toBeGreaterThan(10);
    };
    await bounded();
    // Scrolled to the end again and again: older pages are read, the rows stay few.
    for (let i = 0; i < 25 && (await attr('data-rows')) < 5_200; i++) {
      const before = await attr('data-rows');
      await table().evaluate((t) => (t.parentElement!.scrollTop = t.parentElement!.scrollHeight));
      await expect.poll(() => attr('data-rows'), { timeout: 10_000 }).toBeGreaterThan(before);
      await bounded();
    }
    const loaded = await attr('data-rows');
    expect(loaded).toBeGreaterThanOrEqual(5_000);
    // The rows at the end are the oldest loaded, in order, with no gap.
    await table().evaluate((t) => (t.parentElement!.scrollTop = t.parentElement!.scrollHeight));
    await expect.poll(async () => (await shownSeqs()).at(-1)!, { timeout: 10_000 }).toBeLessThan(newest - 4_000);
    const shown = await shownSeqs();
    for (let i = 1; i < shown.length; i++) expect(shown[i]).toBe(shown[i - 1]! - 1);
    const first = await rows().first().getAttribute('data-index');
    expect(newest - shown[0]!).toBe(Number(first));
    await bounded();
  });

  it('moves between rows with the arrow keys beyond the rows rendered, and opens one with Enter', async () => {
    await page.goto(new URL('/#audit', page.url()).href);
    await page.reload();
    await expect.poll(() => attr('data-rows'), { timeout: 20_000 }).toBe(1000);
    const newest = (await shownSeqs())[0]!;
    const rendered = await rows().count();
    await rows().first().focus();
    const focused = () => page.evaluate(() => {
      let el: Element | null = document.activeElement;
      while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
      return el?.getAttribute('data-seq') ?? null;
    });
    // Rows are keyed by entry: the window moving on does not move the focus to another entry.
    for (let i = 0; i < rendered + 30; i++) await page.keyboard.press('ArrowDown');
    await expect.poll(focused).toBe(String(newest - rendered - 30));
    await page.keyboard.press('ArrowUp');
    await expect.poll(focused).toBe(String(newest - rendered - 29));
    await page.keyboard.press('Enter');
    await expect.poll(() => page.url()).toContain(`#audit/${newest - rendered - 29}`);
  });
});

describe('the tail as calls commit', () => {
  it('adds new entries once when two refreshes are in flight at once (a change notice while one is read)', async () => {
    await page.goto(new URL('/#audit', page.url()).href);
    await expect.poll(() => attr('data-rows'), { timeout: 20_000 }).toBe(1000);
    // Earlier tests reloaded the page: the agent connects again.
    await connectAgent(page, 'tail', { agent: 'searcher', token });
    for (const text of ['one more call', 'and another']) expect((await callTool(page, 'tail', 'text_stats', { text })).isError).toBeUndefined();
    const held = await page.evaluate(async () => {
      const view = document.querySelector('sandbox-app')!.shadowRoot!.querySelector('audit-view') as unknown as { refresh(): Promise<void>; entries: { seq: number }[] };
      await Promise.all([view.refresh(), view.refresh(), view.refresh()]);
      return view.entries.map((e) => e.seq);
    });
    expect(held.length).toBeGreaterThan(0);
    expect(new Set(held).size).toBe(held.length);
    const newest = (await admin<Entry[]>(page, 'audit.tail', { limit: 1 }))[0]!.seq;
    expect(held.at(-1)).toBe(newest);
    // And the rows drawn hold each entry once.
    const shown = await shownSeqs();
    expect(shown.length).toBeGreaterThan(0);
    expect(new Set(shown).size).toBe(shown.length);
  });
});
