import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { admin, connectAgent, launchBrowser, openApp, openPage, registerAgent } from './harness';

// Admin work at any size: verification in bounded slices from a kept checkpoint (a cut tail is
// caught by it), and the whole log exported as a stream the service worker writes as it reads.

let browser: Browser;
let context: BrowserContext;
let page: Page;

async function calls(n: number): Promise<void> {
  await page.evaluate(async (n) => {
    const c = (window as unknown as { agents: Record<string, { callTool(p: unknown): Promise<unknown> }> }).agents['a']!;
    for (let i = 0; i < n; i += 10) await Promise.all(Array.from({ length: 10 }, (_, j) => c.callTool({ name: 'text_stats', arguments: { text: `call ${i + j}` } })));
  }, n);
}

const newest = () => admin<{ seq: number }[]>(page, 'audit.tail', { limit: 1 }).then((t) => t[0]!.seq);

beforeAll(async () => {
  browser = await launchBrowser();
  ({ context, page } = await openApp(browser));
  await connectAgent(page, 'a', { agent: 'admin-scale' });
  await calls(200);
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
});

describe('export', () => {
  it('streams the whole log as JSON Lines, one entry per line in order, sealed fields still sealed', async () => {
    const head = await newest();
    const exported = await page.evaluate(async () => {
      const response = await fetch('/audit/export.jsonl');
      const reader = response.body!.getReader();
      let chunks = 0;
      let text = '';
      const decoder = new TextDecoder();
      for (let r = await reader.read(); !r.done; r = await reader.read()) {
        chunks++;
        text += decoder.decode(r.value, { stream: true });
      }
      return { chunks, lines: text.trim().split('\n').map((l) => JSON.parse(l) as { seq: number }), type: response.headers.get('content-type') };
    });
    expect(exported.type).toContain('application/jsonl');
    expect(exported.lines.map((l) => l.seq)).toEqual(Array.from({ length: exported.lines.length }, (_, i) => i + 1));
    expect(exported.lines.at(-1)!.seq).toBeGreaterThanOrEqual(head - 6);
    // Streamed in steps of 200 entries, not one string.
    expect(exported.chunks).toBeGreaterThanOrEqual(Math.floor(exported.lines.length / 200));
  });
});

describe('the trail reaches the whole log', () => {
  it('an agent that called long ago shows in its drill-down, read from the index; older pages load on request', async () => {
    await connectAgent(page, 'old', { agent: 'long-ago' });
    await page.evaluate(async () => {
      const c = (window as unknown as { agents: Record<string, { callTool(p: unknown): Promise<unknown> }> }).agents['old']!;
      for (let i = 0; i < 3; i++) await c.callTool({ name: 'text_stats', arguments: { text: `long ago ${i}` } });
    });
    // More than the trail's first load (1,000 entries) since.
    await calls(600);
    await page.goto(new URL('/#audit?agent=long-ago', page.url()).href);
    const rows = page.locator('[data-testid="audit-row"]');
    // its registration, session.open, 3 × (request, result)
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(8);
    expect(await page.getByTestId('audit-count').innerText()).toMatch(/8 matching entries of the whole log loaded \(all\)/);
    expect(await page.getByTestId('filter-agent').inputValue()).toBe('long-ago');

    // Unfiltered: the newest entries, and older ones a page at a time.
    await page.goto(new URL('/#audit', page.url()).href);
    await page.waitForFunction(() => 'sandboxHost' in window);
    // The table is virtualised: `data-rows` counts the rows loaded, the rows rendered are a window of them.
    const table = page.getByTestId('audit-table');
    const loaded = async () => Number(await table.getAttribute('data-rows'));
    await expect.poll(loaded, { timeout: 15_000 }).toBeGreaterThanOrEqual(1000);
    const before = await loaded();
    const newestShown = Number(await rows.first().getAttribute('data-seq'));
    await page.getByTestId('audit-older').click();
    // At least the page asked for (a page the table started loading by itself before the click
    // may land too); the check below proves the rows are the next ones, with no gap.
    await expect.poll(loaded, { timeout: 10_000 }).toBeGreaterThanOrEqual(before + 200);
    // The last row loaded, rendered once scrolled to: 200 entries older than the oldest loaded before (no gap).
    await table.evaluate((t) => (t.parentElement!.scrollTop = t.parentElement!.scrollHeight));
    await expect.poll(() => page.locator(`[data-testid="audit-row"][data-index="${before + 199}"]`).getAttribute('data-seq'), { timeout: 10_000 }).toBe(String(newestShown - before - 199));
  });
});

