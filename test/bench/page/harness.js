// The benchmark's code in the app page (`/`, where the sandbox host runs). run.mjs imports it
// and drives each measurement through `window.bench`; every measurement returns raw samples in
// ms (statistics are computed in Node, in one place). Any failed call throws: a benchmark of
// errors would be a fast and meaningless one.
import { connectSdkPair } from './sdk-floor.js';
import { WARM_UP, sequential } from './timing.js';
import { wrap } from 'comlink';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CfWorkerJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/cfworker';
import { seed } from '../../browser/support/seed-audit.ts';
import { entryTerms, postingsOf, SEARCH_WINDOW } from '../../../src/store/search.ts';

const CHANNEL = 'mcp-sandbox';
const TEXT = 'The quick brown fox jumps over the lazy dog. '.repeat(4);
const LIMITS = { cpuMs: 5000, memoryBytes: 64 * 1024 * 1024 };
const CODE_ARGS = { language: 'javascript', code: 'input.text.split(/\\s+/).filter(Boolean).length', input: { text: TEXT } };

let lib = null;
let admin = null;
/** Connected SDK Clients of the registered agents, by agent id. */
const clients = new Map();
/** Their tokens, for the HTTP endpoint. */
const tokens = new Map();

async function setup() {
  const [c, a] = await Promise.all([import(/* @vite-ignore */ '/client.js'), import(/* @vite-ignore */ '/admin.js')]);
  lib = { ...c, ...a };
  admin = await lib.createAdminClient(120_000);
  return { isolated: crossOriginIsolated };
}

function check(result, what) {
  if (result?.isError) throw new Error(`${what} failed: ${JSON.stringify(result).slice(0, 2000)}`);
  return result;
}

const textStats = (client) => client.callTool({ name: 'text_stats', arguments: { text: TEXT } }).then((r) => check(r, 'tools/call text_stats'));

async function tool(name) {
  const found = (await admin.request('tools.list')).find((t) => t.name === name);
  if (!found) throw new Error(`tool ${name} is not registered`);
  return found;
}

// ---- Floors --------------------------------------------------------------------------------

/** text_stats as an agent lists it, and one real answer of it: what floor (a) and peers serve. */
async function realAnswer() {
  const client = clients.values().next().value;
  if (!client) throw new Error('register an agent first');
  const listing = (await client.listTools()).tools.find((t) => t.name === 'text_stats');
  return { listing, answer: await textStats(client) };
}

/** (a) SDK Client ⇄ SDK Server tools/call over a MessageChannel in this page. */
async function floorSdk(n) {
  const { listing, answer } = await realAnswer();
  const pair = await connectSdkPair(listing, answer);
  try {
    return await sequential(n, () => pair.client.callTool({ name: 'text_stats', arguments: { text: TEXT } }).then((r) => check(r, 'floor (a) tools/call')));
  } finally {
    await pair.close();
  }
}

/**
 * (b) page → service worker → echo worker → service worker → page, over MessagePorts the
 * service worker relays (src/server/bench-relay.ts). The message is a tools/call request.
 */
async function floorRelay(n) {
  const worker = new Worker('/bench/echo-worker.js', { type: 'module' });
  const toSw = new MessageChannel();
  const swToWorker = new MessageChannel();
  worker.postMessage(null, [swToWorker.port2]);
  const registration = await navigator.serviceWorker.ready;
  registration.active.postMessage({ channel: CHANNEL, v: 1, kind: 'bench-relay' }, [toSw.port2, swToWorker.port1]);
  const port = toSw.port1;
  let waiting = null;
  port.onmessage = (event) => waiting?.(event.data);
  const message = { jsonrpc: '2.0', id: 0, method: 'tools/call', params: { name: 'text_stats', arguments: { text: TEXT } } };
  const roundTrip = (i) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('floor (b): no echo in 10 s (is bench-relay wired into the service worker?)')), 10_000);
      waiting = (data) => {
        if (data?.id !== i) return;
        clearTimeout(timer);
        resolve();
      };
      port.postMessage({ ...message, id: i });
    });
  try {
    return await sequential(n, roundTrip);
  } finally {
    port.postMessage('bench-relay:close');
    worker.terminate();
  }
}

