/**
 * The Python runtime's public types (index.ts implements them). No imports of assets: the
 * `CodeRuntime` adapter and unit tests use these without loading the runtime.
 */
import type { SandboxErrorInfo } from '../../../shared/errors';
import type { OutputLimits, TruncatableField } from '../../../shared/execute-code';
import type { GuestGlobals } from './protocol';

export interface PythonJob {
  code: string;
  /** The program's global `input` (any JSON value; `null` when absent). */
  input?: unknown;
  /** The same as JSON text (what `execute_code` carries); wins over `input`. */
  inputJson?: string;
  timeoutMs: number;
  memoryBytes: number;
  callId: string;
  /**
   * Runs with the same key may share one warm interpreter (each program in a fresh namespace,
   * with the interpreter put back between them); runs without a key, or with another key, never
   * share one. Pass the calling agent's id.
   */
  isolationKey?: string;
  /** Caps of stdout, stderr and the result's JSON text (default: execute_code's). */
  outputLimits?: OutputLimits;
}

interface OutcomeBase {
  stdout: string;
  stderr: string;
  durationMs: number;
  memoryBytes: number;
  /** Fields cut at their limit. */
  truncated: TruncatableField[];
}
export type PythonOutcome =
  | ({ ok: true; result: unknown; /** `result` as JSON text (a cut result: the JSON string of its start). */ resultJson: string } & OutcomeBase)
  | ({ ok: false; error: SandboxErrorInfo } & OutcomeBase);

export type PythonStage = 'fetching' | 'compiling' | 'booting' | 'snapshot' | 'restoring' | 'ready';

export interface PythonRuntimeOptions {
  /** The app's root URL: where python-frame.html is. */
  baseUrl: string;
  /** Stages of the first load (`fetching` comes with the fraction fetched). */
  onProgress?: (stage: PythonStage, fraction?: number) => void;
  /** The memory cap `warm()` prepares an interpreter for (default 256 MiB, execute_code's limit). */
  memoryBytes?: number;
  /** Isolation keys whose interpreter is kept warm (default 2). */
  warmKeys?: number;
  /** The program's `js` module: an empty object (default) or the worker's global (protocol.ts). */
  guestGlobals?: GuestGlobals;
}
