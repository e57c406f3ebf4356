import type { ClientEndpoint } from '../client-transport';
import { agentLinkEndpoint, type AgentLinkOptions } from './agent-link';

/**
 * The agent side of the link to the service worker: an agent link (agent-link.ts) over the
 * service worker's `postMessage` events. Events go to `registration.active`, read on every post
 * so an updated worker is used as soon as it activates; replies arrive as `message` events on
 * the container or on the link's port.
 */
export function serviceWorkerEndpoint(registration: ServiceWorkerRegistration, container: ServiceWorkerContainer = navigator.serviceWorker, options?: AgentLinkOptions): ClientEndpoint & { close(): void } {
  return agentLinkEndpoint(
    {
      post(message, transfer) {
        const target = registration.active ?? container.controller;
        if (!target) throw new Error('no active service worker to send to');
        target.postMessage(message, transfer ?? []);
      },
      subscribe(listener) {
        const onMessage = (event: MessageEvent) => listener(event.data);
        container.addEventListener('message', onMessage);
        container.startMessages();
        return () => container.removeEventListener('message', onMessage);
      },
    },
    options,
  );
}