/** (c) and the durability cost: single-record commits timed inside the service worker. */
async function idbCommits(durability, n, bytes = 400) {
  const registration = await navigator.serviceWorker.ready;
  const reply = new MessageChannel();
  const answer = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bench-idb: no answer in 120 s (is bench-relay wired into the service worker?)')), 120_000);
    reply.port1.onmessage = (event) => {
      clearTimeout(timer);
      resolve(event.data);
    };
  });
  registration.active.postMessage({ channel: CHANNEL, v: 1, kind: 'bench-idb', durability, n: n + WARM_UP, bytes }, [reply.port2]);
  const result = await answer;
  if (!result?.ok) throw new Error(result?.error ?? 'bench-idb: no result');
  return { samples: result.samples.slice(WARM_UP), isolated: result.isolated };
}

/** page ⇄ a pool's tool worker script, one Comlink message (a property read). */
async function floorComlink(n) {
  const worker = new Worker('/tool-worker.js', { type: 'module' });
  let next = 0;
  const hop = () =>
    new Promise((resolve) => {
      const id = `bench-${next++}`;
      const onMessage = (e) => {
        if (e.data?.id !== id) return;
        worker.removeEventListener('message', onMessage);
        resolve();
      };
      worker.addEventListener('message', onMessage);
      worker.postMessage({ id, type: 'GET', path: ['run', 'length'] });
    });
  try {
    return await sequential(n, hop);
  } finally {
    worker.terminate();
  }
}

/** page → service worker → page, one `message` event per request (admin ping, no storage). */
const floorSwPing = (n) => sequential(n, () => admin.request('ping'));

// ---- The product ---------------------------------------------------------------------------

async function registerAgents(ids, policy) {
  for (const id of ids) {
    const { token } = await admin.request('agents.register', { id, name: id, trustLevel: 'FullyTrusted', origins: [location.origin], policy });
    tokens.set(id, token);
    clients.set(id, await lib.connect({ agent: id, token }));
  }
  return ids.length;
}

function agent(id) {
  const client = clients.get(id);
  if (!client) throw new Error(`no connected agent ${id}`);
  return client;
}

/** Warm tools/call of text_stats by one agent. */
const toolsCall = (n, id, warmUp = WARM_UP) => sequential(n, () => textStats(agent(id)), warmUp);

/**
 * What conversation contexts add to a call (issue 11): the same warm text_stats call, made in
 * turn without and with a conversation named in `_meta` (its record read, its security level
 * intersected with the policy, the call folded into its tool preferences), interleaved so both
 * see the same moment of a shared machine.
 */
async function contextCost(n, id) {
  const client = agent(id);
  const inConversation = () => client.callTool({ name: 'text_stats', arguments: { text: TEXT }, _meta: { 'mcp-sandbox/conversation': 'bench-conversation' } }).then((r) => check(r, 'tools/call in a conversation'));
  const plain = await sequential(n, () => textStats(client));
  const named = await sequential(n, inConversation);
  // Then interleaved, one of each in turn, and kept: the figures the row reports.
  const samples = { plain: [], named: [] };
  for (let i = 0; i < n; i++) {
    for (const [key, call] of i % 2 ? [['named', inConversation], ['plain', () => textStats(client)]] : [['plain', () => textStats(client)], ['named', inConversation]]) {
      const t0 = performance.now();
      await call();
      samples[key].push(performance.now() - t0);
    }
  }
  return { plain: samples.plain.length ? samples.plain : plain, named: samples.named.length ? samples.named : named };
}

