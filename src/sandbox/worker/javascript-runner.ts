/**
 * JavaScript for the built-in tool `execute_code`: QuickJS (quickjs-emscripten, release-sync
 * build) inside the tool worker. The worker's CSP forbids compiling wasm and every request, so
 * the host compiles the QuickJS module (with the call's memory cap written into it) and posts it;
 * emscripten is given that module through `instantiateWasm` and never fetches or compiles.
 *
 * One QuickJS instance is kept warm per worker; every run gets a fresh runtime and context, all
 * disposed afterwards. An instance that hit a limit, failed to dispose cleanly or grew large is
 * dropped (and a new one warmed in the background). The guest sees only QuickJS's own globals
 * plus `console`, `input` and `sandbox` (see docs/execute-code.md); `sandbox.*` are requests on
 * the call's capability port, decided by the service worker as for any tool.
 */
import { newQuickJSWASMModuleFromVariant, type QuickJSContext, type QuickJSDeferredPromise, type QuickJSHandle, type QuickJSRuntime, type QuickJSSyncVariant, type QuickJSWASMModule } from 'quickjs-emscripten-core';
import type { SandboxErrorInfo } from '../../shared/errors';
import { OutputBuffer, codeOutputJson } from '../../shared/execute-code';
import type { CapabilityName, CapabilityReply } from '../../shared/wire';
import type { ScriptJob, WorkerOutcome } from '../protocol';
import { capabilityClient, type CapabilityClient } from './host-imports';

const MIB = 1024 * 1024;
/**
 * QuickJS's stack limit (of its C stack in linear memory). Deep recursion also uses the worker's
 * native stack, which is small in a Chromium worker and used faster while the interpreter is
 * still baseline-compiled: measured in fresh workers, the native stack ends after ~800 plain JS
 * calls, ~275 through Array.prototype.map, ~250 through toString. At 128 KiB QuickJS stops
 * plain recursion at ~630 calls and map recursion at ~190 itself (a catchable `InternalError:
 * stack overflow`, the same on every run); at 256 KiB the native stack would run out first in
 * most cases. Whatever overflows natively is still a typed `trap` and the instance is dropped.
 */
export const MAX_STACK_BYTES = 128 * 1024;
/** The module imports at least this much memory (its data, its 5 MiB C stack, the first heap). */
const MIN_MEMORY_BYTES = 16 * MIB;
/** An instance whose memory grew past this is dropped after its run, so an idle worker stays small. */
const KEEP_WARM_BYTES = 64 * MIB;
/** Capability requests one run may have in flight, and make in all. */
const MAX_IN_FLIGHT = 32;
const MAX_REQUESTS = 1000;
/** The capability relay drops larger arguments; refuse them here rather than wait forever. */
const MAX_ARGUMENT_CHARS = 16 * MIB;
/** What a failure keeps of the program's output, in its details. */
const ERROR_OUTPUT_CHARS = 8 * 1024;
/**
 * JS_EVAL_TYPE_GLOBAL | JS_EVAL_FLAG_ASYNC (quickjs.h, 2025-04 on; quickjs-emscripten has no
 * name for it): a script that may use top-level await; it evaluates to a promise of
 * `{ value: <completion value> }`.
 */
const ASYNC_SCRIPT = 1 << 7;
const EVAL_COMPILE_ONLY = 1 << 5;
const GUEST_CAPABILITIES = new Set<CapabilityName>(['read-file', 'write-file', 'list-directory', 'stat', 'http-fetch']);

/** The parts of the emscripten module this file uses directly (to check allocations). */
interface EmscriptenHeap {
  _malloc(bytes: number): number;
  _free(pointer: number): void;
  lengthBytesUTF8(text: string): number;
}

interface Engine {
  key: string;
  qjs: QuickJSWASMModule;
  heap: EmscriptenHeap;
  memory: WebAssembly.Memory;
  limitBytes: number;
}

let engine: Promise<Engine> | null = null;

