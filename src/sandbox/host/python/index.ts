/**
 * Python for `execute_code`: Pyodide in workers inside an opaque-origin, CSP-locked frame.
 *
 *   app window (this file)                     python-frame.html (CSP: sandbox allow-scripts, no network)
 *   PythonRuntime ── postMessage(start) ──────▶ frame script (frame-document.ts)
 *     fetches Pyodide's files (same origin,       └─ supervisor (blob worker, supervisor.ts):
 *     precached), caps the wasm's memory,             compiles Pyodide, keeps the files + snapshot,
 *     keeps the snapshot in Cache Storage ◀──┐        starts / interrupts / ends Python workers
 *                                            │        └─ Python worker (blob, worker.ts + runner.py)
 *     ◀════ one MessagePort per interpreter ═╪══════════▶ one interpreter, restored from the snapshot
 *
 * Pyodide is not a boundary (the program can run JavaScript in its worker). The boundary is the
 * frame: an opaque origin (no storage, cookies, service worker of the app), a CSP that blocks
 * every request and navigation, and a worker that never serves two isolation keys. See
 * docs/execute-code.md#python.
 */
import wasmUrl from 'pyodide/pyodide.asm.wasm?url';
import stdlibUrl from 'pyodide/python_stdlib.zip?url';
import lockUrl from 'pyodide/pyodide-lock.json?url';
import { version as PYODIDE_VERSION } from 'pyodide/package.json';
import workerUrl from './worker.ts?worker&url';
import supervisorUrl from './supervisor.ts?worker&url';
import csp from '../../../shared/csp.json';
import type { SandboxErrorInfo } from '../../../shared/errors';
import { OUTPUT_LIMITS, type OutputLimits, type TruncatableField } from '../../../shared/execute-code';
import { capMemory, MemoryLimitError, WASM_PAGE } from '../../memory-limit';
import { capabilityChannel } from '../capability-relay';
import type { CapabilityAnswer } from '../code-runtime';
import { PYTHON_FRAME_CHANNEL } from './frame-document';
import { WARM_MODULES, type GuestGlobals, type SupervisorMessage, type SupervisorRequest, type WorkerMessage, type WorkerOutcome } from './protocol';
import { dropSnapshot, loadSnapshot, saveSnapshot } from './snapshot-store';
import type { PythonJob, PythonOutcome, PythonRuntimeOptions, PythonStage } from './types';

export type { PythonJob, PythonOutcome, PythonRuntimeOptions, PythonStage } from './types';
export { PythonCodeRuntime } from './code-runtime';

/** How long past its deadline an interrupted program may take to stop before its worker is ended. */
export const BACKSTOP_MS = 100;
const FRAME_TIMEOUT_MS = 15_000;
const COMPILE_TIMEOUT_MS = 60_000;
const BOOT_TIMEOUT_MS = 30_000;
const SNAPSHOT_TIMEOUT_MS = 180_000;
const RESET_TIMEOUT_MS = 2_000;
/** How long after an uncaught error of its worker a run may still report its own end. */
const LOST_GRACE_MS = 250;
const PING_TIMEOUT_MS = 2_000;
/** An interpreter whose memory grew this much past its start is replaced rather than reused. */
const REUSE_GROWTH_BYTES = 64 * 1024 * 1024;
/** `sandbox.*` requests of one run the host answers at most (in flight / in all). */
const MAX_IN_FLIGHT = 32;
const MAX_REQUESTS = 1000;
/** Characters of stdout/stderr kept in a failure's details. */
const ERROR_OUTPUT_CHARS = 8 * 1024;
const DEFAULT_MEMORY_BYTES = 256 * 1024 * 1024;
/** execute_code's own limit, for a job that names none. */
const DEFAULT_TIMEOUT_MS = 30_000;
/** What the snapshot depends on besides the files' content-hashed URLs. */
const SNAPSHOT_FORMAT = 1;

interface Files {
  wasm: ArrayBuffer;
  stdlib: ArrayBuffer;
  lock: string;
  workerSource: string;
}

type Raw =
  | { kind: 'outcome'; outcome: WorkerOutcome; ms: number }
  | { kind: 'timeout'; ms: number }
  | { kind: 'cancelled'; ms: number }
  | { kind: 'lost'; ms: number; message: string };

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

class LoadError extends Error {
  constructor(
    message: string,
    readonly memory = false,
  ) {
    super(message);
  }
}

/** The frame and its supervisor. */
class Frame {
  dead = false;
  /** The files this frame's supervisor holds, and its snapshot (whether it came from the cache). */
  filesPosted = false;
  snapshot: Promise<{ cached: boolean }> | null = null;
  private readonly compiled = new Map<number, Promise<void>>();
  private pings = 0;
  private readonly waiters = new Set<(message: SupervisorMessage) => void>();
  readonly workerEvents = new Map<number, (message: string) => void>();