/** Warm tools/call of text_stats by one agent through the service worker's /mcp (Streamable HTTP), with the SDK's own HTTP client. */
async function httpCall(n, id) {
  const client = new Client({ name: 'bench-http', version: '1.0.0' }, { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() });
  await client.connect(new StreamableHTTPClientTransport(new URL('/mcp', location.origin), { requestInit: { headers: { Authorization: `Bearer ${tokens.get(id)}` } } }));
  try {
    return await sequential(n, () => textStats(client));
  } finally {
    await client.close();
  }
}

/** The sandbox alone: host → module cache → worker → fresh wasm instance → result. */
async function sandboxOnly(n, name) {
  const record = await tool(name);
  const args = JSON.stringify(name === 'execute_code' ? CODE_ARGS : { text: TEXT });
  return sequential(n, async (i) => {
    const r = await window.sandboxHost.execute({ callId: `bench-${name}-${i}`, tool: name, code: record.code, entry: 'call', args, limits: LIMITS });
    if (!r?.ok) throw new Error(`sandbox-only ${name} failed: ${JSON.stringify(r).slice(0, 2000)}`);
  });
}

/** execute_code (JavaScript in QuickJS) counting the same words, same agent as text_stats. */
const executeCode = (n, id) =>
  sequential(n, async () => {
    const r = check(await agent(id).callTool({ name: 'execute_code', arguments: CODE_ARGS }), 'tools/call execute_code');
    if (JSON.parse(r.content[0].text).result !== 36) throw new Error(`execute_code: unexpected ${JSON.stringify(r).slice(0, 2000)}`);
  });

/**
 * `total` calls shared by `ids` agents, each calling in a loop (one call in flight per agent),
 * as fast as answers come. Returns the wall time and each call's latency.
 */
async function concurrent(total, ids) {
  let started = 0;
  const samples = [];
  const t0 = performance.now();
  await Promise.all(
    ids.map(async (id) => {
      const client = agent(id);
      while (started < total) {
        started++;
        const t1 = performance.now();
        await textStats(client);
        samples.push(performance.now() - t1);
      }
    }),
  );
  return { ms: performance.now() - t0, samples };
}

/** host_probe with no capability call and with one read-file, same agent. */
async function hostCapability(n, id) {
  await admin.request('tools.seed', { fixtures: true });
  const client = agent(id);
  const probe = (calls, what) => client.callTool({ name: 'host_probe', arguments: { calls } }).then((r) => check(r, what));
  await probe([{ fn: 'write-file', path: './workspace/bench.txt', contents: 'benchmark' }], 'host_probe write-file');
  const none = await sequential(n, () => probe([], 'host_probe'));
  const oneRead = await sequential(n, async () => {
    const r = await probe([{ fn: 'read-file', path: './workspace/bench.txt' }], 'host_probe read-file');
    if (!r.content[0].text.includes('benchmark')) throw new Error(`host_probe read-file: unexpected ${JSON.stringify(r).slice(0, 2000)}`);
  });
  return { none, oneRead };
}

/**
 * Upload (check, transpile in the browser, describe, store) of each component, then the first
 * call of the just-registered version; then warm calls of the last one.
 */
async function uploads(components, warmN, id) {
  const client = agent(id);
  const uploadMs = [];
  const firstCallMs = [];
  for (const [i, bytes] of components.entries()) {
    const t1 = performance.now();
    await window.sandboxHost.importTool(new Uint8Array(bytes), `bench-${i}.wasm`);
    const t2 = performance.now();
    const r = check(await client.callTool({ name: 'bench_uploaded', arguments: {} }), 'first call of bench_uploaded');
    const t3 = performance.now();
    if (!r.content[0].text.includes(`1.0.${i}`)) throw new Error(`bench_uploaded answered another version: ${JSON.stringify(r)}`);
    uploadMs.push(t2 - t1);
    firstCallMs.push(t3 - t2);
  }
  const warm = await sequential(warmN, () => client.callTool({ name: 'bench_uploaded', arguments: {} }).then((r) => check(r, 'bench_uploaded')));
  return { uploadMs, firstCallMs, warm };
}