describe('one row per call', () => {
  it('folds each call into one row with its final outcome; entries of no call stay rows of their own', async () => {
    await connectAgent(page, 'bc', { agent: 'by-call' });
    await page.evaluate(async () => {
      const c = (window as unknown as { agents: Record<string, { callTool(p: unknown): Promise<unknown> }> }).agents['bc']!;
      await c.callTool({ name: 'text_stats', arguments: { text: 'one' } });
      await c.callTool({ name: 'text_stats', arguments: { text: 'two' } });
      await c.callTool({ name: 'text_stats', arguments: { wrong: true } }); // refused: invalid arguments
    });
    await page.goto(new URL('/#audit?agent=by-call', page.url()).href);
    const rows = page.locator('[data-testid="audit-row"]');
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(7); // register, session, 2 × (request, result), rejected
    await page.getByTestId('audit-by-call').check();
    await expect.poll(() => rows.count(), { timeout: 5_000 }).toBe(5);
    const events = await page.getByTestId('audit-row-event').allInnerTexts();
    const outcomes = await page.getByTestId('audit-row-outcome').allInnerTexts();
    expect(events.map((e, i) => `${e} → ${outcomes[i]}`)).toEqual(['call · 1 entry → denied', 'call · 2 entries → ok', 'call · 2 entries → ok', 'session.open → info', 'admin → info']);
  });
});