  private constructor(
    private readonly iframe: HTMLIFrameElement,
    private readonly port: MessagePort,
    readonly isolated: boolean,
  ) {
    port.onmessage = (event: MessageEvent<SupervisorMessage>) => {
      const message = event.data;
      if (message?.kind === 'spawn-failed' || message?.kind === 'worker-error') this.workerEvents.get(message.id)?.(String(message.message));
      for (const waiter of this.waiters) waiter(message);
    };
  }

  static async open(url: string, supervisorSource: string): Promise<Frame> {
    const iframe = document.createElement('iframe');
    iframe.title = 'Python sandbox';
    iframe.setAttribute('aria-hidden', 'true');
    iframe.tabIndex = -1;
    iframe.style.display = 'none';
    iframe.referrerPolicy = 'no-referrer';
    // The document is sandboxed by its own CSP (`sandbox allow-scripts`), not by this element:
    // a frame with the sandbox attribute is not served by the service worker (so not offline).
    // Cross-origin isolation is delegated so that its workers can share an interrupt buffer.
    iframe.allow = 'cross-origin-isolated *';
    iframe.src = url;
    const ready = new Promise<void>((resolve) => {
      const onMessage = (event: MessageEvent) => {
        const data = event.data as { channel?: unknown; kind?: unknown } | null;
        // 'null': the document really is an opaque origin (else its script could not have run anyway).
        if (event.source !== iframe.contentWindow || event.origin !== 'null' || data?.channel !== PYTHON_FRAME_CHANNEL || data.kind !== 'frame-ready') return;
        removeEventListener('message', onMessage);
        resolve();
      };
      addEventListener('message', onMessage);
    });
    document.body.append(iframe);
    try {
      await withTimeout(ready, FRAME_TIMEOUT_MS, 'starting the Python frame');
      // From now on any navigation of this frame is sandboxed by the attribute as well.
      iframe.sandbox.value = 'allow-scripts';
      const channel = new MessageChannel();
      const supervisorReady = new Promise<boolean>((resolve) => {
        channel.port1.onmessage = (event: MessageEvent<SupervisorMessage>) => {
          if (event.data?.kind === 'supervisor-ready') resolve(event.data.isolated === true);
        };
      });
      iframe.contentWindow!.postMessage({ channel: PYTHON_FRAME_CHANNEL, kind: 'start', source: supervisorSource }, '*', [channel.port2]);
      const isolated = await withTimeout(supervisorReady, FRAME_TIMEOUT_MS, 'starting the Python supervisor');
      return new Frame(iframe, channel.port1, isolated);
    } catch (error) {
      iframe.remove();
      throw error;
    }
  }

  post(request: SupervisorRequest, transfer: Transferable[] = []): void {
    this.port.postMessage(request, transfer);
  }

  compile(cap: number, wasm: ArrayBuffer): Promise<void> {
    let done = this.compiled.get(cap);
    if (!done) {
      const bytes = capMemory(new Uint8Array(wasm), cap);
      done = withTimeout(
        new Promise<void>((resolve, reject) => {
          const waiter = (message: SupervisorMessage) => {
            if ((message.kind !== 'compiled' && message.kind !== 'compile-failed') || message.cap !== cap) return;
            this.waiters.delete(waiter);
            if (message.kind === 'compiled') resolve();
            else reject(new LoadError(`Pyodide did not compile: ${message.message}`));
          };
          this.waiters.add(waiter);
          this.post({ kind: 'compile', cap, wasm: bytes.buffer as ArrayBuffer }, [bytes.buffer as ArrayBuffer]);
        }),
        COMPILE_TIMEOUT_MS,
        'compiling Pyodide',
      );
      done.catch(() => this.compiled.delete(cap));
      this.compiled.set(cap, done);
    }
    return done;
  }

  spawn(id: number, cap: number, mode: 'make-snapshot' | 'restore', globals: GuestGlobals = 'none'): MessagePort {
    const channel = new MessageChannel();
    this.post({ kind: 'spawn', id, cap, mode, globals }, [channel.port2]);
    return channel.port1;
  }

  kill(id: number): void {
    this.workerEvents.delete(id);
    if (!this.dead) this.post({ kind: 'kill', id });
  }

  interrupt(id: number): void {
    if (!this.dead) this.post({ kind: 'interrupt', id });
  }

