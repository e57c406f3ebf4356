/**
 * The host ⇄ tool-worker contract (Comlink). The host `wrap`s workers and never `expose`s
 * anything to them: a worker can answer calls, never make them.
 */
import type { SandboxErrorInfo } from '../shared/errors';
import type { OutputLimits } from '../shared/execute-code';

/** Runs one export of a tool component (jco glue + its core modules). */
export interface ToolJob {
  kind?: 'tool';
  /** Same-origin URL of the tool's jco glue (allowed by the worker's `script-src 'self'`). */
  glueUrl: string;
  /** Compiled by the host: the worker's CSP forbids compiling wasm itself. */
  modules: Record<string, WebAssembly.Module>;
  /**
   * Names `modules` (the tool's hash and memory cap, ModuleCache.keyOf). A worker that has an
   * instance of the same modules made ahead, never used, runs the call on it (tool-runner.ts).
   */
  moduleKey?: string;
  /**
   * Set by the pool: once this call has answered, make the next instance of the same modules
   * ahead and say when it is made (`PreparedNotice`). The pool keeps the worker from other
   * tools' calls until then (worker-pool.ts).
   */
  prepareAhead?: boolean;
  entry: 'call' | 'describe';
  args: string;
  /** The cap already written into the modules; used to tell a memory-limit trap from others. */
  memoryBytes: number;
  /**
   * Where the tool's host capabilities are asked for (a port the host listens on and relays
   * to the service worker). Not a host object: a narrow request/reply protocol.
   */
  capabilities?: MessagePort;
  /** What `get-context` answers: set only for a tool that declared `context: true` (ExecuteRequest.context). */
  context?: string;
}

/**
 * Runs one program of the built-in `execute_code` in the worker's QuickJS interpreter
 * (src/sandbox/worker/javascript-runner.ts). Its output is the tool's JSON output text.
 */
export interface ScriptJob {
  kind: 'javascript';
  /** The QuickJS core module, compiled by the host with the call's memory cap written in. */
  modules: Record<string, WebAssembly.Module>;
  /** Names the module and cap: a warm interpreter is reused only for the same key. */
  moduleKey: string;
  /** The call's memory cap: the interpreter's whole linear memory, and its heap limit. */
  memoryBytes: number;
  source: string;
  /** The agent's `input`, as JSON text. */
  inputJson: string;
  /** Interrupts the program this long after the job reached the worker. */
  timeoutMs: number;
  outputLimits: OutputLimits;
  /** Where `sandbox.readFile` & co. are asked for: the same protocol as a tool's host imports. */
  capabilities?: MessagePort;
}

export type WorkerJob = ToolJob | ScriptJob;

/**
 * What a worker answers for a job. `heldBytes`: the memory the worker keeps once the job is done
 * (execute_code's warm interpreter), which the pool counts in its budget until the worker's next
 * job or `discard`; the pool does not pass it on.
 */
export type WorkerOutcome = ({ ok: true; output: string; memoryBytes: number } | { ok: false; error: SandboxErrorInfo; memoryBytes: number }) & { heldBytes?: number };

export interface ToolWorkerApi {
  run(job: WorkerJob): Promise<WorkerOutcome>;
  /** Drops what the worker holds between jobs, the instance made ahead or the warm interpreter (the pool needs its memory for another call). */
  discard(): void;
}

/**
 * Posted by a tool worker (outside Comlink) once the instance a `prepareAhead` job asked for is
 * made, or could not be: `turn` counts the jobs the worker had received then (the first is 1).
 */
export interface PreparedNotice {
  kind: 'mcp-sandbox/tool-worker-prepared';
  turn: number;
  /** False when no instance is held (its start-up failed, or a newer job came first). */
  ok: boolean;
}
