// `bridge --http [host:]port`: MCP Streamable HTTP for desktop clients, relayed into the app
// page's /mcp (answered by the service worker) as the bridge's registered agent, so the same
// policy and audit apply. The service worker only sees its own pages' fetches, hence the relay.
//
// Checks, in this order, before anything reaches the page:
// - Host must name this listener: a loopback spelling (localhost, 127.0.0.1, [::1]) with its port,
//   or a host given with --allow-host. Else 403 (DNS rebinding: a page of evil.example that
//   resolves to 127.0.0.1 still sends Host: evil.example).
// - Origin, when sent, must be http://<one of those hosts> or given with --allow-origin. Else 403.
// - Authorization: Bearer <the bridge token>, compared in constant time. Else 401.
import { randomBytes, createHash, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Largest request body relayed (the service worker's transport takes 4 MiB too). */
const MAX_BODY = 4 * 1024 * 1024;
/** Request headers the endpoint reads; everything else (cookies, the client's Authorization) stays here. */
const FORWARD_REQUEST = ['content-type', 'accept', 'mcp-session-id', 'mcp-protocol-version', 'mcp-method', 'mcp-name', 'last-event-id'];
const FORWARD_RESPONSE = ['content-type', 'mcp-session-id', 'mcp-protocol-version', 'cache-control'];
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/** `8765`, `127.0.0.1:8765`, `localhost:8765`, `[::1]:8765` → { host, port } (host defaults to 127.0.0.1). */
export function parseListen(spec) {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]]+):)?(\d{1,5})$/.exec(String(spec ?? ''));
  if (!m || Number(m[2]) > 65535) throw new Error(`--http takes [host:]port, not ${JSON.stringify(spec)}`);
  return { host: m[1] ?? '127.0.0.1', port: Number(m[2]) };
}

const isLoopback = (host) => LOOPBACK_NAMES.includes(host.toLowerCase()) || host === '::1';

/** The Host header values this listener answers to (lower case, `host:port`). */
export function allowedHosts(listen, port, extra = []) {
  const names = isLoopback(listen.host) ? LOOPBACK_NAMES : [listen.host.includes(':') && !listen.host.startsWith('[') ? `[${listen.host}]` : listen.host];
  const hosts = new Set(names.map((n) => `${n.toLowerCase()}:${port}`));
  // A client may leave out the default port.
  if (port === 80) for (const n of names) hosts.add(n.toLowerCase());
  for (const h of extra) hosts.add(h.toLowerCase());
  return hosts;
}

/** The bridge token: kept in `file` (created with 32 random bytes when missing, owner-only). */
export async function bridgeToken(file) {
  const kept = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (kept) return { token: kept, created: false };
  const token = randomBytes(32).toString('base64url');
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  return { token, created: true };
}

