/**
 * One Python interpreter: a blob worker started by the supervisor inside the opaque-origin
 * Python frame (so it inherits the frame's CSP: no network, no scripts but this one, no eval;
 * wasm compilation is allowed). Vite bundles it with Pyodide's loader and emscripten glue into
 * one classic script (`?worker&url`); the app fetches that text and the supervisor starts it
 * from a blob.
 *
 * It never fetches: the supervisor posts the compiled (memory-capped) Pyodide module, the
 * standard library zip, the lock file and the memory snapshot, and Pyodide's loader is handed
 * them (its two fetches at start are answered from memory, its wasm loading is replaced by
 * `instantiateWasm`). The guest program can run JavaScript here (Pyodide is no boundary): so
 * this worker serves one isolation key only, and the app trusts nothing it says.
 */
import { loadPyodide, type PyodideAPI } from 'pyodide';
import createPyodideModule from 'pyodide/pyodide.asm.mjs';
import { OutputBuffer } from '../../../shared/execute-code';
import type { CapabilityName, CapabilityReply } from '../../../shared/wire';
import { WARM_MODULES, type GuestError, type WorkerInit, type WorkerMessage, type WorkerOutcome, type WorkerRequest } from './protocol';
import RUNNER_SOURCE from './runner.py?raw';

/** Where Pyodide's loader believes its files are; nothing is ever fetched from there. */
const INDEX_URL = 'https://pyodide.invalid/';
/** `sandbox.*` requests one program may have in flight / make in all. */
const MAX_IN_FLIGHT = 32;
const MAX_REQUESTS = 1000;

interface Scope {
  onmessage: ((event: MessageEvent) => void) | null;
  fetch: typeof fetch;
}
const scope = self as unknown as Scope;

interface PyCallable {
  (...args: unknown[]): unknown;
  callPromising(...args: unknown[]): Promise<unknown>;
}

let port: MessagePort | null = null;
scope.onmessage = (event: MessageEvent<WorkerInit>) => {
  if (port || !event.ports[0]) return;
  port = event.ports[0];
  const init = event.data;
  void boot(init).catch((error: unknown) => send({ kind: 'boot-failed', message: describe(error) }));
};

