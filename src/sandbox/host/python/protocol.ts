/**
 * Messages of the Python runtime: app window (PythonRuntime) ⇄ supervisor (a blob worker in the
 * opaque-origin frame) ⇄ Python workers (nested blob workers, one interpreter each). Types only.
 *
 * The app talks to the supervisor on one MessagePort and to each Python worker on its own
 * MessagePort (handed through the supervisor at spawn). Everything that comes back from a Python
 * worker is untrusted: the guest program can run JavaScript in that worker and post anything.
 */
import type { OutputLimits } from '../../../shared/execute-code';

/**
 * Modules imported before the memory snapshot is taken, so a program importing them pays
 * nothing. Part of the snapshot's identity (a change makes a new one).
 */
export const WARM_MODULES = ['asyncio', 'json', 'traceback', 'warnings', 'signal', 'types', 're', 'math', 'cmath', 'collections', 'functools', 'itertools', 'operator', 'datetime', 'time', 'random', 'statistics', 'decimal', 'fractions', 'string', 'textwrap', 'typing', 'dataclasses', 'enum', 'base64', 'hashlib', 'csv', 'io', 'copy', 'pprint', 'heapq', 'bisect', 'uuid', 'pyodide.code', 'pyodide.ffi'];

/** App → supervisor. */
export type SupervisorRequest =
  /** Once: what every Python worker is given (the bytes stay in the supervisor). */
  | { kind: 'files'; workerSource: string; stdlib: ArrayBuffer; lock: string }
  /** Compile the (memory-capped) Pyodide module for one cap. */
  | { kind: 'compile'; cap: number; wasm: ArrayBuffer }
  /** The memory snapshot new workers restore from (null: none yet). */
  | { kind: 'snapshot'; bytes: ArrayBuffer | null }
  /** Start a Python worker (its port comes with the message). */
  | { kind: 'spawn'; id: number; cap: number; mode: 'make-snapshot' | 'restore'; globals: GuestGlobals }
  /** Raise KeyboardInterrupt in a worker (only where the frame is cross-origin isolated). */
  | { kind: 'interrupt'; id: number }
  | { kind: 'kill'; id: number }
  | { kind: 'ping'; id: number };

/** Supervisor → app. */
export type SupervisorMessage =
  | { kind: 'supervisor-ready'; isolated: boolean }
  | { kind: 'pong'; id: number }
  | { kind: 'compiled'; cap: number; ms: number }
  | { kind: 'compile-failed'; cap: number; message: string }
  | { kind: 'spawn-failed'; id: number; message: string }
  /** A worker's first uncaught error (later ones are not forwarded). */
  | { kind: 'worker-error'; id: number; message: string };

/** Supervisor → a new Python worker (with the worker's port). */
export interface WorkerInit {
  module: WebAssembly.Module;
  stdlib: ArrayBuffer;
  lock: string;
  snapshot: ArrayBuffer | null;
  makeSnapshot: boolean;
  /** Pyodide's interrupt buffer (shared with the supervisor), when the frame is isolated. */
  interrupt: Int32Array | null;
  globals: GuestGlobals;
}

/**
 * What the program's `js` module is: an empty object (`none`, the default), or the worker's own
 * global object (`worker`). The boundary does not depend on hiding it (the program reaches the
 * worker's JavaScript through `pyodide_js` anyway); the tests use `worker` to prove that.
 */
export type GuestGlobals = 'none' | 'worker';

/** App → Python worker. */
export type WorkerRequest =
  /** Run one program; `capabilities` (a port) when the call may use `sandbox.*`. */
  | { kind: 'run'; call: number; code: string; inputJson: string; limits: OutputLimits }
  /** Undo what the last program left behind (for the next run of the same isolation key). */
  | { kind: 'reset' };

/** Python worker → app. */
export type WorkerMessage =
  | { kind: 'booted'; ms: number; memoryBytes: number; jspi: boolean; timings: Record<string, number> }
  | { kind: 'snapshot'; bytes: ArrayBuffer; ms: number }
  | { kind: 'boot-failed'; message: string; memory?: boolean }
  | { kind: 'result'; call: number; outcome: WorkerOutcome }
  | { kind: 'reset-done'; clean: boolean; reason?: string; memoryBytes: number; ms: number };

export interface WorkerStreams {
  stdout: string;
  stderr: string;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  memoryBytes: number;
  ms: number;
}

export type WorkerOutcome =
  | ({ ok: true; resultJson: string; resultTruncated: boolean } & WorkerStreams)
  | ({ ok: false; error: GuestError } & WorkerStreams);

export interface GuestError {
  /** The Python exception's class name, or `FatalError` when the interpreter itself broke. */
  type: string;
  message: string;
  /** The traceback from the program's own frames down (Python's format). */
  traceback: string;
  /** MemoryError, or a size past what a 32-bit interpreter can address. */
  memory?: boolean;
  /** The interpreter is broken (Pyodide fatal error): drop it. */
  fatal?: boolean;
  /** The fatal error was the JavaScript stack running out (recursion). */
  stackOverflow?: boolean;
}
