import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { admin, callTool, connectAgent, launchBrowser, openApp, registerAgent } from './harness';

// Issue 12, the audit trail: a call replayed from the trail as its agent under the agent's
// policy now (shown beside the original, its entries marked as a replay), and the time range
// the rows, the whole-log query and the charts follow.

let browser: Browser;
let context: BrowserContext;
let page: Page;

interface Entry {
  seq: number;
  ts: number;
  event: string;
  outcome: string;
  agentId: string | null;
  sessionId: string | null;
  callId: string | null;
  tool: string | null;
  replayOf?: string;
  error: { code: string } | null;
}
interface Outcome {
  callId: string;
  seq: number;
  event: string;
  outcome: string;
  durationMs: number | null;
  error: { code: string; details?: Record<string, unknown> } | null;
  output: string | null;
}
interface Replay {
  replayOf: string;
  agentId: string;
  sessionId: string;
  original: Outcome;
  replay: Outcome;
}

/** An admin request's refusal as the page's admin client sees it: its typed code. */
async function adminRefusal(method: string, params: unknown): Promise<{ code?: string; message?: string } | null> {
  await admin(page, 'ping');
  return page.evaluate(
    async ({ method, params }) => {
      type Admin = { request(method: string, params?: unknown): Promise<unknown> };
      const { createAdminClient } = (window as unknown as { sandboxAdminLib: { createAdminClient(): Promise<Admin> } }).sandboxAdminLib;
      try {
        await (await createAdminClient()).request(method, params);
        return null;
      } catch (error) {
        const e = error as { code?: string; message?: string };
        return { code: e.code, message: e.message };
      }
    },
    { method, params },
  );
}

const tail = (limit = 50) => admin<Entry[]>(page, 'audit.tail', { limit });
const rows = () => page.locator('[data-testid="audit-row"]');
const seqsShown = () => rows().evaluateAll((r) => r.map((x) => Number(x.getAttribute('data-seq'))));

beforeAll(async () => {
  browser = await launchBrowser();
  ({ context, page } = await openApp(browser));
  // A Limited agent that may call nothing but what it is granted (and at any hour: Limited's
  // template keeps quiet hours at night, UTC).
  const token = await registerAgent(page, { id: 'rp', trustLevel: 'Limited', policy: { version: 1, tools: { allowed: [] }, session: { quietHours: null } } });
  await admin(page, 'agents.grant', { id: 'rp', grant: { kind: 'tool', name: 'text_stats' } });
  await connectAgent(page, 'rp', { agent: 'rp', token });
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
});