/** A warm interpreter for this module and cap: the one kept, or a new one. */
async function engineFor(job: ScriptJob): Promise<Engine> {
  const current = engine && (await engine.catch(() => null));
  if (current && current.key === job.moduleKey) return current;
  return replaceEngine(job);
}

async function createEngine(job: ScriptJob): Promise<Engine> {
  const module = Object.values(job.modules)[0];
  if (!module) throw new Error('no QuickJS module was sent with the job');
  const pages = Math.floor(job.memoryBytes / 65536);
  if (pages * 65536 < MIN_MEMORY_BYTES) throw new RangeError(`QuickJS needs ${MIN_MEMORY_BYTES} bytes of memory at start`);
  // The cap is written into the module's import too (memory-limit.ts): a larger memory would not link.
  const memory = new WebAssembly.Memory({ initial: MIN_MEMORY_BYTES / 65536, maximum: pages });
  let heap: EmscriptenHeap | null = null;
  const [{ default: loadEmscripten }, { QuickJSFFI }] = await Promise.all([import('@jitl/quickjs-wasmfile-release-sync/emscripten-module'), import('@jitl/quickjs-wasmfile-release-sync/ffi')]);
  const variant: QuickJSSyncVariant = {
    type: 'sync',
    importFFI: async () => QuickJSFFI,
    importModuleLoader: async () => async () => {
      const emscripten = await loadEmscripten({
        // Emscripten's own stdout (QuickJS never prints; the guest's console is ours).
        ...{ print: () => undefined },
        wasmMemory: memory,
        // The posted, already compiled module: nothing is fetched or compiled here.
        instantiateWasm(imports, onSuccess) {
          const instance = new WebAssembly.Instance(module, imports);
          onSuccess(instance);
          return instance.exports;
        },
      });
      heap = emscripten as unknown as EmscriptenHeap;
      return emscripten;
    },
  };
  const qjs = await newQuickJSWASMModuleFromVariant(variant);
  if (!heap) throw new Error('the QuickJS module did not load');
  return { key: job.moduleKey, qjs, heap, memory, limitBytes: pages * 65536 };
}

/**
 * Drops the warm instance and starts none: the pool gave this worker a job of another kind, or
 * needs the memory for another call (tool-runner.ts).
 */
export function dropEngine(): void {
  engine = null;
}

/** Drops the warm instance (it hit a limit, failed, or is for another cap) and starts a new one. */
function replaceEngine(job: ScriptJob): Promise<Engine> {
  const next = createEngine(job);
  engine = next;
  next.catch(() => {
    if (engine === next) engine = null;
  });
  return next;
}

/** The program ran past its deadline (the interrupt handler stopped it, or the worker waited it out). */
class Deadline extends Error {}
/** A value could not be handed into the guest: its heap had no room left. */
class HostOutOfMemory extends Error {}
/** The guest threw (or rejected with) `error`, a handle owned by the catcher. */
class GuestThrow extends Error {
  constructor(readonly error: QuickJSHandle) {
    super('the program threw');
  }
}