  /** Whether the supervisor still answers. */
  alive(): Promise<boolean> {
    if (this.dead) return Promise.resolve(false);
    const id = ++this.pings;
    return withTimeout(
      new Promise<boolean>((resolve) => {
        const waiter = (message: SupervisorMessage) => {
          if (message.kind !== 'pong' || message.id !== id) return;
          this.waiters.delete(waiter);
          resolve(true);
        };
        this.waiters.add(waiter);
        this.post({ kind: 'ping', id });
      }),
      PING_TIMEOUT_MS,
      'pinging the Python frame',
    ).catch(() => false);
  }

  dispose(): void {
    this.dead = true;
    this.port.close();
    this.iframe.remove();
  }
}

/** One Python worker (one interpreter) as the app sees it. */
class Interpreter {
  dead = false;
  key: string | null = null;
  memoryBytes = 0;
  bootMemoryBytes = 0;
  bootMs = 0;
  lastResetMs = 0;
  private calls = 0;
  private listener: ((message: WorkerMessage) => void) | null = null;
  private tail: Promise<void> = Promise.resolve();

  constructor(
    readonly frame: Frame,
    readonly id: number,
    readonly cap: number,
    readonly port: MessagePort,
  ) {
    port.onmessage = (event: MessageEvent<WorkerMessage>) => this.listener?.(event.data);
  }

  /** Waits for the worker's first message: booted, or its snapshot. */
  start<T>(accept: (message: WorkerMessage) => T | undefined, ms: number): Promise<T> {
    return withTimeout(
      new Promise<T>((resolve, reject) => {
        this.frame.workerEvents.set(this.id, (message) => reject(new LoadError(`the Python worker failed to start: ${message}`)));
        this.listener = (message) => {
          if (message?.kind === 'boot-failed') reject(new LoadError(String(message.message), message.memory === true));
          const value = accept(message);
          if (value !== undefined) resolve(value);
        };
      }),
      ms,
      'starting a Python interpreter',
    ).finally(() => {
      this.frame.workerEvents.delete(this.id);
      this.listener = null;
    });
  }

  /** One run at a time: resolves with the function that lets the next one in. */
  lock(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => (release = resolve));
    const turn = this.tail.then(() => release);
    this.tail = this.tail.then(() => next);
    return turn;
  }

  execute(job: { code: string; inputJson: string; timeoutMs: number; limits: OutputLimits }, capabilities: CapabilityAnswer | undefined, signal: AbortSignal | undefined): { call: number; done: Promise<Raw> } {
    const call = ++this.calls;
    const channel = capabilities ? capabilityChannel(limited(capabilities)) : null;
    const started = performance.now();
    const done = new Promise<Raw>((resolve) => {
      let settled = false;
      let broken: ReturnType<typeof setTimeout> | undefined;
      const finish = (raw: Raw) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(broken);
        this.frame.workerEvents.delete(this.id);
        signal?.removeEventListener('abort', onAbort);
        channel?.close();
        resolve(raw);
      };
      this.listener = (message) => {
        if (message?.kind !== 'result' || message.call !== call) return;
        const outcome = checkOutcome(message.outcome, job.limits);
        finish(outcome ? { kind: 'outcome', outcome, ms: performance.now() - started } : { kind: 'lost', ms: performance.now() - started, message: 'the interpreter answered with a malformed result' });
      };
      const timer = setTimeout(() => finish({ kind: 'timeout', ms: performance.now() - started }), job.timeoutMs);
      const onAbort = () => finish({ kind: 'cancelled', ms: performance.now() - started });
      // An uncaught error of the worker (reported by the supervisor): unless the worker reports
      // the run's end itself right after, the interpreter is gone.
      this.frame.workerEvents.set(this.id, (message) => {
        broken ??= setTimeout(() => finish({ kind: 'lost', ms: performance.now() - started, message: `the interpreter failed: ${message}` }), LOST_GRACE_MS);
      });
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.port.postMessage({ kind: 'run', call, code: job.code, inputJson: job.inputJson, limits: job.limits }, channel ? [channel.workerPort] : []);
    });
    return { call, done };
  }

  /** The result of a run that was interrupted at its deadline, if it comes within `ms`. */
  lateResult(call: number, ms: number): Promise<WorkerOutcome | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), ms);
      this.listener = (message) => {
        if (message?.kind !== 'result' || message.call !== call) return;
        clearTimeout(timer);
        resolve(checkOutcome(message.outcome, OUTPUT_LIMITS));
      };
    });
  }

  /** Puts the interpreter back for the next run of its key; false when it cannot be reused. */
  async reset(): Promise<boolean> {
    const answer = new Promise<boolean>((resolve) => {
      this.listener = (message) => {
        if (message?.kind !== 'reset-done') return;
        if (typeof message.memoryBytes === 'number') this.memoryBytes = message.memoryBytes;
        if (typeof message.ms === 'number') this.lastResetMs = message.ms;
        resolve(message.clean === true);
      };
    });
    this.port.postMessage({ kind: 'reset' });
    return withTimeout(answer, RESET_TIMEOUT_MS, 'resetting the interpreter').catch(() => false);
  }
}

