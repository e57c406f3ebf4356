/**
 * Where the Python memory snapshot is kept: the app origin's Cache Storage (never the frame's:
 * an opaque origin has no storage, and the frame is untrusted). One entry, named by everything
 * the snapshot depends on; making a new one drops the others.
 */

/** Not `mcp-sandbox-…`: the service worker deletes those caches when a new build installs. */
export const SNAPSHOT_CACHE = 'python-snapshot';

function keyUrl(baseUrl: string, id: string): string {
  return new URL(`__python-snapshot/${encodeURIComponent(id)}`, baseUrl).href;
}

export async function loadSnapshot(baseUrl: string, id: string): Promise<ArrayBuffer | null> {
  if (typeof caches === 'undefined') return null;
  try {
    const cache = await caches.open(SNAPSHOT_CACHE);
    const response = await cache.match(keyUrl(baseUrl, id));
    return response ? await response.arrayBuffer() : null;
  } catch {
    return null;
  }
}

export async function saveSnapshot(baseUrl: string, id: string, bytes: ArrayBuffer): Promise<void> {
  if (typeof caches === 'undefined') return;
  try {
    const cache = await caches.open(SNAPSHOT_CACHE);
    const url = keyUrl(baseUrl, id);
    for (const request of await cache.keys()) if (request.url !== url) await cache.delete(request);
    await cache.put(url, new Response(bytes, { headers: { 'Content-Type': 'application/octet-stream' } }));
  } catch {
    // Storage full or unavailable: the next load makes the snapshot again.
  }
}

export async function dropSnapshot(baseUrl: string, id: string): Promise<void> {
  if (typeof caches === 'undefined') return;
  try {
    await (await caches.open(SNAPSHOT_CACHE)).delete(keyUrl(baseUrl, id));
  } catch {
    // nothing to drop
  }
}
