#!/usr/bin/env node
// Renders the PWA's PNG icons from public/icon.svg (192 and 512 px; the maskable ones with the
// safe-zone margin the spec asks for) and, with --screenshots, screenshots of the running app for
// the manifest and the README (start it first: `npm start`, then
// `node scripts/render-images.mjs --screenshots http://127.0.0.1:4173/`; `--only playground` or
// `--only audit` renders one of the two). Uses the same headless Chromium as the tests. The
// outputs are committed; run this again when the icon or the UI changes.
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
    const app = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await app.goto(url);
    await app.waitForFunction(() => 'sandboxHost' in window);
    // Some traffic, so the trail has something to show: an agent calls, and is refused once.
    await app.evaluate(async () => {
      const { createAdminClient } = await import('/admin.js');
      const { connect } = await import('/client.js');
      const admin = await createAdminClient();
      const id = `screenshot-${Date.now()}`;
      const { token } = await admin.request('agents.register', { id, name: 'Research assistant', trustLevel: 'Limited', origins: [location.origin] });
      const client = await connect({ agent: id, token });
      for (const text of ['The quick brown fox.', 'Tamper-evident logs make reviews easy.', 'WebAssembly tools, sandboxed.']) await client.callTool({ name: 'text_stats', arguments: { text } });
      await client.callTool({ name: 'json_query', arguments: { json: '{"a":{"b":[1,2,3]}}', path: '$.a.b[1]' } });
      await client.callTool({ name: 'fetch_url', arguments: { url: 'http://169.254.169.254/latest/meta-data' } });
    });
    await app.goto(new URL('#audit', url).href);
    await app.waitForFunction(() => 'sandboxHost' in window);
    await app.locator('[data-testid="audit-row"]').first().waitFor({ timeout: 30_000 }).catch(() => undefined);
    await app.waitForTimeout(1000);
    await app.screenshot({ path: at('../public/screenshots/audit.png') });
    console.log('wrote public/screenshots/audit.png');
  }
  console.log('wrote public/icon-{,maskable-}{192,512}.png');
} finally {
  await browser.close();
}