/** Caps the `sandbox.*` requests of one run, whatever the worker (which the program controls) says. */
function limited(answer: CapabilityAnswer): CapabilityAnswer {
  let inFlight = 0;
  let total = 0;
  return async (request) => {
    if (++total > MAX_REQUESTS) return { id: request.id, ok: false, error: `sandbox: more than ${MAX_REQUESTS} requests in one run` };
    if (request.fn === 'log') return answer(request);
    if (inFlight >= MAX_IN_FLIGHT) return { id: request.id, ok: false, error: `sandbox: more than ${MAX_IN_FLIGHT} requests in flight` };
    inFlight++;
    try {
      return await answer(request);
    } finally {
      inFlight--;
    }
  };
}

/** The worker's answer, checked and cut to the limits (the program may have written it). */
function checkOutcome(raw: unknown, limits: OutputLimits): WorkerOutcome | null {
  const o = raw as Partial<WorkerOutcome> | null;
  if (!o || typeof o !== 'object' || typeof o.ok !== 'boolean') return null;
  const str = (v: unknown, max: number) => (typeof v === 'string' ? v.slice(0, max) : '');
  const stdout = typeof o.stdout === 'string' ? o.stdout : '';
  const stderr = typeof o.stderr === 'string' ? o.stderr : '';
  const streams = {
    stdout: stdout.slice(0, limits.stdoutChars),
    stderr: stderr.slice(0, limits.stderrChars),
    stdoutTruncated: o.stdoutTruncated === true || stdout.length > limits.stdoutChars,
    stderrTruncated: o.stderrTruncated === true || stderr.length > limits.stderrChars,
    memoryBytes: typeof o.memoryBytes === 'number' && Number.isFinite(o.memoryBytes) ? o.memoryBytes : 0,
    ms: typeof o.ms === 'number' && Number.isFinite(o.ms) ? o.ms : 0,
  };
  if (o.ok) {
    const ok = o as Extract<WorkerOutcome, { ok: true }>;
    if (typeof ok.resultJson !== 'string') return null;
    return { ok: true, resultJson: ok.resultJson.slice(0, limits.resultChars + 1), resultTruncated: ok.resultTruncated === true || ok.resultJson.length > limits.resultChars, ...streams };
  }
  const e = (o as Extract<WorkerOutcome, { ok: false }>).error;
  if (!e || typeof e !== 'object') return null;
  return {
    ok: false,
    error: { type: str(e.type, 200) || 'Error', message: str(e.message, 8192), traceback: str(e.traceback, 65536), ...(e.memory === true ? { memory: true } : {}), ...(e.fatal === true ? { fatal: true } : {}), ...(e.stackOverflow === true ? { stackOverflow: true } : {}) },
    ...streams,
  };
}

export class PythonRuntime {
  private readonly baseUrl: string;
  private readonly onProgress: ((stage: PythonStage, fraction?: number) => void) | undefined;
  private readonly defaultCap: number;
  private readonly warmKeys: number;
  private readonly guestGlobals: GuestGlobals;
  private boots = 0;
  private lastRunMs = 0;
  private lastResetMs = 0;
  private files: Promise<Files> | null = null;
  private frame: Promise<Frame> | null = null;
  private started = false;
  private readonly spares = new Map<number, Promise<Interpreter>>();
  private readonly bound = new Map<string, Promise<Interpreter>>();
  private readonly live = new Set<Interpreter>();
  private nextId = 0;
  private ready = false;
  private disposed = false;
  /** Measured while loading: for the console, tests and docs. */
  readonly timings: Record<string, number> = {};

  constructor(options: PythonRuntimeOptions) {
    this.baseUrl = options.baseUrl;
    this.onProgress = options.onProgress;
    this.defaultCap = pageCap(options.memoryBytes ?? DEFAULT_MEMORY_BYTES);
    this.warmKeys = Math.max(1, options.warmKeys ?? 2);
    this.guestGlobals = options.guestGlobals === 'worker' ? 'worker' : 'none';
  }

  /** Interpreters started so far, running now, and isolation keys kept warm. */
  get stats(): { boots: number; live: number; warmKeys: number; lastRunMs: number; lastResetMs: number } {
    return { boots: this.boots, live: this.live.size, warmKeys: this.bound.size, lastRunMs: this.lastRunMs, lastResetMs: this.lastResetMs };
  }

