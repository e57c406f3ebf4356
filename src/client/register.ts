/**
 * Registers the sandbox's service worker (a module worker at the app root) and resolves once
 * one is active. Safe to call from every page: registering again is a no-op.
 */
export async function registerSandbox(base: string = import.meta.env.BASE_URL): Promise<ServiceWorkerRegistration> {
  if (!('serviceWorker' in navigator)) throw new Error('this browser has no service workers; the sandbox cannot run here');
  await navigator.serviceWorker.register(new URL('sw.js', new URL(base, location.origin)), { type: 'module', scope: base });
  return navigator.serviceWorker.ready;
}