describe('export of the view', () => {
  it('downloads exactly the filtered entries of the whole log, as JSON Lines and as CSV', async () => {
    await page.goto(new URL('/#audit?agent=by-call&event=call.result', page.url()).href);
    const rows = page.locator('[data-testid="audit-row"]');
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBeGreaterThan(0);
    const shown = await rows.evaluateAll((r) => r.map((x) => Number(x.getAttribute('data-seq'))));
    const [jsonl] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-view-jsonl').click()]);
    const lines = (await readFile((await jsonl.path())!, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { seq: number; agentId: string; event: string });
    expect(lines.map((l) => l.seq)).toEqual(shown);
    expect(lines.every((l) => l.agentId === 'by-call' && l.event === 'call.result')).toBe(true);
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-view-csv').click()]);
    const table = (await readFile((await csv.path())!, 'utf8')).trim().split('\r\n');
    expect(table[0]).toMatch(/^seq,time,event,outcome,agent,tool,/);
    expect(table.slice(1).map((r) => Number(r.split(',')[0]))).toEqual(shown);
  });
});

describe('pins', () => {
  it('pins an entry from its details; after a reload "pinned only" shows exactly the pinned entries, read wherever they are', async () => {
    await page.goto(new URL('/#audit', page.url()).href);
    const rows = page.locator('[data-testid="audit-row"]');
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBeGreaterThan(10);
    const seqs = [Number(await rows.nth(3).getAttribute('data-seq')), Number(await rows.nth(7).getAttribute('data-seq'))];
    for (const seq of seqs) {
      await page.goto(new URL(`/#audit/${seq}`, page.url()).href);
      await page.getByTestId('audit-pin').click();
      await expect.poll(() => page.getByTestId('audit-pin').innerText()).toMatch(/Unpin/);
    }
    await page.goto(new URL('/#audit', page.url()).href);
    await page.reload();
    await page.getByTestId('audit-pinned').check();
    await expect.poll(async () => (await rows.evaluateAll((r) => r.map((x) => Number(x.getAttribute('data-seq'))))).join(), { timeout: 10_000 }).toBe([...seqs].sort((a, b) => b - a).join());
    // Unpinned from the list itself.
    await rows.first().click();
    await page.getByTestId('audit-pin').click();
    await expect.poll(() => rows.count(), { timeout: 5_000 }).toBe(1);
    await page.getByTestId('audit-pinned').uncheck();
  });
});

describe('a settings change in the trail', () => {
  it('shows each changed field before and after, and takes it back, audited as a revert of that entry', async () => {
    await registerAgent(page, { id: 'changing', trustLevel: 'Limited' });
    const first = { version: 1, tools: { allowed: ['text_stats'] } };
    await admin(page, 'agents.update', { id: 'changing', policy: first });
    await admin(page, 'agents.update', { id: 'changing', trustLevel: 'Trusted', policy: { version: 1, tools: { allowed: ['text_stats', 'json_query'] } } });
    const tail = await admin<{ seq: number; details: { method?: string } | null; agentId: string | null }[]>(page, 'audit.tail', { limit: 20 });
    const change = tail.filter((e) => e.agentId === 'changing' && e.details?.method === 'agents.update').at(-1)!;
    expect(change.details).toMatchObject({ before: { trustLevel: 'Limited', policy: first } });
    // Only the settings an update changes are recorded as "before", whatever else a request names.
    await admin(page, 'agents.update', { id: 'changing', name: 'Changing', tokenHash: 'x', revokedAt: 1 });
    const named = (await admin<{ details: { method?: string; before?: Record<string, unknown> } | null; agentId: string | null }[]>(page, 'audit.tail', { limit: 5 })).filter((e) => e.agentId === 'changing').at(-1)!;
    expect(Object.keys(named.details!.before!)).toEqual(['name']);
    await admin(page, 'agents.update', { id: 'changing', name: 'changing' });

    await page.goto(new URL(`/#audit/${change.seq}`, page.url()).href);
    const rows = page.getByTestId('audit-change-row');
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(2);
    expect(await rows.allInnerTexts()).toEqual([expect.stringMatching(/\/policy\/tools\/allowed\/1\s+absent\s+"json_query"/), expect.stringMatching(/\/trustLevel\s+"Limited"\s+"Trusted"/)]);

    await page.getByTestId('audit-revert').click();
    await expect.poll(async () => (await admin<{ id: string; trustLevel: string; policy: unknown }[]>(page, 'agents.list')).find((a) => a.id === 'changing'), { timeout: 10_000 }).toMatchObject({ trustLevel: 'Limited', policy: first });
    const revert = (await admin<{ details: { method?: string; revertOf?: number; before?: unknown } | null; agentId: string | null }[]>(page, 'audit.tail', { limit: 10 })).filter((e) => e.agentId === 'changing').at(-1)!;
    expect(revert.details).toMatchObject({ method: 'agents.update', revertOf: change.seq, change: { trustLevel: 'Limited', policy: first } });
    await expect.poll(() => page.getByTestId('audit-change').innerText(), { timeout: 10_000 }).toMatch(new RegExp(`reverts #${change.seq}`, "i"));
  });
});

describe('audit verification in slices, from a checkpoint', () => {
  it('verifies a bounded slice per request and says how far the log goes', async () => {
    const head = await newest();
    const first = await admin<{ ok: boolean; headSeq: number; count: number; newestSeq: number; complete: boolean; head: string }>(page, 'audit.verify', { limit: 100 });
    expect(first).toMatchObject({ ok: true, headSeq: 100, count: 100, complete: false });
    expect(first.newestSeq).toBeGreaterThanOrEqual(head);
    const rest = await admin<{ ok: boolean; headSeq: number; complete: boolean }>(page, 'audit.verify', { from: { seq: first.headSeq, hash: first.head }, limit: 20_000 });
    expect(rest).toMatchObject({ ok: true, complete: true });
    expect(rest.headSeq).toBeGreaterThanOrEqual(head);
  });

  it('keeps a verified checkpoint across reloads, and catches a cut tail with it', async () => {
    const head = await newest();
    await page.goto(new URL('/#audit', page.url()).href);
    await page.reload();
    await page.waitForFunction(() => 'sandboxHost' in window);
    await expect.poll(async () => (await page.getByTestId('chain').first().innerText()), { timeout: 20_000 }).toMatch(new RegExp(`intact through #${head}`));
    const checkpoint = await page.evaluate(() => JSON.parse(localStorage.getItem('mcp-sandbox.audit-checkpoint') ?? 'null') as { seq: number; count: number } | null);
    expect(checkpoint!.seq).toBeGreaterThanOrEqual(400);
    expect(checkpoint!.count).toBe(checkpoint!.seq);

    // Remove the newest entries behind the app's back: the chain alone cannot show it.
    await page.evaluate(async (keep) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const r = indexedDB.open('mcp-sandbox');
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
      await new Promise<void>((resolve, reject) => {
        const tx = db.transaction('audit', 'readwrite');
        tx.objectStore('audit').delete(IDBKeyRange.lowerBound(keep, true));
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error);
      });
      db.close();
    }, checkpoint!.seq - 5);
    await page.reload();
    await page.waitForFunction(() => 'sandboxHost' in window);
    await expect.poll(async () => page.getByTestId('chain').first().innerText(), { timeout: 20_000 }).toMatch(/BROKEN at #\d+: truncated/);
  });

  it('highlights the broken row with its reason, reachable from the badge even when it is older than the rows loaded', async () => {
    // An entry edited in place (content changed, hash kept): broken at its own seq.
    const target = 3;
    await page.evaluate(async (seq) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const r = indexedDB.open('mcp-sandbox');
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
      const tx = db.transaction('audit', 'readwrite');
      const store = tx.objectStore('audit');
      const entry = await new Promise<Record<string, unknown>>((resolve) => (store.get(seq).onsuccess = (e) => resolve((e.target as IDBRequest).result)));
      store.put({ ...entry, outcome: 'ok', details: { edited: true } });
      await new Promise((resolve) => (tx.oncomplete = resolve));
      db.close();
    }, target);
    // A whole check finds it (the verifier's checkpoint is past it).
    await page.getByTestId('verify-whole').first().click();
    await expect.poll(() => page.getByTestId('chain').first().innerText(), { timeout: 20_000 }).toMatch(new RegExp(`BROKEN at #${target}: hash-mismatch`));
    await page.getByTestId('chain-show-broken').first().click();
    await expect.poll(() => page.getByTestId('audit-details').count(), { timeout: 10_000 }).toBe(1);
    expect(await page.getByTestId('audit-details').innerText()).toContain(`#${target}`);
  });
});

