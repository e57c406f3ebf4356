// `npm run build && node test/bench/soak.mjs`: the bench's soak alone, with the rate of every
// chunk, to see where a long run slows down (about 5 minutes at 100,000 calls). Sequential calls
// of one agent at each end (their p50s give the ratio `npm run bench` reports), 8 agents between,
// then the same window once more after 5 s of idle (what a pause gives back).
//   SOAK=40000       calls of the 8 agents (default 100000)
//   SOAK_TRACE=1     also trace both end windows: task time per thread and IndexedDB per call
//                    (the profiler slows calls about 2×: compare the two, not with the run)
import { chromium } from 'playwright-core';
import { rm } from 'node:fs/promises';
import { buildBenchPage } from './page-build.mjs';
import { startBenchServer } from './server.mjs';
import { indexedDbEvents, stats, traceNames } from './report.mjs';

const SOAK = Number(process.env.SOAK ?? 100_000);
const TRACE = process.env.SOAK_TRACE === '1';
const WINDOW = 1000;
const CHUNK = 5000;
const ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const POLICY = { version: 1, session: { callsPerMinute: 100_000, maxCalls: 10_000_000 } };
const crowd = Array.from({ length: 8 }, (_, i) => `soak-${i}`);

const benchDir = await buildBenchPage();
const { server, url } = await startBenchServer(benchDir, { isolated: true });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ARGS });
try {
  const page = await (await browser.newContext()).newPage();
  await page.goto(url);
  await page.waitForFunction(() => 'sandboxHost' in window);
  await page.evaluate(() => import('/bench/harness.js'));
  await page.evaluate(() => window.bench.setup());
  await page.evaluate(([agents, policy]) => window.bench.registerAgents(agents, policy), [crowd, POLICY]);
  await page.evaluate(() => window.bench.toolsCall(300, 'soak-0'));
  const window1 = async (label) => {
    if (TRACE) await browser.startTracing(page, { categories: ['IndexedDB', 'toplevel'] });
    const s = stats(await page.evaluate((n) => window.bench.toolsCall(n, 'soak-0', 0), WINDOW));
    console.log(`${label}: p50 ${s.p50.toFixed(3)} ms, p99 ${s.p99.toFixed(2)} ms`);
    if (TRACE) printTrace(JSON.parse((await browser.stopTracing()).toString()).traceEvents);
    return s;
  };
  const first = await window1('first window, 1 agent');
  const started = Date.now();
  for (let done = 0; done < SOAK; ) {
    const t0 = Date.now();
    await page.evaluate(([n, agents]) => window.bench.concurrent(n, agents), [CHUNK, crowd]);
    done += CHUNK;
    console.log(`${done.toLocaleString('en')} calls: ${Math.round(CHUNK / ((Date.now() - t0) / 1000))} calls/s (${Math.round((Date.now() - started) / 1000)} s)`);
  }
  const last = await window1('last window, 1 agent');
  console.log(`soak: last / first p50 = ${(last.p50 / first.p50).toFixed(2)}`);
  await new Promise((r) => setTimeout(r, 5000));
  const rested = await window1('after 5 s idle');
  console.log(`after idle / first p50 = ${(rested.p50 / first.p50).toFixed(2)}`);
} finally {
  await browser.close();
  server.close();
  await rm(benchDir, { recursive: true, force: true });
}

/** Task time per thread (the scheduler's RunTask events) and IndexedDB's events, per call. */
function printTrace(traceEvents) {
  const { threads, processes } = traceNames(traceEvents);
  const busy = new Map();
  for (const e of traceEvents) {
    if (e.ph !== 'X' || !e.dur || (e.name !== 'ThreadControllerImpl::RunTask' && e.name !== 'ThreadPool_RunTask')) continue;
    const key = `${processes.get(e.pid) ?? e.pid} / ${threads.get(`${e.pid}:${e.tid}`) ?? e.tid}`;
    busy.set(key, (busy.get(key) ?? 0) + e.dur);
  }
  const ms = (us) => (us / 1000 / WINDOW).toFixed(3);
  console.log('  task time per thread, ms a call:');
  for (const [key, us] of [...busy].sort((a, b) => b[1] - a[1]).slice(0, 6)) console.log(`    ${ms(us)}  ${key}`);
  console.log('  IndexedDB, ms and events a call:');
  for (const [key, d] of indexedDbEvents(traceEvents).slice(0, 8)) console.log(`    ${ms(d.us)}  ${(d.n / WINDOW).toFixed(1)}×  ${key}`);
}
