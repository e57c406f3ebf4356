import type { CapabilityName, CapabilityReply } from '../../shared/wire';

type HostResult<T> = { tag: 'ok'; val: T } | { tag: 'err'; val: string };

/** Largest number of random bytes one call of `random-bytes` returns. */
const MAX_RANDOM_BYTES = 65536;
/** What `get-context` answers a tool that did not declare `"context": true`. */
export const NO_CONTEXT = 'get-context refused: this tool did not declare "context": true in its metadata, so it receives no conversation context';

/** Capability requests on a call's port: each answered once, by the host, by id. */
export interface CapabilityClient {
  /** Resolves with the host's reply; with no port every capability fails at once. */
  ask(fn: CapabilityName, args: Record<string, string>): Promise<CapabilityReply>;
  /** Fire and forget (log): no reply is sent. */
  tell(fn: CapabilityName, args: Record<string, string>): void;
  /** Requests sent and not yet answered. */
  readonly waiting: number;
  close(): void;
}

export function capabilityClient(port: MessagePort | undefined): CapabilityClient {
  let nextId = 1;
  const waiting = new Map<number, (reply: CapabilityReply) => void>();
  if (port) {
    port.onmessage = (event: MessageEvent<CapabilityReply>) => {
      const reply = event.data;
      waiting.get(reply?.id)?.(reply);
      waiting.delete(reply?.id);
    };
  }
  return {
    ask(fn, args) {
      const id = nextId++;
      if (!port) return Promise.resolve({ id, ok: false, error: `${fn} is not available in this sandbox` });
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        port.postMessage({ id, fn, args });
      });
    },
    tell(fn, args) {
      port?.postMessage({ id: 0, fn, args });
    },
    get waiting() {
      return waiting.size;
    },
    close() {
      port?.close();
      waiting.clear();
    },
  };
}

/** One call's host imports, made with its instance and given their call by `bind`. */
export interface HostImports {
  imports: Record<string, unknown>;
  /**
   * Gives the imports their call's capability port and context, once the instance is made
   * (tool-runner.ts binds every instance then, made for the call or ahead of it). Once only: an
   * instance serves one call.
   */
  bind(port: MessagePort | undefined, context?: string): void;
  close(): void;
}

/**
 * The `mcp-sandbox:tool/host` import object for one call. Capabilities that reach beyond the
 * worker (files, HTTP, log) are requests on `port`, answered by the service worker after the
 * agent's policy decided and the use was audited; clock and random bytes are answered here,
 * as they reach nothing. With no port, every capability fails. `get-context` answers `context`,
 * which the service worker sets only for a tool that declared `context: true`; without it the
 * tool gets `err` (it asked for what it did not declare).
 *
 * Made with neither (as tool-runner.ts makes every instance's), the imports refuse every
 * capability that reaches out and answer no context until `bind` gives them their call's.
 */
export function hostImports(port?: MessagePort, context?: string): HostImports {
  let client = capabilityClient(port);
  let bound = port !== undefined || context !== undefined;
  const ask = async <T>(fn: CapabilityName, args: Record<string, string>): Promise<HostResult<T>> => {
    const reply = await client.ask(fn, args);
    return reply.ok ? { tag: 'ok', val: reply.value as T } : { tag: 'err', val: reply.error };
  };
  const host = {
    readFile: (path: string) => ask<string>('read-file', { path }),
    writeFile: (path: string, contents: string) => ask<number>('write-file', { path, contents }),
    listDirectory: (path: string) => ask<string[]>('list-directory', { path }),
    stat: (path: string) => ask<string>('stat', { path }),
    httpFetch: (request: string) => ask<string>('http-fetch', { request }),
    clientRequest: (method: string, params: string) => ask<string>('client-request', { method, params }),
    log: (level: string, message: string) => client.tell('log', { level, message }),
    nowMs: () => BigInt(Date.now()),
    randomBytes: (length: number) => crypto.getRandomValues(new Uint8Array(Math.min(length >>> 0, MAX_RANDOM_BYTES))),
    getContext: (): HostResult<string> => (context === undefined ? { tag: 'err', val: NO_CONTEXT } : { tag: 'ok', val: context }),
  };
  return {
    imports: { 'mcp-sandbox:tool/host': host },
    bind(callPort, callContext) {
      if (bound) throw new Error('these host imports already serve a call');
      bound = true;
      client = capabilityClient(callPort);
      context = callContext;
    },
    close: () => client.close(),
  };
}
