/**
 * Host functions answered in the worker itself: they reach nothing, so need no capability port
 * (`get-context` answers what the job carries).
 */
const LOCAL_HOST_FUNCTIONS = new Set(['now-ms', 'random-bytes', 'get-context']);
const reaching = new WeakMap<WebAssembly.Module, boolean>();

/**
 * Whether a tool's core modules import any host function the service worker answers (files,
 * HTTP, log). A component imports only the host functions its code calls, so a tool for which
 * this is false gets no capability port at all (and with none, any request would fail).
 * Remembered per compiled module.
 */
export function reachesOut(modules: Record<string, WebAssembly.Module>): boolean {
  return Object.values(modules).some((module) => {
    let answer = reaching.get(module);
    if (answer === undefined) {
      answer = WebAssembly.Module.imports(module).some((i) => i.module.startsWith('mcp-sandbox:tool/host@') && !LOCAL_HOST_FUNCTIONS.has(i.name));
      reaching.set(module, answer);
    }
    return answer;
  });
}