/** Guest-side helpers, evaluated in each fresh context before the program; they capture built-ins before it runs. */
const PRELUDE = String.raw`(function (write, call, inputJson, stdoutMax, stderrMax) {
  'use strict';
  const { stringify, parse } = JSON;
  const S = String, isError = (v) => v instanceof Error, entries = Object.entries;
  const text = (v) => {
    if (typeof v === 'string') return v;
    try {
      if (isError(v)) return v.stack ? S(v) + '\n' + v.stack : S(v);
      if (v !== null && typeof v === 'object') { const j = stringify(v); if (j !== undefined) return j; }
      return S(v);
    } catch (e) { return '[unprintable]'; }
  };
  const printer = (fd, max) => (...args) => {
    let s = args.map(text).join(' ') + '\n';
    if (s.length > max) s = s.slice(0, max + 1);
    write(fd, s);
  };
  const out = printer(1, stdoutMax), err = printer(2, stderrMax);
  const console = Object.freeze({ log: out, info: out, debug: out, warn: err, error: err, trace: err });
  const request = async (fn, args) => parse(await call(fn, stringify(args)));
  const sandbox = Object.freeze({
    readFile: async (path) => request('read-file', { path: S(path) }),
    writeFile: async (path, contents) => request('write-file', { path: S(path), contents: S(contents) }),
    listDirectory: async (path = '.') => request('list-directory', { path: S(path) }),
    stat: async (path) => parse(await request('stat', { path: S(path) })),
    fetch: async (url, init = {}) => {
      const headers = {};
      for (const [k, v] of entries(init.headers ?? {})) headers[S(k)] = S(v);
      const req = { method: S(init.method ?? 'GET').toUpperCase(), url: S(url), headers };
      if (init.body !== undefined && init.body !== null) req.body = S(init.body);
      const res = parse(await request('http-fetch', { request: stringify(req) }));
      const body = res.body;
      return Object.freeze({ status: res.status, ok: res.status >= 200 && res.status < 300, headers: res.headers, body, truncated: !!res.truncated, text: async () => body, json: async () => parse(body) });
    },
  });
  const define = (name, value) => Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
  define('console', console);
  define('sandbox', sandbox);
  define('input', parse(inputJson));
  const serialize = (v) => {
    if (v === undefined) return 'u';
    try {
      if (!isError(v)) { const j = stringify(v); if (typeof j === 'string') return 'j' + j; }
    } catch (e) { /* not JSON: its string form */ }
    try { return 's' + S(v); } catch (e) { return 's[unprintable]'; }
  };
  const describe = (e) => {
    const d = { name: 'Error', message: '', stack: '' };
    try {
      if (e !== null && (typeof e === 'object' || typeof e === 'function')) {
        d.name = S(e.name ?? 'Error'); d.message = S(e.message ?? ''); d.stack = S(e.stack ?? '');
      } else { d.name = 'Thrown'; d.message = S(e); }
    } catch (x) { d.message = '[unprintable]'; }
    return stringify(d);
  };
  return [serialize, describe];
})`;

export async function runJavaScript(job: ScriptJob): Promise<WorkerOutcome> {
  const deadline = performance.now() + job.timeoutMs;
  const stdout = new OutputBuffer(job.outputLimits.stdoutChars);
  const stderr = new OutputBuffer(job.outputLimits.stderrChars);
  let current: Engine;
  try {
    current = await engineFor(job);
  } catch (error) {
    engine = null;
    return { ok: false, error: { code: 'load-failed', message: `the JavaScript interpreter could not be started: ${(error as Error)?.message ?? String(error)}` }, memoryBytes: 0, heldBytes: 0 };
  }
  const host = capabilityClient(job.capabilities);
  let run: Run;
  try {
    run = new Run(current, job, host, deadline, stdout, stderr);
  } catch (error) {
    host.close();
    void replaceEngine(job);
    return { ok: false, error: { code: 'load-failed', message: `the JavaScript interpreter could not start a runtime: ${(error as Error)?.message ?? String(error)}` }, memoryBytes: current.memory.buffer.byteLength, heldBytes: MIN_MEMORY_BYTES };
  }
  let outcome: WorkerOutcome;
  let keep = true;
  try {
    const resultJson = await run.execute();
    outcome = { ok: true, output: codeOutputJson({ resultJson, stdout, stderr, durationMs: run.elapsed(), memoryBytes: current.memory.buffer.byteLength }, job.outputLimits), memoryBytes: current.memory.buffer.byteLength };
  } catch (thrown) {
    const error = run.classify(thrown);
    // Whatever hit a limit may have left the instance in a state not worth trusting.
    keep = error.code === 'tool-error';
    outcome = { ok: false, error: withOutput(error, stdout, stderr), memoryBytes: current.memory.buffer.byteLength };
  } finally {
    host.close();
  }
  // An engine that failed mid-call (a trap, the native stack overflowing inside it) is not
  // disposed: its state is not to be walked. It is dropped whole.
  if (run.engineFailed || !run.dispose()) keep = false;
  if (current.memory.buffer.byteLength > KEEP_WARM_BYTES) keep = false;
  // Warmed in the background: the next run finds it ready, or waits for it. Either way the
  // worker holds an interpreter, which the pool counts in its budget (`heldBytes`): the one kept,
  // or the new one at its starting size (it does not grow until a run uses it).
  if (!keep) void replaceEngine(job);
  return { ...outcome, heldBytes: keep ? current.memory.buffer.byteLength : MIN_MEMORY_BYTES };
}

