import { CONNECTOR_PATH, isEnvelope } from '../../shared/wire';
import type { ClientEndpoint } from '../client-transport';

/**
 * The agent side of a cross-origin link: a hidden iframe of the sandbox's connector page.
 * Envelopes go to the iframe only (target origin pinned to the sandbox), and only messages
 * from that iframe and origin are heard.
 */
export async function connectorEndpoint(sandboxUrl: string, timeoutMs = 15_000, doc: Document = document): Promise<ClientEndpoint & { close(): void }> {
  const root = new URL('./', new URL(sandboxUrl, doc.baseURI));
  const origin = root.origin;
  const frame = doc.createElement('iframe');
  frame.src = new URL(CONNECTOR_PATH, root).href;
  frame.title = 'MCP sandbox connector';
  frame.hidden = true;
  const win = doc.defaultView!;
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      win.removeEventListener('message', onReady);
      reject(new Error(`the sandbox connector at ${frame.src} did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = (event: MessageEvent) => {
      if (event.source !== frame.contentWindow || event.origin !== origin || !isEnvelope(event.data)) return;
      const data = event.data;
      if (data.kind !== 'connector-ready' && data.kind !== 'connector-error') return;
      clearTimeout(timer);
      win.removeEventListener('message', onReady);
      if (data.kind === 'connector-ready') resolve();
      else {
        frame.remove();
        reject(Object.assign(new Error(`the sandbox connector cannot serve this page (${data.code}): ${data.message}`), { code: data.code }));
      }
    };
    win.addEventListener('message', onReady);
  });
  doc.body.append(frame);
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
