import { envelope, isEnvelope, type ConnectorErrorEnvelope, type ConnectorReadyEnvelope, type McpEnvelope } from '../../shared/wire';
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

/**
 * Why this connector cannot serve its embedder, if it is embedded by another site: browsers
 * partition a third-party frame's storage and service worker by the top-level site, so it
 * would see an empty sandbox (no agents, no tools) — never the sandbox the person set up.
 */
export async function crossSiteProblem(doc: Document): Promise<string | null> {
  const win = doc.defaultView;
  if (!win || win.parent === win) return null;
  const partitioned = typeof doc.hasStorageAccess === 'function' ? !(await doc.hasStorageAccess().catch(() => false)) : false;
  if (!partitioned) return null;
  return (
    'this agent page is on another site than the sandbox, so the browser gives the embedded connector partitioned, empty storage. ' +
    'Serve the agent page from the sandbox\'s site (another port or sub-domain of it works), or open it from the sandbox app (docs/security.md, "Cross-site embedding").'
  );
}

/** Tells the embedder at once that this connector cannot relay, and why. */
export function connectorFailure(code: ConnectorErrorEnvelope['code'], message: string, win: Window = window): void {
  // Nothing secret: any parent may learn why the connector cannot serve it.
  win.parent.postMessage(envelope<ConnectorErrorEnvelope>({ kind: 'connector-error', code, message }), '*');
}
