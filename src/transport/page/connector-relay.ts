import { CHANNEL, CONNECTOR_PATH, WIRE_VERSION, isEnvelope, type McpEnvelope } from '../../shared/wire';
import { isValidSessionId } from '../envelope';

/**
 * The way a connector embedded by another *site* reaches the sandbox once the person has given
 * it storage access (docs/security.md, "Cross-site embedding").
 *
 * A third-party frame's service worker is partitioned by the top-level site, and the Storage
 * Access API does not give service workers back — but its handle gives an unpartitioned
 * `BroadcastChannel`, which reaches the sandbox's first-party pages. So every app window embeds
 * a hidden connector of its own (`connector.html#relay`): first-party, controlled by the
 * sandbox's service worker, and a connector, so the service worker takes the origin it relays.
 * One of them at a time (a Web Lock) relays between the channel and the service worker. The
 * granted connector puts its embedder's origin (`event.origin`, as the browser gave it) on each
 * message, as a same-site connector does; only pages of the sandbox's own origin can speak on
 * the channel (it is same-origin by construction), and they are inside the trust boundary.
 */

/** The unpartitioned channel between granted connectors and the app's relay. */
export const RELAY_CHANNEL = 'mcp-sandbox-connector-relay';
/** Held by the relay frame that relays; the others wait for it. */
export const RELAY_LOCK = 'mcp-sandbox-connector-relay';
/** The connector page in relay mode. */
export const RELAY_HASH = '#relay';

/** What travels on the channel. `from`/`to` name a connector (random per frame). */
export type RelayMessage =
  | { channel: typeof CHANNEL; v: typeof WIRE_VERSION; kind: 'relay-ping'; from: string }
  | { channel: typeof CHANNEL; v: typeof WIRE_VERSION; kind: 'relay-pong'; to: string }
  | { channel: typeof CHANNEL; v: typeof WIRE_VERSION; kind: 'relay-up' }
  | { channel: typeof CHANNEL; v: typeof WIRE_VERSION; kind: 'relay-mcp'; from: string; envelope: McpEnvelope }
  | { channel: typeof CHANNEL; v: typeof WIRE_VERSION; kind: 'relay-reply'; to: string; envelope: unknown };

type Channel = Pick<BroadcastChannel, 'postMessage' | 'addEventListener' | 'removeEventListener' | 'close'>;

const relayMessage = <M extends RelayMessage>(m: Omit<M, 'channel' | 'v'>): M => ({ channel: CHANNEL, v: WIRE_VERSION, ...m }) as M;

function isRelayMessage(data: unknown): data is RelayMessage {
  return typeof data === 'object' && data !== null && (data as { channel?: unknown }).channel === CHANNEL && (data as { v?: unknown }).v === WIRE_VERSION && typeof (data as { kind?: unknown }).kind === 'string';
}

/** Embeds the relay in an app window (hidden; first-party, so it hears granted connectors). `base`: the app root. */
export function embedConnectorRelay(base: string, doc: Document = document): HTMLIFrameElement {
  const frame = doc.createElement('iframe');
  frame.src = new URL(CONNECTOR_PATH + RELAY_HASH, new URL(base, doc.location.origin)).href;
  frame.title = 'MCP sandbox connector relay';
  frame.hidden = true;
  frame.setAttribute('aria-hidden', 'true');
  frame.tabIndex = -1;
  doc.body.append(frame);
  return frame;
}

/**
 * The relay, in the app window's hidden connector: once it holds the lock, it answers pings,
 * forwards granted connectors' MCP messages to the service worker (each session bound to the
 * connector that opened it) and their replies back to that connector only.
 */
export async function startConnectorRelay(
  registration: ServiceWorkerRegistration,
  options: { container?: ServiceWorkerContainer; locks?: LockManager; channel?: Channel } = {},
): Promise<void> {
  const container = options.container ?? navigator.serviceWorker;
  const locks = options.locks ?? navigator.locks;
  await locks.request(RELAY_LOCK, async () => {
    const channel = options.channel ?? new BroadcastChannel(RELAY_CHANNEL);
    const owners = new Map<string, string>();
    container.addEventListener('message', (event) => {
      const data: unknown = event.data;
      if (!isEnvelope(data) || data.kind !== 'mcp') return;
      const to = owners.get(data.session);
      if (to) channel.postMessage(relayMessage({ kind: 'relay-reply', to, envelope: data }));
    });
    container.startMessages();
    channel.addEventListener('message', (event) => {
      const data: unknown = (event as MessageEvent).data;
      if (!isRelayMessage(data)) return;
      if (data.kind === 'relay-ping' && typeof data.from === 'string') return channel.postMessage(relayMessage({ kind: 'relay-pong', to: data.from }));
      if (data.kind !== 'relay-mcp' || typeof data.from !== 'string') return;
      const envelope = data.envelope;
      if (!isEnvelope(envelope) || envelope.kind !== 'mcp' || !isValidSessionId(envelope.session) || typeof envelope.origin !== 'string') return;
      const owner = owners.get(envelope.session);
      if (owner && owner !== data.from) return;
      owners.set(envelope.session, data.from);
      (registration.active ?? container.controller)?.postMessage(envelope);
    });
    channel.postMessage(relayMessage({ kind: 'relay-up' }));
    // Held while this window lives; the next app window's relay takes over when it closes.
    await new Promise<never>(() => undefined);
  });
}

/**
 * The granted connector's side: finds the relay (an open app window), then relays between its
 * embedder and the channel as a same-site connector relays to the service worker. `onWaiting`
 * is told when no app window answers within `waitMs` (the connector then asks the person to
 * open one, and keeps listening). Resolves once a relay answered.
 */
export async function relayThroughApp(channel: Channel, win: Window, options: { waitMs?: number; onWaiting?: () => void } = {}): Promise<void> {
  const id = crypto.randomUUID();
  await new Promise<void>((resolve) => {
    const ping = () => channel.postMessage(relayMessage({ kind: 'relay-ping', from: id }));
    const retry = setInterval(ping, 1_000);
    const onMessage = (event: Event) => {
      const data: unknown = (event as MessageEvent).data;
      if (!isRelayMessage(data) || !((data.kind === 'relay-pong' && data.to === id) || data.kind === 'relay-up')) return;
      clearTimeout(waiting);
      clearInterval(retry);
      channel.removeEventListener('message', onMessage);
      resolve();
    };
    channel.addEventListener('message', onMessage);
    const waiting = setTimeout(() => options.onWaiting?.(), options.waitMs ?? 1_000);
    ping();
  });

  const sessions = new Map<string, string>();
  channel.addEventListener('message', (event) => {
    const data: unknown = (event as MessageEvent).data;
    if (!isRelayMessage(data) || data.kind !== 'relay-reply' || data.to !== id) return;
    const envelope = data.envelope;
    if (!isEnvelope(envelope) || envelope.kind !== 'mcp') return;
    const origin = sessions.get(envelope.session);
    if (origin) win.parent.postMessage(envelope, origin);
  });
  win.addEventListener('message', (event) => {
    if (event.source !== win.parent || event.origin === 'null') return;
    const data: unknown = event.data;
    if (!isEnvelope(data) || data.kind !== 'mcp' || !isValidSessionId(data.session)) return;
    const bound = sessions.get(data.session);
    if (bound && bound !== event.origin) return;
    sessions.set(data.session, event.origin);
    channel.postMessage(relayMessage({ kind: 'relay-mcp', from: id, envelope: { ...data, origin: event.origin } }));
  });
}
