/**
 * Interpreters behind the built-in tool `execute_code`. The sandbox host keeps one `CodeRuntime`
 * per language (`SandboxHost.registerCodeRuntime`); a call naming a language with none answers
 * `load-failed` with `details.reason: 'unsupported-language'`. See docs/execute-code.md.
 */
import type { CodeLanguage, OutputLimits } from '../../shared/execute-code';
import type { CapabilityReply, CapabilityRequest, ExecuteResult, ToolCode } from '../../shared/wire';

/**
 * Answers one capability request of the running program (read-file, write-file, list-directory,
 * stat, http-fetch): relayed to the service worker, which decides by the agent's policy and
 * audits. `capabilityChannel` (capability-relay.ts) turns it into a MessagePort for a worker or frame.
 */
export type CapabilityAnswer = (request: CapabilityRequest) => Promise<CapabilityReply>;

/** One run of `execute_code`, as the host hands it to the runtime of its language. */
export interface CodeJob {
  callId: string;
  /**
   * Who the run is for (the calling agent): a runtime may reuse a warm interpreter only for
   * runs of the same key, never across agents.
   */
  isolationKey?: string;
  language: CodeLanguage;
  /** The program text. */
  code: string;
  /** The `input` argument as JSON text (`null` when absent); the program sees it as the global `input`. */
  inputJson: string;
  /** The smaller of the `timeoutMs` argument and the call's CPU-time limit. */
  timeoutMs: number;
  /** The call's memory limit: everything the interpreter holds for this run. */
  memoryBytes: number;
  /** The built-in tool's files, from its registry record (for JavaScript, the QuickJS module); hash keys caches. */
  runtimeCode: ToolCode;
  /** Caps of stdout, stderr and the result's JSON text (shared/execute-code.ts). */
  outputLimits: OutputLimits;
}

export interface CodeRuntime {
  /**
   * Runs one job; resolves, never rejects. Success: `output` is the tool's JSON output
   * (`codeOutputJson` of shared/execute-code.ts: result, stdout, stderr, durationMs,
   * memoryBytes, truncated). Failure: a typed error — `timeout` at `timeoutMs`, `memory-limit`
   * at `memoryBytes`, `tool-error` for the program's own uncaught error (message with its
   * stack; details.stdout/stderr hold what it printed), `trap` when the interpreter broke,
   * `load-failed` when it could not start. The runtime enforces both limits itself; with no
   * `capabilities`, every `sandbox.*` request fails. When `signal` aborts, the run is stopped
   * (its worker or frame ended) and answers `cancelled`.
   */
  run(job: CodeJob, capabilities?: CapabilityAnswer, signal?: AbortSignal): Promise<ExecuteResult>;
}