  /** Loads Python ahead of the first call (reporting progress) and keeps one interpreter ready. */
  async warm(): Promise<void> {
    this.refill(this.defaultCap);
    await this.spares.get(this.defaultCap);
  }

  /** Whether the interpreters' frame is cross-origin isolated (then deadlines interrupt instead of ending the worker). */
  async isolated(): Promise<boolean> {
    return (await this.ensureFrame()).isolated;
  }

  async run(job: PythonJob, capabilities?: CapabilityAnswer, signal?: AbortSignal): Promise<PythonOutcome> {
    const started = performance.now();
    const limits = job.outputLimits ?? OUTPUT_LIMITS;
    const empty = { stdout: '', stderr: '', truncated: [] as TruncatableField[] };
    const failed = (error: SandboxErrorInfo, memoryBytes = 0): PythonOutcome => ({ ok: false, error, durationMs: performance.now() - started, memoryBytes, ...empty });
    if (this.disposed) return failed({ code: 'load-failed', message: 'the Python runtime was disposed' });
    let inputJson: string;
    try {
      inputJson = job.inputJson ?? JSON.stringify(job.input ?? null) ?? 'null';
      JSON.parse(inputJson);
    } catch {
      return failed({ code: 'invalid-arguments', message: '`input` must be JSON' });
    }
    const cap = pageCap(job.memoryBytes);
    let interpreter: Interpreter;
    let release: () => void;
    try {
      [interpreter, release] = await this.acquire(cap, job.isolationKey ?? null);
    } catch (error) {
      if (error instanceof MemoryLimitError || (error instanceof LoadError && error.memory)) {
        return failed({ code: 'memory-limit', message: `the Python interpreter does not fit this call's memory limit of ${formatMib(cap)}: ${(error as Error).message}`, details: { limitBytes: cap } });
      }
      return failed({ code: 'load-failed', message: `Python could not start: ${(error as Error)?.message ?? String(error)}` });
    }
    if (signal?.aborted) {
      void this.afterRun(interpreter, 0, { kind: 'cancelled', ms: 0 }).finally(release);
      return failed({ code: 'cancelled', message: 'the call was cancelled before the program started' });
    }
    const timeoutMs = Number.isFinite(job.timeoutMs) ? Math.max(1, job.timeoutMs) : DEFAULT_TIMEOUT_MS;
    const { call, done } = interpreter.execute({ code: job.code, inputJson, timeoutMs, limits }, capabilities, signal);
    const raw = await done;
    void this.afterRun(interpreter, call, raw)
      .catch(() => this.retire(interpreter))
      .finally(release);
    return this.outcome(raw, job, cap, limits, interpreter);
  }

  /** Ends every interpreter and removes the frame. */
  dispose(): void {
    this.disposed = true;
    for (const interpreter of this.live) this.retire(interpreter);
    this.spares.clear();
    this.bound.clear();
    void this.frame?.then((frame) => frame.dispose(), () => undefined);
    this.frame = null;
  }

  // ---------------------------------------------------------------- interpreters

  private async acquire(cap: number, key: string | null): Promise<[Interpreter, () => void]> {
    for (let attempt = 0; ; attempt++) {
      let pending: Promise<Interpreter>;
      if (key === null) pending = this.takeSpare(cap);
      else {
        const known = this.bound.get(key);
        const current = known ? await known.catch(() => null) : null;
        if (current && !current.dead && current.cap === cap && this.bound.get(key) === known) {
          this.bound.delete(key); // most recently used last
          this.bound.set(key, known!);
          pending = known!;
        } else {
          if (current && this.bound.get(key) === known) this.retire(current);
          pending = this.takeSpare(cap).then((interpreter) => {
            interpreter.key = key;
            return interpreter;
          });
          this.bound.set(key, pending);
          pending.catch(() => {
            if (this.bound.get(key) === pending) this.bound.delete(key);
          });
          this.evictKeys();
        }
      }
      let interpreter: Interpreter;
      try {
        interpreter = await pending;
      } catch (error) {
        // A worker or frame that died while booting: once more with a new one.
        if (attempt === 0 && !(error instanceof MemoryLimitError) && !(error instanceof LoadError && error.memory)) continue;
        throw error;
      }
      const release = await interpreter.lock();
      if (!interpreter.dead) return [interpreter, release];
      release();
      if (attempt > 2) throw new LoadError('the interpreter kept ending');
    }
  }

  private evictKeys(): void {
    while (this.bound.size > this.warmKeys) {
      const [oldest, pending] = this.bound.entries().next().value!;
      this.bound.delete(oldest);
      void pending.then(async (interpreter) => {
        const release = await interpreter.lock();
        this.retire(interpreter);
        release();
      }, () => undefined);
    }
  }

