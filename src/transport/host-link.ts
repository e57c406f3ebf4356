import type { CallPortMessage, ExecuteRequest } from '../shared/wire';

/**
 * One call's end of the link between the service worker and a sandbox host: capability
 * requests and answers, `cancel`, and the result travel on it. A call has it either as a
 * MessagePort of its own (`portEnd`: the path that works with any host, even one that has not
 * handed the service worker a host link yet) or as one id on a host link (`HostLink`), which
 * saves a `clients.get`, a new MessageChannel and a message routed through the browser per call.
 */
export interface CallEnd {
  post(message: CallPortMessage): void;
  /** Receives what the far end posts; set once. */
  onmessage: ((message: CallPortMessage) => void) | null;
  /** Called if the far end goes before the call is closed (host links only). */
  onlost: (() => void) | null;
  close(): void;
}

export function portEnd(port: MessagePort): CallEnd {
  const end: CallEnd = {
    post: (message) => port.postMessage(message),
    onmessage: null,
    onlost: null,
    close: () => port.close(),
  };
  port.onmessage = (event: MessageEvent<CallPortMessage>) => end.onmessage?.(event.data);
  return end;
}

/** What travels on a host link: a call's messages, tagged with its id, and the call's start. */
export type HostLinkMessage = { call: string; message: CallPortMessage } | { call: string; execute: ExecuteRequest };

/**
 * Many calls over one MessagePort between the service worker and a host window, handed over
 * once (with `host-hello`). A port neither wakes a stopped service worker nor survives one, so
 * the service worker asks a host for a new link after each wake and uses per-call ports until
 * it has one. A port says nothing when its far side goes in this Chromium (no MessagePort
 * `close` event yet: measured), so the service worker also checks, while a call runs, that its
 * host still exists; where the event exists it ends every call still open on the link at once.
 */
export class HostLink {
  private readonly calls = new Map<string, CallEnd>();
  private closed = false;

  /**
   * `onExecute` (the host's side) is called for each call the far side starts, with that
   * call's end; the service worker's side starts calls with `start`.
   */
  constructor(
    private readonly port: MessagePort,
    private readonly onExecute?: (request: ExecuteRequest, end: CallEnd) => void,
    private readonly onClose?: () => void,
  ) {
    port.onmessage = (event: MessageEvent<HostLinkMessage>) => this.receive(event.data);
    port.addEventListener('close', () => this.end());
  }

  get open(): boolean {
    return !this.closed;
  }

  /** Starts a call on the far side; its messages arrive on the returned end. */
  start(request: ExecuteRequest): CallEnd {
    const end = this.endFor(request.callId);
    this.port.postMessage({ call: request.callId, execute: request } satisfies HostLinkMessage);
    return end;
  }

  /** Ends the link from this side: the far side hears `close`. */
  close(): void {
    this.port.close();
    this.end();
  }

  private endFor(call: string): CallEnd {
    const end: CallEnd = {
      post: (message) => {
        if (this.calls.has(call)) this.port.postMessage({ call, message } satisfies HostLinkMessage);
      },
      onmessage: null,
      onlost: null,
      close: () => void this.calls.delete(call),
    };
    this.calls.set(call, end);
    return end;
  }

  private receive(data: HostLinkMessage): void {
    if (typeof data !== 'object' || data === null || typeof data.call !== 'string') return;
    if ('execute' in data) {
      if (this.onExecute && !this.calls.has(data.call)) this.onExecute(data.execute, this.endFor(data.call));
      return;
    }
    this.calls.get(data.call)?.onmessage?.(data.message);
  }

  private end(): void {
    if (this.closed) return;
    this.closed = true;
    const open = [...this.calls.values()];
    this.calls.clear();
    for (const end of open) end.onlost?.();
    this.onClose?.();
  }
}
