/// <reference lib="webworker" />
// The service worker's side of two benchmark floors (test/bench/, `npm run bench`). Nothing of
// the call path uses it; it only answers these two messages from a same-origin page:
//
// - `bench-relay` with two ports [toPage, toWorker]: every message arriving on one port is
//   posted, unchanged, on the other. The page holds the far end of `toPage` and has handed the
//   far end of `toWorker` to an echo worker, so one round trip is page → SW → worker → SW →
//   page over MessagePorts: the hops a call could take if the SW spoke to pool workers over
//   ports handed to it (../shared/DESIGN.md fact 10). The page ends it by posting
//   `BENCH_RELAY_CLOSE` on its port; the event is held open until then (at most 2 minutes).
// - `bench-idb` with one reply port: `n` single-record readwrite transactions of a record of
//   `bytes` bytes with the given durability, each timed here from `transaction()` to
//   `complete`, in a database of its own. The reply is the list of durations in ms.
//
// It is installed when the service worker's bundle loads (its one import in service-worker.ts),
// so that wiring it is one line.

declare const self: ServiceWorkerGlobalScope;

const CHANNEL = 'mcp-sandbox';
const WIRE_VERSION = 1;
export const BENCH_RELAY_CLOSE = 'bench-relay:close';
const RELAY_HOLD_MS = 120_000;
const BENCH_DB = 'mcp-sandbox-bench';
const MAX_RECORDS = 100_000;
const MAX_BYTES = 64 * 1024;

export interface BenchIdbRequest {
  durability: IDBTransactionDurability;
  n: number;
  bytes: number;
}
/** `isolated`: whether this service worker is cross-origin isolated (its clock then has 5 µs steps, else 100 µs). */
export type BenchIdbReply = { ok: true; samples: number[]; isolated: boolean } | { ok: false; error: string };

export function installBenchRelay(scope: ServiceWorkerGlobalScope): void {
  scope.addEventListener('message', (event) => {
    const data = event.data as { channel?: unknown; v?: unknown; kind?: unknown } | null;
    if (typeof data !== 'object' || data === null || data.channel !== CHANNEL || data.v !== WIRE_VERSION) return;
    if (data.kind === 'bench-relay') {
      const [toPage, toWorker] = event.ports;
      if (toPage && toWorker) event.waitUntil(relay(toPage, toWorker));
    } else if (data.kind === 'bench-idb') {
      const [reply] = event.ports;
      if (reply) event.waitUntil(commits(data as unknown as BenchIdbRequest).then((answer) => reply.postMessage(answer)));
    }
  });
}

function relay(toPage: MessagePort, toWorker: MessagePort): Promise<void> {
  return new Promise((resolve) => {
    const end = () => {
      clearTimeout(timer);
      toPage.close();
      toWorker.close();
      resolve();
    };
    const timer = setTimeout(end, RELAY_HOLD_MS);
    toPage.onmessage = (event) => {
      if (event.data === BENCH_RELAY_CLOSE) end();
      else toWorker.postMessage(event.data);
    };
    toWorker.onmessage = (event) => toPage.postMessage(event.data);
  });
}

async function commits(request: BenchIdbRequest): Promise<BenchIdbReply> {
  const { durability, n, bytes } = request;
  if (!['strict', 'relaxed', 'default'].includes(durability) || !Number.isInteger(n) || n < 1 || n > MAX_RECORDS || !Number.isInteger(bytes) || bytes < 1 || bytes > MAX_BYTES) {
    return { ok: false, error: 'bench-idb: expects {durability: strict|relaxed|default, n: 1..100000, bytes: 1..65536}' };
  }
  let db: IDBDatabase | null = null;
  try {
    db = await open();
    await done(db.transaction('records', 'readwrite').objectStore('records').clear());
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const tx = db.transaction('records', 'readwrite', { durability });
      tx.objectStore('records').put(record(i, bytes));
      await complete(tx);
      samples.push(performance.now() - t0);
    }
    await done(db.transaction('records', 'readwrite').objectStore('records').clear());
    return { ok: true, samples, isolated: self.crossOriginIsolated };
  } catch (error) {
    return { ok: false, error: String(error) };
  } finally {
    db?.close();
  }
}

/** A record shaped like an audit entry, padded so that its JSON is `bytes` long. */
function record(seq: number, bytes: number): Record<string, unknown> {
  const base = { seq, ts: Date.now(), event: 'call.request', agent: 'bench', session: 'bench-session', tool: 'text_stats', prev: '0'.repeat(64), hash: 'f'.repeat(64), pad: '' };
  const pad = Math.max(0, bytes - JSON.stringify(base).length);
  return { ...base, pad: 'x'.repeat(pad) };
}

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(BENCH_DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore('records', { keyPath: 'seq' });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('bench-idb: open failed'));
  });
}

function done(request: IDBRequest): Promise<void> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve();
    request.onerror = () => reject(request.error ?? new Error('bench-idb: request failed'));
  });
}

function complete(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('bench-idb: transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('bench-idb: transaction aborted'));
  });
}

