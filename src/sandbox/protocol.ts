/**
 * The host ⇄ tool-worker contract (Comlink). The host `wrap`s workers and never `expose`s
 * anything to them: a worker can answer calls, never make them.
 */
import type { SandboxErrorInfo } from '../shared/errors';

export interface WorkerJob {
  /** Same-origin URL of the tool's jco glue (allowed by the worker's `script-src 'self'`). */
  glueUrl: string;
  /** Compiled by the host: the worker's CSP forbids compiling wasm itself. */
  modules: Record<string, WebAssembly.Module>;
  entry: 'call' | 'describe';
  args: string;
  /** The cap already written into the modules; used to tell a memory-limit trap from others. */
  memoryBytes: number;
  /**
   * Where the tool's host capabilities are asked for (a port the host listens on and relays
   * to the service worker). Not a host object: a narrow request/reply protocol.
   */
  capabilities?: MessagePort;
}

export type WorkerOutcome = { ok: true; output: string; memoryBytes: number } | { ok: false; error: SandboxErrorInfo; memoryBytes: number };

export interface ToolWorkerApi {
  run(job: WorkerJob): Promise<WorkerOutcome>;
}
