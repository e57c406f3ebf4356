import { afterEach, describe, expect, it } from 'vitest';
import { CHANNEL, WIRE_VERSION } from '../../src/shared/wire';
import { RELAY_CHANNEL, startConnectorRelay } from '../../src/transport/page/connector-relay';

// The app window's relay for granted cross-site connectors (src/transport/page/connector-relay.ts),
// over Node's BroadcastChannel: what reaches the service worker, and who hears the replies.

const base = { channel: CHANNEL, v: WIRE_VERSION } as const;
const opened: BroadcastChannel[] = [];
afterEach(() => {
  for (const c of opened.splice(0)) c.close();
});

function channel(): BroadcastChannel {
  const c = new BroadcastChannel(RELAY_CHANNEL);
  opened.push(c);
  return c;
}

/** A relay with a fake service worker that answers every message with a reply of its session. */
function relay() {
  const container = new EventTarget() as EventTarget & { startMessages(): void; controller: null };
  container.startMessages = () => undefined;
  container.controller = null;
  const received: Record<string, unknown>[] = [];
  const worker = {
    postMessage(message: Record<string, unknown>) {
      received.push(message);
      queueMicrotask(() => container.dispatchEvent(Object.assign(new Event('message'), { data: { ...base, kind: 'mcp', session: message.session, message: { jsonrpc: '2.0', id: 1, result: {} } } })));
    },
  };
  const relayChannel = channel();
  void startConnectorRelay({ active: worker } as unknown as ServiceWorkerRegistration, {
    container: container as unknown as ServiceWorkerContainer,
    locks: { request: (_name: string, fn: () => Promise<unknown>) => fn() } as unknown as LockManager,
    channel: relayChannel,
  });
  return { received };
}

/** What one connector hears on the channel. */
function listen(c: BroadcastChannel): unknown[] {
  const heard: unknown[] = [];
  c.addEventListener('message', (event) => heard.push((event as MessageEvent).data));
  return heard;
}

const settle = () => new Promise((r) => setTimeout(r, 50));
const mcp = (session: string, origin?: string) => ({ ...base, kind: 'mcp', session, message: { jsonrpc: '2.0', id: 1, method: 'ping' }, ...(origin ? { origin } : {}) });

describe('the connector relay', () => {
  it('answers pings, and relays a connector\'s messages with its origin, replies to that connector only', async () => {
    const { received } = relay();
    const a = channel();
    const b = channel();
    const heardA = listen(a);
    const heardB = listen(b);
    await settle();
    a.postMessage({ ...base, kind: 'relay-ping', from: 'conn-a' });
    await settle();
    expect(heardA).toContainEqual({ ...base, kind: 'relay-pong', to: 'conn-a' });

    a.postMessage({ ...base, kind: 'relay-mcp', from: 'conn-a', envelope: mcp('session-aaaa', 'http://localhost:9') });
    await settle();
    expect(received).toEqual([mcp('session-aaaa', 'http://localhost:9')]);
    const replies = (heard: unknown[]) => heard.filter((m) => (m as { kind: string }).kind === 'relay-reply') as { to: string; envelope: { session: string } }[];
    expect(replies(heardA)).toHaveLength(1);
    expect(replies(heardA)[0]).toMatchObject({ to: 'conn-a', envelope: { session: 'session-aaaa' } });
    // B hears the broadcast, but addressed to A (a connector forwards only what is addressed to it).
    expect(replies(heardB).every((r) => r.to === 'conn-a')).toBe(true);
  });

  it('keeps a session to the connector that opened it, and drops what is not a relayable message', async () => {
    const { received } = relay();
    const a = channel();
    const b = channel();
    await settle();
    a.postMessage({ ...base, kind: 'relay-mcp', from: 'conn-a', envelope: mcp('session-bbbb', 'http://localhost:9') });
    await settle();
    expect(received).toHaveLength(1);
    // Another connector speaking in that session, from another page: not relayed.
    b.postMessage({ ...base, kind: 'relay-mcp', from: 'conn-b', envelope: mcp('session-bbbb', 'http://evil.localhost:9') });
    // No origin, a malformed session id, a foreign message: not relayed either.
    b.postMessage({ ...base, kind: 'relay-mcp', from: 'conn-b', envelope: mcp('session-cccc') });
    b.postMessage({ ...base, kind: 'relay-mcp', from: 'conn-b', envelope: mcp('x', 'http://localhost:9') });
    b.postMessage({ kind: 'relay-mcp', from: 'conn-b', envelope: mcp('session-dddd', 'http://localhost:9') });
    await settle();
    expect(received).toHaveLength(1);
    // Its own new session is fine.
    b.postMessage({ ...base, kind: 'relay-mcp', from: 'conn-b', envelope: mcp('session-eeee', 'http://localhost:8') });
    await settle();
    expect(received.map((m) => m.session)).toEqual(['session-bbbb', 'session-eeee']);
  });
});