function send(message: WorkerMessage, transfer: Transferable[] = []): void {
  port?.postMessage(message, transfer);
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** A stream of the program's output, decoded and cut at its limit. */
class Stream {
  private decoder = new TextDecoder();
  private buffer = new OutputBuffer(0);
  reset(limit: number): void {
    this.decoder = new TextDecoder();
    this.buffer = new OutputBuffer(limit);
  }
  write(bytes: Uint8Array): number {
    if (!this.buffer.truncated) this.buffer.push(this.decoder.decode(bytes, { stream: true }));
    return bytes.length;
  }
  finish(): { text: string; truncated: boolean } {
    this.buffer.push(this.decoder.decode());
    return { text: this.buffer.text, truncated: this.buffer.truncated };
  }
}

async function boot(init: WorkerInit): Promise<void> {
  const t0 = performance.now();
  const timings: Record<string, number> = {};
  const mark = (name: string) => (timings[name] = Math.round((performance.now() - t0) * 10) / 10);
  const snapshot = init.snapshot ? new Uint8Array(init.snapshot) : null;
  let memory: WebAssembly.Memory | null = null;
  // Pyodide's JsvError helper is a tiny wasm module it would compile itself; its documented
  // fallback (a marker symbol) needs none.
  const marker = Symbol('error marker');
  const realFetch = scope.fetch;
  // The loader fetches the wasm and the stdlib as it starts; both are answered from memory.
  scope.fetch = ((input: RequestInfo | URL) =>
    Promise.resolve(String(input) === `${INDEX_URL}python_stdlib.zip` ? new Response(init.stdlib) : new Response(new Uint8Array(0)))) as typeof fetch;
  let py: PyodideAPI;
  try {
    py = await loadPyodide({
      indexURL: INDEX_URL,
      packageBaseUrl: INDEX_URL,
      lockFileContents: init.lock,
      jsglobals: init.globals === 'worker' ? globalThis : {},
      args: [],
      env: { HOME: '/home/pyodide' },
      _makeSnapshot: init.makeSnapshot,
      ...(snapshot ? { _loadSnapshot: snapshot } : {}),
      createPyodideModule: ((settings: Record<string, unknown>) => {
        settings['instantiateWasm'] = (imports: { env: Record<string, unknown> }, done: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void) => {
          imports.env['Jsv_GetError_import'] = () => marker;
          imports.env['JsvError_Check'] = (value: unknown) => value === marker;
          mark('instantiate');
          WebAssembly.instantiate(init.module, imports as WebAssembly.Imports).then(
            (instance) => {
              mark('instantiated');
              memory = instance.exports['memory'] as WebAssembly.Memory;
              if (snapshot) {
                // The snapshot holds the whole heap: the memory must be that large before it is copied in.
                const header = new Uint32Array(snapshot.buffer, snapshot.byteOffset, 2);
                const pages = Math.ceil((snapshot.byteLength - header[1]!) / 65536) - memory.buffer.byteLength / 65536;
                if (pages > 0) {
                  try {
                    memory.grow(pages);
                  } catch (error) {
                    send({ kind: 'boot-failed', message: `the interpreter's memory (${snapshot.byteLength - header[1]!} bytes) does not fit the memory limit: ${describe(error)}`, memory: true });
                    return;
                  }
                }
              }
              done(instance, init.module);
            },
            (error: unknown) => send({ kind: 'boot-failed', message: `instantiating Pyodide failed: ${describe(error)}` }),
          );
          return {};
        };
        return createPyodideModule(settings);
      }) as never,
    });
  } finally {
    scope.fetch = realFetch;
  }
  mark('loaded');

  if (init.makeSnapshot) {
    py.runPython(`import ${WARM_MODULES.join(', ')}`);
    mark('warmed');
    const bytes = py.makeMemorySnapshot();
    mark('snapshot');
    send({ kind: 'snapshot', bytes: bytes.buffer as ArrayBuffer, ms: performance.now() - t0 }, [bytes.buffer as ArrayBuffer]);
    return;
  }

  const stdout = new Stream();
  const stderr = new Stream();
  py.setStdout({ write: (bytes: Uint8Array) => stdout.write(bytes), isatty: false });
  py.setStderr({ write: (bytes: Uint8Array) => stderr.write(bytes), isatty: false });
  if (init.interrupt) py.setInterruptBuffer(init.interrupt);

  // The bridge `sandbox.*` uses: requests on the current run's capability port.
  let capabilities: MessagePort | null = null;
  let nextId = 1;
  let sent = 0;
  const waiting = new Map<number, (reply: string) => void>();
  const refuse = (message: string) => JSON.stringify({ ok: false, error: message });
  const host = {
    request(fn: string, argsJson: string): Promise<string> {
      if (!capabilities) return Promise.resolve(refuse(`sandbox: ${fn} is not available to this program`));
      if (waiting.size >= MAX_IN_FLIGHT) return Promise.resolve(refuse(`sandbox: more than ${MAX_IN_FLIGHT} requests in flight`));
      if (sent >= MAX_REQUESTS) return Promise.resolve(refuse(`sandbox: more than ${MAX_REQUESTS} requests in one run`));
      sent++;
      const id = nextId++;
      const channel = capabilities;
      return new Promise<string>((resolve) => {
        waiting.set(id, resolve);
        channel.postMessage({ id, fn: fn as CapabilityName, args: JSON.parse(argsJson) as Record<string, unknown> });
      });
    },
    log(level: string, message: string): void {
      capabilities?.postMessage({ id: 0, fn: 'log', args: { level, message } });
    },
  };
  py.registerJsModule('_mcp_sandbox_host', host);
  const runner = py.runPython("import sys, types\nm = types.ModuleType('_mcp_runner')\nsys.modules['_mcp_runner'] = m\nm.__dict__", { globals: py.toPy({}) }) as { get(name: string): unknown; set(name: string, value: unknown): void };
  mark('streams');
  py.runPython(RUNNER_SOURCE, { globals: runner as never });
  mark('runner');
  const run = runner.get('run') as PyCallable;
  const reset = runner.get('reset') as PyCallable;
  (runner.get('capture_baseline') as PyCallable)();
  mark('baseline');
  const memoryBytes = () => memory?.buffer.byteLength ?? 0;
  const jspi = typeof (WebAssembly as { Suspending?: unknown }).Suspending === 'function';

  // A fatal error of the interpreter (a JavaScript stack overflow deep in wasm, say) can surface
  // as an uncaught error of this worker instead of a rejection of the run: it ends the run.
  let onFatal: ((error: unknown) => void) | null = null;
  const fatalError = (error: unknown) => error instanceof RangeError || (error as { pyodide_fatal_error?: unknown } | null)?.pyodide_fatal_error === true;
  addEventListener('error', (event: ErrorEvent) => {
    if (onFatal && fatalError(event.error)) {
      event.preventDefault();
      onFatal(event.error);
    }
  });
  addEventListener('unhandledrejection', (event: PromiseRejectionEvent) => {
    if (onFatal && fatalError(event.reason)) {
      event.preventDefault();
      onFatal(event.reason);
    }
  });

  port!.onmessage = (event: MessageEvent<WorkerRequest>) => {
    const request = event.data;
    if (request?.kind === 'run') void runProgram(request, event.ports[0] ?? null);
    else if (request?.kind === 'reset') resetInterpreter();
  };
  send({ kind: 'booted', ms: performance.now() - t0, memoryBytes: memoryBytes(), jspi, timings });

  async function runProgram(request: Extract<WorkerRequest, { kind: 'run' }>, channel: MessagePort | null): Promise<void> {
    const started = performance.now();
    stdout.reset(request.limits.stdoutChars);
    stderr.reset(request.limits.stderrChars);
    if (init.interrupt) Atomics.store(init.interrupt, 0, 0);
    capabilities = channel;
    sent = 0;
    if (channel) {
      channel.onmessage = (event: MessageEvent<CapabilityReply>) => {
        const reply = event.data;
        const resolve = waiting.get(reply?.id);
        if (!resolve) return;
        waiting.delete(reply.id);
        resolve(JSON.stringify(reply.ok ? { ok: true, value: reply.value } : { ok: false, error: String(reply.error) }));
      };
    }
    let outcome: WorkerOutcome;
    const streams = () => {
      const out = stdout.finish();
      const err = stderr.finish();
      return { stdout: out.text, stderr: err.text, stdoutTruncated: out.truncated, stderrTruncated: err.truncated, memoryBytes: memoryBytes(), ms: performance.now() - started };
    };
    try {
      const fatal = new Promise<never>((_, reject) => (onFatal = reject));
      const text = (await Promise.race([run.callPromising(request.code, request.inputJson, request.limits.resultChars), fatal])) as string;
      const parsed = JSON.parse(text) as { ok: true; result: string; truncated: boolean } | ({ ok: false } & GuestError);
      outcome = parsed.ok
        ? { ok: true, resultJson: parsed.result, resultTruncated: parsed.truncated, ...streams() }
        : { ok: false, error: { type: parsed.type, message: parsed.message, traceback: parsed.traceback, ...(parsed.memory ? { memory: true } : {}) }, ...streams() };
    } catch (error) {
      const python = error as { type?: unknown; message?: unknown; pyodide_fatal_error?: unknown } | null;
      if (python?.pyodide_fatal_error !== true && !(error instanceof RangeError) && error instanceof Error && error.constructor.name === 'PythonError' && typeof python?.type === 'string') {
        // A Python exception that escaped the runner (the program cancelled its own task, say).
        outcome = { ok: false, error: { type: python.type, message: String(python.message ?? '').trim().split('\n').at(-1) ?? '', traceback: String(python.message ?? '') }, ...streams() };
      } else {
        // The interpreter itself failed (Pyodide's fatal error).
        const message = describe(error);
        const stackOverflow = /Maximum call stack size exceeded|too much recursion/i.test(message);
        outcome = { ok: false, error: { type: 'FatalError', message, traceback: '', fatal: true, ...(stackOverflow ? { stackOverflow: true } : {}) }, ...streams() };
      }
    }
    onFatal = null;
    capabilities = null;
    channel?.close();
    for (const resolve of waiting.values()) resolve(refuse('sandbox: the run ended'));
    waiting.clear();
    send({ kind: 'result', call: request.call, outcome });
  }

  function resetInterpreter(): void {
    const started = performance.now();
    let clean = false;
    let reason: string | undefined;
    try {
      const answer = JSON.parse(reset() as string) as { clean: boolean; reason: string };
      clean = answer.clean;
      reason = answer.reason || undefined;
    } catch (error) {
      reason = describe(error);
    }
    send({ kind: 'reset-done', clean, ...(reason ? { reason } : {}), memoryBytes: memoryBytes(), ms: performance.now() - started });
  }
}
