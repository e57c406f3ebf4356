/// <reference lib="webworker" />
import { SandboxError, type SandboxErrorInfo } from '../shared/errors';
import { envelope, type CallPortMessage, type CapabilityReply, type ExecuteEnvelope, type ExecuteRequest, type ExecuteResult, type ImportToolEnvelope, type ImportToolResult } from '../shared/wire';
import type { DbHandle } from '../store/db';
import type { HostRecord } from '../store/schema';
import type { CapabilityHandler, Executor } from './context';

/** Time allowed beyond a call's CPU limit for fetching, compiling and the hops. */
const GRACE_MS = 5_000;
/** How often a running call checks that its host window still exists. */
const HOST_POLL_MS = 500;

/**
 * Hands each call to a window that hosts the worker pool (a service worker cannot start
 * workers). Hosts announce themselves; the list lives in IndexedDB so a woken service worker
 * still knows them. A host that has gone is skipped, and the next live one takes over.
 */
export class SandboxDispatcher implements Executor {
  /** The hosts list of this lifetime, newest first; loaded from IndexedDB on first use. */
  private hosts: Promise<HostRecord[]> | null = null;

  constructor(
    private readonly scope: ServiceWorkerGlobalScope,
    private readonly db: DbHandle,
  ) {}

  private known(): Promise<HostRecord[]> {
    return (this.hosts ??= this.db.get().then((db) => db.getAll('hosts')).then((all) => all.sort((a, b) => b.announcedAt - a.announcedAt)));
  }

  async announce(clientId: string, now: number): Promise<void> {
    const record = { clientId, announcedAt: now };
    await (await this.db.get()).put('hosts', record);
    const hosts = await this.known();
    this.hosts = Promise.resolve([record, ...hosts.filter((h) => h.clientId !== clientId)]);
  }

  async execute(request: ExecuteRequest, capabilities?: CapabilityHandler, signal?: AbortSignal): Promise<ExecuteResult> {
    if (signal?.aborted) return cancelled(signal, 0);
    const host = await this.pickHost();
    if (!host) return failure({ code: 'no-sandbox-host', message: 'no open window of the sandbox app can host tool workers; open the app and retry' });
    return this.runOn(host, request, capabilities, signal);
  }

  /**
   * Has a host window import an uploaded component (transpile, introspect, then register it
   * through the admin API). Resolves with the host's answer.
   */
  async importTool(bytes: ArrayBuffer | Uint8Array, fileName: string, timeoutMs = 120_000): Promise<ImportToolResult> {
    const host = await this.pickHost();
    if (!host) return { ok: false, error: { code: 'no-sandbox-host', message: 'no open window of the sandbox app can import tools; open the app and retry' } };
    const channel = new MessageChannel();
    return new Promise<ImportToolResult>((resolve) => {
      const finish = (result: ImportToolResult) => {
        clearTimeout(deadline);
        clearInterval(poll);
        channel.port1.close();
        resolve(result);
      };
      channel.port1.onmessage = (event: MessageEvent<ImportToolResult>) => finish(event.data);
      const deadline = setTimeout(() => finish({ ok: false, error: { code: 'host-gone', message: `the sandbox host did not finish the import within ${timeoutMs} ms` } }), timeoutMs);
      const poll = setInterval(async () => {
        if (!(await this.scope.clients.get(host.id))) finish({ ok: false, error: { code: 'host-gone', message: 'the window importing the tool closed' } });
      }, HOST_POLL_MS);
      try {
        host.postMessage(envelope<ImportToolEnvelope>({ kind: 'import-tool', bytes, fileName }), [channel.port2]);
      } catch (error) {
        finish({ ok: false, error: { code: 'host-gone', message: `the import could not be handed to the sandbox host: ${(error as Error).message}` } });
      }
    });
  }

  private async pickHost(): Promise<Client | null> {
    for (const h of await this.known()) {
      const client = await this.scope.clients.get(h.clientId);
      if (client) return client;
      await this.forget(h.clientId);
    }
    return null;
  }

  private async forget(clientId: string): Promise<void> {
    const hosts = await this.known();
    this.hosts = Promise.resolve(hosts.filter((h) => h.clientId !== clientId));
    await (await this.db.get()).delete('hosts', clientId);
  }

  private runOn(host: Client, request: ExecuteRequest, capabilities?: CapabilityHandler, signal?: AbortSignal): Promise<ExecuteResult> {
    const started = performance.now();
    const channel = new MessageChannel();
    return new Promise<ExecuteResult>((resolve) => {
      let done = false;
      const onAbort = () => {
        // The host stops the worker; the call answers now, whatever the host does next.
        channel.port1.postMessage({ kind: 'cancel', reason: String(signal?.reason ?? 'cancelled') } satisfies CallPortMessage);
        finish(cancelled(signal!, elapsed()));
      };
      const finish = (result: ExecuteResult) => {
        if (done) return;
        done = true;
        clearTimeout(deadline);
        clearInterval(poll);
        signal?.removeEventListener('abort', onAbort);
        channel.port1.close();
        resolve(result);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const elapsed = () => performance.now() - started;
      channel.port1.onmessage = (event: MessageEvent<CallPortMessage>) => {
        const message = event.data;
        if (message?.kind === 'result') finish(message.result);
        else if (message?.kind === 'capability') {
          const { id } = message.request;
          // A capability asked for after the call was cancelled or ended is refused, never done.
          if (done) return;
          const answer = capabilities ? capabilities(message.request) : Promise.resolve<CapabilityReply>({ id, ok: false, error: 'no capabilities are available to this call' });
          // A failure of ours answering a capability is the tool's refusal, never a hang.
          void answer
            .catch((error: unknown): CapabilityReply => ({ id, ok: false, error: `the host failed to answer: ${(error as Error)?.message ?? String(error)}` }))
            .then((reply) => channel.port1.postMessage({ kind: 'capability-result', reply } satisfies CallPortMessage));
        }
      };
      const deadline = setTimeout(
        () => finish(failure({ code: 'host-gone', message: `the sandbox host did not answer within ${request.limits.cpuMs + GRACE_MS} ms` }, elapsed())),
        request.limits.cpuMs + GRACE_MS,
      );
      const poll = setInterval(async () => {
        if (!(await this.scope.clients.get(host.id))) finish(failure({ code: 'host-gone', message: 'the window hosting the sandbox closed while the call ran' }, elapsed()));
      }, HOST_POLL_MS);
      try {
        host.postMessage(envelope<ExecuteEnvelope>({ kind: 'execute', request }), [channel.port2]);
      } catch (error) {
        finish(failure({ code: 'host-gone', message: `the call could not be handed to the sandbox host: ${(error as Error).message}` }, elapsed()));
      }
    });
  }
}

function cancelled(signal: AbortSignal, durationMs: number): ExecuteResult {
  const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? '');
  return failure({ code: 'cancelled', message: `the call was cancelled${reason ? `: ${reason}` : ''}; its worker was stopped` }, durationMs);
}

function failure(error: SandboxErrorInfo, durationMs = 0): ExecuteResult {
  return { ok: false, error: new SandboxError(error.code, error.message, error.details).toInfo(), durationMs, memoryBytes: 0 };
}
