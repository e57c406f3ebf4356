/**
 * The document of the Python frame (`python-frame.html`, emitted by vite.config.ts). It is served
 * with the `pythonFrame` CSP of src/shared/csp.json (by the service worker, and by the static
 * server), whose `sandbox allow-scripts` gives it an opaque origin and whose `script-src` allows
 * exactly this script by its hash. Keep it small and stable: changing one character changes the
 * hash, which must then be updated in csp.json (test/unit/python-frame.test.ts checks it).
 *
 * All it does is start one blob worker from source text its parent posts (the supervisor,
 * src/sandbox/host/python/supervisor.ts) and hand it the port that came with the message. It runs
 * no program and keeps nothing; messages from anyone but its parent window are ignored.
 * Imports nothing: vite.config.ts loads it in Node.
 */

/** Marks the frame's messages to and from the app window. */
export const PYTHON_FRAME_CHANNEL = 'mcp-sandbox-python';

export const FRAME_SCRIPT = `"use strict";
let started = false;
addEventListener("message", (event) => {
  const m = event.data;
  if (started || event.source !== parent || !m || m.channel !== "${PYTHON_FRAME_CHANNEL}" || m.kind !== "start" || typeof m.source !== "string" || event.ports.length !== 1) return;
  started = true;
  const url = URL.createObjectURL(new Blob([m.source], { type: "text/javascript" }));
  new Worker(url, { name: "python-supervisor" }).postMessage(null, [event.ports[0]]);
});
parent.postMessage({ channel: "${PYTHON_FRAME_CHANNEL}", kind: "frame-ready" }, "*");
`;

/** The whole document; the script is inlined exactly as `FRAME_SCRIPT` (its hash is in the CSP). */
export function frameDocument(): string {
  return `<!doctype html>\n<meta charset="utf-8">\n<title>python sandbox</title>\n<script>${FRAME_SCRIPT}</script>\n`;
}
