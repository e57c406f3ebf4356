import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { inject } from 'vitest';

/** Flags measured to work on this machine's Debian Chromium (see DESIGN.md). */
const ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export const baseUrl = (): string => inject('baseUrl');

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ARGS, headless: true });
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

/** Connects a standard SDK Client in the page (from the built client library), kept as `window.agents[name]`. */
export async function connectAgent(page: Page, name: string, options: Record<string, unknown> = {}): Promise<string> {
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
