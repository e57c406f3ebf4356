/// <reference lib="webworker" />
import { cspFor } from './worker-csp';

/** Replaced at build time by the hash of every precached file (vite.config.ts). */
const VERSION = '__MCP_SANDBOX_PRECACHE_VERSION__';
const CACHE = `mcp-sandbox-${VERSION}`;

/** Caches every file of the build, so the app and its tools work offline. */
export async function precache(scope: ServiceWorkerGlobalScope): Promise<void> {
  const listUrl = new URL('precache.json', scope.registration.scope);
  const response = await fetch(listUrl, { cache: 'no-cache' });
  if (!response.ok) return; // a dev server has no list: stay online-only
  const { files } = (await response.json()) as { files: string[] };
  const cache = await caches.open(CACHE);
  await cache.addAll(files.map((f) => new Request(new URL(f, scope.registration.scope), { cache: 'no-cache' })));
}

export async function dropOldCaches(): Promise<void> {
  for (const name of await caches.keys()) if (name.startsWith('mcp-sandbox-') && name !== CACHE) await caches.delete(name);
}

/** A content-hashed build file (`assets/<name>-<hash>.<ext>`, vite.config.ts): a new build gives it a new name. */
const HASHED = /\/assets\/[^/]+-[\w-]{8}\.[a-z\d.]+$/;

/**
 * Same-origin GETs: network first (so a new build is seen at once), the cache when offline;
 * content-hashed files from the cache first (the name changes with the content, so the cached
 * copy is the one; loading the app's modules over the network first cost the Audit view's cold
 * open about 200 ms at the bench). Tool-worker scripts get their strict CSP on either path.
 */
export async function respond(request: Request, scopeUrl: string): Promise<Response> {
  let response = HASHED.test(new URL(request.url).pathname) ? await caches.match(request, { cacheName: CACHE }) : undefined;
  if (!response) {
    try {
      response = await fetch(request);
    } catch (error) {
      const cached = await caches.match(request, { ignoreSearch: true, cacheName: CACHE });
      if (!cached) throw error;
      response = cached;
    }
  }
  const csp = cspFor(request, scopeUrl);
  if (!csp) return response;
  const headers = new Headers(response.headers);
  headers.set('Content-Security-Policy', csp);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

/** Whether this build's files are in Cache Storage, so the app works offline (and how many). */
export async function offlineStatus(): Promise<{ precached: boolean; files: number }> {
  if (typeof caches === 'undefined' || !(await caches.has(CACHE))) return { precached: false, files: 0 };
  const files = (await (await caches.open(CACHE)).keys()).length;
  // cache.addAll adds every file or none.
  return { precached: files > 0, files };
}
