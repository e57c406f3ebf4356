// The app's own static server (scripts/serve.mjs) on dist/, plus the benchmark's page code at
// /bench/ from the folder page-build.mjs wrote. Same origin, so the app page can import it and
// the service worker (scope /) sees its requests like any other.
//
// With `isolated`, every response also carries COOP/COEP, which makes the page, the service
// worker and the workers cross-origin isolated. That changes nothing the app does (it loads
// nothing cross-origin) except the clock: Chromium rounds `performance.now()` to 100 µs (with
// jitter) in a context that is not isolated, and to 5 µs in one that is. Floors of 0.1–0.3 ms
// cannot be told apart at 100 µs.
import { readFile } from 'node:fs/promises';
import { join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../scripts/serve.mjs';

const TYPES = { '.js': 'text/javascript; charset=utf-8', '.html': 'text/html; charset=utf-8', '.wasm': 'application/wasm' };

export async function startBenchServer(benchDir, { isolated = true } = {}) {
  const { server, url } = await startServer({ root: fileURLToPath(new URL('../../dist/', import.meta.url)), port: 0 });
  const [app] = server.listeners('request');
  server.removeAllListeners('request');
  server.on('request', (req, res) => {
    if (isolated) {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
      res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    }
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (!path.startsWith('/bench/')) return app.call(server, req, res);
    const file = normalize(join(benchDir, decodeURIComponent(path.slice('/bench/'.length))));
    if (!file.startsWith(normalize(benchDir + sep))) return void res.writeHead(403).end();
    readFile(file).then(
      (body) => res.writeHead(200, { 'Content-Type': TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream', 'Cache-Control': 'no-cache' }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  return { server, url };
}
