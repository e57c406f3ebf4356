/// <reference lib="webworker" />
import { SandboxError, type SandboxErrorInfo } from '../shared/errors';
import { HostLink, portEnd, type CallEnd } from '../transport/host-link';
import { envelope, type CallPortMessage, type CapabilityReply, type ExecuteEnvelope, type ExecuteRequest, type ExecuteResult, type HostPortRequestEnvelope, type ImportToolEnvelope, type ImportToolResult } from '../shared/wire';
import type { DbHandle } from '../store/db';
import type { HostRecord } from '../store/schema';
import type { CapabilityHandler, Executor } from './context';

/** Time allowed beyond a call's CPU limit for fetching, compiling and the hops. */
const GRACE_MS = 5_000;
/** How often a running call checks that its host window still exists. */
const HOST_POLL_MS = 500;
/**
 * How long a call waits for an app window that is open but has not announced itself yet: the
 * app starts its host once its first view shows (3 s after loading at most).
 */
const HOST_WAIT_MS = 5_000;

/**
 * Hands each call to a window that hosts the worker pool (a service worker cannot start
 * workers). Hosts announce themselves; the list lives in IndexedDB so a woken service worker
 * still knows them. A host that has gone is skipped, and the next live one takes over.
 */
export class SandboxDispatcher implements Executor {
  /** The hosts list of this lifetime, newest first; loaded from IndexedDB on first use. */
  private hosts: Promise<HostRecord[]> | null = null;
  /** Host links handed over in this lifetime, by client id (dropped when their port closes). */
  private readonly links = new Map<string, HostLink>();
  /** Hosts asked for a link in this lifetime (asked once: a second link would close the first). */
  private readonly asked = new Set<string>();
  /** Calls waiting for a host to announce itself. */
  private readonly waiting = new Set<() => void>();

  constructor(
    private readonly scope: ServiceWorkerGlobalScope,
    private readonly db: DbHandle,
  ) {}

  private known(): Promise<HostRecord[]> {
    return (this.hosts ??= this.db.get().then((db) => db.getAll('hosts')).then((all) => all.sort((a, b) => b.announcedAt - a.announcedAt)));
  }

  /** A host window says it can run calls; with `port`, the link its calls will travel on. */
  async announce(clientId: string, now: number, port?: MessagePort): Promise<void> {
    if (port) {
      this.links.get(clientId)?.close();
      const link: HostLink = new HostLink(port, undefined, () => {
        if (this.links.get(clientId) === link) this.links.delete(clientId);
      });
      this.links.set(clientId, link);
    }
    const record = { clientId, announcedAt: now };
    await (await this.db.get()).put('hosts', record);
    const hosts = await this.known();
    this.hosts = Promise.resolve([record, ...hosts.filter((h) => h.clientId !== clientId)]);
    for (const wake of [...this.waiting]) wake();
  }

  /** Whether a window of the app (its page at the scope's root) is open: one that will announce itself. */
  private async appWindowOpen(): Promise<boolean> {
    try {
      const root = new URL(this.scope.registration.scope).pathname;
      const windows = await this.scope.clients.matchAll({ type: 'window' });
      return windows.some((c) => [root, `${root}index.html`].includes(new URL(c.url).pathname));
    } catch {
      return false;
    }
  }

