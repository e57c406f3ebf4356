#!/usr/bin/env node
// Renders the PWA's PNG icons from public/icon.svg (192 and 512 px; the maskable ones with the
// safe-zone margin the spec asks for) and, with --screenshots, screenshots of the running app for
// the manifest and the README (start it first: `npm start`, then
// `node scripts/render-images.mjs --screenshots http://127.0.0.1:4173/`). Uses the same headless
// Chromium as the tests. The outputs are committed; run this again when the icon or the UI changes.
import { chromium } from 'playwright-core';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const at = (p) => fileURLToPath(new URL(p, import.meta.url));
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
  if (i >= 0) {
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
