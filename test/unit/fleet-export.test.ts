import 'fake-indexeddb/auto';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog, readAudit } from '../../src/store/audit';
import { DbHandle } from '../../src/store/db';
import { Sealer } from '../../src/store/sealing';
import type { FleetConfigRecord, FleetProgressRecord } from '../../src/store/schema';
import { backoffDelay, checkEndpoint, checkHeaders, FleetExporter, logsUrl, retryAfterMs, type FleetOptions } from '../../src/server/fleet-export';
import type { ExportLogsServiceRequest } from '../../src/server/otlp-logs';
import { freshDbName } from './support/server-fixture';

// The fleet export in the service worker: batches from the last acknowledged seq, acknowledged
// only on 2xx, resumed by a new lifetime, retried with back-off, one send at a time.

const FAST: Partial<FleetOptions> = { baseDelayMs: 20, maxDelayMs: 160, scheduleDelayMs: 5, requestTimeoutMs: 2_000, batchSize: 4 };
const SECRET = 'Bearer s3cr3t-token-value';

interface Sent {
  url: string;
  headers: Record<string, string>;
  seqs: number[];
  request: ExportLogsServiceRequest;
}

/** A fake endpoint: records what arrives, answers what `answer` says (2xx by default). */
function endpoint() {
  const sent: Sent[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const state = { answer: (_n: number): Response | Promise<Response> | Error => new Response('{}', { status: 200 }), attempts: 0 };
  const fetchImpl = (async (input: RequestInfo | URL, init?: RequestInit) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      state.attempts++;
      const headers = Object.fromEntries(new Headers(init!.headers).entries());
      const body = init!.body as ArrayBuffer | string;
      const raw = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
      const text = headers['content-encoding'] === 'gzip' ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
      const request = JSON.parse(text) as ExportLogsServiceRequest;
      const answer = await state.answer(state.attempts);
      if (answer instanceof Error) throw answer;
      if (answer.ok) {
        const seqs = request.resourceLogs[0]!.scopeLogs[0]!.logRecords.map((r) => Number((r.attributes.find((a) => a.key === 'audit.seq')!.value as { intValue: string }).intValue));
        sent.push({ url: String(input), headers, seqs, request });
      }
      return answer;
    } finally {
      inFlight--;
    }
  }) as typeof fetch;
  return { sent, state, fetchImpl, maxInFlight: () => maxInFlight, seqs: () => sent.flatMap((s) => s.seqs) };
}

