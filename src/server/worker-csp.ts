import csp from '../shared/csp.json';

/**
 * The CSP to force on a response, or null to leave it alone. Tool workers get no network at
 * all (no connect-src) and may only load same-origin scripts: their own glue, never a URL a
 * tool could choose. Wasm compilation is also forbidden there; the host posts compiled modules.
 * The Python frame gets its own policy (csp.json `pythonFrame`).
 */
export function cspFor(request: Request, scopeUrl: string): string | null {
  if (request.method !== 'GET') return null;
  const url = new URL(request.url);
  if (url.origin !== new URL(scopeUrl).origin) return null;
  if (url.pathname === new URL(csp.toolWorkerPath, scopeUrl).pathname) return csp.toolWorker;
  // The Python frame (src/sandbox/host/python/): sandboxed to an opaque origin by this policy
  // itself (the iframe cannot carry the sandbox attribute, or its navigation would bypass this
  // worker and the frame would not load offline), no network, only its own inline script.
  if (url.pathname === new URL(csp.pythonFramePath, scopeUrl).pathname) return csp.pythonFrame;
  return null;
}