/** The whole chain, verified in slices as the app verifies it (each slice its own read transaction). */
async function auditVerify() {
  let from;
  let count = 0;
  for (;;) {
    const v = await admin.request('audit.verify', from ? { from, limit: 20_000 } : { limit: 20_000 });
    count += v.count;
    if (!v.ok) return { ok: false, count, verdict: v };
    if (v.complete !== false) return { ok: true, count };
    if (!v.count) throw new Error(`audit.verify made no progress after seq ${from?.seq ?? 0}`);
    from = { seq: v.headSeq, hash: v.head };
  }
}

let appVerifier = null;
/** The app's own verifier worker (src/entries/audit-worker.ts), found by its name in the build. */
async function appWorker() {
  if (!appVerifier) {
    const { files } = await (await fetch('/precache.json')).json();
    const file = files.find((f) => /^assets\/audit-worker-[^/]*\.js$/.test(f));
    if (!file) throw new Error('no audit worker in the build');
    appVerifier = wrap(new Worker(`/${file}`, { type: 'module' }));
  }
  return appVerifier;
}

/**
 * The whole chain from the genesis (or the archive), in the app's slices of 2,000, yielding
 * between: in the app's verifier worker (`where` 'worker', as the app does) or by the service
 * worker (`audit.verify`, the API's way).
 */
async function verifyWhole(where = 'worker') {
  const slice = where === 'worker' ? await appWorker().then((w) => (from) => w.verify(from, 2_000)) : (from) => admin.request('audit.verify', from ? { from, limit: 2_000 } : { limit: 2_000 });
  let from;
  for (;;) {
    const v = await slice(from);
    if (!v.ok) throw new Error(`audit chain broken: ${JSON.stringify(v)}`);
    if (v.complete !== false) return;
    from = { seq: v.headSeq, hash: v.head };
    await new Promise((r) => setTimeout(r, 0));
  }
}

/** The whole log streamed from audit/export.jsonl; returns its bytes. */
async function exportAll() {
  const reader = (await fetch('/audit/export.jsonl')).body.getReader();
  let bytes = 0;
  for (let r = await reader.read(); !r.done; r = await reader.read()) bytes += r.value.length;
  return bytes;
}