async function until(check: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const exporters: FleetExporter[] = [];
afterEach(async () => {
  // Each test's exporters are disabled so that no timer outlives it.
  for (const e of exporters.splice(0)) await e.configure({ enabled: false }).catch(() => undefined);
});

function lifetime(db: DbHandle, fetchImpl: typeof fetch, extra: { online?: () => boolean; options?: Partial<FleetOptions>; random?: () => number } = {}) {
  const sealer = new Sealer(db);
  const audit = new AuditLog(db, Date.now, sealer);
  const exporter = new FleetExporter({ db, sealer, audit, clock: Date.now, incarnation: crypto.randomUUID(), resource: { serviceName: 'browser-mcp-sandbox', serviceVersion: '0.1.0', origin: 'http://127.0.0.1:4173' }, fetch: fetchImpl, random: extra.random ?? (() => 0.5), online: extra.online, options: { ...FAST, ...extra.options } });
  exporters.push(exporter);
  return { audit, exporter };
}

const calls = async (audit: AuditLog, n: number) => {
  for (let i = 0; i < n; i++) await audit.append({ event: 'call.request', outcome: 'pending', agentId: 'a', tool: 't', callId: `c${i}` });
};
const newest = async (db: DbHandle) => (await readAudit(db)).at(-1)!.seq;
const progressOf = async (db: DbHandle) => (await (await db.get()).get('fleet', 'progress')) as FleetProgressRecord;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('fleet export: configuration', () => {
  it('accepts https or loopback http, and refuses what would leak a credential into the audit', () => {
    expect(checkEndpoint('https://collector.example:4318/')).toBe('https://collector.example:4318');
    expect(checkEndpoint('http://127.0.0.1:4318')).toBe('http://127.0.0.1:4318');
    expect(checkEndpoint('http://localhost:3100/otlp')).toBe('http://localhost:3100/otlp');
    expect(() => checkEndpoint('http://collector.example:4318')).toThrow(/must be https/);
    expect(() => checkEndpoint('https://user:pw@collector.example')).toThrow(/no credentials/);
    expect(() => checkEndpoint('https://collector.example/?api_key=x')).toThrow(/no query/);
    expect(() => checkEndpoint('ftp://collector.example')).toThrow(/must be https/);
    expect(() => checkEndpoint('not a url')).toThrow(/not a URL/);
    expect(logsUrl('https://c.example:4318')).toBe('https://c.example:4318/v1/logs');
    expect(logsUrl('http://localhost:3100/otlp')).toBe('http://localhost:3100/otlp/v1/logs');
    expect(logsUrl('https://c.example/custom/v1/logs')).toBe('https://c.example/custom/v1/logs');
  });

  it('refuses headers fetch would drop or the exporter sets, and never puts a value in a message', () => {
    expect(checkHeaders({ Authorization: ` ${SECRET} `, 'X-Scope-OrgID': 'team-a' })).toEqual({ Authorization: SECRET, 'X-Scope-OrgID': 'team-a' });
    for (const name of ['Host', 'cookie', 'Content-Type', 'Content-Encoding', 'Sec-Fetch-Mode', 'Proxy-Authorization', 'bad name']) expect(() => checkHeaders({ [name]: 'v' }), name).toThrow(/headers:/);
    expect(() => checkHeaders({ a: '1', A: '2' })).toThrow(/twice/);
    try {
      checkHeaders({ Authorization: `${SECRET}\r\nX-Injected: 1` });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toMatch(/single-line/);
      expect((error as Error).message).not.toContain('s3cr3t');
      expect((error as { code?: string }).code).toBe('invalid-input');
    }
  });

  it('stores header values sealed, shows and audits their names only', async () => {
    const db = new DbHandle(freshDbName());
    const { exporter } = lifetime(db, endpoint().fetchImpl);
    const change = await exporter.configure({ endpoint: 'http://127.0.0.1:9', headers: { Authorization: SECRET }, enabled: false, name: 'alice' });
    expect(change).toMatchObject({ endpoint: 'http://127.0.0.1:9', enabled: false, headerNames: ['Authorization'], headersChanged: true, name: 'alice', previous: { endpoint: null, enabled: false } });
    expect(JSON.stringify(change)).not.toContain('s3cr3t');
    const stored = (await (await db.get()).get('fleet', 'config')) as FleetConfigRecord;
    expect(stored.headers).toMatchObject({ alg: 'AES-GCM-256' });
    expect(JSON.stringify(stored)).not.toContain('s3cr3t');
    expect(stored.instanceId).toMatch(/^[0-9a-f-]{36}$/);
    const status = await exporter.status();
    expect(status).toMatchObject({ headerNames: ['Authorization'], state: 'disabled', url: 'http://127.0.0.1:9/v1/logs' });
    expect(JSON.stringify(status)).not.toContain('s3cr3t');
    // Enabling with no endpoint is refused.
    await exporter.configure({ endpoint: null });
    await expect(exporter.configure({ enabled: true })).rejects.toMatchObject({ code: 'invalid-input' });
  });
});

describe('fleet export: sending', () => {
  it('sends the whole log in order, in batches, with the headers, gzip-compressed, and follows new commits', async () => {
    const db = new DbHandle(freshDbName());
    const ep = endpoint();
    const { audit, exporter } = lifetime(db, ep.fetchImpl);
    await calls(audit, 10);
    await exporter.configure({ endpoint: 'http://127.0.0.1:4318', headers: { Authorization: SECRET }, enabled: true });
    // The configure entry itself is not in the log here (the admin API appends it): 10 entries.
    await until(async () => (await progressOf(db))?.ackedSeq === 10);
    expect(ep.seqs()).toEqual(range(1, 10));
    expect(ep.sent.every((s) => s.seqs.length <= 4)).toBe(true);
    expect(ep.sent[0]!.url).toBe('http://127.0.0.1:4318/v1/logs');
    expect(ep.sent[0]!.headers).toMatchObject({ authorization: SECRET, 'content-type': 'application/json', 'content-encoding': 'gzip' });
    await calls(audit, 3);
    await until(() => ep.seqs().length === 13);
    expect(ep.seqs()).toEqual(range(1, 13));
    expect(await exporter.status()).toMatchObject({ ackedSeq: 13, newestSeq: 13, backlog: 0, state: 'idle', lastError: null });
  });

  it('acknowledges only on 2xx: after failures and a new lifetime, every entry arrives once, in order', async () => {
    const db = new DbHandle(freshDbName());
    const ep = endpoint();
    const first = lifetime(db, ep.fetchImpl);
    await calls(first.audit, 6);
    await first.exporter.configure({ endpoint: 'http://127.0.0.1:4318', enabled: true });
    await until(() => ep.seqs().length === 6);
    ep.state.answer = () => new Response('unavailable', { status: 503 });
    await calls(first.audit, 5);
    await until(async () => (await progressOf(db)).failures >= 2);
    const stuck = await progressOf(db);
    expect(stuck.ackedSeq).toBe(6);
    expect(stuck.lastError).toMatchObject({ status: 503, message: 'HTTP 503: unavailable' });
    // The service worker stops (its timers die with it); the endpoint recovers; the next lifetime resumes.
    await first.exporter.stop();
    const attempts = ep.state.attempts;
    await new Promise((r) => setTimeout(r, 200));
    expect(ep.state.attempts).toBe(attempts);
    ep.state.answer = () => new Response('{}', { status: 200 });
    const second = lifetime(db, ep.fetchImpl);
    second.exporter.start();
    await until(async () => (await progressOf(db)).ackedSeq === (await newest(db)));
    expect(ep.seqs()).toEqual(range(1, await newest(db)));
    expect(new Set(ep.seqs()).size).toBe(ep.seqs().length);
  });

  it('retries with exponential back-off and jitter, kept across lifetimes, honouring Retry-After', async () => {
    expect([1, 2, 3, 4, 5, 6].map((f) => backoffDelay(f, () => 1, 1_000, 10_000))).toEqual([1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
    expect([1, 2, 3].map((f) => backoffDelay(f, () => 0, 1_000, 10_000))).toEqual([500, 1_000, 2_000]);
    expect(backoffDelay(0, () => 1)).toBe(0);
    expect(backoffDelay(1_000, () => 1, 1_000, 300_000)).toBe(300_000);
    expect(retryAfterMs('3', 0)).toBe(3_000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(retryAfterMs('soon', 0)).toBeNull();
    expect(retryAfterMs(null, 0)).toBeNull();

    const db = new DbHandle(freshDbName());
    const ep = endpoint();
    const times: number[] = [];
    ep.state.answer = () => {
      times.push(Date.now());
      return new Response('', { status: 503 });
    };
    const { audit, exporter } = lifetime(db, ep.fetchImpl, { random: () => 1, options: { baseDelayMs: 40, maxDelayMs: 320 } });
    await calls(audit, 1);
    await exporter.configure({ endpoint: 'http://127.0.0.1:4318', enabled: true });
    await until(() => times.length >= 5, 10_000);
    const gaps = times.slice(1, 5).map((t, i) => t - times[i]!);
    // 40, 80, 160, 320 ms (random 1: the ceiling itself), never sooner.
    [40, 80, 160, 320].forEach((g, i) => expect(gaps[i]!).toBeGreaterThanOrEqual(g - 2));
    expect(gaps[3]!).toBeGreaterThan(gaps[0]! * 4);
    const p = await progressOf(db);
    expect(p.failures).toBeGreaterThanOrEqual(5);
    expect(p.nextAttemptAt).toBeGreaterThan(Date.now() - 5);
    // A new lifetime keeps to the stored wait: no attempt before nextAttemptAt.
    await exporter.stop();
    const waitUntil = (await progressOf(db)).nextAttemptAt;
    const attemptsBefore = times.length;
    const next = lifetime(db, ep.fetchImpl, { options: { baseDelayMs: 40, maxDelayMs: 320 } });
    next.exporter.start();
    await until(() => times.length > attemptsBefore, 2_000);
    expect(times[attemptsBefore]!).toBeGreaterThanOrEqual(waitUntil);
    await next.exporter.stop();

    // Retry-After longer than the back-off is kept to (within the maximum).
    const db2 = new DbHandle(freshDbName());
    const ep2 = endpoint();
    ep2.state.answer = () => new Response('', { status: 429, headers: { 'Retry-After': '1' } });
    const slow = lifetime(db2, ep2.fetchImpl, { options: { baseDelayMs: 20, maxDelayMs: 5_000 } });
    await calls(slow.audit, 1);
    const before = Date.now();
    await slow.exporter.configure({ endpoint: 'http://127.0.0.1:4318', enabled: true });
    await until(async () => (await progressOf(db2))?.failures === 1);
    expect((await progressOf(db2)).nextAttemptAt - before).toBeGreaterThanOrEqual(1_000);
  });

  it('never sends twice at once, within a lifetime or across two (a service-worker update)', async () => {
    const db = new DbHandle(freshDbName());
    const ep = endpoint();
    ep.state.answer = () => new Promise((r) => setTimeout(() => r(new Response('{}', { status: 200 })), 15));
    const a = lifetime(db, ep.fetchImpl);
    const b = lifetime(db, ep.fetchImpl);
    await a.exporter.configure({ endpoint: 'http://127.0.0.1:4318', enabled: true });
    b.exporter.start();
    // Both lifetimes append (and so trigger sends) while sends are in flight.
    await Promise.all([calls(a.audit, 15), calls(b.audit, 15)].map((p) => p.catch(() => undefined)));
    await until(async () => (await progressOf(db)).ackedSeq === (await newest(db)), 10_000);
    expect(ep.maxInFlight()).toBe(1);
    expect(ep.seqs()).toEqual(range(1, await newest(db)));
  });

  it('holds an event while a send is in flight or about to start, not through a back-off wait', async () => {
    const db = new DbHandle(freshDbName());
    const ep = endpoint();
    ep.state.answer = () => new Promise((r) => setTimeout(() => r(new Response('{}', { status: 200 })), 150));
    const { audit, exporter } = lifetime(db, ep.fetchImpl);
    await exporter.configure({ endpoint: 'http://127.0.0.1:4318', enabled: true });
    await exporter.hold();
    await calls(audit, 2);
    const started = Date.now();
    await exporter.hold();
    // Released only once the send the commit triggered was answered.
    expect(ep.seqs()).toEqual([1, 2]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    ep.state.answer = () => new Response('', { status: 503 });
    await calls(audit, 1);
    await until(async () => (await progressOf(db)).failures === 1);
    await exporter.drained();
    const waiting = Date.now();
    await exporter.hold();
    expect(Date.now() - waiting).toBeLessThan(10);
    expect((await exporter.status()).state).toBe('waiting');
  });

  it('offline, tries nothing until told the browser is online again', async () => {
    const db = new DbHandle(freshDbName());
    const ep = endpoint();
    let online = false;
    const { audit, exporter } = lifetime(db, ep.fetchImpl, { online: () => online });
    await calls(audit, 3);
    await exporter.configure({ endpoint: 'http://127.0.0.1:4318', enabled: true });
    await new Promise((r) => setTimeout(r, 100));
    expect(ep.state.attempts).toBe(0);
    expect(await exporter.status()).toMatchObject({ state: 'offline', backlog: 3, failures: 0 });
    online = true;
    exporter.kick();
    await until(() => ep.seqs().length === 3);
    expect(ep.seqs()).toEqual([1, 2, 3]);
  });

  it('audits an outage once when it starts and once when it ends, masking a header echoed in an error', async () => {
    const db = new DbHandle(freshDbName());
    const ep = endpoint();
    ep.state.answer = () => new Response(`bad key ${SECRET}`, { status: 401 });
    const { audit, exporter } = lifetime(db, ep.fetchImpl);
    await calls(audit, 2);
    await exporter.configure({ endpoint: 'http://127.0.0.1:4318', headers: { Authorization: SECRET }, enabled: true });
    await until(async () => (await progressOf(db)).failures >= 3);
    ep.state.answer = () => new Response('{}', { status: 200 });
    await exporter.retryNow();
    await until(async () => (await readAudit(db)).some((e) => e.details?.['state'] === 'recovered'));
    await until(async () => (await progressOf(db)).ackedSeq === (await newest(db)));
    const fleetEntries = (await readAudit(db)).filter((e) => e.details?.['method'] === 'fleet.export');
    expect(fleetEntries.map((e) => [e.outcome, e.details?.['state']])).toEqual([
      ['error', 'failing'],
      ['info', 'recovered'],
    ]);
    expect(fleetEntries[0]!.details).toMatchObject({ status: 401, error: 'HTTP 401: bad key [header value]', endpoint: 'http://127.0.0.1:4318' });
    expect(JSON.stringify(await readAudit(db))).not.toContain('s3cr3t');
    expect(JSON.stringify(await progressOf(db))).not.toContain('s3cr3t');
    // The entries of the outage were sent too, after the ones before it.
    expect(ep.seqs()).toEqual(range(1, await newest(db)));
  });

  it('halves the batch on 413, and says which entries were pruned before they could be sent', async () => {
    const db = new DbHandle(freshDbName());
    const ep = endpoint();
    ep.state.answer = () => new Response('{}', { status: 200 });
    const { audit, exporter } = lifetime(db, ep.fetchImpl, { options: { batchSize: 8 } });
    await calls(audit, 12);
    // Entries 1–3 archived and pruned before the export was configured.
    const raw = await db.get();
    await raw.delete('audit', IDBKeyRange.bound(1, 3));
    ep.state.answer = () => new Response('', { status: 413 });
    const sizes: number[] = [];
    const real = ep.fetchImpl;
    const sizing = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const text = gunzipSync(Buffer.from(init!.body as ArrayBuffer)).toString('utf8');
      const n = (JSON.parse(text) as ExportLogsServiceRequest).resourceLogs[0]!.scopeLogs[0]!.logRecords.length;
      sizes.push(n);
      ep.state.answer = () => new Response(n > 2 ? '' : '{}', { status: n > 2 ? 413 : 200 });
      return real(input, init);
    }) as typeof fetch;
    const sized = lifetime(db, sizing, { options: { batchSize: 8 } });
    exporters.splice(exporters.indexOf(exporter), 1);
    await sized.exporter.configure({ endpoint: 'http://127.0.0.1:4318', enabled: true });
    await until(async () => (await progressOf(db)).ackedSeq === (await newest(db)));
    expect(sizes.slice(0, 3)).toEqual([8, 4, 2]);
    expect(ep.seqs()).toEqual(range(4, await newest(db)));
    expect((await sized.exporter.status()).skipped).toEqual([{ from: 1, to: 3 }]);
    expect((await readAudit(db)).find((e) => e.details?.['state'] === 'skipped')?.details).toMatchObject({ from: 1, to: 3 });
  });
});