function withOutput(error: SandboxErrorInfo, stdout: OutputBuffer, stderr: OutputBuffer): SandboxErrorInfo {
  const cut = (buffer: OutputBuffer) => (buffer.text.length > ERROR_OUTPUT_CHARS ? buffer.text.slice(0, ERROR_OUTPUT_CHARS) : buffer.text);
  const details: Record<string, unknown> = { ...(error.details ?? {}) };
  if (stdout.text) details['stdout'] = cut(stdout);
  if (stderr.text) details['stderr'] = cut(stderr);
  return { ...error, details };
}

/** One program in its own runtime and context. */
class Run {
  private readonly runtime: QuickJSRuntime;
  private readonly ctx: QuickJSContext;
  private readonly started = performance.now();
  private ended: number | null = null;
  private interrupted = false;
  private serialize: QuickJSHandle | null = null;
  private describe: QuickJSHandle | null = null;
  /** Capability requests of this run not yet answered, and answers not yet handed in. */
  private readonly deferreds = new Set<QuickJSDeferredPromise>();
  private readonly replies: { deferred: QuickJSDeferredPromise; reply: CapabilityReply }[] = [];
  private requests = 0;
  private wake: (() => void) | null = null;
  /** Set when the run ended by the engine failing (not by the program, a limit or the deadline). */
  engineFailed = false;

  constructor(
    private readonly engine: Engine,
    private readonly job: ScriptJob,
    private readonly host: CapabilityClient,
    private readonly deadline: number,
    private readonly stdout: OutputBuffer,
    private readonly stderr: OutputBuffer,
  ) {
    this.runtime = engine.qjs.newRuntime();
    this.runtime.setMaxStackSize(MAX_STACK_BYTES);
    this.runtime.setMemoryLimit(engine.limitBytes);
    this.runtime.setInterruptHandler(() => {
      if (performance.now() < this.deadline) return false;
      this.interrupted = true;
      return true;
    });
    this.ctx = this.runtime.newContext();
  }

  elapsed(): number {
    return (this.ended ?? performance.now()) - this.started;
  }

  /** Runs the program to its end; returns its result as JSON text. */
  async execute(): Promise<string> {
    this.install();
    const source = this.job.source;
    const mode = this.mode(source);
    this.reserve(this.engine.heap.lengthBytesUTF8(source) + 1);
    const evaluated = this.ctx.evalCode(source, 'main.js', mode === 'module' ? { type: 'module' } : ASYNC_SCRIPT);
    if (evaluated.error) throw new GuestThrow(evaluated.error);
    // Both evaluate to a promise: of `{ value }` (the script's completion value) or of the module's namespace.
    const outer = await this.resolved(evaluated.value);
    let value: QuickJSHandle;
    try {
      value = this.ctx.getProp(outer, mode === 'module' ? 'default' : 'value');
    } finally {
      outer.dispose();
    }
    // A program that ends with a promise (an async IIFE, say) has that promise's value as its result.
    value = await this.resolved(value);
    try {
      const json = this.callGuest(this.serialize!, value);
      this.ended = performance.now();
      return json.startsWith('j') ? json.slice(1) : json.startsWith('s') ? JSON.stringify(json.slice(1)) : 'null';
    } finally {
      value.dispose();
    }
  }

