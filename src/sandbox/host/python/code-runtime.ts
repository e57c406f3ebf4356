/**
 * `execute_code` in Python as a `CodeRuntime` (src/sandbox/host/code-runtime.ts): what the
 * sandbox host registers, `host.registerCodeRuntime('python', new PythonCodeRuntime(runtime))`.
 * It maps the host's `CodeJob` onto a `PythonJob` and the outcome onto the tool's output (the
 * same JSON as JavaScript's, `codeOutputJson` of shared/execute-code.ts).
 */
import type { ExecuteResult } from '../../../shared/wire';
import type { CapabilityAnswer, CodeJob, CodeRuntime } from '../code-runtime';
import type { PythonJob, PythonOutcome } from './types';

/** What the adapter needs of `PythonRuntime` (index.ts). */
export interface PythonRunner {
  run(job: PythonJob, capabilities?: CapabilityAnswer, signal?: AbortSignal): Promise<PythonOutcome>;
}

export class PythonCodeRuntime implements CodeRuntime {
  constructor(readonly python: PythonRunner) {}

  async run(job: CodeJob, capabilities?: CapabilityAnswer, signal?: AbortSignal): Promise<ExecuteResult> {
    // An isolation key (the calling agent) lets its runs share a warm interpreter; without one
    // every run gets an interpreter no other run used.
    const isolationKey = (job as CodeJob & { isolationKey?: unknown }).isolationKey;
    const outcome = await this.python.run(
      {
        code: job.code,
        inputJson: job.inputJson,
        timeoutMs: job.timeoutMs,
        memoryBytes: job.memoryBytes,
        callId: job.callId,
        outputLimits: job.outputLimits,
        ...(typeof isolationKey === 'string' && isolationKey ? { isolationKey } : {}),
      },
      capabilities,
      signal,
    );
    if (!outcome.ok) return { ok: false, error: outcome.error, durationMs: outcome.durationMs, memoryBytes: outcome.memoryBytes };
    // The shape of codeOutputJson, with the result already cut by the runtime.
    const rest = JSON.stringify({
      stdout: outcome.stdout,
      stderr: outcome.stderr,
      durationMs: Math.round(outcome.durationMs * 1000) / 1000,
      memoryBytes: outcome.memoryBytes,
      ...(outcome.truncated.length ? { truncated: outcome.truncated } : {}),
    });
    return { ok: true, output: `{"result":${outcome.resultJson},${rest.slice(1)}`, durationMs: outcome.durationMs, memoryBytes: outcome.memoryBytes };
  }
}