/** Bare admin pings, 20 ms apart, for as long as `work` runs; their round trips (ms). */
async function pingedWhile(work) {
  const pings = [];
  let running = true;
  const pinger = (async () => {
    while (running) {
      const t = performance.now();
      await admin.request('ping');
      pings.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  try {
    await work();
  } finally {
    running = false;
    await pinger;
  }
  return pings;
}

/**
 * What an admin's work on the whole log costs at its present size (issue 14's table): each
 * request timed, a whole verification with bare pings beside it, and a streamed export.
 */
async function adminScale() {
  const out = {};
  const time = async (name, fn) => {
    const t = performance.now();
    const r = await fn();
    out[name] = performance.now() - t;
    return r;
  };
  const retention = await time('retentionMs', () => admin.request('audit.retention'));
  out.entries = retention.entries;
  out.usageBytes = retention.storage?.usage ?? null;
  out.indexedDbBytes = retention.storage?.indexedDB ?? null;
  await time('agentsMetricsMs', () => admin.request('agents.metrics'));
  await time('toolsStatsMs', () => admin.request('tools.stats'));
  await time('toolStatsOneMs', () => admin.request('tools.stats', { name: 'text_stats' }));
  await time('tail1000Ms', () => admin.request('audit.tail', { limit: 1000 }));
  out.pingsDuringVerify = await pingedWhile(() => time('verifyWholeMs', () => verifyWhole('worker')));
  out.pingsDuringSwVerify = await pingedWhile(() => time('verifyWholeInSwMs', () => verifyWhole('sw')));
  out.exportBytes = await time('exportMs', exportAll);
  out.pageHeapAfterExport = performance.memory?.usedJSHeapSize ?? null;
  return out;
}

/**
 * `total` calls by `ids` agents at once, first with no admin at work, then while an admin
 * verifies the whole chain, exports the whole log and reads stats and the trail, over and over.
 */
async function adminLoad(total, ids, parts = ['verify', 'export', 'browse']) {
  const alone = await concurrent(total, ids);
  let busy = true;
  let rounds = 0;
  const work = (async () => {
    while (busy) {
      if (parts.includes('verify')) await verifyWhole();
      if (!busy) break;
      if (parts.includes('export')) await exportAll();
      if (parts.includes('browse')) {
        await admin.request('agents.metrics');
        await admin.request('tools.stats');
        await admin.request('audit.tail', { limit: 200 });
        await new Promise((r) => setTimeout(r, 100));
      }
      rounds++;
    }
  })();
  const withAdmin = await concurrent(total, ids);
  busy = false;
  await work;
  return { alone, withAdmin, rounds };
}

// ---- The audit trail at size (issue 12) ----------------------------------------------------

const SEED_AGENTS = ['seed-a', 'seed-b', 'seed-c', 'seed-d'];
const SEED_TOOLS = ['text_stats', 'json_query', 'fetch_url'];
/** Seeded calls the audit-view measures need (their searches name call 4242). */
const MIN_SEEDED_CALLS = 5000;

/**
 * Grows the log to `total` entries with seeded calls (two entries each) through the store's own
 * AuditLog (test/browser/support/seed-audit.ts: the same chain, hashes, aggregates and search
 * terms the service worker writes). Returns how many were added and the time per entry.
 */
async function seedAuditTo(total) {
  const { entries } = await admin.request('audit.retention');
  // At least MIN_SEEDED_CALLS whatever the log holds: the view's filters and searches look for
  // the seeded agents and texts (the full run's soak leaves a log past `total` without them).
  const calls = Math.max(MIN_SEEDED_CALLS, Math.ceil((total - entries) / 2));
  const t0 = performance.now();
  if (calls > 0) await seed(calls, SEED_AGENTS, SEED_TOOLS);
  const ms = performance.now() - t0;
  const after = (await admin.request('audit.retention')).entries;
  return { before: entries, seeded: calls * 2, entries: after, msPerEntry: calls ? ms / (calls * 2) : null };
}

/**
 * What the search index adds to writing an entry: the same audit-like entries (arguments and an
 * output like a call's) written two per transaction, as a call's request and result commit, into
 * a scratch database with the audit's shape: without an index; with the index as it is written
 * (search.ts: every SEARCH_WINDOW entries, read back on a read transaction, tokenized, one block a
 * term written in a transaction of its own); and with format 1's index (one record of `[term,
 * seq]` pairs an entry under a multi-entry index, in the entries' own transaction), for
 * comparison. Alternated in rounds; medians of the per-entry cost (tokenizing included).
 */
async function searchIndexCost(n = 2048, rounds = 3) {
  const name = `bench-search-cost-${Date.now()}`;
  const db = await new Promise((resolve, reject) => {
    const r = indexedDB.open(name, 1);
    r.onupgradeneeded = () => {
      r.result.createObjectStore('audit', { keyPath: 'seq' });
      r.result.createObjectStore('searchTerms', { keyPath: 'seq' }).createIndex('by-term', 'terms', { multiEntry: true });
      r.result.createObjectStore('searchBlocks', { keyPath: ['term', 'first'] });
      r.result.createObjectStore('searchWindows', { keyPath: 'first' });
    };
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  let seq = 0;
  const entryOf = (i) => ({ seq: ++seq, ts: Date.now(), event: i % 2 ? 'call.result' : 'call.request', sessionId: 's', agentId: 'bench', callId: `c${i >> 1}`, tool: 'text_stats', args: i % 2 ? null : { text: `${TEXT} item ${i}` }, outcome: 'ok', durationMs: 1, memoryBytes: 65536, error: null, details: i % 2 ? { output: `{"words":36,"unique":${i},"top":["the","quick","brown"]}` } : { kind: 'call' }, prevHash: '0'.repeat(64), canonical: 2, hash: 'f'.repeat(64) });
  const done = (tx) => new Promise((resolve, reject) => ((tx.oncomplete = resolve), (tx.onerror = () => reject(tx.error))));
  const request = (r) => new Promise((resolve, reject) => ((r.onsuccess = () => resolve(r.result)), (r.onerror = () => reject(r.error))));
  const indexWindow = async (first, last) => {
    const read = db.transaction('audit');
    const entries = await request(read.objectStore('audit').getAll(IDBKeyRange.bound(first, last)));
    const tx = db.transaction(['searchBlocks', 'searchWindows'], 'readwrite');
    const postings = postingsOf(entries);
    for (const [term, seqs] of postings) tx.objectStore('searchBlocks').put({ term, first, seqs });
    tx.objectStore('searchWindows').put({ first, last, terms: [...postings.keys()] });
    await done(tx);
  };
  const write = async (index) => {
    const t0 = performance.now();
    let from = seq + 1;
    for (let i = 0; i < n; i += 2) {
      const tx = db.transaction(index === 'rows' ? ['audit', 'searchTerms'] : ['audit'], 'readwrite', { durability: 'strict' });
      for (const e of [entryOf(i), entryOf(i + 1)]) {
        tx.objectStore('audit').add(e);
        if (index === 'rows') {
          const terms = entryTerms(e);
          if (terms.length) tx.objectStore('searchTerms').put({ seq: e.seq, terms: terms.map((t) => [t, e.seq]) });
        }
      }
      await done(tx);
      if (index === 'blocks' && seq - from + 1 >= SEARCH_WINDOW) {
        await indexWindow(from, seq);
        from = seq + 1;
      }
    }
    return (performance.now() - t0) / n;
  };
  const plain = [];
  const blocks = [];
  const rows = [];
  for (let r = 0; r < rounds; r++) {
    plain.push(await write(null));
    blocks.push(await write('blocks'));
    rows.push(await write('rows'));
  }
  // Tokenizing alone, per entry.
  const sample = Array.from({ length: 2000 }, (_, i) => entryOf(i));
  const t0 = performance.now();
  for (const e of sample) entryTerms(e);
  const tokenizeMs = (performance.now() - t0) / sample.length;
  db.close();
  await new Promise((resolve) => {
    const r = indexedDB.deleteDatabase(name);
    r.onsuccess = r.onerror = r.onblocked = resolve;
  });
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { plainMsPerEntry: median(plain), indexedMsPerEntry: median(blocks), rowsMsPerEntry: median(rows), tokenizeMsPerEntry: tokenizeMs };
}

// In the app page at #audit (its own page): the Audit view's answers, as the person sees them.

function auditView() {
  const app = document.querySelector('sandbox-app');
  const view = app?.shadowRoot?.querySelector('audit-view');
  if (!view?.shadowRoot) throw new Error('no audit view');
  return view.shadowRoot;
}

/** Resolves once `ok()` holds, checked each frame (rejects after `ms`). */
function until(ok, ms = 30_000, state = () => '') {
  const end = performance.now() + ms;
  return new Promise((resolve, reject) => {
    const check = () => {
      let v;
      try {
        v = ok();
      } catch {
        v = false;
      }
      if (v) resolve(performance.now());
      else if (performance.now() > end) reject(new Error(`audit view: not answered in ${ms} ms ${state()}`));
      else requestAnimationFrame(check);
    };
    check();
  });
}

const tableOf = (root) => root.querySelector('[data-testid="audit-table"]');
const pagesOf = (root) => Number(tableOf(root).dataset.pages);

/** Picks an agent in the filter: ms until the rows show it and the whole log's first page has come. */
async function auditViewFilter(agent) {
  const root = auditView();
  const pages = pagesOf(root);
  const select = root.querySelector('[data-testid="filter-agent"]');
  const t0 = performance.now();
  select.value = agent;
  select.dispatchEvent(new Event('change'));
  const t1 = await until(() => pagesOf(root) > pages && root.querySelector('[data-testid="audit-row"] td:nth-child(5)')?.textContent === agent);
  return t1 - t0;
}

/** Searches (the box, then Enter): ms until the whole log's first page of matches is shown. */
async function auditViewSearch(text, expect) {
  const root = auditView();
  const pages = pagesOf(root);
  const input = root.querySelector('[data-testid="audit-search"]');
  const t0 = performance.now();
  input.value = text;
  input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }));
  const t1 = await until(
    () => pagesOf(root) > pages && root.querySelectorAll('[data-testid="audit-row"]').length >= expect,
    30_000,
    () => `${JSON.stringify({ ...tableOf(root).dataset })} ${root.querySelector('[data-testid="audit-count"]')?.textContent} ${location.hash} ${root.querySelector('.notice.error')?.textContent ?? ''}`,
  );
  return { ms: t1 - t0, rows: Number(tableOf(root).dataset.rows) };
}

/** The app open on another view, the person opens the Audit view: ms until its rows show. */
async function auditViewOpenInApp() {
  const app = document.querySelector('sandbox-app');
  location.hash = '#sessions';
  await until(() => !app.shadowRoot.querySelector('audit-view'));
  const t0 = performance.now();
  location.hash = '#audit';
  const t1 = await until(() => app.shadowRoot.querySelector('audit-view')?.shadowRoot?.querySelector('[data-testid="audit-row"]'));
  return t1 - t0;
}

/** Back to the whole trail: no filter, no search (the tail shown again). */
async function auditViewReset() {
  const root = auditView();
  const select = root.querySelector('[data-testid="filter-agent"]');
  select.value = '';
  select.dispatchEvent(new Event('change'));
  const input = root.querySelector('[data-testid="audit-search"]');
  input.value = '';
  input.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }));
  await until(() => Number(tableOf(root).dataset.rows) >= 1000 && tableOf(root).dataset.loading === 'false');
  await new Promise((resolve) => setTimeout(resolve, 200));
}