describe('replay', () => {
  let callId = '';
  let resultSeq = 0;

  it('re-runs a call from its row as the original agent; both results side by side; the replay\'s rows link back', async () => {
    const result = await callTool(page, 'rp', 'text_stats', { text: 'Hello there. General Kenobi.' });
    expect(result.isError).toBeUndefined();
    // A result entry may commit just after its reply: read once it is there.
    await expect.poll(async () => (await tail()).filter((e) => e.agentId === 'rp' && e.event === 'call.result').length, { timeout: 5_000 }).toBe(1);
    const done = (await tail()).filter((e) => e.agentId === 'rp' && e.event === 'call.result').at(-1)!;
    callId = done.callId!;
    resultSeq = done.seq;

    await page.goto(new URL('/#audit?agent=rp', page.url()).href);
    await page.getByTestId('audit-by-call').check();
    const row = page.locator(`[data-testid="audit-row"][data-seq="${resultSeq}"]`);
    await expect.poll(() => row.count(), { timeout: 15_000 }).toBe(1);
    await row.getByTestId('audit-replay').click();

    const original = page.getByTestId('replay-original');
    const replay = page.getByTestId('replay-replay');
    await expect.poll(() => replay.count(), { timeout: 15_000 }).toBe(1);
    expect(await original.getAttribute('data-call')).toBe(callId);
    const replayCall = (await replay.getAttribute('data-call'))!;
    expect(replayCall).not.toBe(callId);
    expect(await original.getByTestId('replay-outcome').innerText()).toBe('ok');
    expect(await replay.getByTestId('replay-outcome').innerText()).toBe('ok');
    expect(await replay.getByTestId('replay-duration').innerText()).toMatch(/\d ms$/);
    // The output of each, in the JSON viewer: the same text statistics.
    const outputs = [await original.getByTestId('replay-output').getByTestId('json-tree').innerText(), await replay.getByTestId('replay-output').getByTestId('json-tree').innerText()];
    expect(outputs[0]).toMatch(/words/);
    expect(outputs[1]).toBe(outputs[0]);

    // Every entry of the replay names the original, as the same agent, in its replay session.
    const entries = await admin<Entry[]>(page, 'audit.call', { callId: replayCall });
    expect(entries.map((e) => [e.event, e.agentId, e.sessionId, e.replayOf])).toEqual([
      ['call.request', 'rp', 'replay:rp', callId],
      ['call.result', 'rp', 'replay:rp', callId],
    ]);
    expect((await admin<Entry[]>(page, 'audit.call', { callId })).every((e) => e.replayOf === undefined)).toBe(true);

    // The replay's row says so and links back to the original.
    const link = page.locator(`[data-testid="replay-link"][data-call="${callId}"]`);
    await expect.poll(() => link.count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    expect(await link.first().innerText()).toBe(`replay of #${callId.slice(0, 8)}`);
    await link.first().click();
    await expect.poll(() => page.getByTestId('audit-details').innerText(), { timeout: 10_000 }).toContain(callId);
    const firstOfOriginal = (await admin<Entry[]>(page, 'audit.call', { callId }))[0]!.seq;
    expect(page.url()).toContain(`#audit/${firstOfOriginal}`);
  });

  it('decides under the agent\'s policy now: after a revoke the replay is denied, recorded as a replay of the original, shown beside it', async () => {
    await admin(page, 'agents.revokeGrant', { id: 'rp', revoke: { kind: 'tool', name: 'text_stats' } });
    // The agent itself is refused now …
    const direct = await callTool(page, 'rp', 'text_stats', { text: 'x' });
    expect(direct.isError).toBe(true);

    // … and so is the replay, from the details panel of the original's result.
    await page.goto(new URL(`/#audit/${resultSeq}?agent=rp`, page.url()).href);
    await page.getByTestId('audit-details-replay').click();
    const replay = page.getByTestId('replay-replay');
    await expect.poll(() => replay.count(), { timeout: 15_000 }).toBe(1);
    expect(await page.getByTestId('replay-original').getByTestId('replay-outcome').innerText()).toBe('ok');
    expect(await replay.getByTestId('replay-outcome').innerText()).toBe('denied');
    expect(await replay.getByTestId('replay-error').innerText()).toMatch(/^policy-denied/);

    const denied = (await tail(10)).filter((e) => e.replayOf === callId).at(-1)!;
    expect(denied).toMatchObject({ event: 'call.rejected', outcome: 'denied', agentId: 'rp', sessionId: 'replay:rp', tool: 'text_stats', error: { code: 'policy-denied' } });
    expect(denied.callId).toBe(await replay.getAttribute('data-call'));

    // Through the API too: a denial is a result, not an error.
    const again = await admin<Replay>(page, 'audit.replay', { callId });
    expect(again.replay).toMatchObject({ event: 'call.rejected', outcome: 'denied', error: { code: 'policy-denied' } });
    expect(again.original).toMatchObject({ callId, outcome: 'ok' });
  });

  it('keeps the audit chain intact after replays', async () => {
    const verdict = await admin<{ ok: boolean; complete: boolean; headSeq: number }>(page, 'audit.verify', { limit: 100_000 });
    expect(verdict).toMatchObject({ ok: true, complete: true });
    expect(verdict.headSeq).toBe((await tail(1))[0]!.seq);
  });

  it('refuses an unknown call id, a revoked agent and a call whose arguments were redacted, each with its typed code', async () => {
    expect(await adminRefusal('audit.replay', { callId: 'no-such-call' })).toMatchObject({ code: 'unknown-call' });

    const token = await registerAgent(page, { id: 'rp-secret', trustLevel: 'FullyTrusted', policy: { version: 1, data: { sensitivePatterns: ['password'] } } });
    await connectAgent(page, 'sec', { agent: 'rp-secret', token });
    await callTool(page, 'sec', 'text_stats', { text: 'my password is Hunter2-xyz' });
    await expect.poll(async () => (await tail(5)).filter((e) => e.agentId === 'rp-secret' && e.event === 'call.result').length, { timeout: 5_000 }).toBe(1);
    const secret = (await tail(5)).filter((e) => e.agentId === 'rp-secret' && e.event === 'call.result').at(-1)!;
    expect(await adminRefusal('audit.replay', { callId: secret.callId })).toMatchObject({ code: 'replay-no-arguments' });

    await admin(page, 'agents.revoke', { id: 'rp' });
    expect(await adminRefusal('audit.replay', { callId })).toMatchObject({ code: 'agent-revoked' });
    // Shown in the panel as the refusal it is.
    await page.goto(new URL(`/#audit/${resultSeq}?agent=rp`, page.url()).href);
    await page.getByTestId('audit-details-replay').click();
    await expect.poll(() => page.getByTestId('replay-failure').count(), { timeout: 10_000 }).toBe(1);
    expect(await page.getByTestId('replay-failure').innerText()).toMatch(/agent-revoked/);
  });
});

describe('time range', () => {
  /** `n` calls of agent `tr`, one after another. */
  async function calls(n: number, label: string): Promise<void> {
    for (let i = 0; i < n; i++) expect((await callTool(page, 'tr', 'text_stats', { text: `${label} ${i}` })).isError).toBeUndefined();
  }
  const pause = () => page.waitForTimeout(30);
  const now = () => page.evaluate(() => Date.now());
  const chart = () => page.getByTestId('chart-rate');
  const attr = async (name: string) => Number(await chart().getAttribute(name));

  it('filters the rows and the whole-log query to [from, to); the charts\' window follows; the range survives a reload', async () => {
    await connectAgent(page, 'tr', { agent: 'tr' });
    await calls(3, 'before');
    await pause();
    const from = await now();
    await pause();
    await calls(4, 'inside');
    await pause();
    const to = await now();
    await pause();
    await calls(2, 'after');

    // Its registration, its session, 9 × (request, result), once the last result has committed.
    await expect.poll(async () => (await admin<Entry[]>(page, 'audit.list', { agentId: 'tr' })).length, { timeout: 5_000 }).toBe(20);
    const all = (await admin<Entry[]>(page, 'audit.list', { agentId: 'tr' })).sort((a, b) => b.seq - a.seq);
    const inside = all.filter((e) => e.ts >= from && e.ts < to).map((e) => e.seq);
    expect(inside).toHaveLength(8); // 4 × (request, result)
    // The service worker's query over the index gives exactly those.
    const page1 = await admin<{ entries: Entry[]; next: number | null }>(page, 'audit.query', { filter: { agentId: 'tr', from, to }, limit: 500 });
    expect(page1.entries.map((e) => e.seq)).toEqual(inside);
    const unfiltered = await admin<{ entries: Entry[] }>(page, 'audit.query', { filter: { from, to }, limit: 500 });
    expect(unfiltered.entries.every((e) => e.ts >= from && e.ts < to)).toBe(true);
    expect(unfiltered.entries.filter((e) => e.agentId === 'tr').map((e) => e.seq)).toEqual(inside);

    const hash = `#audit?agent=tr&range=custom&from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`;
    await page.goto(new URL(`/${hash}`, page.url()).href);
    // A fresh view (one row per entry, as a new visit shows it).
    await page.reload();
    await page.waitForFunction(() => 'sandboxHost' in window);
    await expect.poll(seqsShown, { timeout: 15_000 }).toEqual(inside);
    expect(await page.getByTestId('time-range').inputValue()).toBe('custom');
    // The charts (from the aggregates' minute buckets): every finished call of the minutes the
    // window touches, in buckets spanning from … to.
    await expect.poll(() => attr('data-bucket-ms'), { timeout: 10_000 }).toBe(60_000);
    const [chartFrom, chartTo] = [await attr('data-from'), await attr('data-to')];
    expect(chartFrom).toBeLessThanOrEqual(from);
    expect(chartTo).toBeGreaterThanOrEqual(to);
    expect(chartTo - chartFrom).toBeLessThanOrEqual(to - from + 2 * 60_000);
    const finished = all.filter((e) => e.event === 'call.result' && e.ts >= chartFrom && e.ts < chartTo).length;
    expect(finished).toBeGreaterThanOrEqual(4);
    await expect.poll(() => attr('data-total'), { timeout: 10_000 }).toBe(finished);

    // A reload keeps it (the hash) …
    await page.reload();
    await page.waitForFunction(() => 'sandboxHost' in window);
    await expect.poll(seqsShown, { timeout: 15_000 }).toEqual(inside);
    // … and so does coming back without it in the hash (kept for the next visit).
    await page.goto(new URL('/#agents', page.url()).href);
    await page.goto(new URL('/#audit?agent=tr', page.url()).href);
    await expect.poll(seqsShown, { timeout: 15_000 }).toEqual(inside);
    expect(await page.getByTestId('time-range').inputValue()).toBe('custom');
    expect(page.url()).toContain('range=custom');

    // "all time": every entry of the agent again (its registration and session too).
    await page.getByTestId('time-range').selectOption('all');
    await expect.poll(seqsShown, { timeout: 10_000 }).toEqual(all.map((e) => e.seq));
    expect(page.url()).not.toContain('range=');
  });

  it('moves the charts\' window and bucket with each preset', async () => {
    await page.goto(new URL('/#audit?agent=tr', page.url()).href);
    await expect.poll(() => rows().count(), { timeout: 15_000 }).toBeGreaterThan(0);
    const cases: [string, number, number][] = [
      ['15m', 15 * 60_000, 60_000],
      ['1h', 60 * 60_000, 60_000],
      ['24h', 24 * 60 * 60_000, 30 * 60_000],
      ['7d', 7 * 24 * 60 * 60_000, 2 * 60 * 60_000],
    ];
    for (const [preset, span, bucket] of cases) {
      await page.getByTestId('time-range').selectOption(preset);
      // Two presets can share a bucket width: the window's own span says the chart has moved.
      const spanShown = async () => (await attr('data-to')) - (await attr('data-from'));
      await expect.poll(async () => [await attr('data-bucket-ms'), (await spanShown()) >= span && (await spanShown()) <= span + 2 * bucket], { timeout: 5_000 }).toEqual([bucket, true]);
      const t = await now();
      expect(await attr('data-to')).toBeGreaterThanOrEqual(t - 60_000);
      expect(await attr('data-to') - (await attr('data-from'))).toBeGreaterThanOrEqual(span);
      expect(await attr('data-to') - (await attr('data-from'))).toBeLessThanOrEqual(span + 2 * bucket);
      // Every call of the agent is recent: in the window, all 9 counted.
      expect(await attr('data-total')).toBe(9);
      expect(page.url()).toContain(`range=${preset}`);
    }
    expect(await page.getByTestId('chart-rate').locator('h3').innerText()).toMatch(/Calls per 2 h · last 7 days/);
    await page.getByTestId('time-range').selectOption('all');
  });
});