  /** Resolves when a host announces itself, after `ms`, or when the call is cancelled. */
  private nextAnnounce(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiting.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiting.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  async execute(request: ExecuteRequest, capabilities?: CapabilityHandler, signal?: AbortSignal): Promise<ExecuteResult> {
    if (signal?.aborted) return cancelled(signal, 0);
    // An app window still starting (its host comes once its first view shows) is waited for, once.
    for (let wait = true; ; wait = false) {
      const result = await this.toHost(request, capabilities, signal);
      if (result !== UNANSWERED) return result;
      if (!wait || signal?.aborted || !(await this.appWindowOpen())) break;
      await this.nextAnnounce(HOST_WAIT_MS, signal);
    }
    if (signal?.aborted) return cancelled(signal, 0);
    return failure({ code: 'no-sandbox-host', message: 'no open window of the sandbox app can host tool workers; open the app and retry' });
  }

  /** The call run by the newest live host, or UNANSWERED when no host is there to take it. */
  private async toHost(request: ExecuteRequest, capabilities?: CapabilityHandler, signal?: AbortSignal): Promise<ExecuteResult | typeof UNANSWERED> {
    // The newest host with a link takes the call over it; hosts announce newest first, so a
    // linked host is never older than an unlinked one that is still open.
    for (const h of await this.known()) {
      const link = this.links.get(h.clientId);
      if (link?.open) {
        const result = await this.run(h.clientId, link.start(request), request, capabilities, signal);
        if (result !== UNANSWERED) return result;
        // The window went before it said a word about the call (it closed as the call was
        // handed over): nothing of it left the sandbox, so the next host takes it.
        this.links.delete(h.clientId);
        if (!(await this.scope.clients.get(h.clientId))) await this.forget(h.clientId);
        continue;
      }
      const client = await this.scope.clients.get(h.clientId);
      if (!client) {
        await this.forget(h.clientId);
        continue;
      }
      // A host known from before this wake: this call takes a port of its own, and the host is
      // asked for a link for the calls after it.
      if (!this.asked.has(client.id)) {
        this.asked.add(client.id);
        client.postMessage(envelope<HostPortRequestEnvelope>({ kind: 'host-port-request' }));
      }
      const channel = new MessageChannel();
      try {
        client.postMessage(envelope<ExecuteEnvelope>({ kind: 'execute', request }), [channel.port2]);
      } catch (error) {
        channel.port1.close();
        return failure({ code: 'host-gone', message: `the call could not be handed to the sandbox host: ${(error as Error).message}` });
      }
      const result = await this.run(client.id, portEnd(channel.port1), request, capabilities, signal);
      if (result !== UNANSWERED) return result;
      await this.forget(h.clientId);
    }
    return UNANSWERED;
  }

  async openHosts(): Promise<number> {
    let open = 0;
    for (const h of await this.known()) {
      if (await this.scope.clients.get(h.clientId)) open++;
      else await this.forget(h.clientId);
    }
    return open;
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

  /**
   * Waits for a started call's result on its end, answering its capability requests, until the
   * result, a cancel, the host going, or the deadline (CPU limit + grace).
   */
  private run(hostId: string, end: CallEnd, request: ExecuteRequest, capabilities?: CapabilityHandler, signal?: AbortSignal): Promise<ExecuteResult | typeof UNANSWERED> {
    const started = performance.now();
    return new Promise<ExecuteResult | typeof UNANSWERED>((resolve) => {
      let done = false;
      /** Whether the host has said anything about the call (a capability request or the result). */
      let heard = false;
      const elapsed = () => performance.now() - started;
      const onAbort = () => {
        // The host stops the worker; the call answers now, whatever the host does next.
        end.post({ kind: 'cancel', reason: String(signal?.reason ?? 'cancelled') });
        finish(cancelled(signal!, elapsed()));
      };
      const finish = (result: ExecuteResult | typeof UNANSWERED) => {
        if (done) return;
        done = true;
        clearTimeout(deadline);
        clearTimeout(poll);
        signal?.removeEventListener('abort', onAbort);
        end.close();
        resolve(result);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const gone = () => finish(heard ? failure({ code: 'host-gone', message: 'the window hosting the sandbox closed while the call ran' }, elapsed()) : UNANSWERED);
      end.onlost = gone;
      end.onmessage = (message) => {
        heard = true;
        if (message?.kind === 'result') finish(message.result);
        else if (message?.kind === 'capability') {
          const { id } = message.request;
          // A capability asked for after the call was cancelled or ended is refused, never done.
          if (done) return;
          const answer = capabilities ? capabilities(message.request) : Promise.resolve<CapabilityReply>({ id, ok: false, error: 'no capabilities are available to this call' });
          // A failure of ours answering a capability is the tool's refusal, never a hang.
          void answer
            .catch((error: unknown): CapabilityReply => ({ id, ok: false, error: `the host failed to answer: ${(error as Error)?.message ?? String(error)}` }))
            .then((reply) => end.post({ kind: 'capability-result', reply } satisfies CallPortMessage));
        }
      };
      const deadline = setTimeout(
        () => finish(failure({ code: 'host-gone', message: `the sandbox host did not answer within ${request.limits.cpuMs + GRACE_MS} ms` }, elapsed())),
        request.limits.cpuMs + GRACE_MS,
      );
      // A backstop for a host that goes without its port saying so: checked while the call runs
      // (not before: a short call costs no lookup).
      let poll: ReturnType<typeof setTimeout>;
      const check = async () => {
        if (done) return;
        if (!(await this.scope.clients.get(hostId))) gone();
        else if (!done) poll = setTimeout(check, HOST_POLL_MS);
      };
      poll = setTimeout(check, HOST_POLL_MS);
    });
  }
}

/** A call its host never answered in any way, because the host went: it may go to another. */
const UNANSWERED = Symbol('unanswered');

function cancelled(signal: AbortSignal, durationMs: number): ExecuteResult {
  const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? '');
  return failure({ code: 'cancelled', message: `the call was cancelled${reason ? `: ${reason}` : ''}; its worker was stopped` }, durationMs);
}

function failure(error: SandboxErrorInfo, durationMs = 0): ExecuteResult {
  return { ok: false, error: new SandboxError(error.code, error.message, error.details).toInfo(), durationMs, memoryBytes: 0 };
}
