import { envelope, isEnvelope, type AgentLinkMessage, type AgentPingEnvelope, type AgentPortEnvelope, type McpEnvelope } from '../../shared/wire';
import type { ClientEndpoint } from '../client-transport';

/** How the page reaches the service worker by event: what wakes it and keeps it running. */
export interface EventChannel {
  post(message: McpEnvelope | AgentPortEnvelope | AgentPingEnvelope, transfer?: Transferable[]): void;
  subscribe(listener: (data: unknown) => void): () => void;
}

export interface AgentLinkOptions {
  /** A port is used only this long after the page last sent the service worker an event (it lives ≥ 30 s after one). */
  warmMs?: number;
  /** How often a page with work in flight, or that posted lately, sends a keep-alive event. */
  keepAliveMs?: number;
  /** A message not acknowledged this long makes the page ask, by event, whether the link is still known. */
  ackTimeoutMs?: number;
  now?: () => number;
}

interface Sent {
  envelope: McpEnvelope;
  at: number;
}

/**
 * The agent page's link to the service worker: MCP envelopes travel on a MessagePort handed over
 * once (a port message costs a fraction of a `postMessage` event, which the browser routes
 * through its own process), with events kept for what only events do.
 *
 * A port neither wakes a stopped service worker nor keeps a running one alive, and says nothing
 * when the far side stops (this Chromium has no MessagePort `close` event). So:
 * - The port is used only while the service worker is known to run: within `warmMs` of an event
 *   the page sent (a service worker lives 30 s after its last event). Otherwise the envelope goes
 *   as an event, which wakes the service worker, and a new link is offered with it.
 * - While requests are unanswered, or the page posted lately, a keep-alive event (`agent-ping`)
 *   goes every `keepAliveMs`; the service worker holds it open while the link has work.
 * - Every envelope sent on the port is acknowledged: a request by its response, anything else on
 *   receipt. One unacknowledged for `ackTimeoutMs` (the service worker was stopped from outside,
 *   or a call runs long) makes the page ask by event whether the link is known;
 *   a service worker that does not know the link (a new lifetime) gets every unacknowledged
 *   envelope again, by event, and the link is dropped. None is lost, and none is delivered twice
 *   to one lifetime; one received by a lifetime that then stopped before acknowledging may run
 *   again in the next (its first run is closed as interrupted by recovery).
 */