  private takeSpare(cap: number): Promise<Interpreter> {
    const spare = this.spares.get(cap) ?? this.boot(cap);
    this.spares.delete(cap);
    return spare.then((interpreter) => {
      this.refill(cap);
      return interpreter;
    });
  }

  /** Keeps one interpreter booted for `cap` (and none for other caps). */
  private refill(cap: number): void {
    if (this.disposed || this.spares.has(cap)) return;
    for (const [other, pending] of this.spares) {
      this.spares.delete(other);
      void pending.then((interpreter) => this.retire(interpreter), () => undefined);
    }
    const pending = this.boot(cap);
    this.spares.set(cap, pending);
    pending.catch(() => {
      if (this.spares.get(cap) === pending) this.spares.delete(cap);
    });
  }

  private async boot(cap: number, retried = false): Promise<Interpreter> {
    // Fetching, opening the frame and reading the stored snapshot go on side by side.
    if (!this.started) {
      // The first boot reads the stored snapshot while the files load and the frame opens.
      this.started = true;
      void this.storedSnapshot();
    }
    const [files, frame] = await Promise.all([this.ensureFiles(), this.ensureFrame()]);
    const first = !this.ready;
    try {
      if (!frame.filesPosted) {
        frame.post({ kind: 'files', workerSource: files.workerSource, stdlib: files.stdlib, lock: files.lock });
        frame.filesPosted = true;
      }
      if (first) this.progress('compiling');
      const compileStarted = performance.now();
      await frame.compile(cap, files.wasm);
      if (first) this.timings['compileMs'] ??= performance.now() - compileStarted;
      const snapshot = await this.ensureSnapshot(frame, cap);
      if (first) this.progress('restoring');
      const interpreter = new Interpreter(frame, ++this.nextId, cap, frame.spawn(this.nextId, cap, 'restore', this.guestGlobals));
      this.live.add(interpreter);
      this.boots++;
      try {
        const booted = await interpreter.start((message) => (message?.kind === 'booted' ? message : undefined), BOOT_TIMEOUT_MS);
        interpreter.bootMemoryBytes = interpreter.memoryBytes = Number(booted.memoryBytes) || 0;
        interpreter.bootMs = Number(booted.ms) || 0;
        if (this.timings['restoreMs'] === undefined) {
          this.timings['restoreMs'] = interpreter.bootMs;
          for (const [mark, ms] of Object.entries(booted.timings ?? {})) if (typeof ms === 'number') this.timings[`restore.${mark}`] = ms;
        }
      } catch (error) {
        this.retire(interpreter);
        if (snapshot.cached && !retried && !(error instanceof LoadError && error.memory)) {
          // A stored snapshot this build cannot restore: make a new one.
          await dropSnapshot(this.baseUrl, snapshotId());
          frame.snapshot = null;
          return this.boot(cap, true);
        }
        throw error;
      }
      if (this.disposed) {
        this.retire(interpreter);
        throw new LoadError('the Python runtime was disposed');
      }
      if (first) {
        this.ready = true;
        this.progress('ready');
      }
      return interpreter;
    } catch (error) {
      if (!(error instanceof MemoryLimitError) && !(error instanceof LoadError && error.memory) && /took longer/.test(String((error as Error)?.message))) {
        // The frame stopped answering (its process may have died): start over with a new one.
        this.dropFrame(frame);
      }
      throw error;
    }
  }

  private ensureFiles(): Promise<Files> {
    this.files ??= this.fetchFiles().catch((error: unknown) => {
      this.files = null;
      throw error;
    });
    return this.files;
  }

