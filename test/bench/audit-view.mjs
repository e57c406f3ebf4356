// The audit trail at size (issue 12), measured in the app: the log grown to `entries` with
// seeded calls (when it holds fewer), then the Audit view opened (three times, a fresh page
// each), filtered by agent, searched, and scrolled. Used by run.mjs and, alone, by
// `npm run build && node test/bench/audit-view.mjs` (BENCH_AUDIT_ENTRIES, default 100000).
import { stats } from './report.mjs';

export async function measureAuditView({ context, url, measure, log, entries }) {
  const v = { cost: await measure('search index: cost per entry', 'searchIndexCost', []) };
  v.seed = await measure(`audit log grown to ${entries.toLocaleString('en')} entries`, 'seedAuditTo', [entries]);
  const auditPage = await context.newPage();
  auditPage.on('pageerror', (error) => log(`audit page error: ${error.message}`));
  // What a cold open costs before any of the app runs: a file of the app with no script (its
  // manifest, answered by the service worker as the app's page is) opened the same way until its
  // body shows. Navigation, a new renderer process (the page is cross-origin isolated) and
  // Playwright's own round trips; the figures below include it.
  v.floorMs = [];
  for (let i = 0; i < 3; i++) {
    const t = Date.now();
    await auditPage.goto(`${url}manifest.webmanifest`);
    await auditPage.locator('body').waitFor({ timeout: 60_000 });
    v.floorMs.push(Date.now() - t);
    await auditPage.goto('about:blank');
  }
  // The floor of a cold open: the same page at another view (#settings, one small read) until
  // the app's shell shows, i.e. its scripts loaded, evaluated and rendered with no trail at all.
  v.shellMs = [];
  for (let i = 0; i < 3; i++) {
    const t = Date.now();
    await auditPage.goto(`${url}#settings`);
    await auditPage.locator('sandbox-app nav a').first().waitFor({ timeout: 60_000 });
    v.shellMs.push(Date.now() - t);
    await auditPage.goto('about:blank');
  }
  const opens = [];
  for (let i = 0; i < 3; i++) {
    const t = Date.now();
    await auditPage.goto(`${url}#audit`);
    await auditPage.locator('[data-testid="audit-row"]').first().waitFor({ timeout: 60_000 });
    opens.push(Date.now() - t);
    if (i < 2) await auditPage.goto('about:blank');
  }
  v.openMs = opens;
  await auditPage.evaluate(() => import('/bench/harness.js'));
  const viewMeasure = (name, args) => auditPage.evaluate(([name, args]) => window.bench[name](...args), [name, args]);
  v.openInAppMs = [];
  for (let i = 0; i < 5; i++) v.openInAppMs.push(await viewMeasure('auditViewOpenInApp', []));
  v.filterMs = [];
  for (const agent of ['seed-b', 'seed-c', 'seed-a', 'seed-d', 'seed-b']) v.filterMs.push(await viewMeasure('auditViewFilter', [agent]));
  await viewMeasure('auditViewReset', []);
  v.searchMs = [];
  for (const [text, expect] of [['seeded call 4242 ', 1], ['seeded call 1337 ', 1], ['json_query seeded', 20], ['seeded call 4242', 1], ['seeded call 999 ', 1]]) {
    const r = await viewMeasure('auditViewSearch', [text, expect]);
    v.searchMs.push(r.ms);
  }
  await viewMeasure('auditViewReset', []);
  const scroll = await viewMeasure('auditViewScroll', [3000, 60]);
  v.scroll = { frames: stats(scroll.frames), rowsLoaded: scroll.rowsLoaded, maxRendered: scroll.maxRendered };
  log(`audit view: open ${opens.join(' / ')} ms (the app's shell alone ${v.shellMs.join(' / ')} ms, a static file ${v.floorMs.join(' / ')} ms), in the app ${v.openInAppMs.map((x) => x.toFixed(0)).join(' / ')} ms, filter ${v.filterMs.map((x) => x.toFixed(0)).join(' / ')} ms, search ${v.searchMs.map((x) => x.toFixed(0)).join(' / ')} ms, scroll frames p50 ${v.scroll.frames.p50.toFixed(1)} / p99 ${v.scroll.frames.p99.toFixed(1)} ms (${scroll.rowsLoaded} rows loaded, at most ${scroll.maxRendered} rendered)`);
  await auditPage.close();
  return v;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { chromium } = await import('playwright-core');
  const { rm, writeFile } = await import('node:fs/promises');
  const { buildBenchPage } = await import('./page-build.mjs');
  const { startBenchServer } = await import('./server.mjs');
  const { table } = await import('./report.mjs');
  const { rowsOf, summaryOf } = await import('./rows.mjs');
  const ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
  const log = (text) => console.error(`[bench] ${text}`);
  const benchDir = await buildBenchPage();
  const { server, url } = await startBenchServer(benchDir, { isolated: true });
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ARGS });
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.on('pageerror', (error) => log(`page error: ${error.message}`));
    await page.goto(url);
    await page.waitForFunction(() => 'sandboxHost' in window);
    await page.evaluate(() => import('/bench/harness.js'));
    await page.evaluate(() => window.bench.setup());
    const measure = async (what, name, args) => {
      const t0 = Date.now();
      const result = await page.evaluate(([name, args]) => window.bench[name](...args), [name, args]);
      if (what) log(`${what} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      return result;
    };
    const m = { auditView: await measureAuditView({ context, url, measure, log, entries: Number(process.env.BENCH_AUDIT_ENTRIES ?? 100_000) }) };
    console.log(table(rowsOf(m)));
    if (process.env.BENCH_OUT) await writeFile(process.env.BENCH_OUT, JSON.stringify(summaryOf(m).auditView, null, 2) + '\n');
  } finally {
    await browser.close();
    server.close();
    await rm(benchDir, { recursive: true, force: true });
  }
}
