/**
 * The supervisor: a blob worker the Python frame starts (frame-document.ts) from source text the
 * app posts. It runs no program. It compiles Pyodide's module (the app cannot post a compiled
 * Module into an opaque-origin frame: a Module only crosses to the same agent cluster), keeps the
 * files every interpreter needs, starts and terminates the Python workers (nested blob workers,
 * which inherit the frame's CSP) and writes their interrupt buffers. The app talks to it on one
 * MessagePort and to each Python worker on that worker's own port.
 *
 * A Python worker can post to this worker (`self.postMessage` reaches its parent): nothing here
 * listens to that. Its uncaught errors are forwarded once, as information.
 */
import type { SupervisorMessage, SupervisorRequest, WorkerInit } from './protocol';

interface Scope {
  onmessage: ((event: MessageEvent) => void) | null;
  crossOriginIsolated: boolean;
}
const scope = self as unknown as Scope;

/** Compiled modules kept (one per memory cap; the newest few). */
const MAX_COMPILED = 2;
/** SIGINT, as Pyodide's interrupt buffer expects it. */
const SIGINT = 2;

let app: MessagePort | null = null;
let files: { workerUrl: string; stdlib: ArrayBuffer; lock: string } | null = null;
let snapshot: ArrayBuffer | null = null;
const compiled = new Map<number, Promise<WebAssembly.Module>>();
const workers = new Map<number, { worker: Worker; interrupt: Int32Array | null }>();

scope.onmessage = (event: MessageEvent) => {
  if (app || !event.ports[0]) return;
  app = event.ports[0];
  app.onmessage = (message: MessageEvent<SupervisorRequest>) => handle(message.data, message.ports[0]);
  send({ kind: 'supervisor-ready', isolated: scope.crossOriginIsolated === true });
};

function send(message: SupervisorMessage): void {
  app?.postMessage(message);
}

function handle(request: SupervisorRequest, port: MessagePort | undefined): void {
  switch (request?.kind) {
    case 'files':
      if (files) URL.revokeObjectURL(files.workerUrl);
      files = { workerUrl: URL.createObjectURL(new Blob([request.workerSource], { type: 'text/javascript' })), stdlib: request.stdlib, lock: request.lock };
      return;
    case 'compile': {
      const started = performance.now();
      const module = WebAssembly.compile(request.wasm);
      compiled.delete(request.cap);
      compiled.set(request.cap, module);
      while (compiled.size > MAX_COMPILED) compiled.delete(compiled.keys().next().value!);
      module.then(
        () => send({ kind: 'compiled', cap: request.cap, ms: performance.now() - started }),
        (error: unknown) => {
          compiled.delete(request.cap);
          send({ kind: 'compile-failed', cap: request.cap, message: String((error as Error)?.message ?? error) });
        },
      );
      return;
    }
    case 'snapshot':
      snapshot = request.bytes;
      return;
    case 'spawn':
      void spawn(request, port);
      return;
    case 'interrupt': {
      const interrupt = workers.get(request.id)?.interrupt;
      if (interrupt) Atomics.store(interrupt, 0, SIGINT);
      return;
    }
    case 'kill':
      workers.get(request.id)?.worker.terminate();
      workers.delete(request.id);
      return;
    case 'ping':
      send({ kind: 'pong', id: request.id });
      return;
  }
}

async function spawn(request: Extract<SupervisorRequest, { kind: 'spawn' }>, port: MessagePort | undefined): Promise<void> {
  const fail = (message: string) => send({ kind: 'spawn-failed', id: request.id, message });
  const pending = compiled.get(request.cap);
  if (!port || !files || !pending) return fail('the supervisor has no files or module for this worker');
  if (request.mode === 'restore' && !snapshot) return fail('no snapshot to restore from');
  let module: WebAssembly.Module;
  try {
    module = await pending;
  } catch (error) {
    return fail(`Pyodide did not compile: ${String((error as Error)?.message ?? error)}`);
  }
  const worker = new Worker(files.workerUrl, { name: `python-${request.id}` });
  const interrupt = scope.crossOriginIsolated ? new Int32Array(new SharedArrayBuffer(4)) : null;
  workers.set(request.id, { worker, interrupt });
  let reported = false;
  worker.onerror = (event) => {
    event.preventDefault();
    if (reported) return;
    reported = true;
    send({ kind: 'worker-error', id: request.id, message: String(event.message).slice(0, 1000) });
  };
  const init: WorkerInit = { module, stdlib: files.stdlib, lock: files.lock, snapshot: request.mode === 'restore' ? snapshot : null, makeSnapshot: request.mode === 'make-snapshot', interrupt, globals: request.globals === 'worker' ? 'worker' : 'none' };
  worker.postMessage(init, [port]);
}
