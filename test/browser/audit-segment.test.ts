import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { admin, connectAgent, launchBrowser, openApp, registerAgent } from './harness';
import { verifyAuditFile } from '../../src/store/audit-file';

// "Export view → Verifiable": exactly the entries a filter matched, as stored, and the chain
// between them as links, so the file checks on its own (npm run audit:verify) — also for an
// agent whose arguments and outputs are encrypted at rest.

let browser: Browser;
let context: BrowserContext;
let page: Page;

interface Entry {
  seq: number;
  hash: string;
  agentId: string | null;
  event: string;
  sealed?: string[];
}

beforeAll(async () => {
  browser = await launchBrowser();
  ({ context, page } = await openApp(browser));
  await connectAgent(page, 'plain', { agent: 'seg-plain' });
  const token = await registerAgent(page, { id: 'seg-sealed', policy: { version: 1, data: { encryptionRequired: true } } });
  await connectAgent(page, 'sealed', { agent: 'seg-sealed', token });
  await page.evaluate(async () => {
    const agents = (window as unknown as { agents: Record<string, { callTool(p: unknown): Promise<unknown> }> }).agents;
    // Interleaved, so the filtered entries have others between them.
    for (let i = 0; i < 6; i++) {
      await agents['plain']!.callTool({ name: 'text_stats', arguments: { text: `plain ${i}` } });
      await agents['sealed']!.callTool({ name: 'text_stats', arguments: { text: `secret ${i}` } });
    }
  });
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
});

describe('a verifiable export of the filtered view', () => {
  it('holds the matched entries as stored and links between them; it verifies, and an edit is found', async () => {
    await page.goto(new URL('/#audit?agent=seg-sealed&event=call.result', page.url()).href);
    const rows = page.locator('[data-testid="audit-row"]');
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(6);
    const shown = (await rows.evaluateAll((r) => r.map((x) => Number(x.getAttribute('data-seq'))))).sort((a, b) => a - b);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-view-segment').click()]);
    expect(download.suggestedFilename()).toMatch(/\.segment\.jsonl$/);
    const file = (await readFile((await download.path())!, 'utf8')).split('\n');
    const full = file.filter((l) => l && !l.startsWith('{"link"') && !l.startsWith('{"segment"')).map((l) => JSON.parse(l) as Entry);
    // Exactly the matched entries in full, sealed as stored (the hash covers the ciphertext).
    expect(full.map((e) => e.seq)).toEqual(shown);
    expect(full.every((e) => e.agentId === 'seg-sealed' && e.event === 'call.result' && e.sealed?.includes('details'))).toBe(true);
    expect(file.join('\n')).not.toContain('secret 0');
    const links = file.filter((l) => l.startsWith('{"link"'));
    expect(links.length).toBe(shown.at(-1)! - shown[0]! + 1 - shown.length);

    const verdict = await verifyAuditFile(file);
    expect(verdict).toMatchObject({ ok: true, entries: 6, links: links.length, head: { seq: shown.at(-1)! } });
    // The head is the live log's entry of that seq.
    const live = await admin<Entry[]>(page, 'audit.tail', { limit: 200 });
    expect(verdict.head.hash).toBe(live.find((e) => e.seq === shown.at(-1))!.hash);

    const edited = file.map((l) => (l.startsWith('{"link"') ? l : l.replace('"call.result"', '"call.results"')));
    expect((await verifyAuditFile(edited)).ok).toBe(false);
  });
});
