import { envelope, isEnvelope, type ConnectorReadyEnvelope, type McpEnvelope } from '../../shared/wire';
import { isValidSessionId } from '../envelope';

/**
 * The connector: a page of the sandbox's origin that an agent page on another origin embeds
 * in an iframe. It relays MCP envelopes between its parent and the service worker, and adds
 * the one thing only the browser can attest: the parent's origin (`event.origin`). The server
 * checks that origin and the agent's token; the connector binds each session to the origin
 * that first used it, so no other origin can speak in it or hear its replies.
 */
export function startConnector(registration: ServiceWorkerRegistration, win: Window = window, container: ServiceWorkerContainer = navigator.serviceWorker): void {
  const sessions = new Map<string, string>();

  container.addEventListener('message', (event) => {
    const data: unknown = event.data;
    if (!isEnvelope(data) || data.kind !== 'mcp') return;
    const origin = sessions.get(data.session);
    if (origin) win.parent.postMessage(data, origin);
  });
  container.startMessages();

  win.addEventListener('message', (event) => {
    if (event.source !== win.parent || event.origin === 'null') return;
    const data: unknown = event.data;
    if (!isEnvelope(data) || data.kind !== 'mcp' || !isValidSessionId(data.session)) return;
    const bound = sessions.get(data.session);
    if (bound && bound !== event.origin) return;
    sessions.set(data.session, event.origin);
    const relayed: McpEnvelope = { ...data, origin: event.origin };
    (registration.active ?? container.controller)?.postMessage(relayed);
  });

  // Nothing secret in "ready": any parent may learn that the connector loaded.
  win.parent.postMessage(envelope<ConnectorReadyEnvelope>({ kind: 'connector-ready' }), '*');
}
