// `npm run bench`: the call path in headless Chromium, each figure beside floors measured in the
// same browser and the same run (this machine is shared and noisy: ratios travel, milliseconds
// do not). Prints a table and writes bench-results.json. A missed target is reported; an error
// (a failed or timed-out call, a broken audit chain) fails the run — after printing and writing
// what was measured up to it, marked incomplete.
//
//   BENCH_N            sequential samples per latency measure, after a warm-up (default 1000)
//   BENCH_CONCURRENCY  agents calling at once for throughput and the soak (default 8)
//   BENCH_SOAK         calls of the soak (default 100000; e.g. 4000 for a quick run)
//   BENCH_UPLOADS      components uploaded for "first call of a just-registered tool" (20)
//   BENCH_ISOLATED     0: serve without COOP/COEP (the clock is then 100 µs, see server.mjs)
//   BENCH_OUT          where to write the JSON report (default bench-results.json)
//   BENCH_AUDIT_ENTRIES  entries the log is grown to (seeded calls) before the Audit view is measured (100000)
//   CHROMIUM_PATH      the browser (default /usr/bin/chromium)
import { chromium } from 'playwright-core';
import { rm, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchComponent, extismEchoPlugin } from './component.mjs';
import { buildBenchPage } from './page-build.mjs';
import { startBenchServer } from './server.mjs';
import { markdown, round, stats, table } from './report.mjs';
import { rowsOf, summaryOf, TARGETS } from './rows.mjs';
import { measureBridge } from './bridge.mjs';
import { measureAuditView } from './audit-view.mjs';

const ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const int = (name, fallback, min = 1) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer ≥ ${min}`);
  return value;
};
const N = int('BENCH_N', 1000);
const CONCURRENCY = int('BENCH_CONCURRENCY', 8);
const SOAK = int('BENCH_SOAK', 100_000, 4);
const UPLOADS = int('BENCH_UPLOADS', 20, 2);
const ISOLATED = process.env.BENCH_ISOLATED !== '0';
const OUT = process.env.BENCH_OUT ?? fileURLToPath(new URL('../../bench-results.json', import.meta.url));
/** The soak's two measured windows: its first and its last calls, 1,000 each at full size. */
const SOAK_WINDOW = Math.min(1000, Math.floor(SOAK / 4));
const SOAK_CHUNK = 5000;
/** Entries the audit log holds (seeded up to it) when the Audit view is measured. */
const AUDIT_VIEW_ENTRIES = int('BENCH_AUDIT_ENTRIES', 100_000);
/** Calls of the admin-load measure, each half (4 agents alone, then beside an admin at work). */
const ADMIN_LOAD_CALLS = Math.min(N * 2, 4000);
/** Limits no run reaches (policy schema: callsPerMinute ≤ 100,000, maxCalls ≤ 10,000,000), so the policy is evaluated on every call and allows all of them. */
const POLICY = { version: 1, session: { callsPerMinute: 100_000, maxCalls: 10_000_000 } };
const TEXT = 'The quick brown fox jumps over the lazy dog. '.repeat(4);

const log = (text) => console.error(`[bench] ${text}`);
/** What was measured: the commit, and whether the work tree differed from it (others may be editing). */
const git = (...args) => {
  try {
    return execFileSync('git', args, { cwd: fileURLToPath(new URL('../..', import.meta.url)), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
};
const source = { commit: git('rev-parse', '--short', 'HEAD'), uncommittedChanges: (git('status', '--porcelain', '--', 'src', 'tools', 'vite.config.ts') ?? '') !== '' };
const config = { samples: N, concurrency: CONCURRENCY, soakCalls: SOAK, soakWindow: SOAK_WINDOW, uploads: UPLOADS, crossOriginIsolated: ISOLATED, policy: POLICY, auditViewEntries: AUDIT_VIEW_ENTRIES };

log(`building the page code; N=${N}, ${CONCURRENCY} agents, soak ${SOAK} calls, ${UPLOADS} uploads`);
const benchDir = await buildBenchPage();
const components = [];
for (let i = 0; i < UPLOADS; i++) components.push(await benchComponent(`1.0.${i}`));
const extismPlugin = await extismEchoPlugin();

const { server, url } = await startBenchServer(benchDir, { isolated: ISOLATED });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ARGS });
const started = Date.now();
const load = { start: loadavg()[0], end: null };
/** Everything measured, filled in as the run goes; what an error leaves is still reported. */
const m = {};
let failure = null;
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (error) => log(`page error: ${error.message}`));
  await page.goto(url);
  await page.waitForFunction(() => 'sandboxHost' in window);
  await page.evaluate(() => import('/bench/harness.js'));
  const { isolated: pageIsolated } = await page.evaluate(() => window.bench.setup());
  /** Runs `window.bench[name](...args)` (or `window.peers[…]` on `on`) in the page, and logs how long it took. */
  const measure = async (what, name, args, on = page, api = 'bench') => {
    const t0 = Date.now();
    const result = await on.evaluate(([api, name, args]) => window[api][name](...args), [api, name, args]);
    if (what) log(`${what} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    return result;
  };

  const single = 'bench';
  const crowd = Array.from({ length: CONCURRENCY }, (_, i) => `bench-${i}`);
  const soakers = Array.from({ length: CONCURRENCY }, (_, i) => `bench-soak-${i}`);
  await measure(null, 'registerAgents', [[single, ...crowd, ...soakers], POLICY]);

  // Floors, each alone, nothing else running.
  m.floorSdk = stats(await measure('floor (a): SDK Client ⇄ Server', 'floorSdk', [N]));
  m.floorRelay = stats(await measure('floor (b): page → SW → worker → SW → page', 'floorRelay', [N]));
  const strict = await measure('floor (c): strict IndexedDB commits in the SW', 'idbCommits', ['strict', N]);
  m.idbStrict = stats(strict.samples);
  m.idbRelaxed = stats((await measure('relaxed IndexedDB commits in the SW', 'idbCommits', ['relaxed', N])).samples);
  m.clocks = { page: pageIsolated ? '5 µs' : '100 µs', serviceWorker: strict.isolated ? '5 µs' : '100 µs' };
  log(`clock resolution: page ${m.clocks.page}, service worker ${m.clocks.serviceWorker}`);
  m.comlink = stats(await measure('page ⇄ tool worker (Comlink)', 'floorComlink', [N]));
  m.swPing = stats(await measure('page → SW → page (admin ping)', 'floorSwPing', [N]));

  // Peers, on their own page of the same origin, one at a time.
  const { listing, answer } = await measure(null, 'realAnswer', []);
  const peersPage = await context.newPage();
  peersPage.on('pageerror', (error) => log(`peers page error: ${error.message}`));
  await peersPage.goto(`${url}bench/peers.html`);
  await peersPage.waitForFunction(() => 'peers' in window);
  m.mcpB = stats(await measure('peer: MCP-B Tab transports + SDK', 'mcpB', [N, listing, answer], peersPage, 'peers'));
  const extism = await measure('peer: Extism runInWorker', 'extism', [N, extismPlugin, TEXT], peersPage, 'peers');
  if (extism.samples) m.extism = stats(extism.samples);
  else log(`peer: Extism skipped: ${(m.extismSkipped = extism.skipped)}`);
  await peersPage.close();

  // The product.
  m.sandboxWasm = stats(await measure('sandbox alone, text_stats', 'sandboxOnly', [N, 'text_stats']));
  m.call = stats(await measure('tools/call text_stats, one agent', 'toolsCall', [N, single]));
  const conversation = await measure('tools/call without and with a conversation (context handling)', 'contextCost', [N, single]);
  m.contextPlain = stats(conversation.plain);
  m.contextNamed = stats(conversation.named);
  m.code = stats(await measure('tools/call execute_code (JavaScript)', 'executeCode', [N, single]));
  m.http = stats(await measure('tools/call over /mcp (Streamable HTTP, in the page)', 'httpCall', [N, single]));
  m.sandboxJs = stats(await measure('sandbox alone, execute_code', 'sandboxOnly', [N, 'execute_code']));
  const tp = await measure(`throughput, ${CONCURRENCY} agents`, 'concurrent', [N, crowd]);
  m.throughput = { calls: N, agents: CONCURRENCY, seconds: tp.ms / 1000, callsPerSecond: N / (tp.ms / 1000), latency: stats(tp.samples) };
  const cap = await measure('host capability (host_probe)', 'hostCapability', [N, single]);
  m.probeNone = stats(cap.none);
  m.probeRead = stats(cap.oneRead);
  const up = await measure('uploads and first calls', 'uploads', [components, Math.min(N, 200), single]);
  m.upload = { firstMs: up.uploadMs[0], warm: stats(up.uploadMs.slice(1)), firstCall: stats(up.firstCallMs), warmCall: stats(up.warm) };

  // The soak: its first and last windows are sequential calls of one agent (latency comparable
  // with the warm tools/call); the calls between are made by CONCURRENCY agents at once, which
  // grows the audit log, the rate windows and the counters quickly, as a busy sandbox would.
  log(`soak: ${SOAK} calls (windows of ${SOAK_WINDOW} sequential calls at each end, ${CONCURRENCY} agents between)`);
  const soakStarted = Date.now();
  m.soak = { calls: 0, seconds: 0, first: null, last: null, profile: [] };
  const soakStep = (label, s, extra = {}) => {
    m.soak.seconds = (Date.now() - soakStarted) / 1000;
    m.soak.profile.push({ calls: m.soak.calls, phase: label, p50: round(s.p50), p99: round(s.p99), max: round(s.max), ...extra });
  };
  m.soak.first = stats(await measure(null, 'toolsCall', [SOAK_WINDOW, soakers[0], 0]));
  m.soak.calls = SOAK_WINDOW;
  soakStep('first window, 1 agent', m.soak.first);
  const endOfMiddle = SOAK - SOAK_WINDOW;
  while (m.soak.calls < endOfMiddle) {
    const n = Math.min(SOAK_CHUNK, endOfMiddle - m.soak.calls);
    const chunk = await measure(null, 'concurrent', [n, soakers]);
    m.soak.calls += n;
    const s = stats(chunk.samples);
    const rate = Math.round(n / (chunk.ms / 1000));
    soakStep(`${CONCURRENCY} agents`, s, { callsPerSecond: rate });
    log(`soak: ${m.soak.calls.toLocaleString('en')} / ${SOAK.toLocaleString('en')} calls, ${rate} calls/s, latency p50 ${s.p50.toFixed(1)} / p99 ${s.p99.toFixed(0)} / max ${s.max.toFixed(0)} ms (${CONCURRENCY} in flight), ${Math.round(m.soak.seconds)} s`);
  }
  m.soak.last = stats(await measure(null, 'toolsCall', [SOAK_WINDOW, soakers[0], 0]));
  m.soak.calls += SOAK_WINDOW;
  soakStep('last window, 1 agent', m.soak.last);

  // Admin work on the log the soak grew (issue 14): each request at this size, then agents
  // calling with and without an admin verifying, exporting and browsing at the same time.
  m.adminScale = await measure('admin work at this size', 'adminScale', []);
  const reloadPage = await context.newPage();
  const t0 = Date.now();
  await reloadPage.goto(`${url}#audit`);
  await reloadPage.locator('[data-testid="audit-row"]').first().waitFor({ timeout: 60_000 });
  m.adminScale.auditViewOpenMs = Date.now() - t0;
  await reloadPage.close();
  const loaded = await measure(`4 agents, alone then beside an admin at work`, 'adminLoad', [ADMIN_LOAD_CALLS, soakers.slice(0, 4)]);
  m.adminLoad = { calls: ADMIN_LOAD_CALLS, agents: 4, alone: stats(loaded.alone.samples), withAdmin: stats(loaded.withAdmin.samples), aloneCallsPerSecond: ADMIN_LOAD_CALLS / (loaded.alone.ms / 1000), withAdminCallsPerSecond: ADMIN_LOAD_CALLS / (loaded.withAdmin.ms / 1000), adminRounds: loaded.rounds };

  const audit = await measure('audit.verify', 'auditVerify', []);
  m.audit = { entries: audit.count, chainVerified: audit.ok };
  if (!audit.ok) throw new Error(`the audit chain does not verify after the run: ${JSON.stringify(audit.verdict)}`);

  // The audit trail at size (issue 12): the log grown to AUDIT_VIEW_ENTRIES with seeded calls
  // (when the soak left fewer), then the Audit view opened, filtered, searched and scrolled.
  m.auditView = await measureAuditView({ context, url, measure, log, entries: AUDIT_VIEW_ENTRIES });

  // The desktop bridge, from Node (its own browser; this one stays idle).
  const t1 = Date.now();
  const bridge = await measureBridge({ n: Math.min(N, 500), text: TEXT, policy: POLICY, executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' });
  m.bridgeStdio = stats(bridge.stdio);
  m.bridgeHttp = stats(bridge.http);
  log(`desktop bridge, stdio and HTTP, from Node (${((Date.now() - t1) / 1000).toFixed(1)} s)`);
} catch (error) {
  failure = error;
  process.exitCode = 1;
} finally {
  load.end = loadavg()[0];
  const rows = rowsOf(m);
  if (rows.length) console.log(table(rows));
  const report = {
    date: new Date().toISOString(),
    complete: failure === null,
    ...(failure ? { error: String(failure?.message ?? failure).split('\n')[0] } : {}),
    chromium: browser.version(),
    node: process.version,
    source,
    cores: cpus().length,
    loadAverage1m: { start: round(load.start), end: round(load.end) },
    minutes: round((Date.now() - started) / 60_000),
    config,
    targets: TARGETS,
    ...summaryOf(m),
    rows: rows.map((r) => ({ ...r, p50: round(r.p50), p99: round(r.p99) })),
    markdown: markdown(rows),
  };
  await writeFile(OUT, JSON.stringify(report, null, 2) + '\n');
  log(`wrote ${OUT.split(/[\\/]/).pop()}${failure ? ' (INCOMPLETE)' : ''} (${report.minutes} min; load average ${report.loadAverage1m.start} → ${report.loadAverage1m.end})`);
  await browser.close();
  server.close();
  await rm(benchDir, { recursive: true, force: true });
}
if (failure) {
  console.error('[bench] FAILED:', failure);
  process.exit(1);
}
