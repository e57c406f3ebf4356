/// <reference lib="webworker" />
import type { DbHandle } from '../store/db';

const TYPES: Record<string, string> = { js: 'text/javascript; charset=utf-8', wasm: 'application/wasm' };

/**
 * Serves `<hash>/<file>` of an uploaded (or staged) tool from IndexedDB, so a tool worker's
 * `import()` of its glue and the host's fetch of its core modules are same-origin requests
 * (the worker keeps its strict CSP: `script-src 'self'`). Content-addressed, so cacheable.
 */
export async function serveToolFile(db: DbHandle, rest: string): Promise<Response> {
  const match = /^([0-9a-f]{64})\/([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$/.exec(rest);
  const record = match ? await (await db.get()).get('toolFiles', `${match[1]}/${match[2]}`) : undefined;
  if (!record) return new Response('not found', { status: 404, headers: { 'Content-Type': 'text/plain' } });
  const ext = record.file.slice(record.file.lastIndexOf('.') + 1);
  return new Response(record.bytes, {
    status: 200,
    headers: {
      'Content-Type': TYPES[ext] ?? 'application/octet-stream',
      'Content-Length': String(record.size),
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    },
  });
}
