// The app as the bridge runs it: dist/ served on a loopback port, opened in Chromium with a
// persistent profile, an app window kept open (it hosts the tool workers), the service worker
// in control. Shared by the bridge (scripts/bridge.mjs) and the conformance run, which prepares
// its profile with the same code before it starts the bridge.
import { chromium } from 'playwright-core';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from './serve.mjs';

export const DEFAULT_AGENT = 'desktop-bridge';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * @param {{ profile: string, port: number, executablePath: string, headless?: boolean, log?: (text: string) => void }} options
 */
export async function openApp({ profile, port, executablePath, headless = true, log = () => undefined }) {
  const root = fileURLToPath(new URL('../dist/', import.meta.url));
  if (!(await stat(join(root, 'sw.js')).catch(() => null))) throw new Error('the app is not built: run `npm run build` first');
  await mkdir(profile, { recursive: true });
  const { server, url } = await startServer({ root, port, host: '127.0.0.1' });
  // Signals are the bridge's to handle: it answers what is in flight before closing the browser.
  const context = await chromium.launchPersistentContext(profile, { executablePath, headless, args: ARGS, handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (error) => log(`app page error: ${error.message}`));
  await page.goto(url);
  await page.waitForFunction(() => 'sandboxHost' in window);
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
  });
  /**
   * One admin request, made by the app page (the admin API answers only the app's own windows).
   * A string, so that a test runner's transform of this file leaves the page's import() alone.
   */
  const admin = (method, params) =>
    page.evaluate(`import('/admin.js').then(async (m) => (await m.createAdminClient()).request(${JSON.stringify(method)}, ${JSON.stringify(params ?? null)} ?? undefined))`);
  const close = async () => {
    await context.close();
    await new Promise((r) => server.close(r));
  };
  return { page, context, server, url, origin: new URL(url).origin, admin, close };
}

/** Where the bridge keeps a registered agent's token: beside the profile, readable by its owner only. */
export const agentTokenFile = (profile, agent) => join(dirname(profile), `${agent}.token.json`);

export async function keepAgentToken(profile, agent, origin, token) {
  await writeFile(agentTokenFile(profile, agent), JSON.stringify({ origin, token }), { mode: 0o600 });
}

/**
 * The token of the agent the bridge acts as. Kept beside the profile; the default agent is
 * registered (Trusted) or given a new token when there is none. Another agent's token is never
 * rotated behind its owner's back: it must be kept there first (or the agent not exist yet).
 */
export async function agentToken(app, profile, agent) {
  const kept = await readFile(agentTokenFile(profile, agent), 'utf8').then(JSON.parse, () => null);
  if (kept?.origin === app.origin && typeof kept.token === 'string') return kept.token;
  const known = (await app.admin('agents.list')).some((a) => a.id === agent);
  if (known && agent !== DEFAULT_AGENT) {
    throw new Error(`no token kept for agent ${agent}: write {"origin": "${app.origin}", "token": "<its token>"} to ${agentTokenFile(profile, agent)}`);
  }
  const made = known
    ? await app.admin('agents.rotateToken', { id: agent })
    : await app.admin('agents.register', { id: agent, name: agent === DEFAULT_AGENT ? 'Desktop MCP clients (bridge)' : agent, trustLevel: 'Trusted', origins: [app.origin] });
  await keepAgentToken(profile, agent, app.origin, made.token);
  return made.token;
}