  /** Settles `handle` (which it takes over) until it is no promise; returns the value, owned by the caller. */
  private async resolved(handle: QuickJSHandle): Promise<QuickJSHandle> {
    let current = handle;
    try {
      for (;;) {
        const next = await this.settle(current);
        if (next === current) return current;
        current.dispose();
        current = next;
      }
    } catch (error) {
      if (current.alive) current.dispose();
      throw error;
    }
  }

  /**
   * A script (top-level await allowed: QuickJS's async eval), unless it only compiles as a
   * module (it uses import or export declarations).
   */
  private mode(source: string): 'script' | 'module' {
    if (this.compiles(source, ASYNC_SCRIPT)) return 'script';
    return this.compiles(source, { type: 'module' }) ? 'module' : 'script';
  }

  private compiles(source: string, flags: number | { type: 'module' }): boolean {
    this.reserve(this.engine.heap.lengthBytesUTF8(source) + 1);
    const options = typeof flags === 'number' ? flags | EVAL_COMPILE_ONLY : { ...flags, compileOnly: true };
    const compiled = this.ctx.evalCode(source, 'main.js', options);
    (compiled.error ?? compiled.value).dispose();
    return !compiled.error;
  }

  /** console, sandbox and input, from the prelude (run before any code of the program). */
  private install(): void {
    const { ctx } = this;
    const write = ctx.newFunction('write', (fdHandle, textHandle) => {
      const fd = ctx.typeof(fdHandle) === 'number' ? ctx.getNumber(fdHandle) : 1;
      if (ctx.typeof(textHandle) !== 'string') return;
      const buffer = fd === 2 ? this.stderr : this.stdout;
      if (!buffer.truncated) buffer.push(ctx.getString(textHandle));
    });
    const call = ctx.newFunction('call', (fnHandle, argsHandle) => {
      const refuse = (message: string) => ({ error: ctx.newError(message) });
      if (ctx.typeof(fnHandle) !== 'string' || ctx.typeof(argsHandle) !== 'string') return refuse('bad capability request');
      const fn = ctx.getString(fnHandle) as CapabilityName;
      if (!GUEST_CAPABILITIES.has(fn)) return refuse(`no capability ${fn}`);
      let args: Record<string, string>;
      try {
        args = JSON.parse(ctx.getString(argsHandle)) as Record<string, string>;
      } catch {
        return refuse('bad capability request');
      }
      for (const value of Object.values(args)) {
        if (typeof value !== 'string') return refuse('bad capability request');
        if (value.length > MAX_ARGUMENT_CHARS) return refuse(`${fn}: an argument is longer than ${MAX_ARGUMENT_CHARS} characters`);
      }
      if (this.deferreds.size >= MAX_IN_FLIGHT) return refuse(`${fn}: more than ${MAX_IN_FLIGHT} sandbox requests in flight; await some first`);
      if (++this.requests > MAX_REQUESTS) return refuse(`${fn}: a run may make at most ${MAX_REQUESTS} sandbox requests`);
      const deferred = ctx.newPromise();
      this.deferreds.add(deferred);
      void this.host.ask(fn, args).then((reply) => {
        this.replies.push({ deferred, reply });
        this.wake?.();
      });
      return deferred.handle;
    });
    const prelude = this.unwrap(ctx.evalCode(PRELUDE, 'prelude.js', { type: 'global', strict: true }));
    const inputJson = this.guestString(this.job.inputJson);
    const stdoutMax = ctx.newNumber(this.job.outputLimits.stdoutChars);
    const stderrMax = ctx.newNumber(this.job.outputLimits.stderrChars);
    try {
      const helpers = this.unwrap(ctx.callFunction(prelude, ctx.undefined, write, call, inputJson, stdoutMax, stderrMax));
      this.serialize = ctx.getProp(helpers, 0);
      this.describe = ctx.getProp(helpers, 1);
      helpers.dispose();
    } finally {
      for (const handle of [prelude, write, call, inputJson, stdoutMax, stderrMax]) handle.dispose();
    }
  }

