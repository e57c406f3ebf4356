// Serves the built PWA (dist/) on loopback with the headers the sandbox depends on: the app's
// CSP on pages, and the tool worker's strict CSP (no network, no wasm compilation) on its script.
import { createServer } from 'node:http';
import { brotliCompress, constants, gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const csp = JSON.parse(await readFile(join(here, '../src/shared/csp.json'), 'utf8'));
// The demo agent page: the app's policy, and its playground may reach the model endpoints csp.json allows (loopback).
const agentCsp = csp.agentConnectSrc ? csp.app.replace("connect-src 'self'", `connect-src 'self' ${csp.agentConnectSrc}`) : csp.app;

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json; charset=utf-8',
  '.wit': 'text/plain; charset=utf-8',
};

/** Types worth compressing (wasm compresses about 3:1; images here are already compressed). */
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.json', '.webmanifest', '.wasm', '.css', '.svg', '.map', '.wit']);
const brotli = promisify(brotliCompress);
const gz = promisify(gzip);
/** Compressed bodies by path, encoding and modification time: each file is compressed once. */
const compressed = new Map();

/** The body in the best encoding the client accepts (brotli, then gzip), or as it is. */
async function encoded(path, info, accept) {
  const body = await readFile(path);
  if (!COMPRESSIBLE.has(extname(path)) || body.byteLength < 1024) return { body };
  const encoding = /\bbr\b/.test(accept) ? 'br' : /\bgzip\b/.test(accept) ? 'gzip' : null;
  if (!encoding) return { body };
  const key = `${encoding} ${path}`;
  let entry = compressed.get(key);
  if (entry?.mtimeMs !== info.mtimeMs) {
    const data = encoding === 'br' ? await brotli(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 9, [constants.BROTLI_PARAM_SIZE_HINT]: body.byteLength } }) : await gz(body, { level: 9 });
    entry = { mtimeMs: info.mtimeMs, data };
    compressed.set(key, entry);
  }
  return { body: entry.data, encoding };
}

export async function startServer({ root = join(here, '../dist'), port = 4173, host = '127.0.0.1' } = {}) {
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      let path = normalize(join(root, decodeURIComponent(url.pathname)));
      if (!path.startsWith(normalize(root + sep)) && path !== normalize(root)) return send(res, 403, 'forbidden');
      let info = await stat(path).catch(() => null);
      if (info?.isDirectory()) {
        path = join(path, 'index.html');
        info = await stat(path).catch(() => null);
      }
      if (!info) return send(res, 404, 'not found');
      const headers = {
        'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream',
        'Cache-Control': 'no-cache',
        'X-Content-Type-Options': 'nosniff',
      };
      if (extname(path) === '.html') headers['Content-Security-Policy'] = url.pathname === '/' + csp.connectorPath ? csp.connector : url.pathname === '/' + csp.agentPath ? agentCsp : csp.app;
      // The client library is loaded by agent pages on other origins.
      if (extname(path) === '.js') headers['Access-Control-Allow-Origin'] = '*';
      if (url.pathname === '/' + csp.toolWorkerPath) headers['Content-Security-Policy'] = csp.toolWorker;
      // The Python frame is sandboxed by its CSP (opaque origin, no network): see src/sandbox/host/python/.
      if (url.pathname === '/' + csp.pythonFramePath) headers['Content-Security-Policy'] = csp.pythonFrame;
      // Compressed for the network (the browser decodes before the service worker caches it).
      const { body, encoding } = await encoded(path, info, String(req.headers['accept-encoding'] ?? ''));
      headers['Vary'] = 'Accept-Encoding';
      if (encoding) headers['Content-Encoding'] = encoding;
      headers['Content-Length'] = String(body.byteLength);
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (error) {
      send(res, 500, String(error));
    }
  });
  await new Promise((resolve) => server.listen(port, host, resolve));
  const address = server.address();
  return { server, url: `http://${host}:${address.port}/` };
}

function send(res, status, text) {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(text);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const port = Number(process.env.PORT ?? 4173);
  const { url } = await startServer({ port });
  console.log(`Browser MCP Sandbox is running at ${url}`);
  console.log(`  app and audit trail: ${url}`);
  console.log(`  demo agent:          ${url}agent.html`);
  console.log('Press Ctrl+C to stop.');
}
