#!/usr/bin/env node
// `npx browser-mcp-sandbox bridge --stdio`: the sandbox for desktop MCP clients (an IDE, a CLI
// agent, MCP Inspector). Runs the built app in a headless Chromium with a persistent profile (so
// agents, tools, workspace and audit survive restarts), keeps an app window open to host the
// tool workers, and relays MCP between stdin/stdout (newline-delimited JSON-RPC) and the app's
// Streamable HTTP endpoint, answered by its service worker (src/server/http-endpoint.ts). Every
// call is made as one registered agent, `desktop-bridge` (Trusted unless changed in the app), and
// goes through the same policy and audit as an in-browser one.
//
// Options: --profile DIR (default ~/.browser-mcp-sandbox/profile), --port N (the app's port,
// default 4174: the app's data belongs to its origin, so keep it), --chromium PATH (default
// $CHROMIUM_PATH or /usr/bin/chromium), --open (a visible window, to watch the audit trail).
// Logs go to stderr; stdout carries only MCP messages. Ends on stdin close, SIGINT or SIGTERM,
// after the calls in flight are answered.
import { chromium } from 'playwright-core';
import { mkdir, readFile, writeFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startServer } from './serve.mjs';

const AGENT = 'desktop-bridge';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const log = (text) => process.stderr.write(`[bridge] ${text}\n`);

const argv = process.argv.slice(2);
if (argv[0] === 'bridge') argv.shift();
const flag = (name) => argv.includes(`--${name}`);
const option = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
if (!flag('stdio')) {
  process.stderr.write('usage: browser-mcp-sandbox bridge --stdio [--profile DIR] [--port N] [--chromium PATH] [--open]\n');
  process.exit(2);
}
const profile = resolve(option('profile', join(homedir(), '.browser-mcp-sandbox', 'profile')));
const port = Number(option('port', 4174));
const executablePath = option('chromium', process.env.CHROMIUM_PATH ?? '/usr/bin/chromium');
const root = fileURLToPath(new URL('../dist/', import.meta.url));
if (!(await stat(join(root, 'sw.js')).catch(() => null))) {
  log('the app is not built: run `npm run build` first');
  process.exit(1);
}

await mkdir(profile, { recursive: true });
const { server, url } = await startServer({ root, port, host: '127.0.0.1' });
const context = await chromium.launchPersistentContext(profile, { executablePath, headless: !flag('open'), args: ARGS });
const page = context.pages()[0] ?? (await context.newPage());
page.on('pageerror', (error) => log(`app page error: ${error.message}`));
await page.goto(url);
await page.waitForFunction(() => 'sandboxHost' in window);
await page.evaluate(async () => {
  await navigator.serviceWorker.ready;
  if (!navigator.serviceWorker.controller) await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
});
const token = await agentToken();
log(`serving ${url} from ${profile} as agent ${AGENT}`);

/** The bridge agent's token, kept beside the profile; registered (or its token rotated) when there is none. */
async function agentToken() {
  const file = join(dirname(profile), `${AGENT}.token.json`);
  const kept = await readFile(file, 'utf8').then(JSON.parse, () => null);
  if (kept?.origin === new URL(url).origin && typeof kept.token === 'string') return kept.token;
  const token = await page.evaluate(async ({ id, origin }) => {
    const { createAdminClient } = await import('/admin.js');
    const admin = await createAdminClient();
    const known = (await admin.request('agents.list')).some((a) => a.id === id);
    const made = known ? await admin.request('agents.rotateToken', { id }) : await admin.request('agents.register', { id, name: 'Desktop MCP clients (bridge)', trustLevel: 'Trusted', origins: [origin] });
    return made.token;
  }, { id: AGENT, origin: new URL(url).origin });
  await writeFile(file, JSON.stringify({ origin: new URL(url).origin, token }), { mode: 0o600 });
  return token;
}

let session = null;
/** The client's initialize request, sent again if the service worker was stopped and forgot the session. */
let initialize = null;

/** One message to /mcp, from the app page; the JSON-RPC messages it answered with. */
function post(message) {
  return page.evaluate(
    async ({ message, token, session }) => {
      const headers = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', Authorization: `Bearer ${token}` };
      if (session) headers['Mcp-Session-Id'] = session;
      const response = await fetch('/mcp', { method: 'POST', headers, body: JSON.stringify(message) });
      const text = await response.text();
      const sse = (response.headers.get('content-type') ?? '').includes('text/event-stream');
      const messages = !text ? [] : sse ? text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6))) : [JSON.parse(text)];
      return { status: response.status, session: response.headers.get('mcp-session-id'), messages };
    },
    { message, token, session },
  );
}

async function relay(message) {
  const isInitialize = message?.method === 'initialize';
  if (isInitialize) {
    initialize = message;
    session = null;
  }
  let answer = await post(message);
  if (answer.status === 404 && initialize && !isInitialize) {
    // The session died with a service-worker lifetime: open another, then send this again.
    log('session gone (service worker restarted): initializing again');
    session = null;
    const again = await post(initialize);
    session = again.session;
    await post({ jsonrpc: '2.0', method: 'notifications/initialized' });
    answer = await post(message);
  }
  if (isInitialize && answer.session) session = answer.session;
  for (const m of answer.messages) {
    // An HTTP-level refusal carries no id: it answers this request.
    const out = m.id === null && message.id !== undefined ? { ...m, id: message.id } : m;
    if (out.id !== null || out.method) process.stdout.write(`${JSON.stringify(out)}\n`);
  }
}

const inFlight = new Set();
let initializing = Promise.resolve();
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (!line.trim()) return;
  let message;
  try {
    message = JSON.parse(line);
  } catch {
    process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error: a line that is not JSON' } })}\n`);
    return;
  }
  // initialize alone (after what came before it); what follows it waits for it, then may run at once.
  const run = message?.method === 'initialize' ? (initializing = Promise.all(inFlight).then(() => relay(message))) : initializing.catch(() => undefined).then(() => relay(message));
  const done = run.catch((error) => {
    log(`relay failed: ${error?.message ?? error}`);
    if (message?.id !== undefined) process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', id: message.id, error: { code: -32603, message: `the bridge could not reach the sandbox: ${error?.message ?? error}` } })}\n`);
  });
  inFlight.add(done);
  void done.finally(() => inFlight.delete(done));
});

let stopping = false;
async function stop(reason) {
  if (stopping) return;
  stopping = true;
  log(`stopping (${reason}) after ${inFlight.size} call(s) in flight`);
  await Promise.all(inFlight);
  // A result entry commits just after its reply: a read of the log opened now waits for every
  // write before it (IndexedDB orders them), so nothing those calls left is cut off.
  await page
    .evaluate(async () => {
      const { createAdminClient } = await import('/admin.js');
      await (await createAdminClient()).request('audit.tail', { limit: 1 });
    })
    .catch((error) => log(`could not wait for the log: ${error?.message ?? error}`));
  await context.close();
  server.close();
  process.exit(0);
}
lines.on('close', () => void stop('stdin closed'));
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
