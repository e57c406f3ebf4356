import { afterEach, describe, expect, it } from 'vitest';
import { agentLinkEndpoint, type EventChannel } from '../../src/transport/page/agent-link';
import { envelope, isEnvelope, type AgentLinkMessage, type AgentPongEnvelope, type McpEnvelope } from '../../src/shared/wire';

/**
 * A service-worker lifetime as the page sees it: events in (with transferred ports), events out;
 * the links it was offered answer with `ready`, acknowledge each envelope and echo requests.
 * `stop()` ends the lifetime: its ports go silent, and the next event starts a new one that
 * knows no link, as a woken service worker.
 */
class FakeServiceWorker implements EventChannel {
  lifetime = 0;
  readonly byEvent: { lifetime: number; message: unknown }[] = [];
  readonly byPort: { lifetime: number; message: McpEnvelope }[] = [];
  private links = new Map<string, MessagePort>();
  private listeners = new Set<(data: unknown) => void>();

  post(message: Parameters<EventChannel['post']>[0], transfer?: Transferable[]): void {
    const lifetime = this.lifetime;
    if (message.kind === 'agent-port') {
      const port = transfer![0] as MessagePort;
      this.links.set(message.link, port);
      port.onmessage = (event: MessageEvent<AgentLinkMessage>) => {
        if (this.lifetime !== lifetime || !('seq' in event.data)) return; // a stopped lifetime hears nothing
        port.postMessage({ ack: event.data.seq });
        this.byPort.push({ lifetime, message: event.data.envelope });
        this.answer(event.data.envelope, (reply) => port.postMessage(reply));
      };
      port.postMessage({ ready: true });
      return;
    }
    if (message.kind === 'agent-ping') {
      this.emit(envelope<AgentPongEnvelope>({ kind: 'agent-pong', link: message.link, known: this.links.has(message.link) }));
      return;
    }
    this.byEvent.push({ lifetime, message });
    this.answer(message, (reply) => this.emit(reply));
  }

  subscribe(listener: (data: unknown) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stop(): void {
    this.lifetime++;
    this.links = new Map();
  }

  private emit(data: unknown): void {
    queueMicrotask(() => this.listeners.forEach((l) => l(data)));
  }

  private answer(request: McpEnvelope, reply: (m: McpEnvelope) => void): void {
    const m = request.message as { id?: number; method?: string; params?: unknown };
    if (m.id !== undefined && m.method) reply(envelope<McpEnvelope>({ kind: 'mcp', session: request.session, message: { jsonrpc: '2.0', id: m.id, result: { echo: m.params } } }));
  }
}

const request = (id: number) => envelope<McpEnvelope>({ kind: 'mcp', session: 's', message: { jsonrpc: '2.0', id, method: 'tools/call', params: { n: id } } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function answers(endpoint: ReturnType<typeof agentLinkEndpoint>): Map<number, unknown> {
  const got = new Map<number, unknown>();
  endpoint.subscribe((data) => {
    if (isEnvelope(data) && data.kind === 'mcp') {
      const m = data.message as { id: number; result: unknown };
      got.set(m.id, m.result);
    }
  });
  return got;
}

const opened: ReturnType<typeof agentLinkEndpoint>[] = [];
afterEach(() => opened.splice(0).forEach((e) => e.close()));

describe('agent link (page ⇄ service worker over a port, events kept for waking)', () => {
  it('sends the first message by event with a link offer, then uses the port once it is ready', async () => {
    const sw = new FakeServiceWorker();
    const endpoint = agentLinkEndpoint(sw, { ackTimeoutMs: 60 });
    opened.push(endpoint);
    const got = answers(endpoint);
    endpoint.post(request(1));
    await sleep(20);
    for (let i = 2; i <= 4; i++) endpoint.post(request(i));
    await sleep(20);
    expect(sw.byEvent.map((e) => (e.message as McpEnvelope).message)).toEqual([expect.objectContaining({ id: 1 })]);
    expect(sw.byPort.map((e) => (e.message.message as { id: number }).id)).toEqual([2, 3, 4]);
    expect([...got.keys()].sort()).toEqual([1, 2, 3, 4]);
  });

  it('sends again, by event, what a stopped lifetime never acknowledged, and offers a new link', async () => {
    const sw = new FakeServiceWorker();
    const endpoint = agentLinkEndpoint(sw, { ackTimeoutMs: 60 });
    opened.push(endpoint);
    const got = answers(endpoint);
    endpoint.post(request(1));
    await sleep(20);
    sw.stop();
    endpoint.post(request(2));
    endpoint.post(request(3));
    await sleep(250);
    // Lost on the dead port, then delivered once each to the new lifetime, in order.
    expect(sw.byEvent.filter((e) => e.lifetime === 1).map((e) => ((e.message as McpEnvelope).message as { id: number }).id)).toEqual([2, 3]);
    expect(sw.byPort.filter((e) => e.lifetime === 1)).toEqual([]);
    expect([...got.keys()].sort()).toEqual([1, 2, 3]);
    // The new link carries what follows.
    endpoint.post(request(4));
    await sleep(20);
    expect(sw.byPort.filter((e) => e.lifetime === 1).map((e) => (e.message.message as { id: number }).id)).toEqual([4]);
    expect(got.has(4)).toBe(true);
  });

  it('goes by event when the service worker may have stopped since the page last sent one, and keeps a link it still knows', async () => {
    const sw = new FakeServiceWorker();
    let t = 0;
    const endpoint = agentLinkEndpoint(sw, { ackTimeoutMs: 60, warmMs: 15_000, now: () => t });
    opened.push(endpoint);
    const got = answers(endpoint);
    endpoint.post(request(1));
    await sleep(20);
    t += 16_000; // longer than the service worker is sure to live after the page's last event
    endpoint.post(request(2));
    await sleep(20);
    expect(sw.byEvent.map((e) => ((e.message as McpEnvelope).message as { id: number }).id)).toEqual([1, 2]);
    // The ping sent with it found the link known: the next goes on the port again.
    endpoint.post(request(3));
    await sleep(20);
    expect(sw.byPort.map((e) => (e.message.message as { id: number }).id)).toEqual([3]);
    expect([...got.keys()].sort()).toEqual([1, 2, 3]);
  });
});

describe('agent link bookkeeping', () => {
  it('stops awaiting a request once it is cancelled (no response will come), so keep-alives stop', async () => {
    const sent: string[] = [];
    const silent: EventChannel = {
      post(message, transfer) {
        sent.push(message.kind);
        if (message.kind === 'agent-port') (transfer![0] as MessagePort).postMessage({ ready: true });
      },
      subscribe: () => () => undefined,
    };
    let t = 0;
    const endpoint = agentLinkEndpoint(silent, { ackTimeoutMs: 40, keepAliveMs: 60, warmMs: 100, now: () => t });
    opened.push(endpoint);
    endpoint.post(request(1)); // by event, with the link offer; never answered
    endpoint.post(envelope<McpEnvelope>({ kind: 'mcp', session: 's', message: { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } } }));
    t += 1_000; // long past warm: with nothing awaited, no keep-alive is due
    const before = sent.length;
    await sleep(120);
    expect(sent.slice(before)).toEqual([]);
  });
});