  /**
   * Runs jobs and hands in capability answers until `value` (when a promise) has settled and no
   * sandbox request of the program is in flight, so what it started (a write not awaited) is
   * done or failed when the run ends. Returns the settled value (`value` itself if no promise).
   */
  private async settle(value: QuickJSHandle): Promise<QuickJSHandle> {
    let settled: QuickJSHandle | null = null;
    try {
      for (;;) {
        this.deliver();
        const jobs = this.runtime.executePendingJobs();
        if (jobs.error) throw new GuestThrow(jobs.error);
        if (!settled) {
          const state = this.ctx.getPromiseState(value);
          if (state.type === 'rejected') throw new GuestThrow(state.error);
          if (state.type === 'fulfilled') settled = state.value;
        }
        if (this.replies.length > 0 || this.runtime.hasPendingJob()) continue;
        if (this.deferreds.size === 0) {
          if (settled) return settled;
          throw Object.assign(new Error('the program awaits a promise that can never settle (there are no timers, and no sandbox request is pending)'), { neverSettles: true });
        }
        const left = this.deadline - performance.now();
        if (left <= 0) throw new Deadline();
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          timer = setTimeout(resolve, left);
        });
        clearTimeout(timer);
        this.wake = null;
      }
    } catch (error) {
      if (settled && settled !== value) settled.dispose();
      throw error;
    }
  }

  /** Resolves or rejects the guest promises whose capability answers arrived. */
  private deliver(): void {
    for (const { deferred, reply } of this.replies.splice(0)) {
      this.deferreds.delete(deferred);
      try {
        const settled = reply.ok ? this.guestString(JSON.stringify(reply.value ?? null)) : this.ctx.newError(reply.error);
        try {
          if (reply.ok) deferred.resolve(settled);
          else deferred.reject(settled);
        } finally {
          settled.dispose();
        }
      } finally {
        deferred.dispose();
      }
    }
  }

  /** A guest string; throws HostOutOfMemory (instead of writing through a null pointer) when the heap has no room. */
  private guestString(text: string): QuickJSHandle {
    this.reserve(this.engine.heap.lengthBytesUTF8(text) + 1);
    return this.ctx.newString(text);
  }

  /**
   * quickjs-emscripten copies strings in with an unchecked malloc; a failed one would write
   * through a null pointer. Asking for the bytes first (and giving them back) makes that a
   * typed failure instead.
   */
  private reserve(bytes: number): void {
    const pointer = this.engine.heap._malloc(bytes);
    if (!pointer) throw new HostOutOfMemory(`no room for ${bytes} bytes in the interpreter's memory`);
    this.engine.heap._free(pointer);
  }

  private callGuest(fn: QuickJSHandle, value: QuickJSHandle): string {
    const result = this.unwrap(this.ctx.callFunction(fn, this.ctx.undefined, value));
    try {
      return this.ctx.typeof(result) === 'string' ? this.ctx.getString(result) : '';
    } finally {
      result.dispose();
    }
  }

  private unwrap(result: { error?: QuickJSHandle; value?: QuickJSHandle }): QuickJSHandle {
    if (result.error) throw new GuestThrow(result.error);
    return result.value!;
  }

  /** Turns whatever ended the run into a typed error. */
  classify(thrown: unknown): SandboxErrorInfo {
    this.ended ??= performance.now();
    const limitBytes = this.engine.limitBytes;
    const usedBytes = this.engine.memory.buffer.byteLength;
    const timeout = (): SandboxErrorInfo => ({ code: 'timeout', message: `the program ran past its time limit of ${this.job.timeoutMs} ms and was stopped`, details: { limitMs: this.job.timeoutMs } });
    const memory = (detail: string): SandboxErrorInfo => ({ code: 'memory-limit', message: `the program ran out of memory: it reached its memory limit of ${formatMib(limitBytes)}`, details: { limitBytes, usedBytes, reason: detail } });
    if (this.interrupted || thrown instanceof Deadline) {
      if (thrown instanceof GuestThrow) thrown.error.dispose();
      return timeout();
    }
    if (thrown instanceof HostOutOfMemory) return memory(thrown.message);
    if (thrown instanceof GuestThrow) {
      const described = this.describeError(thrown.error);
      thrown.error.dispose();
      if (this.interrupted) return timeout();
      if (described?.name === 'InternalError' && described.message === 'out of memory') return memory('out of memory');
      if (!described || (described.name === 'Thrown' && described.message === 'null' && nearLimit(usedBytes, limitBytes))) return memory('the engine could not allocate');
      if (described.name === 'InternalError' && described.message === 'interrupted') {
        // Not our deadline: a host callback failed inside the engine (the native stack ran out
        // while calling it) and quickjs-emscripten turned that into an interrupt.
        this.engineFailed = true;
        return { code: 'trap', message: 'the program overflowed the interpreter\'s stack', details: { reason: 'stack-overflow', limitBytes: MAX_STACK_BYTES } };
      }
      if (described.name === 'InternalError' && described.message === 'stack overflow') {
        return { code: 'trap', message: `the program overflowed its stack (limit ${MAX_STACK_BYTES / 1024} KiB): ${described.stack.split('\n')[0]?.trim() ?? ''}`.trim(), details: { reason: 'stack-overflow', limitBytes: MAX_STACK_BYTES } };
      }
      const head = described.name === 'Thrown' ? `Uncaught ${described.message}` : `Uncaught ${described.name}${described.message ? `: ${described.message}` : ''}`;
      return { code: 'tool-error', message: described.stack ? `${head}\n${described.stack.trimEnd()}` : head, details: { name: described.name, errorMessage: described.message, stack: described.stack } };
    }
    if ((thrown as { neverSettles?: boolean })?.neverSettles) return { code: 'tool-error', message: (thrown as Error).message, details: { reason: 'never-settles' } };
    // The engine itself failed: a wasm trap, an emscripten abort, the native stack overflowing.
    this.engineFailed = true;
    const message = (thrown as Error)?.message ?? String(thrown);
    if (thrown instanceof RangeError && /call stack/i.test(message)) {
      return { code: 'trap', message: 'the program overflowed the interpreter\'s stack', details: { reason: 'stack-overflow', limitBytes: MAX_STACK_BYTES, trap: message } };
    }
    if (nearLimit(usedBytes, limitBytes)) return memory(message);
    return { code: 'trap', message: `the interpreter failed: ${message}`, details: { trap: message } };
  }

  private describeError(error: QuickJSHandle): { name: string; message: string; stack: string } | null {
    if (!this.describe || this.interrupted) return null;
    try {
      return JSON.parse(this.callGuest(this.describe, error)) as { name: string; message: string; stack: string };
    } catch (thrown) {
      if (thrown instanceof GuestThrow) thrown.error.dispose();
      return null;
    }
  }

  /** Frees the run's handles, context and runtime; false when that failed (the instance is then dropped). */
  dispose(): boolean {
    try {
      for (const deferred of this.deferreds) deferred.dispose();
      this.deferreds.clear();
      this.replies.length = 0;
      this.serialize?.dispose();
      this.describe?.dispose();
      this.ctx.dispose();
      this.runtime.dispose();
      return true;
    } catch {
      return false;
    }
  }
}

function nearLimit(usedBytes: number, limitBytes: number): boolean {
  return usedBytes > 0 && limitBytes - usedBytes < Math.max(2 * 65536, limitBytes / 16);
}

function formatMib(bytes: number): string {
  return bytes % MIB === 0 ? `${bytes / MIB} MiB` : `${bytes} bytes`;
}
