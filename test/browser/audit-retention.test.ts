import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { admin, connectAgent, launchBrowser, openApp } from './harness';

// Retention: the oldest entries leave the browser as a signed archive file and the chain left
// still verifies. (The quota is tested in test/unit/call-faults.test.ts and change-feed.test.ts:
// this Chromium does not enforce a DevTools quota override on a database that already exists, so
// a full quota cannot be brought about here.)

let browser: Browser;
let context: BrowserContext;
let page: Page;

async function calls(n: number, text = 'call'): Promise<void> {
  await page.evaluate(
    async ({ n, text }) => {
      const c = (window as unknown as { agents: Record<string, { callTool(p: unknown): Promise<unknown> }> }).agents['a']!;
      for (let i = 0; i < n; i += 10) await Promise.all(Array.from({ length: Math.min(10, n - i) }, (_, j) => c.callTool({ name: 'text_stats', arguments: { text: `${text} ${i + j}` } })));
    },
    { n, text },
  );
}

interface Verdict {
  ok: boolean;
  reason?: string;
  detail?: string;
  headSeq?: number;
  complete: boolean;
  archivedThrough?: number;
}

beforeAll(async () => {
  browser = await launchBrowser();
  ({ context, page } = await openApp(browser));
  await connectAgent(page, 'a', { agent: 'retention-agent' });
  await calls(150);
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
});

describe('archive and remove the oldest entries', () => {
  it('downloads a signed archive from the Audit view, removes what it holds, and the chain still verifies', async () => {
    await page.goto(new URL('/#audit', page.url()).href);
    await page.getByTestId('archive-open').click();
    await expect.poll(() => page.getByTestId('retention-entries').innerText(), { timeout: 10_000 }).toMatch(/entries \(#1–#\d+\)/);
    await page.getByTestId('retention-through').fill('200');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('retention-download').click()]);
    const text = await readFile((await download.path())!, 'utf8');
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(201);
    expect(lines.slice(0, 200).map((l) => l['seq'])).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    const checkpoint = lines[200]!['archive'] as { firstSeq: number; through: number; hash: string; signature: string };
    expect(checkpoint).toMatchObject({ firstSeq: 1, through: 200, hash: lines[199]!['hash'] });

    // Nothing leaves the browser until the person says the file is kept.
    expect((await admin<{ firstSeq: number }>(page, 'audit.retention')).firstSeq).toBe(1);
    await page.getByTestId('retention-prune').click();
    await expect.poll(() => page.getByTestId('retention-done').innerText(), { timeout: 10_000 }).toMatch(/Removed 200 entries through #200/);
    const retention = await admin<{ firstSeq: number; archived: { through: number } }>(page, 'audit.retention');
    expect(retention).toMatchObject({ firstSeq: 201, archived: { through: 200 } });

    // The whole chain (what the browser keeps) verifies from the archive's checkpoint.
    const whole = await admin<Verdict>(page, 'audit.verify', { limit: 20_000 });
    expect(whole).toMatchObject({ ok: true, complete: true, archivedThrough: 200 });
    // A verifier that had checked from the genesis before carries on from the checkpoint.
    expect(await admin<Verdict>(page, 'audit.verify', { from: { seq: 150, hash: lines[149]!['hash'] } })).toMatchObject({ ok: true, archivedThrough: 200 });
    await page.getByTestId('verify-whole').click();
    await expect.poll(() => page.getByTestId('chain').first().innerText(), { timeout: 20_000 }).toMatch(/intact through #\d+/);
    // The removal is itself audited.
    const tail = await admin<{ details: { method?: string; through?: number; removed?: number } | null }[]>(page, 'audit.tail', { limit: 50 });
    expect(tail.some((e) => e.details?.method === 'audit.prune' && e.details.through === 200 && e.details.removed === 200)).toBe(true);

    // An export now starts with the checkpoint its first entry links to.
    const exported = await page.evaluate(async () => (await (await fetch('/audit/export.jsonl')).text()).split('\n').slice(0, 2));
    expect(JSON.parse(exported[0]!)).toEqual({ archive: checkpoint });
    expect(JSON.parse(exported[1]!)).toMatchObject({ seq: 201, prevHash: checkpoint.hash });

    // Calls go on and the log stays whole.
    await calls(20, 'after');
    expect(await admin<Verdict>(page, 'audit.verify', { limit: 20_000 })).toMatchObject({ ok: true, complete: true });
  });

  it('refuses an archive through the newest entry, and a checkpoint changed after signing', async () => {
    const newest = (await admin<{ newestSeq: number; maxThrough: number }>(page, 'audit.retention')).newestSeq;
    const refused = await page.evaluate(async (n) => {
      const r = await fetch(`/audit/archive.jsonl?through=${n}`);
      return { status: r.status, body: (await r.json()) as { error: { code: string } } };
    }, newest);
    expect(refused).toMatchObject({ status: 409, body: { error: { code: 'archive-range' } } });

    const text = await page.evaluate(async () => (await fetch('/audit/archive.jsonl?through=260')).text());
    const checkpoint = (JSON.parse(text.trim().split('\n').at(-1)!) as { archive: Record<string, unknown> }).archive;
    const forged = { ...checkpoint, through: 300 };
    const error = await admin(page, 'audit.prune', { checkpoint: forged }).then(
      () => null,
      (e: Error) => e.message,
    );
    expect(error).toMatch(/signature/);
    expect((await admin<{ firstSeq: number }>(page, 'audit.retention')).firstSeq).toBe(201);
  });

  it('a stored checkpoint altered to hide more entries breaks verification', async () => {
    await page.evaluate(async () => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const r = indexedDB.open('mcp-sandbox');
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => reject(r.error);
      });
      const tx = db.transaction(['archives', 'audit'], 'readwrite');
      const archives = tx.objectStore('archives');
      const stored = await new Promise<Record<string, unknown>>((resolve) => (archives.get(200).onsuccess = (e) => resolve((e.target as IDBRequest).result)));
      const next = await new Promise<{ hash: string }>((resolve) => (tx.objectStore('audit').get(210).onsuccess = (e) => resolve((e.target as IDBRequest).result)));
      archives.put({ ...stored, through: 210, hash: next.hash });
      tx.objectStore('audit').delete(IDBKeyRange.upperBound(210));
      await new Promise((resolve) => (tx.oncomplete = resolve));
      db.close();
    });
    const verdict = await admin<Verdict>(page, 'audit.verify', { limit: 20_000 });
    expect(verdict).toMatchObject({ ok: false, reason: 'malformed' });
    expect(verdict.detail).toMatch(/does not match its signature/);
  });
});
