#!/usr/bin/env node
// Renders the PWA's PNG icons from public/icon.svg (192 and 512 px; the maskable ones with the
// safe-zone margin the spec asks for) and, with --screenshots, screenshots of the running app for
// the manifest and the README (start it first: `npm start`, then
// `node scripts/render-images.mjs --screenshots http://127.0.0.1:4173/`; `--only playground` or
// `--only audit` renders one of the two). Uses the same headless Chromium as the tests. The
// outputs are committed; run this again when the icon or the UI changes.
//
// The audit screenshots (audit, audit-call, audit-json, audit-search; 1280×800) show a log of
// seeded calls (test/browser/support/seed-audit.ts, bundled here with Vite) with real calls of an
// agent on top; run them on a fresh browser profile, as this script does.
//
// The playground screenshot is a real exchange: a scripted OpenAI-compatible chat-completions
// server on loopback (streaming, as test/browser/playground.test.ts's) asks for one tool call and
// then for a call the policy denies, and the demo agent page runs them in the sandbox.
import { chromium } from 'playwright-core';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const at = (p) => fileURLToPath(new URL(p, import.meta.url));

/** The scripted model: a tool call, then an answer with its result; a denied call, then a retry. */
async function scriptedModel() {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const send = async (res, deltas, finish) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Access-Control-Allow-Origin': '*' });
    const chunk = (delta, finish_reason = null) => `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', model: 'scripted', choices: [{ index: 0, delta, finish_reason }] })}\n\n`;
    for (const delta of deltas) {
      res.write(chunk(delta));
      await sleep(20);
    }
    res.write(chunk({}, finish));
    res.end('data: [DONE]\n\n');
  };
  const call = (id, name, args) => [{ role: 'assistant', tool_calls: [{ index: 0, id, type: 'function', function: { name, arguments: JSON.stringify(args) } }] }];
  const say = (text) => [{ role: 'assistant', content: text }];
  const server = createServer(async (req, res) => {
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Headers': 'content-type, authorization', 'Access-Control-Allow-Methods': 'POST' });
      return res.end();
    }
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const { messages } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const last = messages.map((m) => m.role).lastIndexOf('user');
    const ask = messages[last].content;
    const results = messages.slice(last + 1).filter((m) => m.role === 'tool');
    if (ask.includes('How many words')) {
      if (!results.length) return send(res, call('call_1', 'text_stats', { text: 'Tamper-evident logs make reviews easy, and WebAssembly tools stay in their sandbox.' }), 'tool_calls');
      const stats = JSON.parse(results[0].content);
      return send(res, say(`${stats.words} words in ${stats.sentences ?? 1} sentence${stats.sentences === 1 ? '' : 's'} — counted by text_stats in the sandbox.`), 'stop');
    }
    if (!results.length) return send(res, call('call_2', 'fetch_url', { url: 'https://malware.example.com/payload' }), 'tool_calls');
    return send(res, say('The sandbox refused that fetch (policy-denied: the domain is blocked for this agent), so I did not load it.'), 'stop');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}/v1`, close: () => new Promise((r) => server.close(r)) };
}
/** Seeded calls (two entries each) the audit screenshots' log starts with. */
const AUDIT_SEEDED_CALLS = 2_500;

/** test/browser/support/seed-audit.ts bundled as a script that defines `window.seedAudit`. */
async function seedScript() {
  const { build } = await import('vite');
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const outDir = await mkdtemp(join(tmpdir(), 'seed-audit-'));
  try {
    await build({ configFile: false, logLevel: 'silent', build: { outDir, minify: false, target: 'es2022', lib: { entry: at('../test/browser/support/seed-audit.ts'), formats: ['iife'], name: 'seedAudit', fileName: () => 'seed.js' } } });
    return await readFile(join(outDir, 'seed.js'), 'utf8');
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

const svg = await readFile(at('../public/icon.svg'), 'utf8');
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--headless=new', '--no-sandbox', '--disable-gpu'] });
try {
  const page = await browser.newPage();
  for (const size of [192, 512]) {
    for (const maskable of [false, true]) {
      // Maskable: the icon within the central 80 % circle, the rest the background colour.
      const inner = maskable ? Math.round(size * 0.8) : size;
      await page.setViewportSize({ width: size, height: size });
      await page.setContent(`<html><body style="margin:0;width:${size}px;height:${size}px;display:grid;place-items:center;background:${maskable ? '#0f172a' : 'transparent'}">${svg.replace('<svg ', `<svg width="${inner}" height="${inner}" `)}</body></html>`);
      await page.screenshot({ path: at(`../public/icon-${maskable ? 'maskable-' : ''}${size}.png`), omitBackground: !maskable });
    }
  }
  const i = process.argv.indexOf('--screenshots');
  const o = process.argv.indexOf('--only');
  const only = o >= 0 ? process.argv[o + 1] : null;
  if (i >= 0 && only !== 'audit') {
    const url = process.argv[i + 1] ?? 'http://127.0.0.1:4173/';
    const model = await scriptedModel();
    try {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const app = await context.newPage();
      await app.goto(url);
      await app.waitForFunction(() => 'sandboxHost' in window);
      await app.waitForFunction(() => (localStorage.getItem('mcp-sandbox-demo-agents') ?? '').includes('demo-trusted'), null, { timeout: 15_000 });
      const demo = await context.newPage();
      await demo.goto(new URL('agent.html#demo-trusted', url).href);
      await demo.getByTestId('demo-status').filter({ hasText: 'connected as demo-trusted' }).waitFor();
      await demo.getByTestId('pg-url').fill(model.url);
      await demo.getByTestId('pg-model').fill('scripted');
      const ask = async (text, done) => {
        await demo.getByTestId('pg-input').fill(text);
        await demo.getByTestId('pg-send').click();
        await demo.getByTestId('pg-assistant').filter({ hasText: done }).waitFor({ timeout: 30_000 });
        await demo.locator('[data-testid=pg-send]:not([disabled])').waitFor();
      };
      await ask('How many words are in my sentence about the sandbox?', 'counted by text_stats');
      await ask('Now fetch https://malware.example.com/payload for me.', 'refused that fetch');
      // The whole conversation in one picture (the chat scrolls on the page).
      await demo.getByTestId('pg-chat').evaluate((el) => Object.assign(el.style, { maxHeight: 'none', height: 'auto', overflow: 'visible' }));
      const playground = demo.locator('section[aria-labelledby=playground-title]');
      await playground.scrollIntoViewIfNeeded();
      await playground.screenshot({ path: at('../public/screenshots/playground.png') });
      console.log('wrote public/screenshots/playground.png');
      await context.close();
    } finally {
      await model.close();
    }
  }
  if (i >= 0 && only !== 'playground') {
    const url = process.argv[i + 1] ?? 'http://127.0.0.1:4173/';
    const shot = (name) => at(`../public/screenshots/${name}.png`);
    const app = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await app.goto(url);
    await app.waitForFunction(() => 'sandboxHost' in window);
    // A log of some size first: calls seeded through the store's own AuditLog (the chain, hashes,
    // aggregates and search terms the service worker writes; test/browser/support/seed-audit.ts).
    await app.evaluate(await seedScript());
    await app.evaluate((n) => window.seedAudit.seed(n, ['data-pipeline', 'code-reviewer', 'support-bot'], ['text_stats', 'json_query', 'fetch_url']), AUDIT_SEEDED_CALLS);
    // Then real traffic on top, so the newest rows are real calls: an agent calls, and is refused.
    await app.evaluate(async () => {
      const { createAdminClient } = await import('/admin.js');
      const { connect } = await import('/client.js');
      const admin = await createAdminClient();
      const id = `research-${Date.now().toString(36)}`;
      const { token } = await admin.request('agents.register', { id, name: 'Research assistant', trustLevel: 'Trusted', origins: [location.origin] });
      const client = await connect({ agent: id, token });
      for (const text of ['The quick brown fox jumps over the lazy dog.', 'Tamper-evident logs make reviews easy.', 'WebAssembly tools, sandboxed in the browser.']) await client.callTool({ name: 'text_stats', arguments: { text } });
      await client.callTool({ name: 'fetch_url', arguments: { url: 'https://malware.example.com/payload' } });
      await client.callTool({ name: 'json_query', arguments: { json: JSON.stringify({ release: { name: 'sandbox', tags: ['wasm', 'mcp', 'audit'], checks: { chain: 'intact', entries: 42 } } }), path: '$.release' } });
    });
    const view = app.locator('audit-view');
    /** Folds the charts (the rows are the subject); the view keeps them folded across hash changes. */
    const foldCharts = async () => {
      const panel = view.getByTestId('audit-charts-panel');
      if (await panel.evaluate((d) => d.open)) await panel.locator('summary').click();
    };
    const settle = async () => {
      await app.locator('[data-testid="audit-row"]').first().waitFor({ timeout: 30_000 });
      await app.locator('[data-testid="chart-rate"]').waitFor({ state: 'attached', timeout: 30_000 });
      await app.waitForTimeout(800);
    };
    // 1. The trail, one row per call (the charts folded: the rows are the subject).
    await app.goto(new URL('#audit', url).href);
    await app.waitForFunction(() => 'sandboxHost' in window);
    await settle();
    await foldCharts();
    await view.getByTestId('audit-by-call').check();
    await app.waitForTimeout(500);
    await app.screenshot({ path: shot('audit') });
    // 2. A call expanded: its entries (request → result) and the hash chain.
    await view.locator('[data-testid="audit-row"]', { hasText: 'json_query' }).first().click();
    await view.getByTestId('audit-details').waitFor();
    await app.waitForTimeout(500);
    await app.screenshot({ path: shot('audit-call') });
    // 3. The JSON viewer: the call's output, parsed and folded, with copy.
    await view.getByTestId('audit-details-json').scrollIntoViewIfNeeded();
    await view.getByTestId('audit-details').screenshot({ path: shot('audit-json') });
    // 4. A search over the whole log (the index, not the rows loaded).
    await app.goto(new URL('#audit', url).href);
    await settle();
    await foldCharts();
    await view.getByTestId('audit-search').fill('sandbox');
    await view.getByTestId('audit-search').press('Enter');
    await view.getByTestId('audit-count').filter({ hasText: 'matching' }).waitFor({ timeout: 30_000 });
    await app.waitForTimeout(800);
    await app.screenshot({ path: shot('audit-search') });
    console.log('wrote public/screenshots/audit{,-call,-json,-search}.png');
  }
  console.log('wrote public/icon-{,maskable-}{192,512}.png');
} finally {
  await browser.close();
}
