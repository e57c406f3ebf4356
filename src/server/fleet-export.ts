import type { FleetConfigInput, FleetStatus } from '../api/fleet';
import type { AuditDraft, AuditLog } from '../store/audit';
import type { DbHandle } from '../store/db';
import type { Sealer } from '../store/sealing';
import type { FleetConfigRecord, FleetProgressRecord } from '../store/schema';
import { exportRequest, logRecordOf, partialSuccessOf, type OtlpLogRecord } from './otlp-logs';

/**
 * Fleet export: the audit log sent, as OpenTelemetry logs over OTLP/HTTP (JSON), to an endpoint
 * the person running the sandbox configured (docs/fleet.md). Runs in the service worker.
 *
 * Invariants:
 * - **In order, from the last acknowledged seq.** Each batch is the entries after `ackedSeq`, read
 *   from IndexedDB (never from memory), in seq order. `ackedSeq` advances, in IndexedDB, only
 *   when the endpoint answered 2xx for the batch: a stop, a crash or a failure before that sends
 *   the same entries again on the next attempt or wake; nothing is skipped. (A stop between the
 *   endpoint's taking a batch and its 2xx reaching us sends that batch twice: every record
 *   carries `audit.seq` and `audit.hash`, so a store can drop the copy.)
 * - **One send at a time**: one loop per lifetime, and across lifetimes (a service-worker update
 *   runs two for a moment) a lease in IndexedDB that a send holds while in flight.
 * - **Back-off.** A failed send (network error, non-2xx) is retried after an exponential delay
 *   with jitter (1 s, 2 s, 4 s … up to 5 min; the endpoint's Retry-After when it says more),
 *   kept in IndexedDB so a woken service worker keeps to it; offline (`navigator.onLine` false)
 *   nothing is tried until the browser says it is online again.
 * - **Triggered** by committed entries (`AuditLog.onCommitted`, a quarter of a second later so a
 *   burst goes as one batch), on every wake (`start`), and when back online. A stopped service
 *   worker sends nothing; it catches up on its next wake. It is kept alive only by the events it
 *   already has: they are held (`hold`) while a send is in flight or about to start.
 * - **Secrets.** Header values (an API key) are stored sealed (AES-GCM with the sandbox's
 *   non-extractable key), opened only to send, never returned, logged or audited; the audit and
 *   the status name the headers only. An error text that echoes a value has it masked.
 * - **Audited.** Configuration changes are audited by the admin API; the export itself writes an
 *   entry when it starts failing, when it recovers, and when entries were gone before being sent.
 * - Sealed fields are sent sealed: a record's body is the entry as stored.
 */

export const FLEET_DEFAULTS = {
  /** Entries per request at most. */
  batchSize: 500,
  /** Bytes of encoded records per request at most (one record always goes, whatever its size). */
  maxBatchBytes: 4 * 1024 * 1024,
  baseDelayMs: 1_000,
  maxDelayMs: 5 * 60_000,
  /** From a commit to the send it triggers (a burst goes as one batch). */
  scheduleDelayMs: 250,
  requestTimeoutMs: 30_000,
  /** Longest an event is held for the export (a service worker's event may not last much longer). */
  holdMs: 4 * 60_000,
};
export type FleetOptions = typeof FLEET_DEFAULTS;

/** The context sealed headers are bound to (a sealed value does not open under another). */
export const HEADERS_CONTEXT = 'fleet-export.headers';

export const DEFAULT_FLEET_CONFIG: FleetConfigRecord = { key: 'config', endpoint: null, enabled: false, headerNames: [], headers: null, compression: 'gzip', name: '', instanceId: '', updatedAt: 0 };
export const DEFAULT_FLEET_PROGRESS: FleetProgressRecord = { key: 'progress', ackedSeq: 0, failures: 0, nextAttemptAt: 0, lastError: null, lastSuccessAt: null, rejected: 0, skipped: [], lease: null };

