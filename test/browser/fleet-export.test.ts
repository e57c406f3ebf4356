import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { admin, callTool, connectAgent, launchBrowser, openApp, stopServiceWorker } from './harness';

// Fleet export end to end: the service worker sends the audit stream as OTLP/HTTP JSON logs to a
// loopback collector started here, across service-worker stops, a collector answering 503 and a
// period with the collector unreachable. Every entry must arrive once, in seq order, with its
// chain intact; the configuration change is audited, its header values never are.

const SECRET = 'Bearer fleet-secret-7f3a9c';
const TENANT = 'tenant-zz-41';

interface Arrived {
  seq: number;
  hash: string;
  prevHash: string;
  event: string;
  body: string;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
}

type AnyValue = { stringValue?: string; intValue?: string; doubleValue?: number; arrayValue?: { values: AnyValue[] } };
const valueOf = (v: AnyValue): unknown => v.stringValue ?? v.intValue ?? v.doubleValue ?? v.arrayValue?.values.map(valueOf);
const attrs = (list: { key: string; value: AnyValue }[]) => Object.fromEntries(list.map((a) => [a.key, valueOf(a.value)]));

/** A loopback OTLP/HTTP logs receiver: answers CORS, records every log record of each 2xx request. */
class Receiver {
  readonly arrived: Arrived[] = [];
  readonly posts: { status: number; authorization: string | undefined; tenant: string | undefined; encoding: string | undefined }[] = [];
  failing = false;
  private server: Server | null = null;
  port = 0;

  async start(port = 0): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Unreachable: every connection refused, as a sandbox offline sees it. */
  async stop(): Promise<void> {
    const server = this.server!;
    this.server = null;
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('Access-Control-Allow-Origin', req.headers.origin ?? '*');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'Access-Control-Allow-Methods': 'POST', 'Access-Control-Allow-Headers': 'Content-Type, Content-Encoding, Authorization, X-Scope-OrgID', 'Access-Control-Max-Age': '600' });
      return void res.end();
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const status = req.method !== 'POST' || req.url !== '/v1/logs' ? 404 : this.failing ? 503 : 200;
    this.posts.push({ status, authorization: req.headers.authorization, tenant: req.headers['x-scope-orgid'] as string | undefined, encoding: req.headers['content-encoding'] });
    if (status !== 200) {
      res.writeHead(status, { 'Content-Type': 'text/plain' });
      return void res.end(status === 503 ? 'collector overloaded' : 'not found');
    }
    const raw = Buffer.concat(chunks);
    const text = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
    const request = JSON.parse(text) as { resourceLogs: { resource: { attributes: { key: string; value: AnyValue }[] }; scopeLogs: { logRecords: { attributes: { key: string; value: AnyValue }[]; body: AnyValue }[] }[] }[] };
    for (const rl of request.resourceLogs) {
      const resource = attrs(rl.resource.attributes);
      for (const sl of rl.scopeLogs)
        for (const record of sl.logRecords) {
          const a = attrs(record.attributes);
          this.arrived.push({ seq: Number(a['audit.seq']), hash: String(a['audit.hash']), prevHash: String(a['audit.prev_hash']), event: String(a['audit.event']), body: record.body.stringValue!, attributes: a, resource });
        }
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end('{"partialSuccess":{}}');
  }
}

