/// <reference lib="webworker" />
import { envelope, isEnvelope, type AgentLinkMessage, type AgentPongEnvelope, type McpEnvelope } from '../shared/wire';
import type { Peer, SessionRouter } from '../transport/session-router';

/** Links kept per service-worker lifetime; the oldest goes first past this (a page that left without a word). */
const MAX_LINKS = 256;
/** Longest a keep-alive event is held open while its link has work in flight. */
const HOLD_MS = 25_000;

interface Link {
  port: MessagePort;
  peer: Peer;
  /** Messages of this link being handled (their replies not yet sent). */
  inFlight: number;
  idle: (() => void)[];
}

/**
 * The service worker's side of agent links (src/transport/page/agent-link.ts): MCP envelopes
 * that arrive on a port a page handed over, acknowledged on receipt and routed exactly as the
 * same envelope arriving as an event would be, replies going back on the port. Only for pages of
 * the app's own origin (a port carries no origin of its own: the connector, which speaks for
 * other origins, keeps to events).
 */
export class AgentLinks {
  private readonly links = new Map<string, Link>();

  constructor(private readonly router: SessionRouter) {}

  /** A page offers a link. */
  accept(id: string, port: MessagePort, peer: Peer): void {
    if (this.links.has(id)) return;
    if (this.links.size >= MAX_LINKS) {
      const [oldest] = this.links.keys();
      this.links.get(oldest!)?.port.close();
      this.links.delete(oldest!);
    }
    const link: Link = { port, peer, inFlight: 0, idle: [] };
    this.links.set(id, link);
    port.onmessage = (event: MessageEvent<AgentLinkMessage>) => {
      const data = event.data;
      if (typeof data !== 'object' || data === null || !('seq' in data) || typeof data.seq !== 'number') return;
      // A request's response is its acknowledgement (one message fewer per call); anything else
      // is acknowledged on receipt.
      const message = isEnvelope(data.envelope) && data.envelope.kind === 'mcp' ? (data.envelope.message as { id?: unknown; method?: unknown } | null) : null;
      if (!(message && message.id !== undefined && message.method !== undefined)) port.postMessage({ ack: data.seq } satisfies AgentLinkMessage);
      if (!isEnvelope(data.envelope) || data.envelope.kind !== 'mcp') return;
      link.inFlight++;
      void this.router
        .handle(data.envelope, { post: (message: McpEnvelope) => port.postMessage(message) }, link.peer)
        .catch(() => undefined)
        .finally(() => {
          if (--link.inFlight === 0) for (const done of link.idle.splice(0)) done();
        });
    };
    port.postMessage({ ready: true } satisfies AgentLinkMessage);
  }

  /**
   * A keep-alive from a page: answers whether the link is known, and returns what the event
   * should be held open for (the link's work in flight, at most HOLD_MS).
   */
  ping(id: string, reply: (message: AgentPongEnvelope) => void): Promise<void> {
    const link = this.links.get(id);
    reply(envelope<AgentPongEnvelope>({ kind: 'agent-pong', link: id, known: link !== undefined }));
    if (!link || link.inFlight === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, HOLD_MS);
      link.idle.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