describe('open admin pages are told of changes, not polling', () => {
  it('an idle app asks the service worker nothing; a change reaches the open view at once', async () => {
    const quiet = await browser.newContext();
    try {
      // Counts the admin requests this page sends to the service worker.
      await quiet.addInitScript(() => {
        const w = window as unknown as { adminRequests: string[] };
        w.adminRequests = [];
        const post = ServiceWorker.prototype.postMessage;
        ServiceWorker.prototype.postMessage = function (this: ServiceWorker, message: unknown, ...rest: unknown[]) {
          const m = message as { kind?: string; method?: string } | null;
          if (m?.kind === 'admin') w.adminRequests.push(String(m.method));
          return (post as (...a: unknown[]) => void).call(this, message, ...rest);
        } as typeof post;
      });
      const p = await openPage(quiet, '/#agents');
      await connectAgent(p, 'q', { agent: 'quiet-agent' });
      const row = p.locator('[data-testid="agent-row"][data-agent="quiet-agent"]');
      await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(1);
      await p.waitForTimeout(2_500);
      const requests = () => p.evaluate(() => (window as unknown as { adminRequests: string[] }).adminRequests.length);
      const before = await requests();
      // Polling asked every few seconds (agents every 5 s, the chain every 2 s): now nothing but
      // the folder watcher's look at the list of watched folders (a few records; files on disk
      // are not announced), which with no folder asks nothing more.
      await p.waitForTimeout(8_000);
      const idle = await p.evaluate((from) => (window as unknown as { adminRequests: string[] }).adminRequests.slice(from), before);
      expect(idle.filter((m) => m !== 'folders.list')).toEqual([]);

      // A call writes entries; the service worker says so; the view loads once and shows it.
      await p.evaluate(() => (window as unknown as { agents: Record<string, { callTool(x: unknown): Promise<unknown> }> }).agents['q']!.callTool({ name: 'text_stats', arguments: { text: 'pushed' } }));
      await expect.poll(() => row.locator('td.num').first().innerText(), { timeout: 5_000 }).toBe('1');
      const asked = await p.evaluate((from) => (window as unknown as { adminRequests: string[] }).adminRequests.slice(from), before);
      expect(asked).toContain('agents.metrics');
      // The chain was verified (the badge says so), by the page's own worker: the service
      // worker that answers agents was never asked to hash.
      await expect.poll(() => p.getByTestId('chain').first().innerText(), { timeout: 10_000 }).toMatch(/intact through #\d+/);
      expect(await p.evaluate(() => (window as unknown as { adminRequests: string[] }).adminRequests)).not.toContain('audit.verify');
      expect(asked.length).toBeLessThanOrEqual(8);
      // Its details show what it prefers and its typical session, from the aggregates and session records.
      const metrics = await admin<{ agentId: string; preferredTools: { tool: string; calls: number }[]; argumentShapes: { shape: string; calls: number }[]; sessions: { count: number; medianCalls: number | null } }[]>(p, 'agents.metrics', { id: 'quiet-agent' });
      expect(metrics[0]).toMatchObject({ preferredTools: [{ tool: 'text_stats', calls: 1 }], argumentShapes: [{ calls: 1 }], sessions: { count: 1, medianCalls: 1 } });
      await row.click();
      await expect.poll(() => p.locator('[data-preferred]').first().innerText(), { timeout: 5_000 }).toBe('text_stats (1)');
    } finally {
      await quiet.close();
    }
  });
});