/** Canonical form 2 of a JSON value (src/store/hash.ts): its JSON with keys sorted. */
function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${sortedJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

interface Status {
  ackedSeq: number;
  newestSeq: number;
  backlog: number;
  state: string;
  failures: number;
  lastError: { message: string; status: number | null } | null;
  nextAttemptAt: number | null;
  instanceId: string;
  headerNames: string[];
}

let browser: Browser;
let context: BrowserContext;
let page: Page;
const receiver = new Receiver();

beforeAll(async () => {
  await receiver.start();
  browser = await launchBrowser();
  ({ context, page } = await openApp(browser));
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await receiver.stop().catch(() => undefined);
});

const status = () => admin<Status>(page, 'fleet.status');
async function waitForStatus(check: (s: Status) => boolean, what: string, ms = 60_000): Promise<Status> {
  const end = Date.now() + ms;
  let last: Status | null = null;
  while (Date.now() < end) {
    last = await status();
    if (check(last)) return last;
    await page.waitForTimeout(250);
  }
  throw new Error(`fleet export: timed out waiting for ${what}; last status ${JSON.stringify(last)}`);
}
const delivered = () => waitForStatus((s) => s.backlog === 0 && s.ackedSeq === s.newestSeq && s.state === 'idle' && s.lastError === null, 'everything acknowledged');
const calls = async (n: number, label: string) => {
  for (let i = 0; i < n; i++) expect((await callTool(page, 'fleet', 'text_stats', { text: `${label} ${i}` })).isError).toBeFalsy();
};

describe('fleet export to an OpenTelemetry collector', () => {
  it('delivers every audit entry once, in order, chain intact, across stops, a failing collector and an unreachable one', async () => {
    await connectAgent(page, 'fleet', { agent: 'fleet-agent' });
    await calls(3, 'before the export');
    expect(await status()).toMatchObject({ state: 'unconfigured', ackedSeq: 0 });

    // The person points the sandbox at the collector, with an API key and a tenant header.
    const configured = await admin<Status>(page, 'fleet.configure', { endpoint: receiver.url, headers: { Authorization: SECRET, 'X-Scope-OrgID': TENANT }, name: 'fleet-test', enabled: true });
    expect(configured.headerNames).toEqual(['Authorization', 'X-Scope-OrgID']);
    expect(JSON.stringify(configured)).not.toContain('fleet-secret');
    const first = await delivered();
    // The whole log from seq 1, the entries written before the export was configured included.
    expect(receiver.arrived.map((a) => a.seq)).toEqual(Array.from({ length: first.ackedSeq }, (_, i) => i + 1));

    // A service-worker stop: the next lifetime resumes from the acknowledged seq.
    const before = await admin<{ incarnation: string }>(page, 'server.info');
    await stopServiceWorker(context, page);
    await calls(3, 'after a stop');
    expect((await admin<{ incarnation: string }>(page, 'server.info')).incarnation).not.toBe(before.incarnation);
    await delivered();

    // The collector fails (503): nothing is acknowledged, the export backs off and says why.
    receiver.failing = true;
    await calls(3, 'collector failing');
    const failing = await waitForStatus((s) => s.failures >= 2 && s.lastError?.status === 503 && s.state === 'waiting', 'two failed attempts');
    expect(failing.nextAttemptAt).not.toBeNull();
    expect(failing.backlog).toBeGreaterThan(0);
    // Stopped while backing off: the back-off and the backlog survive the stop.
    await stopServiceWorker(context, page);
    await calls(2, 'failing after a stop');
    const afterStop = await status();
    expect(afterStop.failures).toBeGreaterThanOrEqual(2);
    expect(afterStop.ackedSeq).toBe(failing.ackedSeq);

    // Offline: the collector unreachable (connections refused), and another stop meanwhile.
    const port = receiver.port;
    await receiver.stop();
    await calls(2, 'collector unreachable');
    await waitForStatus((s) => s.lastError?.status === null && /^network/.test(s.lastError.message), 'a network failure');
    await stopServiceWorker(context, page);
    await calls(2, 'unreachable after a stop');

    // The collector comes back on its address: the export recovers on its own (no retry asked).
    receiver.failing = false;
    await receiver.start(port);
    const done = await delivered();
    expect(receiver.posts.some((p) => p.status === 503)).toBe(true);

    // Every entry arrived exactly once, in seq order, and nothing else did.
    const audit = await admin<{ seq: number; hash: string; prevHash: string; event: string; details: Record<string, unknown> | null }[]>(page, 'audit.list');
    expect(audit.at(-1)!.seq).toBe(done.newestSeq);
    const seqs = receiver.arrived.map((a) => a.seq);
    expect(seqs).toEqual(audit.map((e) => e.seq));
    expect(new Set(seqs).size).toBe(seqs.length);
    // The chain is intact in what arrived: each links to the one before, and each hash is the
    // SHA-256 of the canonical text of its body, recomputed here.
    receiver.arrived.forEach((a, i) => {
      expect(a.prevHash).toBe(i === 0 ? '0'.repeat(64) : receiver.arrived[i - 1]!.hash);
      const { hash, ...body } = JSON.parse(a.body) as Record<string, unknown>;
      expect(hash).toBe(a.hash);
      expect(createHash('sha256').update(sortedJson(body)).digest('hex')).toBe(a.hash);
      expect(a.hash).toBe(audit[i]!.hash);
      expect(a.event).toBe(audit[i]!.event);
      expect(a.resource).toMatchObject({ 'service.name': 'browser-mcp-sandbox', 'service.instance.id': done.instanceId, 'mcp_sandbox.name': 'fleet-test' });
    });
    // Every request carried the headers, compressed.
    expect(receiver.posts.every((p) => p.authorization === SECRET && p.tenant === TENANT && p.encoding === 'gzip')).toBe(true);

    // The configuration change is audited (names, never values); the outage is audited, and sent.
    const configure = audit.filter((e) => e.details?.['method'] === 'fleet.configure');
    expect(configure).toHaveLength(1);
    expect(configure[0]!.details).toMatchObject({ endpoint: receiver.url, enabled: true, headerNames: ['Authorization', 'X-Scope-OrgID'], headersChanged: true, name: 'fleet-test' });
    const outage = audit.filter((e) => e.details?.['method'] === 'fleet.export').map((e) => e.details?.['state']);
    expect(outage).toEqual(['failing', 'recovered']);
    expect(receiver.arrived.filter((a) => a.body.includes('"fleet.export"'))).toHaveLength(2);
    const everything = JSON.stringify(audit);
    expect(everything).not.toContain('fleet-secret');
    expect(everything).not.toContain(TENANT);
    expect(receiver.arrived.some((a) => a.body.includes('fleet-secret') || a.body.includes(TENANT))).toBe(false);

    // The Settings view shows the status, and the header names but not their values.
    await page.evaluate(() => (location.hash = 'settings'));
    const panel = page.locator('fleet-export-panel');
    await expect.poll(() => panel.getByTestId('fleet-acked').innerText(), { timeout: 10_000 }).toBe(`#${done.newestSeq} of #${done.newestSeq}`);
    expect(await panel.getByTestId('fleet-backlog').innerText()).toBe('0 entries');
    expect(await panel.getByTestId('fleet-header-names').innerText()).toBe('Authorization, X-Scope-OrgID');
    const shown = await panel.evaluate((el) => el.shadowRoot!.textContent ?? '');
    expect(shown).toContain('Fleet export');
    expect(shown).not.toContain('fleet-secret');
    expect(await panel.locator('input[name="endpoint"]').inputValue()).toBe(receiver.url);
    expect(await panel.locator('textarea[name="headers"]').inputValue()).toBe('');
    // …and is accessible (axe-core: no serious or critical violation), as every view is (a11y.test.ts).
    await page.evaluate(await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8'));
    const violations = await page.evaluate(async () => {
      const axe = (window as unknown as { axe: { run(ctx: unknown, options: unknown): Promise<{ violations: { id: string; impact: string | null; nodes: { target: unknown[] }[] }[] }> } }).axe;
      return (await axe.run(document, { resultTypes: ['violations'] })).violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id} ${JSON.stringify(v.nodes.map((n) => n.target))}`);
    });
    expect(violations).toEqual([]);
  }, 240_000);

  it('refuses an endpoint that is neither https nor loopback, and one with a key in its URL, changing nothing', async () => {
    const before = await status();
    const refused = (params: unknown) => admin(page, 'fleet.configure', params).then(() => 'accepted', (e: Error) => e.message);
    expect(await refused({ endpoint: 'http://collector.example:4318' })).toMatch(/endpoint: must be https/);
    expect(await refused({ endpoint: 'https://collector.example/?api_key=abc' })).toMatch(/endpoint: no query/);
    expect(await refused({ headers: { Cookie: 'x=1' } })).toMatch(/headers: Cookie cannot be set/);
    const after = await status();
    expect(after).toMatchObject({ ackedSeq: before.ackedSeq, headerNames: before.headerNames });
    expect((await admin<{ details: Record<string, unknown> | null }[]>(page, 'audit.list')).filter((e) => e.details?.['method'] === 'fleet.configure')).toHaveLength(1);
  });
});
