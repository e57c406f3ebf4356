/**
 * Smoke test in Firefox (Debian `firefox-esr`, headless, driven over WebDriver BiDi by
 * `puppeteer-core`): what of the sandbox runs there, and the clear error where it does not.
 * docs/browsers.md records the results. Skipped, with the reason printed, where Firefox is not
 * installed (`FIREFOX_PATH` overrides `/usr/bin/firefox-esr`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseUrl } from './harness';

const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
const hasFirefox = existsSync(FIREFOX);
if (!hasFirefox) console.warn(`[firefox-smoke] skipped: no Firefox at ${FIREFOX} (apt-get install -y firefox-esr, or set FIREFOX_PATH)`);

const csp = JSON.parse(readFileSync(new URL('../../src/shared/csp.json', import.meta.url), 'utf8')) as { app: string; toolWorker: string };

let browser: Browser | undefined;
let page: Page;
let token: string;

/** A loopback server that records every request: nothing from a locked-down worker may arrive. */
let sink: Server;
let sinkUrl: string;
const hits: string[] = [];

beforeAll(async () => {
  if (!hasFirefox) return;
  sink = createServer((req, res) => {
    hits.push(req.url ?? '');
    res.writeHead(200, { 'Access-Control-Allow-Origin': '*', 'Content-Type': 'text/javascript' });
    res.end('export default 1;');
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  browser = await puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX, headless: true });
  page = await browser.newPage();
  page.on('pageerror', (error) => console.error(`[firefox page error] ${(error as Error).message}`));
  await page.goto(baseUrl());
  await page.waitForFunction(() => 'sandboxHost' in window, { timeout: 50_000 });
}, 90_000);
afterAll(async () => {
  await browser?.close();
  if (sink) await new Promise<void>((r) => sink.close(() => r()));
});

/** Loads a built module into the page as `window[name]` (a string: the test transform must not touch `import()`). */
const importInPage = (url: string, name: string) => page.evaluate(`import(${JSON.stringify(url)}).then((m) => { window[${JSON.stringify(name)}] = m; })`);

type Result = { isError?: boolean; content: { text: string }[]; _meta?: Record<string, { code?: string; message?: string }> };

