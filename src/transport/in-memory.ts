import type { McpEnvelope } from '../shared/wire';
import type { ClientEndpoint } from './client-transport';
import type { Peer, SessionRouter } from './session-router';

/**
 * The in-memory twin of the postMessage link, for unit tests: envelopes are structured-cloned
 * and delivered on a later task, as postMessage would, and each message's handling promise is
 * collected like a service worker's `waitUntil`.
 */
export function createInMemoryLink(router: SessionRouter, peer: Peer = { origin: 'http://sandbox.test', via: 'direct' }): ClientEndpoint & { raw(data: unknown): Promise<void>; settled(): Promise<void> } {
  const listeners = new Set<(data: unknown) => void>();
  const inflight = new Set<Promise<void>>();
  const reply = {
    post(message: McpEnvelope) {
      const copy = structuredClone(message);
      setTimeout(() => listeners.forEach((l) => l(copy)), 0);
    },
  };
  const raw = (data: unknown): Promise<void> => {
    const copy = structuredClone(data);
    const p = new Promise<void>((resolve) => setTimeout(resolve, 0)).then(() => router.handle(copy, reply, peer));
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
    return p;
  };
  return {
    post: (message) => void raw(message),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    raw,
    async settled() {
      while (inflight.size) await Promise.all(inflight);
    },
  };
}
