import type { ExecuteResult } from '../../shared/wire';
import { MemoryLimitError } from '../memory-limit';
import { capabilityChannel } from './capability-relay';
import type { CapabilityAnswer, CodeJob, CodeRuntime } from './code-runtime';
import type { ModuleCache } from './module-cache';
import type { WorkerPool } from './worker-pool';

/**
 * How long past its deadline the pool waits before terminating the worker. The interpreter
 * stops a program at its deadline by itself (QuickJS's interrupt handler) and the worker stays
 * warm; termination is the backstop for anything the interrupt cannot reach.
 */
export const BACKSTOP_MS = 100;

/**
 * JavaScript for `execute_code`: QuickJS in the pool's strict-CSP tool workers. This window
 * compiles the QuickJS module once per memory cap (the cap written into its memory import) and
 * posts it with each job; the worker keeps one instance warm and gives each program a fresh
 * runtime and context (src/sandbox/worker/javascript-runner.ts).
 */
export class JavaScriptRuntime implements CodeRuntime {
  constructor(
    private readonly modules: ModuleCache,
    private readonly pool: WorkerPool,
  ) {}

  async run(job: CodeJob, capabilities?: CapabilityAnswer, signal?: AbortSignal): Promise<ExecuteResult> {
    const started = performance.now();
    let modules: Record<string, WebAssembly.Module>;
    try {
      modules = await this.modules.get(job.runtimeCode, job.memoryBytes);
    } catch (error) {
      const durationMs = performance.now() - started;
      if (error instanceof MemoryLimitError) {
        return { ok: false, error: { code: 'memory-limit', message: `the JavaScript interpreter needs ${error.initialBytes} bytes of memory at start, over this call's limit of ${error.limitBytes} bytes`, details: { limitBytes: error.limitBytes, requestedBytes: error.initialBytes } }, durationMs, memoryBytes: 0 };
      }
      return { ok: false, error: { code: 'load-failed', message: `the JavaScript interpreter could not be compiled: ${(error as Error).message}` }, durationMs, memoryBytes: 0 };
    }
    const channel = capabilities ? capabilityChannel(capabilities) : null;
    try {
      return await this.pool.run(
        {
          kind: 'javascript',
          modules,
          moduleKey: `${job.runtimeCode.hash}|${job.memoryBytes}`,
          memoryBytes: job.memoryBytes,
          source: job.code,
          inputJson: job.inputJson,
          timeoutMs: job.timeoutMs,
          outputLimits: job.outputLimits,
          ...(channel ? { capabilities: channel.workerPort } : {}),
        },
        job.timeoutMs,
        BACKSTOP_MS,
        signal,
      );
    } finally {
      channel?.close();
    }
  }
}