export interface FleetDeps {
  db: DbHandle;
  sealer: Pick<Sealer, 'seal' | 'open'>;
  audit: Pick<AuditLog, 'append' | 'onCommitted'>;
  clock: () => number;
  /** This service-worker lifetime (the lease's holder). */
  incarnation: string;
  resource: { serviceName: string; serviceVersion: string; origin: string };
  fetch?: typeof fetch;
  random?: () => number;
  online?: () => boolean;
  options?: Partial<FleetOptions>;
}

/** The delay before attempt `failures + 1`: base·2^(failures−1), at most max, the upper half jittered. */
export function backoffDelay(failures: number, random: () => number, baseMs = FLEET_DEFAULTS.baseDelayMs, maxMs = FLEET_DEFAULTS.maxDelayMs): number {
  if (failures <= 0) return 0;
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 40));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** A Retry-After header (seconds, or an HTTP date) as milliseconds from `now`; null when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number): number | null {
  if (!header) return null;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

const invalid = (message: string) => Object.assign(new Error(message), { code: 'invalid-input' });

/** Headers fetch would drop or we set ourselves (https://fetch.spec.whatwg.org/#forbidden-request-header). */
const FORBIDDEN_HEADERS = new Set(['accept-charset', 'accept-encoding', 'access-control-request-headers', 'access-control-request-method', 'connection', 'content-length', 'cookie', 'cookie2', 'date', 'dnt', 'expect', 'host', 'keep-alive', 'origin', 'referer', 'set-cookie', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'via', 'content-type', 'content-encoding']);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** `https://…`, or `http://` to loopback; no credentials, query or fragment. Returns it without a trailing slash. */
export function checkEndpoint(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048) throw invalid('endpoint: a URL of at most 2048 characters');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(`endpoint: ${JSON.stringify(value)} is not a URL`);
  }
  const loopback = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]' || url.hostname.endsWith('.localhost');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) throw invalid('endpoint: must be https (plain http only to loopback: 127.0.0.1, localhost, [::1])');
  if (url.username || url.password) throw invalid('endpoint: no credentials in the URL; send them as a header (they would be audited with the URL)');
  if (url.search || url.hash) throw invalid('endpoint: no query or fragment; send keys as a header (they would be audited with the URL)');
  return url.href.replace(/\/+$/, '');
}

/** Where records are POSTed: the endpoint as given when it ends in /v1/logs, else `{endpoint}/v1/logs`. */
export function logsUrl(endpoint: string): string {
  return /\/v1\/logs$/.test(endpoint) ? endpoint : `${endpoint}/v1/logs`;
}

export function checkHeaders(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('headers: an object of header names to values');
  const out: Record<string, string> = {};
  const seen = new Set<string>();
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 16) throw invalid('headers: at most 16');
  for (const [name, v] of entries) {
    const lower = name.toLowerCase();
    if (!TOKEN.test(name) || name.length > 128) throw invalid(`headers: ${JSON.stringify(name)} is not a header name`);
    if (FORBIDDEN_HEADERS.has(lower) || lower.startsWith('proxy-') || lower.startsWith('sec-')) throw invalid(`headers: ${name} cannot be set (the browser or the exporter sets it)`);
    if (seen.has(lower)) throw invalid(`headers: ${name} is given twice`);
    seen.add(lower);
    // The value is never put in a message: it may be a secret.
    if (typeof v !== 'string' || v.length > 8192 || /[\r\n\0]/.test(v)) throw invalid(`headers: the value of ${name} must be a single-line string of at most 8192 characters`);
    out[name] = v.trim();
  }
  return out;
}

type ProgressChange = (p: FleetProgressRecord) => FleetProgressRecord;

interface SendOutcome {
  ok: boolean;
  status: number | null;
  message: string;
  retryAfter: number | null;
  rejected: { rejected: number; message: string } | null;
}

export class FleetExporter {
  private readonly options: FleetOptions;
  private readonly fetch: typeof fetch;
  private readonly random: () => number;
  private readonly online: () => boolean;
  private config: FleetConfigRecord | null = null;
  private progress: FleetProgressRecord | null = null;
  /** The opened headers of `config` (null: not opened yet). */
  private headers: Record<string, string> | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private sending = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private timerAt = 0;
  private idleWaiters: (() => void)[] = [];
  /** Halved on 413 (the endpoint's request size limit), for this lifetime. */
  private batchLimit: number;
  private started = false;

