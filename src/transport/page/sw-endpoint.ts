import type { ClientEndpoint } from '../client-transport';

/**
 * The agent side of the link to the service worker. Each message is its own `postMessage` to
 * the active worker — that is what wakes a stopped one — and replies arrive as `message`
 * events on the container. `registration.active` is read on every post so an updated worker
 * is used as soon as it activates.
 */
export function serviceWorkerEndpoint(registration: ServiceWorkerRegistration, container: ServiceWorkerContainer = navigator.serviceWorker): ClientEndpoint {
  return {
    post(message) {
      const target = registration.active ?? container.controller;
      if (!target) throw new Error('no active service worker to send to');
      target.postMessage(message);
    },
    subscribe(listener) {
      const onMessage = (event: MessageEvent) => listener(event.data);
      container.addEventListener('message', onMessage);
      container.startMessages();
      return () => container.removeEventListener('message', onMessage);
    },
  };
}
