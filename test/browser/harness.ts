import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { inject } from 'vitest';

/** Flags measured to work on this machine's Debian Chromium (see DESIGN.md). */
const ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export const baseUrl = (): string => inject('baseUrl');

/** `extraArgs`: more switches, e.g. `--enable-features=WebMCPTesting`. */
export function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: [...ARGS, ...extraArgs], headless: true });
}

/** Opens the app shell (which hosts the tool workers) in a fresh profile and waits until it is ready. */
export async function openApp(browser: Browser, path = '/'): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  const page = await openPage(context, path);
  return { context, page };
}

export async function openPage(context: BrowserContext, path = '/'): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`[page error] ${error.message}`));
  await page.goto(new URL(path, baseUrl()).href);
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
  if (path === '/') await page.waitForFunction(() => 'sandboxHost' in window);
  return page;
}

/**
 * Loads a built module into the page as `window[name]`. A string, so that the test runner's
 * transform does not rewrite the browser's own `import()`.
 */
async function importInPage(page: Page, url: string, name: string): Promise<void> {
  await page.evaluate(`import(${JSON.stringify(url)}).then((m) => { window[${JSON.stringify(name)}] = m; })`);
}

/** Registers an agent through the admin API (as the app's Agents view does); returns its token. */
export async function registerAgent(page: Page, input: { id: string; trustLevel?: string; origins?: string[]; policy?: unknown }): Promise<string> {
  const origin = new URL(page.url()).origin;
  const { token } = await admin<{ token: string }>(page, 'agents.register', { name: input.id, trustLevel: 'FullyTrusted', origins: [origin], ...input });
  return token;
}

/**
 * Connects a standard SDK Client in the page (from the built client library), kept as
 * `window.agents[name]`. An `agent` without a `token` is registered first (FullyTrusted, this
 * page's origin).
 */
export async function connectAgent(page: Page, name: string, options: { agent?: string; token?: string; [k: string]: unknown } = {}): Promise<string> {
  if (options.agent && !options.token) options = { ...options, token: await registerAgent(page, { id: options.agent }) };
  await importInPage(page, '/client.js', 'sandboxClientLib');
  return page.evaluate(
    async ({ name, options }) => {
      const { connect } = (window as unknown as { sandboxClientLib: { connect(o: unknown): Promise<{ transport: { sessionId: string } }> } }).sandboxClientLib;
      const w = window as unknown as { agents?: Record<string, { transport: { sessionId: string } }> };
      w.agents ??= {};
      const client = await connect(options);
      w.agents[name] = client;
      return client.transport.sessionId as string;
    },
    { name, options },
  );
}

/** Calls an admin method from the page through the app's admin client. */
export async function admin<T = unknown>(page: Page, method: string, params?: unknown): Promise<T> {
  await importInPage(page, '/admin.js', 'sandboxAdminLib');
  return page.evaluate(
    async ({ method, params }) => {
      type Admin = { request(method: string, params?: unknown): Promise<unknown> };
      const { createAdminClient } = (window as unknown as { sandboxAdminLib: { createAdminClient(): Promise<Admin> } }).sandboxAdminLib;
      const client = await createAdminClient();
      return params === undefined ? client.request(method) : client.request(method, params);
    },
    { method, params },
  ) as Promise<T>;
}

export interface CallResult {
  isError?: boolean;
  content: { type: string; text: string }[];
  _meta?: Record<string, unknown>;
}

/** `client.callTool` in the page; returns the result, or `{ thrown }` for protocol errors. */
export async function callTool(page: Page, agent: string, name: string, args: Record<string, unknown>): Promise<CallResult & { thrown?: { code: number; message: string } }> {
  return page.evaluate(
    async ({ agent, name, args }) => {
      const client = (window as unknown as { agents: Record<string, { callTool(p: unknown): Promise<unknown> }> }).agents[agent]!;
      try {
        return (await client.callTool({ name, arguments: args })) as CallResult;
      } catch (error) {
        const e = error as { code: number; message: string };
        return { content: [], thrown: { code: e.code, message: e.message } };
      }
    },
    { agent, name, args },
  );
}

export function errorCode(result: CallResult): string | undefined {
  return (result._meta?.['mcp-sandbox/error'] as { code?: string } | undefined)?.code;
}

/**
 * Stops the service worker through the DevTools protocol and detaches, so nothing of ours stays
 * attached to keep it running; resolves once Chromium reports it stopped.
 */
export async function stopServiceWorker(context: BrowserContext, page: Page): Promise<void> {
  const cdp = await context.newCDPSession(page);
  const stopped = new Promise<void>((resolve) => {
    cdp.on('ServiceWorker.workerVersionUpdated', ({ versions }: { versions: { runningStatus: string }[] }) => {
      if (versions.length && versions.every((v) => v.runningStatus === 'stopped')) resolve();
    });
  });
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.stopAllWorkers');
  await stopped;
  await cdp.send('ServiceWorker.disable');
  await cdp.detach();
}

/** A bare page on another origin (another loopback port), standing in for an agent's site. */
export async function startAgentSite(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>agent site</title><body>agent site</body>');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Connects from a page on another origin through the sandbox's connector iframe. */
export async function connectRemoteAgent(page: Page, name: string, options: { agent: string; token: string }): Promise<{ sessionId?: string; error?: { code: number; message: string } }> {
  await importInPage(page, new URL('/client.js', baseUrl()).href, 'sandboxClientLib');
  return page.evaluate(
    async ({ name, options, sandbox }) => {
      const lib = (window as unknown as { sandboxClientLib: { connectRemote(o: unknown): Promise<{ transport: { sessionId: string } }> } }).sandboxClientLib;
      const w = window as unknown as { agents?: Record<string, unknown> };
      w.agents ??= {};
      try {
        const client = await lib.connectRemote({ ...options, sandbox });
        w.agents[name] = client;
        return { sessionId: client.transport.sessionId };
      } catch (error) {
        const e = error as { code: number; message: string };
        return { error: { code: e.code, message: e.message } };
      }
    },
    { name, options, sandbox: baseUrl() },
  );
}

/** Records the notifications an agent's client receives, as `window.notified` (method names). */
export async function recordNotifications(page: Page, agent: string): Promise<void> {
  await page.evaluate((agent) => {
    const w = window as unknown as { agents: Record<string, { fallbackNotificationHandler?: (n: { method: string }) => Promise<void> }>; notified: string[] };
    w.notified = [];
    w.agents[agent]!.fallbackNotificationHandler = async (n) => void w.notified.push(n.method);
  }, agent);
}
