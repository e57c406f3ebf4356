#!/usr/bin/env node
// `npx browser-mcp-sandbox bridge --stdio | --http [host:]port`: the sandbox for desktop MCP
// clients (an IDE, a CLI agent, MCP Inspector). Runs the built app in a headless Chromium with a
// persistent profile (so agents, tools, workspace and audit survive restarts), keeps an app
// window open to host the tool workers, and relays MCP to the app's Streamable HTTP endpoint,
// answered by its service worker (src/server/http-endpoint.ts): from stdin/stdout
// (newline-delimited JSON-RPC) or from a loopback HTTP listener (scripts/bridge-http.mjs),
// streamed: what a call sends before its result (log lines, progress, a request the client must
// answer, such as sampling) reaches the client while the call runs. Every
// call is made as one registered agent (`desktop-bridge`, Trusted unless changed in the app; or
// --agent ID) and goes through the same policy and audit as an in-browser one.
//
// Options: --profile DIR (default ~/.browser-mcp-sandbox/profile), --port N (the app's port,
// default 4174: the app's data belongs to its origin, so keep it), --chromium PATH (default
// $CHROMIUM_PATH or /usr/bin/chromium), --open (a visible window, to watch the audit trail),
// --agent ID; with --http: --token-file FILE, --allow-host HOST[:PORT], --allow-origin ORIGIN
// (both repeatable). Logs go to stderr; in --stdio mode stdout carries only MCP messages. Ends on
// stdin close (--stdio), SIGINT or SIGTERM, after the requests in flight are answered.
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { agentToken, DEFAULT_AGENT, openApp } from './bridge-app.mjs';
import { bridgeToken, pageRelay, parseListen, startHttpBridge } from './bridge-http.mjs';

const log = (text) => process.stderr.write(`[bridge] ${text}\n`);
const USAGE = 'usage: browser-mcp-sandbox bridge (--stdio | --http [host:]port) [--profile DIR] [--port N] [--chromium PATH] [--open] [--agent ID]\n' + '       with --http: [--token-file FILE] [--allow-host HOST[:PORT]]... [--allow-origin ORIGIN]...\n';

const argv = process.argv.slice(2);
if (argv[0] === 'bridge') argv.shift();
const flag = (name) => argv.includes(`--${name}`);
const option = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
const options = (name) => argv.flatMap((a, i) => (a === `--${name}` && argv[i + 1] !== undefined ? [argv[i + 1]] : []));
const http = flag('http');
if (flag('stdio') === http) {
  process.stderr.write(USAGE);
  process.exit(2);
}
let listen;
try {
  listen = http ? parseListen(option('http')) : null;
} catch (error) {
  process.stderr.write(`${error.message}\n${USAGE}`);
  process.exit(2);
}
const profile = resolve(option('profile', join(homedir(), '.browser-mcp-sandbox', 'profile')));
const AGENT = option('agent', DEFAULT_AGENT);
const executablePath = option('chromium', process.env.CHROMIUM_PATH ?? '/usr/bin/chromium');

let app;
let token;
try {
  app = await openApp({ profile, port: Number(option('port', 4174)), executablePath, headless: !flag('open'), log });
  token = await agentToken(app, profile, AGENT);
} catch (error) {
  log(error?.message ?? String(error));
  await app?.close().catch(() => undefined);
  process.exit(1);
}
const { url } = app;
const toPage = await pageRelay(app.page);
log(`serving ${url} from ${profile} as agent ${AGENT}`);

if (http) {
  const tokenFile = resolve(option('token-file', join(dirname(profile), 'bridge-http.token')));
  const bridge = await bridgeToken(tokenFile);
  let listener;
  try {
    listener = await startHttpBridge({ relay: toPage, agentToken: token, token: bridge.token, listen, allowHosts: options('allow-host'), allowOrigins: options('allow-origin'), log });
  } catch (error) {
    log(`cannot listen on ${option('http')}: ${error?.message ?? error}`);
    await app.close();
    process.exit(1);
  }
  if (bridge.created) log(`new bridge token (send it as Authorization: Bearer <token>): ${bridge.token}`);
  log(`bearer token kept in ${tokenFile}`);
  log(`listening on ${listener.url}`);
  let stopping = false;
  const stop = async (reason) => {
    if (stopping) return;
    stopping = true;
    log(`stopping (${reason})`);
    await listener.stop();
    await waitForLog();
    await app.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
} else {
  startStdio();
}

/**
 * A result entry commits just after its reply: a read of the log opened now waits for every
 * write before it (IndexedDB orders them), so nothing the answered calls left is cut off.
 */
async function waitForLog() {
  await app.admin('audit.tail', { limit: 1 }).catch((error) => log(`could not wait for the log: ${error?.message ?? error}`));
}

function startStdio() {
  let session = null;
  /** The client's initialize request, sent again if the service worker was stopped and forgot the session. */
  let initialize = null;

  /**
   * One message to /mcp, from the app page. Each JSON-RPC message of the answer goes to `emit`
   * as it arrives (an SSE stream may carry log lines, progress, or a request the client must
   * answer before the call can end), unless the answer is a 404 and `retry404` is set.
   */
  async function post(message, emit, retry404 = false) {
    const headers = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', Authorization: `Bearer ${token}` };
    if (session) headers['Mcp-Session-Id'] = session;
    let head = null;
    let sse = false;
    let buffer = '';
    const take = (event) => {
      const data = event.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('\n');
      if (data && !(retry404 && head.status === 404)) emit(JSON.parse(data));
    };
    const { done } = toPage.fetch(
      { method: 'POST', headers, body: JSON.stringify(message) },
      {
        onHead: (h) => {
          head = h;
          sse = (h.headers['content-type'] ?? '').includes('text/event-stream');
        },
        onChunk: (text) => {
          buffer += text;
          if (!sse) return;
          for (let end = buffer.search(/\r?\n\r?\n/); end >= 0; end = buffer.search(/\r?\n\r?\n/)) {
            take(buffer.slice(0, end));
            buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
          }
        },
      },
    );
    await done;
    if (sse) take(buffer);
    else if (buffer.trim() && !(retry404 && head.status === 404)) emit(JSON.parse(buffer));
    return { status: head.status, session: head.headers['mcp-session-id'] ?? null };
  }

  async function relay(message) {
    const isInitialize = message?.method === 'initialize';
    if (isInitialize) {
      initialize = message;
      session = null;
    }
    // An HTTP-level refusal carries no id: it answers this request.
    const write = (m) => {
      const out = m.id === null && message.id !== undefined ? { ...m, id: message.id } : m;
      if (out.id !== null || out.method) process.stdout.write(`${JSON.stringify(out)}\n`);
    };
    const retry = Boolean(initialize) && !isInitialize;
    let answer = await post(message, write, retry);
    if (answer.status === 404 && retry) {
      // The session died with a service-worker lifetime: open another, then send this again.
      log('session gone (service worker restarted): initializing again');
      session = null;
      const again = await post(initialize, () => undefined);
      session = again.session;
      await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, () => undefined);
      answer = await post(message, write);
    }
    if (isInitialize && answer.session) session = answer.session;
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
    await waitForLog();
    await app.close();
    process.exit(0);
  }
  lines.on('close', () => void stop('stdin closed'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}