/** Scrolls the table `pxPerFrame` a frame for `ms`: the frame times (ms), and the rows loaded and rendered at the end. */
async function auditViewScroll(ms = 3000, pxPerFrame = 60) {
  const root = auditView();
  const wrap = root.querySelector('.table-wrap');
  const frames = [];
  const rendered = [];
  let last = null;
  const end = performance.now() + ms;
  await new Promise((resolve) => {
    const step = (t) => {
      if (last !== null) frames.push(t - last);
      last = t;
      rendered.push(root.querySelectorAll('[data-testid="audit-row"]').length);
      wrap.scrollTop += pxPerFrame;
      if (t < end) requestAnimationFrame(step);
      else resolve();
    };
    requestAnimationFrame(step);
  });
  return { frames, rowsLoaded: Number(tableOf(root).dataset.rows), maxRendered: Math.max(...rendered) };
}

window.bench = { agent, setup, realAnswer, contextCost, floorSdk, floorRelay, idbCommits, floorComlink, floorSwPing, registerAgents, toolsCall, sandboxOnly, executeCode, concurrent, hostCapability, uploads, auditVerify, adminScale, adminLoad, httpCall, seedAuditTo, searchIndexCost, auditViewFilter, auditViewSearch, auditViewScroll, auditViewReset, auditViewOpenInApp };
