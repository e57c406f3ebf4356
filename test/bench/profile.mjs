// `npm run build && node test/bench/profile.mjs`: where a warm tools/call spends its time.
// Traces PROFILE_CALLS (500) sequential text_stats calls of one agent in headless Chromium with
// V8's sampling profiler and the IndexedDB trace category, then prints, per thread, the busy
// time per call and its heaviest functions (self time), and the IndexedDB work per call.
// The profiler slows everything down (about 2×): read shares, not milliseconds.
import { chromium } from 'playwright-core';
import { rm } from 'node:fs/promises';
import { buildBenchPage } from './page-build.mjs';
import { startBenchServer } from './server.mjs';
import { indexedDbEvents, traceNames } from './report.mjs';

const CALLS = Number(process.env.PROFILE_CALLS ?? 500);
const ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const POLICY = { version: 1, session: { callsPerMinute: 100_000, maxCalls: 10_000_000 } };

const benchDir = await buildBenchPage();
const { server, url } = await startBenchServer(benchDir);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ARGS });
try {
  const page = await (await browser.newContext()).newPage();
  await page.goto(url);
  await page.waitForFunction(() => 'sandboxHost' in window);
  await page.evaluate(() => import('/bench/harness.js'));
  await page.evaluate(() => window.bench.setup());
  await page.evaluate((policy) => window.bench.registerAgents(['profiled'], policy), POLICY);
  await page.evaluate(() => window.bench.toolsCall(300, 'profiled'));
  await browser.startTracing(page, { categories: ['disabled-by-default-v8.cpu_profiler', 'v8.execute', 'IndexedDB', 'ServiceWorker', 'toplevel'] });
  const t0 = Date.now();
  const samples = await page.evaluate((n) => window.bench.toolsCall(n, 'profiled', 0), CALLS);
  const wall = Date.now() - t0;
  const { traceEvents } = JSON.parse((await browser.stopTracing()).toString());
  samples.sort((a, b) => a - b);
  console.log(`${CALLS} calls under the profiler: ${(wall / CALLS).toFixed(2)} ms/call wall, p50 ${samples[CALLS >> 1].toFixed(2)} ms\n`);
  printThreads(traceEvents);
  printIndexedDb(traceEvents);
} finally {
  await browser.close();
  server.close();
  await rm(benchDir, { recursive: true, force: true });
}

/** Self time per function, per profiled thread (V8 `Profile`/`ProfileChunk` trace events). */
function printThreads(traceEvents) {
  const { threads, processes } = traceNames(traceEvents);
  const profiles = new Map();
  for (const e of traceEvents) {
    const key = `${e.pid}:${e.id}`;
    if (e.name === 'Profile') profiles.set(key, { thread: `${e.pid}:${e.tid}`, pid: e.pid, nodes: new Map(), self: new Map() });
    if (e.name !== 'ProfileChunk' || !profiles.has(key)) continue;
    const p = profiles.get(key);
    const { cpuProfile = {}, timeDeltas = [] } = e.args.data;
    for (const node of cpuProfile.nodes ?? []) p.nodes.set(node.id, node);
    (cpuProfile.samples ?? []).forEach((id, i) => p.self.set(id, (p.self.get(id) ?? 0) + (timeDeltas[i + 1] ?? timeDeltas[i] ?? 0)));
  }
  for (const p of profiles.values()) {
    const byFunction = new Map();
    let busy = 0;
    for (const [id, us] of p.self) {
      const frame = p.nodes.get(id)?.callFrame ?? {};
      if (frame.functionName === '(idle)') continue;
      busy += us;
      const key = `${frame.functionName || '(anonymous)'}${frame.url ? `  ${frame.url.split('/').pop()}` : ''}`;
      byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    }
    if (busy < 20_000) continue;
    console.log(`${processes.get(p.pid) ?? 'process'} / ${threads.get(p.thread) ?? p.thread}: busy ${(busy / 1000 / CALLS).toFixed(2)} ms/call`);
    for (const [key, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${(us / 1000 / CALLS).toFixed(3)} ms/call  ${((100 * us) / busy).toFixed(0).padStart(3)}%  ${key}`);
    console.log('');
  }
}

/** IndexedDB trace events (complete events), by process and name: time and count per call. */
function printIndexedDb(traceEvents) {
  console.log('IndexedDB trace events (nested events overlap; per call):');
  for (const [key, d] of indexedDbEvents(traceEvents).slice(0, 20)) console.log(`  ${(d.us / 1000 / CALLS).toFixed(3)} ms  ${(d.n / CALLS).toFixed(1).padStart(5)}×  ${key}`);
}