export function agentLinkEndpoint(events: EventChannel, options: AgentLinkOptions = {}): ClientEndpoint & { close(): void } {
  const warmMs = options.warmMs ?? 15_000;
  const keepAliveMs = options.keepAliveMs ?? 10_000;
  const ackTimeoutMs = options.ackTimeoutMs ?? 1_000;
  const now = options.now ?? (() => performance.now());
  const listeners = new Set<(data: unknown) => void>();
  const deliver = (data: unknown) => {
    for (const l of listeners) l(data);
  };

  let link: { id: string; port: MessagePort; ready: boolean; offeredAt: number; nextSeq: number; unacked: Map<number, Sent> } | null = null;
  let lastEventAt = -Infinity;
  let lastPostAt = -Infinity;
  /** Request ids sent and not yet answered, with the link message that carried each (its response acknowledges it). */
  const outstanding = new Map<string | number, number | null>();
  let timer: ReturnType<typeof setInterval> | null = null;

  const sendEvent = (message: McpEnvelope | AgentPortEnvelope | AgentPingEnvelope, transfer?: Transferable[]) => {
    events.post(message, transfer);
    lastEventAt = now();
  };

  const dropLink = () => {
    if (!link) return;
    const lost = [...link.unacked.values()];
    link.port.close();
    link = null;
    // Never reached a lifetime that knew the link: sent again, by event, in order.
    for (const sent of lost) sendEvent(sent.envelope);
  };

  const offerLink = () => {
    const channel = new MessageChannel();
    const id = crypto.randomUUID();
    const current = { id, port: channel.port1, ready: false, offeredAt: now(), nextSeq: 0, unacked: new Map<number, Sent>() };
    link = current;
    channel.port1.onmessage = (event: MessageEvent<AgentLinkMessage | McpEnvelope>) => {
      const data = event.data;
      if (link !== current) return;
      if (typeof data === 'object' && data !== null && 'ready' in data) current.ready = true;
      else if (typeof data === 'object' && data !== null && 'ack' in data) current.unacked.delete(data.ack);
      else received(data);
    };
    sendEvent(envelope<AgentPortEnvelope>({ kind: 'agent-port', link: id }), [channel.port2]);
  };

  const received = (data: unknown) => {
    if (isEnvelope(data) && data.kind === 'mcp') {
      const m = data.message as { id?: string | number; method?: unknown };
      if (m.id !== undefined && m.method === undefined) {
        const seq = outstanding.get(m.id);
        if (seq !== undefined && seq !== null) link?.unacked.delete(seq);
        outstanding.delete(m.id);
      }
    }
    deliver(data);
  };

  const tick = () => {
    const t = now();
    if (link) {
      const oldest = Math.min(...[...link.unacked.values()].map((s) => s.at));
      if (t - oldest >= ackTimeoutMs) {
        for (const s of link.unacked.values()) s.at = t;
        sendEvent(envelope<AgentPingEnvelope>({ kind: 'agent-ping', link: link.id }));
        return;
      }
    }
    const busy = outstanding.size > 0 || t - lastPostAt < warmMs;
    if (link && busy && t - lastEventAt >= keepAliveMs) sendEvent(envelope<AgentPingEnvelope>({ kind: 'agent-ping', link: link.id }));
    if (!busy && !link?.unacked.size && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  };

  const unsubscribeEvents = events.subscribe((data) => {
    if (isEnvelope(data) && data.kind === 'agent-pong') {
      if (!link || data.link !== link.id) return;
      if (!data.known) {
        dropLink();
        offerLink();
        return;
      }
      // Known: what is unacknowledged is work in progress (a long call); ask again only at the
      // keep-alive pace.
      const later = now() + keepAliveMs - ackTimeoutMs;
      for (const s of link.unacked.values()) s.at = Math.max(s.at, later);
      return;
    }
    received(data);
  });

  return {
    post(message) {
      const t = now();
      lastPostAt = t;
      const m = message.message as { id?: string | number; method?: unknown };
      const isRequest = m.id !== undefined && m.method !== undefined;
      if (isRequest) outstanding.set(m.id!, null);
      // A cancelled request gets no response (MCP): it is no longer awaited, nor its message's acknowledgement.
      if (m.method === 'notifications/cancelled') {
        const cancelled = (message.message as { params?: { requestId?: string | number } }).params?.requestId;
        const seq = cancelled === undefined ? undefined : outstanding.get(cancelled);
        if (seq !== undefined && seq !== null) link?.unacked.delete(seq);
        if (cancelled !== undefined) outstanding.delete(cancelled);
      }
      timer ??= setInterval(tick, Math.min(ackTimeoutMs, keepAliveMs) / 2);
      if (link?.ready && t - lastEventAt < warmMs) {
        const seq = link.nextSeq++;
        link.unacked.set(seq, { envelope: message, at: t });
        if (isRequest) outstanding.set(m.id!, seq);
        link.port.postMessage({ seq, envelope: message } satisfies AgentLinkMessage);
        return;
      }
      // Not known to be running: by event, which wakes it. Then: a link offered if there is none;
      // asked whether the link is still known (the pong drops it if not); or, an offer never
      // taken up (the service worker stopped as it arrived), offered again.
      sendEvent(message);
      if (!link) offerLink();
      else if (link.ready) sendEvent(envelope<AgentPingEnvelope>({ kind: 'agent-ping', link: link.id }));
      else if (t - link.offeredAt > 2 * ackTimeoutMs) {
        link.port.close();
        link = null;
        offerLink();
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      if (timer !== null) clearInterval(timer);
      timer = null;
      link?.port.close();
      link = null;
      unsubscribeEvents();
    },
  };
}
