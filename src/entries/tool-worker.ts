import { expose } from 'comlink';
import { createToolRunner, TOOL_WORKER_MESSAGEERROR } from '../sandbox/worker/tool-runner';

// The only thing a tool worker offers: run one job (and drop an instance made ahead). It is
// served with a CSP that forbids all network and wasm compilation (see src/shared/csp.json).
// Its notices (an instance made ahead) go to the host outside Comlink, which ignores them.
expose(createToolRunner((notice) => self.postMessage(notice)));

// A job this worker cannot deserialise never reaches Comlink, so its call would wait for its
// deadline. Firefox refuses a compiled WebAssembly.Module in a worker whose CSP forbids wasm
// compilation (docs/browsers.md): say so at once, so the host fails the call with the cause.
self.addEventListener('messageerror', () => self.postMessage({ kind: TOOL_WORKER_MESSAGEERROR }));