  constructor(private readonly deps: FleetDeps) {
    this.options = { ...FLEET_DEFAULTS, ...deps.options };
    this.fetch = deps.fetch ?? ((input, init) => fetch(input, init));
    this.random = deps.random ?? Math.random;
    this.online = deps.online ?? (() => true);
    this.batchLimit = this.options.batchSize;
    deps.audit.onCommitted(() => {
      if (this.started && this.config?.enabled && this.config.endpoint) this.schedule(this.options.scheduleDelayMs);
    });
  }

  /** On every wake: loads the configuration and progress and sends what is due. Never rejects. */
  start(): void {
    this.started = true;
    this.schedule(0);
  }

  /**
   * Stops scheduling sends (what a service-worker stop does to the timers); a send in flight
   * finishes. Resolves when the current run has ended. For tests; `start` resumes.
   */
  async stop(): Promise<void> {
    this.started = false;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Something happened that may let a send through (back online). */
  kick(): void {
    if (this.started) this.schedule(0);
  }

  /**
   * Resolves when no send is in flight or about to start (a back-off wait does not count), or
   * after `holdMs`: what a service-worker event waits for, so an idle stop does not cut a send.
   */
  hold(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => {
      const timeout = setTimeout(resolve, this.options.holdMs);
      this.idleWaiters.push(() => {
        clearTimeout(timeout);
        resolve();
      });
    });
  }

  /** Resolves once the current run (and any it asked for) has ended; for tests. */
  async drained(): Promise<void> {
    while (this.running || (this.timer !== null && this.timerAt <= this.deps.clock() + this.options.scheduleDelayMs)) {
      if (this.running) await this.running;
      else await new Promise((r) => setTimeout(r, Math.max(0, this.timerAt - this.deps.clock()) + 1));
    }
  }

  private isIdle(): boolean {
    return this.running === null && !(this.timer !== null && this.timerAt - this.deps.clock() <= this.options.scheduleDelayMs);
  }

