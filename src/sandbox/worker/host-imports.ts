import type { CapabilityName, CapabilityReply } from '../../shared/wire';

type HostResult<T> = { tag: 'ok'; val: T } | { tag: 'err'; val: string };

/** Largest number of random bytes one call of `random-bytes` returns. */
const MAX_RANDOM_BYTES = 65536;

/**
 * The `mcp-sandbox:tool/host` import object for one call. Capabilities that reach beyond the
 * worker (files, HTTP, log) are requests on `port`, answered by the service worker after the
 * agent's policy decided and the use was audited; clock and random bytes are answered here,
 * as they reach nothing. With no port, every capability fails.
 */
export function hostImports(port: MessagePort | undefined): { imports: Record<string, unknown>; close(): void } {
  let nextId = 1;
  const waiting = new Map<number, (reply: CapabilityReply) => void>();
  if (port) {
    port.onmessage = (event: MessageEvent<CapabilityReply>) => {
      const reply = event.data;
      waiting.get(reply?.id)?.(reply);
      waiting.delete(reply?.id);
    };
  }
  const ask = <T>(fn: CapabilityName, args: Record<string, unknown>): Promise<HostResult<T>> => {
    if (!port) return Promise.resolve({ tag: 'err', val: `${fn} is not available in this sandbox` });
    const id = nextId++;
    return new Promise((resolve) => {
      waiting.set(id, (reply) => resolve(reply.ok ? { tag: 'ok', val: reply.value as T } : { tag: 'err', val: reply.error }));
      port.postMessage({ id, fn, args });
    });
  };
  const host = {
    readFile: (path: string) => ask<string>('read-file', { path }),
    writeFile: (path: string, contents: string) => ask<number>('write-file', { path, contents }),
    listDirectory: (path: string) => ask<string[]>('list-directory', { path }),
    stat: (path: string) => ask<string>('stat', { path }),
    httpFetch: (request: string) => ask<string>('http-fetch', { request }),
    log: (level: string, message: string) => {
      port?.postMessage({ id: 0, fn: 'log', args: { level, message } });
    },
    nowMs: () => BigInt(Date.now()),
    randomBytes: (length: number) => crypto.getRandomValues(new Uint8Array(Math.min(length >>> 0, MAX_RANDOM_BYTES))),
  };
  return {
    imports: { 'mcp-sandbox:tool/host': host },
    close() {
      port?.close();
      waiting.clear();
    },
  };
}
