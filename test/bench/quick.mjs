// `npm run build && node test/bench/quick.mjs`: the two call-path figures alone (warm tools/call
// p50/p99 of one agent, and calls/s of 8 agents at once), for iterating on the call path in
// about a minute. `npm run bench` is the measure of record.
import { chromium } from 'playwright-core';
import { rm } from 'node:fs/promises';
import { buildBenchPage } from './page-build.mjs';
import { startBenchServer } from './server.mjs';
import { stats } from './report.mjs';

const N = Number(process.env.BENCH_N ?? 1000);
const ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const POLICY = { version: 1, session: { callsPerMinute: 100_000, maxCalls: 10_000_000 } };

const benchDir = await buildBenchPage();
const { server, url } = await startBenchServer(benchDir, { isolated: true });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ARGS });
try {
  const page = await (await browser.newContext()).newPage();
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
  await page.goto(url);
  await page.waitForFunction(() => 'sandboxHost' in window);
  await page.evaluate(() => import('/bench/harness.js'));
  await page.evaluate(() => window.bench.setup());
  const crowd = Array.from({ length: 8 }, (_, i) => `quick-${i}`);
  await page.evaluate(([agents, policy]) => window.bench.registerAgents(agents, policy), [['quick', ...crowd], POLICY]);
  const floor = stats(await page.evaluate((n) => window.bench.floorRelay(n), N));
  const call = stats(await page.evaluate((n) => window.bench.toolsCall(n, 'quick'), N));
  const tp = await page.evaluate(([n, agents]) => window.bench.concurrent(n, agents), [N, crowd]);
  const f = (v) => v.toFixed(3);
  console.log(`relay floor (b) p50 ${f(floor.p50)} p99 ${f(floor.p99)} ms`);
  console.log(`tools/call      p50 ${f(call.p50)} p99 ${f(call.p99)} ms`);
  console.log(`8 agents        ${(N / (tp.ms / 1000)).toFixed(0)} calls/s, p50 ${f(stats(tp.samples).p50)} ms`);
} finally {
  await browser.close();
  server.close();
  await rm(benchDir, { recursive: true, force: true });
}