  private settleIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters.splice(0);
    for (const w of waiters) w();
  }

  private schedule(ms: number): void {
    if (!this.started) return;
    const at = this.deps.clock() + ms;
    if (this.timer !== null && this.timerAt <= at) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.run();
    }, ms);
  }

  private run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          await this.pass();
        } catch {
          // IndexedDB failed us (a closing database, quota): try again later, from what is stored.
          this.progress = null;
          this.schedule(backoffDelay(1, this.random, this.options.baseDelayMs, this.options.maxDelayMs));
        }
      } while (this.again);
    })().finally(() => {
      this.running = null;
      this.settleIdle();
    });
    return this.running;
  }

  private async loadConfig(): Promise<FleetConfigRecord> {
    this.config ??= ((await (await this.deps.db.get()).get('fleet', 'config')) as FleetConfigRecord | undefined) ?? { ...DEFAULT_FLEET_CONFIG };
    return this.config;
  }

  private async loadProgress(): Promise<FleetProgressRecord> {
    this.progress ??= ((await (await this.deps.db.get()).get('fleet', 'progress')) as FleetProgressRecord | undefined) ?? { ...DEFAULT_FLEET_PROGRESS };
    return this.progress;
  }

  /** Changes the stored progress in one transaction, from what is stored (another lifetime may have moved it). */
  private async updateProgress(change: ProgressChange): Promise<FleetProgressRecord> {
    const tx = (await this.deps.db.get()).transaction('fleet', 'readwrite', { durability: 'strict' });
    const stored = ((await tx.store.get('progress')) as FleetProgressRecord | undefined) ?? { ...DEFAULT_FLEET_PROGRESS };
    const next = change(stored);
    if (next !== stored) void tx.store.put(next);
    await tx.done;
    this.progress = next;
    return next;
  }

  private async openHeaders(config: FleetConfigRecord): Promise<Record<string, string>> {
    if (this.headers) return this.headers;
    this.headers = config.headers ? ((await this.deps.sealer.open(config.headers, HEADERS_CONTEXT)) as Record<string, string>) : {};
    return this.headers;
  }

  /** Sends batches until nothing is due, the endpoint fails, or a wait is needed. */
  private async pass(): Promise<void> {
    const config = await this.loadConfig();
    if (!config.enabled || !config.endpoint) return;
    let progress = await this.loadProgress();
    for (;;) {
      if (!this.started) return;
      const now = this.deps.clock();
      if (progress.nextAttemptAt > now) return this.schedule(progress.nextAttemptAt - now);
      if (!this.online()) return; // `kick` when the browser is online again
      // Claim the lease (and learn what another lifetime acknowledged meanwhile).
      const me = this.deps.incarnation;
      progress = await this.updateProgress((p) => (p.lease && p.lease.holder !== me && p.lease.until > now ? p : { ...p, lease: { holder: me, until: now + this.options.requestTimeoutMs + 5_000 } }));
      // Another lifetime is sending: look again soon (its lease ends with its send).
      if (progress.lease?.holder !== me) return this.schedule(Math.min(Math.max(0, progress.lease!.until - now), this.options.baseDelayMs));
      if (progress.nextAttemptAt > now) {
        await this.release();
        return this.schedule(progress.nextAttemptAt - now);
      }
      const after = progress.ackedSeq;
      // The keys are the seqs (a record's own `seq` could be anything: storage is writable by the origin).
      const range = IDBKeyRange.lowerBound(after, true);
      const tx = (await this.deps.db.get()).transaction('audit');
      const [seqs, records] = await Promise.all([tx.store.getAllKeys(range, this.batchLimit), tx.store.getAll(range, this.batchLimit), tx.done]);
      if (seqs.length === 0) {
        await this.release();
        return;
      }
      const first = seqs[0]!;
      if (first > after + 1) progress = await this.skipped(after + 1, first - 1, config);
      const batch = this.cut(records);
      const outcome = await this.send(config, batch.records);
      const last = seqs[batch.records.length - 1]!;
      if (outcome.ok) {
        const recovered = progress.failures > 0 ? { failures: progress.failures, since: progress.lastError?.at ?? null } : null;
        progress = await this.updateProgress((p) => ({
          ...p,
          ackedSeq: Math.max(p.ackedSeq, last),
          failures: 0,
          nextAttemptAt: 0,
          lastError: outcome.rejected ? { message: `the endpoint rejected ${outcome.rejected.rejected} record(s): ${outcome.rejected.message}`, status: outcome.status, at: this.deps.clock() } : null,
          lastSuccessAt: this.deps.clock(),
          rejected: p.rejected + (outcome.rejected?.rejected ?? 0),
          lease: null,
        }));
        if (recovered) await this.record('info', { state: 'recovered', endpoint: config.endpoint, failures: recovered.failures, failingSince: recovered.since, ackedSeq: progress.ackedSeq });
        continue;
      }
      if (outcome.status === 413 && batch.records.length > 1) {
        // Too large for the endpoint: smaller batches from now on, at once.
        this.batchLimit = Math.max(1, Math.floor(batch.records.length / 2));
        progress = await this.updateProgress((p) => ({ ...p, lease: null }));
        continue;
      }
      const failures = progress.failures + 1;
      const at = this.deps.clock();
      const delay = Math.min(this.options.maxDelayMs, Math.max(backoffDelay(failures, this.random, this.options.baseDelayMs, this.options.maxDelayMs), outcome.retryAfter ?? 0));
      const lastError = { message: outcome.message, status: outcome.status, at };
      progress = await this.updateProgress((p) => ({ ...p, failures: p.failures + 1, nextAttemptAt: at + delay, lastError, lease: null }));
      if (failures === 1) await this.record('error', { state: 'failing', endpoint: config.endpoint, status: outcome.status, error: outcome.message, ackedSeq: progress.ackedSeq });
      return this.schedule(delay);
    }
  }

  private async release(): Promise<void> {
    const me = this.deps.incarnation;
    await this.updateProgress((p) => (p.lease?.holder === me ? { ...p, lease: null } : p));
  }

  /** Entries gone before they were sent (archived and pruned): said in the status and the audit, then passed. */
  private async skipped(from: number, to: number, config: FleetConfigRecord): Promise<FleetProgressRecord> {
    const progress = await this.updateProgress((p) => ({ ...p, ackedSeq: Math.max(p.ackedSeq, to), skipped: [...p.skipped, { from, to }].slice(-20) }));
    await this.record('error', { state: 'skipped', endpoint: config.endpoint, from, to, reason: 'the entries were archived and pruned before they were sent' });
    return progress;
  }

  /** The records of a batch: at most `maxBatchBytes` of encoded records, at least one. */
  private cut(records: readonly unknown[]): { records: OtlpLogRecord[] } {
    const now = this.deps.clock();
    const out: OtlpLogRecord[] = [];
    let bytes = 0;
    for (const record of records) {
      const log = logRecordOf(record, now);
      const size = JSON.stringify(log).length;
      if (out.length > 0 && bytes + size > this.options.maxBatchBytes) break;
      out.push(log);
      bytes += size;
    }
    return { records: out };
  }

  private async send(config: FleetConfigRecord, records: OtlpLogRecord[]): Promise<SendOutcome> {
    this.sending = true;
    let secrets: string[] = [];
    try {
      const configured = await this.openHeaders(config);
      secrets = Object.values(configured).filter((v) => v.length >= 4);
      const resource = { ...this.deps.resource, instanceId: config.instanceId, name: config.name };
      const json = JSON.stringify(exportRequest(records, resource));
      const headers = new Headers(configured);
      headers.set('Content-Type', 'application/json');
      let body: BodyInit = json;
      if (config.compression === 'gzip') {
        body = await new Response(new Blob([json]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer();
        headers.set('Content-Encoding', 'gzip');
      }
      const response = await this.fetch(logsUrl(config.endpoint!), {
        method: 'POST',
        headers,
        body,
        mode: 'cors',
        credentials: 'omit',
        redirect: 'error',
        cache: 'no-store',
        signal: AbortSignal.timeout(this.options.requestTimeoutMs),
      });
      const text = await response.text().catch(() => '');
      if (response.ok) return { ok: true, status: response.status, message: '', retryAfter: null, rejected: partialSuccessOf(text) };
      const detail = text.replace(/\s+/g, ' ').trim().slice(0, 200);
      return { ok: false, status: response.status, message: mask(`HTTP ${response.status}${detail ? `: ${detail}` : ''}`, secrets), retryAfter: retryAfterMs(response.headers.get('Retry-After'), this.deps.clock()), rejected: null };
    } catch (error) {
      const e = error as { name?: string; message?: string };
      const message = e?.name === 'TimeoutError' ? `no answer in ${this.options.requestTimeoutMs} ms` : `network: ${e?.message ?? String(error)}`;
      return { ok: false, status: null, message: mask(message, secrets), retryAfter: null, rejected: null };
    } finally {
      this.sending = false;
    }
  }

  private async record(outcome: 'info' | 'error', details: Record<string, unknown>): Promise<void> {
    const draft: AuditDraft = { event: 'admin', outcome, details: { method: 'fleet.export', ...details } };
    await this.deps.audit.append(draft).catch(() => undefined);
  }

  /** Admin `fleet.configure`: checks, stores and applies a change; returns what the audit should say of it (no header value). */
  async configure(input: FleetConfigInput): Promise<Record<string, unknown>> {
    if (typeof input !== 'object' || input === null) throw invalid('expected an object');
    const before = await this.loadConfig();
    const next: FleetConfigRecord = { ...before };
    let headers: Record<string, string> | null = null;
    if (input.endpoint !== undefined) next.endpoint = input.endpoint === null ? null : checkEndpoint(input.endpoint);
    if (input.enabled !== undefined) {
      if (typeof input.enabled !== 'boolean') throw invalid('enabled: true or false');
      next.enabled = input.enabled;
    }
    if (input.headers !== undefined) {
      headers = checkHeaders(input.headers);
      next.headerNames = Object.keys(headers).sort();
    }
    if (input.compression !== undefined) {
      if (input.compression !== 'gzip' && input.compression !== 'none') throw invalid('compression: "gzip" or "none"');
      next.compression = input.compression;
    }
    if (input.name !== undefined) {
      if (typeof input.name !== 'string' || input.name.length > 128) throw invalid('name: a string of at most 128 characters');
      next.name = input.name.trim();
    }
    const start = input.startAfterSeq;
    if (start !== undefined && !(Number.isSafeInteger(start) && start >= 0)) throw invalid('startAfterSeq: a seq (0 or more)');
    if (next.enabled && !next.endpoint) throw invalid('enabled: set an endpoint first');
    if (headers) next.headers = Object.keys(headers).length ? await this.deps.sealer.seal(headers, HEADERS_CONTEXT) : null;
    next.instanceId ||= crypto.randomUUID();
    next.updatedAt = this.deps.clock();
    const db = await this.deps.db.get();
    const tx = db.transaction('fleet', 'readwrite', { durability: 'strict' });
    await Promise.all([tx.store.put(next), tx.done]);
    this.config = next;
    if (headers) this.headers = null;
    // A change is worth an attempt at once: the back-off starts again.
    await this.updateProgress((p) => ({ ...p, failures: 0, nextAttemptAt: 0, ...(start !== undefined ? { ackedSeq: start, lastError: null, skipped: [] } : {}) }));
    this.batchLimit = this.options.batchSize;
    this.started = true;
    this.schedule(0);
    return {
      endpoint: next.endpoint,
      enabled: next.enabled,
      headerNames: next.headerNames,
      headersChanged: headers !== null,
      compression: next.compression,
      name: next.name,
      ...(start !== undefined ? { startAfterSeq: start } : {}),
      previous: { endpoint: before.endpoint, enabled: before.enabled },
    };
  }

  /** Admin `fleet.retry`: forget the back-off and try now. */
  async retryNow(): Promise<FleetStatus> {
    await this.updateProgress((p) => ({ ...p, nextAttemptAt: 0 }));
    this.started = true;
    this.schedule(0);
    return this.status();
  }

  /** Admin `fleet.status`: configuration (header names only) and progress, as stored now. */
  async status(): Promise<FleetStatus> {
    const config = await this.loadConfig();
    const db = await this.deps.db.get();
    this.progress = ((await db.get('fleet', 'progress')) as FleetProgressRecord | undefined) ?? { ...DEFAULT_FLEET_PROGRESS };
    const p = this.progress;
    const tx = db.transaction('audit');
    // Two key reads whatever the log's length (a count would walk the backlog on every poll).
    const [newest, oldest] = await Promise.all([tx.store.openKeyCursor(null, 'prev').then((c) => c?.key ?? 0), tx.store.openKeyCursor(null, 'next').then((c) => c?.key ?? 1), tx.done]);
    const backlog = Math.max(0, newest - Math.max(p.ackedSeq, oldest - 1));
    const now = this.deps.clock();
    const state: FleetStatus['state'] = !config.endpoint ? 'unconfigured' : !config.enabled ? 'disabled' : this.sending ? 'sending' : !this.online() ? 'offline' : p.nextAttemptAt > now ? 'waiting' : 'idle';
    return {
      endpoint: config.endpoint,
      url: config.endpoint ? logsUrl(config.endpoint) : null,
      enabled: config.enabled,
      headerNames: config.headerNames,
      compression: config.compression,
      name: config.name,
      instanceId: config.instanceId,
      ackedSeq: p.ackedSeq,
      newestSeq: newest,
      backlog,
      state,
      failures: p.failures,
      nextAttemptAt: p.nextAttemptAt > now ? p.nextAttemptAt : null,
      lastError: p.lastError,
      lastSuccessAt: p.lastSuccessAt,
      rejected: p.rejected,
      skipped: p.skipped,
    };
  }
}

/** `text` with every secret in it replaced (an endpoint may echo a header back in an error). */
function mask(text: string, secrets: readonly string[]): string {
  return secrets.reduce((t, s) => t.split(s).join('[header value]'), text);
}