/** Constant-time comparison (of digests, so lengths never differ). */
function sameToken(given, expected) {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function refuse(res, status, code, message, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

/**
 * Requests to the app's /mcp made by the app page (only its fetches reach the service worker),
 * with the response streamed back chunk by chunk: the page awaits each chunk's delivery, so
 * nothing is buffered whole and a slow reader slows the page's reads.
 */
export async function pageRelay(page) {
  const streams = new Map(); // id → { onHead, onChunk }
  let next = 0;
  await page.exposeFunction('__mcpBridgeOut', async (id, kind, payload) => {
    const s = streams.get(id);
    if (!s) return;
    if (kind === 'head') s.onHead(payload);
    else await s.onChunk(payload);
  });
  return {
    /**
     * @param {{ method: string, headers: Record<string, string>, body?: string }} request
     * @param {{ onHead: (head: { status: number, headers: Record<string, string> }) => void, onChunk: (text: string) => Promise<void> | void }} sink
     * @returns {{ done: Promise<void>, abort: () => Promise<void> }} done: the body was read to its end (rejects if the fetch failed or was aborted)
     */
    fetch(request, sink) {
      const id = ++next;
      streams.set(id, sink);
      const done = page
        .evaluate(
          async ({ id, method, headers, body, keep }) => {
            const aborts = (globalThis.__mcpBridgeAborts ??= new Map());
            const controller = new AbortController();
            aborts.set(id, controller);
            const out = globalThis.__mcpBridgeOut;
            try {
              const response = await fetch('/mcp', { method, headers, body, signal: controller.signal });
              const kept = {};
              for (const name of keep) {
                const value = response.headers.get(name);
                if (value !== null) kept[name] = value;
              }
              await out(id, 'head', { status: response.status, headers: kept });
              if (!response.body) return;
              const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
              for (;;) {
                const { done, value } = await reader.read();
                if (done) break;
                if (value) await out(id, 'chunk', value);
              }
            } finally {
              aborts.delete(id);
            }
          },
          { id, ...request, keep: FORWARD_RESPONSE },
        )
        .finally(() => streams.delete(id));
      const abort = () => page.evaluate((id) => globalThis.__mcpBridgeAborts?.get(id)?.abort(), id).catch(() => undefined);
      return { done, abort };
    },
  };
}

/**
 * Starts the HTTP listener. `relay` is the app page's relay (pageRelay), `agentToken` the
 * agent's bearer for /mcp, `token` the bridge token desktop clients send.
 * @returns {Promise<{ url: string, stop: () => Promise<void> }>}
 */
export async function startHttpBridge({ relay: pageFetch, agentToken, token, listen, allowHosts = [], allowOrigins = [], log }) {
  let hosts = new Set();
  let origins = new Set();
  const inFlight = new Map(); // id → { method, done: Promise, abort() }
  let next = 0;
  let stopping = false;

  const server = createServer((req, res) => {
    const host = (req.headers.host ?? '').toLowerCase();
    if (!hosts.has(host)) return refuse(res, 403, -32000, `Forbidden: Host ${JSON.stringify(req.headers.host ?? '')} is not this bridge`);
    const origin = req.headers.origin;
    if (origin !== undefined && !origins.has(origin.toLowerCase())) return refuse(res, 403, -32000, `Forbidden: Origin ${JSON.stringify(origin)} is not allowed`);
    const auth = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!auth || !sameToken(auth[1], token)) return refuse(res, 401, -32001, 'Unauthorized: send Authorization: Bearer <bridge token>', { 'WWW-Authenticate': 'Bearer realm="browser-mcp-sandbox"' });
    if (new URL(req.url ?? '/', 'http://bridge').pathname !== '/mcp') return refuse(res, 404, -32000, 'Not found: MCP is served at /mcp');
    if (!['POST', 'GET', 'DELETE'].includes(req.method ?? '')) return refuse(res, 405, -32000, 'Method not allowed', { Allow: 'POST, GET, DELETE' });
    if (stopping) return refuse(res, 503, -32000, 'the bridge is stopping');
    forward(req, res).catch((error) => {
      // A client that went away mid-body, or a page that is gone.
      log(`request failed: ${error?.message ?? error}`);
      if (!res.headersSent) refuse(res, 502, -32603, 'the bridge could not relay this request');
      else res.destroy();
    });
  });

  async function forward(req, res) {
    const chunks = [];
    let size = 0;
    for await (const chunk of req) {
      size += chunk.length;
      if (size > MAX_BODY) return refuse(res, 413, -32600, `a request body is at most ${MAX_BODY} bytes`);
      chunks.push(chunk);
    }
    const headers = { Authorization: `Bearer ${agentToken}` };
    for (const name of FORWARD_REQUEST) if (typeof req.headers[name] === 'string') headers[name] = req.headers[name];
    const id = ++next;
    let headSent = false;
    const { done: read, abort } = pageFetch.fetch(
      { method: req.method, headers, body: req.method === 'POST' ? Buffer.concat(chunks).toString('utf8') : undefined },
      {
        onHead: ({ status, headers: h }) => {
          headSent = true;
          if (status === 401) log('the app refused the agent token kept beside the profile (rotated in the app?)');
          res.writeHead(status, h);
          res.flushHeaders();
        },
        // Resolves when the socket took the chunk: a slow client slows the page's reads.
        onChunk: (text) =>
          new Promise((resolve) => {
            if (res.destroyed || res.write(text)) return resolve();
            res.once('drain', resolve);
            res.once('close', resolve);
          }),
      },
    );
    const closed = () => !res.writableFinished && abort();
    res.on('close', closed);
    const done = read
      .then(
        () => res.end(),
        (error) => {
          if (res.destroyed || res.writableEnded) return;
          if (!headSent) {
            log(`relay failed: ${error?.message ?? error}`);
            refuse(res, 502, -32603, `the bridge could not reach the sandbox: ${error?.message ?? error}`);
          } else res.end();
        },
      )
      .finally(() => {
        inFlight.delete(id);
        res.off('close', closed);
      });
    inFlight.set(id, { method: req.method, done, abort });
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host.replace(/^\[|\]$/g, ''), resolve);
  });
  const port = server.address().port;
  hosts = allowedHosts(listen, port, allowHosts);
  origins = new Set([...hosts].filter((h) => h.includes(':')).map((h) => `http://${h}`).concat(allowOrigins.map((o) => o.toLowerCase())));
  const shown = listen.host.includes(':') && !listen.host.startsWith('[') ? `[${listen.host}]` : listen.host;

  return {
    url: `http://${shown}:${port}/mcp`,
    /** Stops accepting; ends the open GET streams (they never end by themselves); waits for the other requests. */
    async stop() {
      stopping = true;
      server.close();
      for (const r of inFlight.values()) if (r.method === 'GET') void r.abort();
      await Promise.all([...inFlight.values()].map((r) => r.done));
      server.closeAllConnections();
    },
  };
}