describe('Firefox (firefox-esr, headless, WebDriver BiDi)', () => {
  it.skipIf(!hasFirefox)('registers the module service worker, which controls the app page, and the app loads', async () => {
    const state = await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.ready;
      const app = document.querySelector('sandbox-app');
      return {
        scriptURL: registration.active?.scriptURL,
        controlled: navigator.serviceWorker.controller?.scriptURL ?? null,
        host: 'sandboxHost' in window,
        rendered: (app?.shadowRoot?.childElementCount ?? 0) > 0,
        ua: navigator.userAgent,
      };
    });
    expect(state.ua).toMatch(/Firefox\//);
    expect(state.scriptURL).toBe(new URL('sw.js', baseUrl()).href);
    expect(state.controlled).toBe(state.scriptURL);
    expect(state.host).toBe(true);
    expect(state.rendered).toBe(true);
  });

  it.skipIf(!hasFirefox)('lets an agent page connect with the SDK client and list its tools', async () => {
    await importInPage('/admin.js', 'sandboxAdminLib');
    await importInPage('/client.js', 'sandboxClientLib');
    const origin = new URL(baseUrl()).origin;
    token = await page.evaluate(async (origin) => {
      const w = window as unknown as { sandboxAdminLib: { createAdminClient(): Promise<{ request(m: string, p: unknown): Promise<{ token: string }> }> } };
      const admin = await w.sandboxAdminLib.createAdminClient();
      return (await admin.request('agents.register', { id: 'firefox-agent', name: 'firefox-agent', trustLevel: 'FullyTrusted', origins: [origin] })).token;
    }, origin);
    const listed = await page.evaluate(async (token) => {
      type Client = { transport: { sessionId: string }; listTools(): Promise<{ tools: { name: string }[] }> };
      const w = window as unknown as { sandboxClientLib: { connect(o: unknown): Promise<Client> }; agent: Client };
      w.agent = await w.sandboxClientLib.connect({ agent: 'firefox-agent', token });
      return { sessionId: w.agent.transport.sessionId, tools: (await w.agent.listTools()).tools.map((t) => t.name) };
    }, token);
    expect(listed.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(listed.tools).toEqual(expect.arrayContaining(['text_stats', 'json_query', 'execute_code']));
  });

  it.skipIf(!hasFirefox)('fails a bundled tool at once with load-failed naming the cause: Firefox keeps a compiled module out of the CSP-locked worker', async () => {
    const calls = await page.evaluate(async () => {
      const agent = (window as unknown as { agent: { callTool(p: unknown): Promise<Result> } }).agent;
      const timed = async (name: string, args: unknown) => {
        const t0 = performance.now();
        const result = await agent.callTool({ name, arguments: args });
        return { ms: performance.now() - t0, result };
      };
      return [await timed('text_stats', { text: 'Hello there. Two sentences!' }), await timed('execute_code', { language: 'javascript', code: 'return 1 + 1' })];
    });
    for (const { ms, result } of calls) {
      expect(result.isError).toBe(true);
      const error = result._meta?.['mcp-sandbox/error'];
      expect(error?.code).toBe('load-failed');
      expect(error?.message).toContain('does not pass a compiled WebAssembly.Module into a worker whose CSP forbids wasm compilation');
      // Not a timeout at the tool's deadline (text_stats: 2000 ms): the worker says so at once.
      expect(ms).toBeLessThan(1000);
    }
    // The sandbox still answers: the agent's session is alive and the refusal was audited.
    const audited = await page.evaluate(async () => {
      const w = window as unknown as { sandboxAdminLib: { createAdminClient(): Promise<{ request(m: string): Promise<{ event: string; tool: string; error: { code: string } | null }[]> }> } };
      const admin = await w.sandboxAdminLib.createAdminClient();
      return (await admin.request('audit.list')).filter((e) => e.event === 'call.result' && e.tool === 'text_stats').map((e) => e.error?.code);
    });
    expect(audited).toContain('load-failed');
  });

  it.skipIf(!hasFirefox)('runs execute_code in Python: Pyodide lives in its own opaque frame and compiles its own wasm there', async () => {
    const { ms, result } = await page.evaluate(async () => {
      const agent = (window as unknown as { agent: { callTool(p: unknown): Promise<Result & { structuredContent?: { stdout: string } }> } }).agent;
      const t0 = performance.now();
      const result = await agent.callTool({ name: 'execute_code', arguments: { language: 'python', code: 'print(6 * 7)' } });
      return { ms: performance.now() - t0, result };
    });
    expect(result.isError, JSON.stringify(result._meta)).toBeFalsy();
    expect(result.structuredContent?.stdout).toBe('42\n');
    console.info(`[firefox-smoke] first Python call (cold Pyodide): ${Math.round(ms)} ms`);
  }, 90_000);

  it.skipIf(!hasFirefox)('lets an agent on another origin connect through the connector iframe', async () => {
    const site = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>agent site</title>');
    });
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
    const siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}/`;
    const remoteToken = await page.evaluate(async (origin) => {
      const w = window as unknown as { sandboxAdminLib: { createAdminClient(): Promise<{ request(m: string, p: unknown): Promise<{ token: string }> }> } };
      const admin = await w.sandboxAdminLib.createAdminClient();
      return (await admin.request('agents.register', { id: 'firefox-remote', name: 'firefox-remote', trustLevel: 'FullyTrusted', origins: [origin] })).token;
    }, new URL(siteUrl).origin);
    const sitePage = await browser!.newPage();
    try {
      await sitePage.goto(siteUrl);
      await sitePage.evaluate(`import(${JSON.stringify(new URL('/client.js', baseUrl()).href)}).then((m) => { window.sandboxClientLib = m; })`);
      const remote = await sitePage.evaluate(
        async (sandbox, token) => {
          type Client = { listTools(): Promise<{ tools: { name: string }[] }> };
          const lib = (window as unknown as { sandboxClientLib: { connectRemote(o: unknown): Promise<Client> } }).sandboxClientLib;
          const client = await lib.connectRemote({ sandbox, agent: 'firefox-remote', token });
          return (await client.listTools()).tools.map((t) => t.name);
        },
        baseUrl(),
        remoteToken,
      );
      expect(remote).toContain('text_stats');
    } finally {
      await sitePage.close();
      await new Promise<void>((r) => site.close(() => r()));
    }
  });

  it.skipIf(!hasFirefox)("enforces the real tool worker's CSP: a cross-origin import is refused and a posted Module is refused", async () => {
    hits.length = 0;
    const outcome = await page.evaluate(async (sinkUrl) => {
      // The app's own tool worker script (through the service worker), spoken to in Comlink's wire format.
      const worker = new Worker('/tool-worker.js', { type: 'module' });
      const ask = (value: unknown) =>
        new Promise<unknown>((resolve) => {
          const id = String(Math.random());
          worker.addEventListener('message', (e: MessageEvent<{ id?: string; kind?: string; value?: unknown }>) => {
            if (e.data?.id === id) resolve(e.data.value);
            else if (e.data?.kind) resolve(e.data.kind);
          });
          worker.postMessage({ id, type: 'APPLY', path: ['run'], argumentList: [{ type: 'RAW', value }] });
          setTimeout(() => resolve('no answer'), 5000);
        });
      const job = { glueUrl: `${sinkUrl}/glue.js`, modules: {}, entry: 'call', args: '{}', memoryBytes: 1 << 20 };
      const crossOrigin = (await ask(job)) as { ok: boolean; error: { code: string } };
      const module = await WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
      const posted = await ask({ ...job, glueUrl: '/no-such-glue.js', modules: { m: module } });
      worker.terminate();
      return { crossOrigin, posted };
    }, sinkUrl);
    expect(outcome.crossOrigin).toMatchObject({ ok: false, error: { code: 'load-failed' } });
    expect(outcome.posted).toBe('mcp-sandbox/tool-worker-messageerror');
    await new Promise((r) => setTimeout(r, 200));
    expect(hits).toEqual([]);
  });

  it.skipIf(!hasFirefox)("enforces a worker script's CSP header (the tool worker's): every way out is blocked, while the same script without it gets out", async () => {
    // A page and two copies of one worker script on a loopback origin of their own: the CSP
    // header (csp.json's toolWorker) is the only difference. Firefox cannot evaluate inside a
    // worker over BiDi here, so the worker reports what it could do.
    const probe = createServer((req, res) => {
      if (req.url === '/') {
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': csp.app });
        res.end('<!doctype html><title>worker CSP probe</title>');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/javascript', ...(req.url === '/strict.js' ? { 'Content-Security-Policy': csp.toolWorker } : {}) });
      res.end(PROBE_WORKER);
    });
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const probePage = await browser!.newPage();
    try {
      await probePage.goto(`http://127.0.0.1:${(probe.address() as AddressInfo).port}/`);
      const run = (script: string) =>
        probePage.evaluate(
          (script, sinkUrl) =>
            new Promise<Record<string, string>>((resolve, reject) => {
              const worker = new Worker(script, { type: 'module' });
              worker.onmessage = (e: MessageEvent<Record<string, string>>) => (worker.terminate(), resolve(e.data));
              worker.onerror = (e) => reject(new Error(e.message));
              worker.postMessage(sinkUrl);
            }),
          script,
          sinkUrl,
        );
      hits.length = 0;
      const strict = await run('/strict.js');
      await new Promise((r) => setTimeout(r, 200));
      const strictHits = [...hits];
      hits.length = 0;
      const open = await run('/open.js');
      await new Promise((r) => setTimeout(r, 200));
      expect(strict).toEqual({ fetch: 'blocked', import: 'blocked', xhr: 'blocked', websocket: 'blocked', eventsource: 'blocked', 'wasm-compile': 'blocked', jspi: 'function' });
      expect(strictHits).toEqual([]);
      // The control: the same script without the header reaches the sink and compiles wasm.
      expect(open).toMatchObject({ fetch: 'allowed', import: 'allowed', xhr: 'allowed', 'wasm-compile': 'allowed' });
      expect(hits).toEqual(expect.arrayContaining(['/fetch', '/import.js', '/xhr']));
    } finally {
      await probePage.close();
      await new Promise<void>((r) => probe.close(() => r()));
    }
  });

  it.skipIf(!hasFirefox)('has JSPI (WebAssembly.Suspending, WebAssembly.promising), no File System Access picker (the Tools view says so) and no WebMCP', async () => {
    const features = await page.evaluate(() => ({
      suspending: typeof (WebAssembly as { Suspending?: unknown }).Suspending,
      promising: typeof (WebAssembly as { promising?: unknown }).promising,
      showDirectoryPicker: typeof (window as { showDirectoryPicker?: unknown }).showDirectoryPicker,
      opfs: typeof navigator.storage?.getDirectory,
      pickerSupported: (window as unknown as { sandboxHost: { folders: { pickerSupported: boolean } } }).sandboxHost.folders.pickerSupported,
      webmcp: typeof (document as { modelContext?: unknown }).modelContext,
    }));
    expect(features).toEqual({ suspending: 'function', promising: 'function', showDirectoryPicker: 'undefined', opfs: 'function', pickerSupported: false, webmcp: 'undefined' });
    await page.evaluate(() => (location.hash = '#tools'));
    const notice = await page.waitForSelector('>>> [data-testid=folder-unsupported]', { timeout: 10_000 });
    expect(await notice!.evaluate((e) => e.textContent?.replace(/\s+/g, ' ').trim())).toContain('needs the File System Access API');
    const addButton = await page.waitForSelector('>>> [data-testid=folder-add]');
    expect(await addButton!.evaluate((b) => (b as HTMLButtonElement).disabled)).toBe(true);
  });
});

/** The probe worker: tries each way out, compiles wasm, reports JSPI. */
const PROBE_WORKER = `
self.onmessage = async ({ data: base }) => {
  const report = {};
  const attempt = async (name, run) => { try { await run(); report[name] = 'allowed'; } catch { report[name] = 'blocked'; } };
  await attempt('fetch', () => fetch(base + '/fetch'));
  await attempt('import', () => import(base + '/import.js'));
  await attempt('xhr', () => new Promise((ok, fail) => { const x = new XMLHttpRequest(); x.open('GET', base + '/xhr'); x.onload = ok; x.onerror = fail; x.send(); }));
  await attempt('websocket', () => new Promise((ok, fail) => { const ws = new WebSocket(base.replace('http', 'ws') + '/ws'); ws.onopen = ok; ws.onerror = fail; }));
  await attempt('eventsource', () => new Promise((ok, fail) => { const es = new EventSource(base + '/sse'); es.onopen = ok; es.onerror = () => { es.close(); fail(new Error('error')); }; }));
  await attempt('wasm-compile', () => WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])));
  report.jspi = typeof WebAssembly.Suspending;
  postMessage(report);
};
`;