  private async fetchFiles(): Promise<Files> {
    const started = performance.now();
    const urls = [wasmUrl, stdlibUrl, lockUrl, workerUrl].map((url) => new URL(url, this.baseUrl).href);
    const sizes = [9_600_000, 2_550_000, 120_000, 1_300_000];
    const got = urls.map(() => 0);
    const report = () => this.progress('fetching', Math.min(1, got.reduce((a, b) => a + b, 0) / sizes.reduce((a, b) => a + b, 0)));
    this.progress('fetching', 0);
    const bodies = await Promise.all(
      urls.map(async (url, i) => {
        const response = await fetch(url);
        if (!response.ok || !response.body) throw new LoadError(`${url} answered ${response.status}`);
        const expected = Number(response.headers.get('Content-Length'));
        if (expected > 0) sizes[i] = expected;
        const reader = response.body.getReader();
        const chunks: Uint8Array[] = [];
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          chunks.push(value);
          got[i]! += value.length;
          report();
        }
        const bytes = new Uint8Array(got[i]!);
        let at = 0;
        for (const chunk of chunks) {
          bytes.set(chunk, at);
          at += chunk.length;
        }
        return bytes.buffer;
      }),
    );
    const text = (buffer: ArrayBuffer) => new TextDecoder().decode(buffer);
    this.timings['fetchMs'] = performance.now() - started;
    return { wasm: bodies[0]!, stdlib: bodies[1]!, lock: text(bodies[2]!), workerSource: text(bodies[3]!) };
  }

  private ensureFrame(): Promise<Frame> {
    const current = this.frame;
    if (current) return current;
    const opening = (async () => {
      const started = performance.now();
      const [supervisorSource] = await Promise.all([fetch(new URL(supervisorUrl, this.baseUrl)).then((r) => (r.ok ? r.text() : Promise.reject(new LoadError(`${supervisorUrl} answered ${r.status}`)))), controlled()]);
      const frame = await Frame.open(new URL(csp.pythonFramePath, this.baseUrl).href, supervisorSource);
      this.timings['frameMs'] ??= performance.now() - started;
      return frame;
    })();
    this.frame = opening;
    opening.catch(() => {
      if (this.frame === opening) this.frame = null;
    });
    return opening;
  }

  private dropFrame(frame: Frame): void {
    void this.frame?.then((current) => {
      if (current !== frame) return;
      this.frame = null;
      for (const interpreter of [...this.live]) if (interpreter.frame === frame) this.retire(interpreter);
      frame.dispose();
    });
  }

  private stored: Promise<ArrayBuffer | null> | null = null;

  /** The snapshot kept in Cache Storage (read once, while the rest loads). */
  private storedSnapshot(): Promise<ArrayBuffer | null> {
    this.stored ??= loadSnapshot(this.baseUrl, snapshotId());
    return this.stored;
  }

  /**
   * Gives the frame's supervisor the snapshot new interpreters restore from: the stored one, or
   * one made now by a worker that runs no program (then stored). The bytes are transferred: the
   * app keeps no copy (a new frame reads Cache Storage again).
   */
  private ensureSnapshot(frame: Frame, cap: number): Promise<{ cached: boolean }> {
    frame.snapshot ??= (async () => {
      let bytes = await this.storedSnapshot();
      this.stored = null;
      const cached = bytes !== null;
      if (!bytes) {
        this.progress('booting');
        const started = performance.now();
        const maker = new Interpreter(frame, ++this.nextId, cap, frame.spawn(this.nextId, cap, 'make-snapshot'));
        this.live.add(maker);
        try {
          bytes = await maker.start((message) => (message?.kind === 'snapshot' && message.bytes instanceof ArrayBuffer ? message.bytes : undefined), SNAPSHOT_TIMEOUT_MS);
        } finally {
          this.retire(maker);
        }
        this.timings['makeSnapshotMs'] = performance.now() - started;
        this.timings['snapshotBytes'] = bytes.byteLength;
        this.progress('snapshot');
        await saveSnapshot(this.baseUrl, snapshotId(), bytes);
      }
      frame.post({ kind: 'snapshot', bytes }, [bytes]);
      return { cached };
    })();
    const pending = frame.snapshot;
    pending.catch(() => {
      if (frame.snapshot === pending) frame.snapshot = null;
    });
    return pending;
  }

  private retire(interpreter: Interpreter): void {
    if (interpreter.dead) return;
    interpreter.dead = true;
    this.live.delete(interpreter);
    interpreter.frame.kill(interpreter.id);
    interpreter.port.close();
    if (interpreter.key !== null) {
      const key = interpreter.key;
      void this.bound.get(key)?.then((current) => {
        if (current === interpreter && this.bound.get(key)) this.bound.delete(key);
      }, () => undefined);
    }
  }

  /** After a run: keep the interpreter for its key (put back), or end it. */
  private async afterRun(interpreter: Interpreter, call: number, raw: Raw): Promise<void> {
    // A run that never answered may mean the whole frame is gone (its renderer died).
    if (raw.kind === 'timeout' || raw.kind === 'lost') void interpreter.frame.alive().then((alive) => alive || this.dropFrame(interpreter.frame));
    let outcome: WorkerOutcome | null = raw.kind === 'outcome' ? raw.outcome : null;
    if (raw.kind === 'timeout' && interpreter.key !== null && interpreter.frame.isolated) {
      interpreter.frame.interrupt(interpreter.id);
      outcome = await interpreter.lateResult(call, BACKSTOP_MS);
    }
    const reusable = interpreter.key !== null && !interpreter.dead && outcome !== null && (raw.kind === 'outcome' || raw.kind === 'timeout') && (outcome.ok || (!outcome.error.fatal && !outcome.error.memory));
    if (outcome) interpreter.memoryBytes = outcome.memoryBytes;
    if (outcome) this.lastRunMs = outcome.ms;
    const kept = reusable && (await interpreter.reset());
    this.lastResetMs = interpreter.lastResetMs;
    if (!kept || interpreter.memoryBytes > interpreter.bootMemoryBytes + Math.max(REUSE_GROWTH_BYTES, interpreter.cap / 4)) this.retire(interpreter);
  }

  private outcome(raw: Raw, job: PythonJob, cap: number, limits: OutputLimits, interpreter: Interpreter): PythonOutcome {
    const durationMs = raw.kind === 'outcome' ? raw.outcome.ms || raw.ms : raw.ms;
    if (raw.kind !== 'outcome') {
      const base = { stdout: '', stderr: '', truncated: [] as TruncatableField[], durationMs, memoryBytes: interpreter.memoryBytes };
      if (raw.kind === 'timeout') return { ok: false, error: { code: 'timeout', message: `the program ran past its time limit of ${job.timeoutMs} ms and was stopped`, details: { limitMs: job.timeoutMs } }, ...base };
      if (raw.kind === 'cancelled') return { ok: false, error: { code: 'cancelled', message: 'the call was cancelled; the program was stopped' }, ...base };
      return { ok: false, error: { code: 'trap', message: raw.message, details: { reason: 'interpreter-lost' } }, ...base };
    }
    const o = raw.outcome;
    const truncated: TruncatableField[] = [];
    const base = { stdout: o.stdout, stderr: o.stderr, durationMs, memoryBytes: o.memoryBytes, truncated };
    if (o.ok) {
      let resultJson = o.resultJson;
      let result: unknown;
      if (o.resultTruncated || resultJson.length > limits.resultChars) {
        result = resultJson.slice(0, limits.resultChars);
        resultJson = JSON.stringify(result);
        truncated.push('result');
      } else {
        try {
          result = JSON.parse(resultJson);
        } catch {
          result = resultJson;
          resultJson = JSON.stringify(resultJson);
        }
      }
      if (o.stdoutTruncated) truncated.push('stdout');
      if (o.stderrTruncated) truncated.push('stderr');
      return { ok: true, result, resultJson, ...base };
    }
    if (o.stdoutTruncated) truncated.push('stdout');
    if (o.stderrTruncated) truncated.push('stderr');
    const e = o.error;
    if (e.fatal) {
      return e.stackOverflow
        ? { ok: false, error: { code: 'trap', message: 'the program overflowed the interpreter\'s stack (recursion too deep for the JavaScript stack); the interpreter was replaced', details: { reason: 'stack-overflow' } }, ...base }
        : { ok: false, error: { code: 'trap', message: `the Python interpreter failed and was replaced: ${e.message}`, details: { reason: 'fatal-error' } }, ...base };
    }
    if (e.memory) {
      return { ok: false, error: { code: 'memory-limit', message: `the program ran out of memory: it reached its memory limit of ${formatMib(cap)} (${e.type}: ${e.message})`, details: { limitBytes: cap, usedBytes: o.memoryBytes, exception: e.type } }, ...base };
    }
    const message = e.traceback || `${e.type}: ${e.message}`;
    return {
      ok: false,
      error: { code: 'tool-error', message, details: { name: e.type, errorMessage: e.message, traceback: e.traceback, stdout: o.stdout.slice(0, ERROR_OUTPUT_CHARS), stderr: o.stderr.slice(0, ERROR_OUTPUT_CHARS) } },
      ...base,
    };
  }

  private progress(stage: PythonStage, fraction?: number): void {
    if (this.ready && stage !== 'ready') return;
    try {
      this.onProgress?.(stage, fraction);
    } catch {
      // a progress listener's failure is not ours
    }
  }
}

/** The cap as whole wasm pages. */
function pageCap(bytes: number): number {
  return Math.max(WASM_PAGE, Math.floor(bytes / WASM_PAGE) * WASM_PAGE);
}

function formatMib(bytes: number): string {
  return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MiB`;
}

/** Names everything the snapshot depends on: a change of any makes a new one. */
function snapshotId(): string {
  return [SNAPSHOT_FORMAT, PYODIDE_VERSION, wasmUrl, stdlibUrl, workerUrl, WARM_MODULES.join(',')].join('|');
}

/**
 * The frame's document must come through the service worker (which gives it its CSP, and works
 * offline). Waits briefly for this page to be controlled; a frame served straight from the
 * network without its CSP does not start (and the call answers load-failed).
 */
async function controlled(): Promise<void> {
  const container = navigator.serviceWorker;
  if (!container || container.controller) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 5_000);
    container.addEventListener(
      'controllerchange',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
