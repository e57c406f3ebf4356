import { CONNECTOR_PATH, isEnvelope } from '../../shared/wire';
import type { ClientEndpoint } from '../client-transport';

/**
 * What to do when the connector is embedded by another site and needs the person's consent to
 * reach the sandbox (the Storage Access API: a click on the connector's own button). Without
 * this, `connectorEndpoint` rejects at once with `cross-site`.
 */
export interface StorageAccessOptions {
  /** Where the connector frame is placed, to be shown for the click (default: the document's body). */
  container?: Element;
  /** How long to wait for the person (default 2 minutes); then rejects with `cross-site` (or `no-app-window`). */
  timeoutMs?: number;
  /** Told when the connector is shown, e.g. to explain it or scroll it into view. */
  onPrompt?: (frame: HTMLIFrameElement) => void;
}

/**
 * The agent side of a cross-origin link: a hidden iframe of the sandbox's connector page.
 * Envelopes go to the iframe only (target origin pinned to the sandbox), and only messages
 * from that iframe and origin are heard.
 */
export async function connectorEndpoint(sandboxUrl: string, timeoutMs = 15_000, doc: Document = document, storageAccess?: StorageAccessOptions): Promise<ClientEndpoint & { close(): void }> {
  const root = new URL('./', new URL(sandboxUrl, doc.baseURI));
  const origin = root.origin;
  const frame = doc.createElement('iframe');
  frame.src = new URL(CONNECTOR_PATH, root).href;
  frame.title = 'MCP sandbox connector';
  frame.hidden = true;
  // Storage access is the embedder's to delegate (the default allowlist is `*`; said explicitly).
  frame.allow = 'storage-access';
  const win = doc.defaultView!;
  const ready = new Promise<void>((resolve, reject) => {
    const fail = (code: string, message: string) => {
      clearTimeout(timer);
      win.removeEventListener('message', onReady);
      frame.remove();
      reject(Object.assign(new Error(`the sandbox connector cannot serve this page (${code}): ${message}`), { code }));
    };
    let timer = setTimeout(() => {
      win.removeEventListener('message', onReady);
      frame.remove();
      reject(new Error(`the sandbox connector at ${frame.src} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = (event: MessageEvent) => {
      if (event.source !== frame.contentWindow || event.origin !== origin || !isEnvelope(event.data)) return;
      const data = event.data;
      if (data.kind === 'connector-needs-access') {
        if (!storageAccess) {
          if (data.reason === 'app-window') return fail('no-app-window', data.message);
          return fail('cross-site', `${data.message} (connectRemote's \`storageAccess\` option shows the connector for that click.)`);
        }
        // The person's turn: show the connector, wait for them instead of the load timeout.
        clearTimeout(timer);
        const waitMs = storageAccess.timeoutMs ?? 120_000;
        timer = setTimeout(() => fail(data.reason === 'app-window' ? 'no-app-window' : 'cross-site', `${data.message} (the person did not act within ${waitMs} ms)`), waitMs);
        frame.hidden = false;
        frame.style.cssText = 'display:block;width:100%;max-width:32rem;height:8.5rem;border:1px solid #cbd5e1;border-radius:8px;';
        storageAccess.onPrompt?.(frame);
        return;
      }
      if (data.kind !== 'connector-ready' && data.kind !== 'connector-error') return;
      if (data.kind === 'connector-error') return fail(data.code, data.message);
      clearTimeout(timer);
      win.removeEventListener('message', onReady);
      // Shown for the click only; the link itself needs no window.
      frame.hidden = true;
      frame.style.display = 'none';
      resolve();
    };
    win.addEventListener('message', onReady);
  });
  // Placed once: moving a frame reloads it.
  (storageAccess?.container ?? doc.body).append(frame);
  await ready;
  return {
    post(message) {
      frame.contentWindow!.postMessage(message, origin);
    },
    subscribe(listener) {
      const onMessage = (event: MessageEvent) => {
        if (event.source === frame.contentWindow && event.origin === origin) listener(event.data);
      };
      win.addEventListener('message', onMessage);
      return () => win.removeEventListener('message', onMessage);
    },
    close() {
      frame.remove();
    },
  };
}
