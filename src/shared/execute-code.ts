/**
 * The built-in tool `execute_code`: its metadata (from execute-code.json, which the tool build
 * also reads), its arguments and its output. Pure: used by the service worker, the sandbox host,
 * the tool worker and any interpreter frame alike. See docs/execute-code.md.
 */
import spec from './execute-code.json';

export const EXECUTE_CODE_TOOL = 'execute_code';

/**
 * The `code.glueUrl` of the built-in tool's registry record. Not a URL: the sandbox host sees it
 * and hands the call to the `CodeRuntime` of the requested language instead of loading glue.
 * Only the tool build writes it (uploaded tools' glue URLs are always under tools/uploaded/).
 */
export const CODE_RUNTIME_GLUE = 'builtin:execute-code';

export const CODE_LANGUAGES = ['javascript', 'python'] as const;
export type CodeLanguage = (typeof CODE_LANGUAGES)[number];

/** The tool's metadata as the build registers it (name, schemas, permissions, limits). */
export const EXECUTE_CODE_METADATA = spec.metadata;
/** What a successful call returns as structured content (MCP `outputSchema`). */
export const EXECUTE_CODE_OUTPUT_SCHEMA: Record<string, unknown> & { type: 'object' } = spec.metadata.outputSchema as Record<string, unknown> & { type: 'object' };

export interface ExecuteCodeArgs {
  language: CodeLanguage;
  code: string;
  /** Any JSON value; the program sees it as the global `input` (null when absent). */
  input?: unknown;
  /** Wall-clock budget of this run; the call's own CPU limit still applies. */
  timeoutMs?: number;
}

/** A successful run, as the tool's JSON output (and MCP structured content). */
export interface ExecuteCodeOutput {
  result: unknown;
  stdout: string;
  stderr: string;
  durationMs: number;
  memoryBytes: number;
  /** Fields cut at their limit; absent when nothing was cut. */
  truncated?: TruncatableField[];
}
export type TruncatableField = 'result' | 'stdout' | 'stderr';

/** Most characters (UTF-16 code units) of each output field; past it the field is cut and listed in `truncated`. */
export const OUTPUT_LIMITS = {
  stdoutChars: 1024 * 1024,
  stderrChars: 256 * 1024,
  /** Of the result's JSON text. A longer result is returned as the start of that text, a string. */
  resultChars: 1024 * 1024,
} as const;
export type OutputLimits = { stdoutChars: number; stderrChars: number; resultChars: number };

/**
 * Checks the arguments again where they are used (the service worker validated them against
 * the input schema already; the host trusts nothing it did not check itself).
 */
export function parseCodeArgs(argsJson: string): { ok: true; args: ExecuteCodeArgs } | { ok: false; message: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(argsJson);
  } catch {
    return { ok: false, message: 'the arguments are not JSON' };
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, message: 'the arguments must be an object' };
  const a = raw as Record<string, unknown>;
  if (typeof a['language'] !== 'string') return { ok: false, message: '`language` must be a string' };
  if (typeof a['code'] !== 'string' || a['code'].length === 0) return { ok: false, message: '`code` must be a non-empty string' };
  const timeoutMs = a['timeoutMs'];
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 1)) return { ok: false, message: '`timeoutMs` must be a positive integer' };
  return { ok: true, args: { language: a['language'] as CodeLanguage, code: a['code'], ...('input' in a ? { input: a['input'] } : {}), ...(timeoutMs === undefined ? {} : { timeoutMs }) } };
}

/** Collects one output stream up to its limit; what comes after is dropped and noted. */
export class OutputBuffer {
  private readonly parts: string[] = [];
  private length = 0;
  truncated = false;

  constructor(private readonly limit: number) {}

  push(text: string): void {
    if (this.truncated) return;
    const room = this.limit - this.length;
    if (text.length > room) {
      this.parts.push(text.slice(0, room));
      this.length = this.limit;
      this.truncated = true;
      return;
    }
    this.parts.push(text);
    this.length += text.length;
  }

  get text(): string {
    return this.parts.join('');
  }
}

/**
 * The tool's output text. `resultJson` is the result already serialised (so a large result is
 * not parsed and serialised again); one longer than the limit becomes the start of its text.
 */
export function codeOutputJson(run: { resultJson: string; stdout: OutputBuffer; stderr: OutputBuffer; durationMs: number; memoryBytes: number }, limits: OutputLimits = OUTPUT_LIMITS): string {
  const truncated: TruncatableField[] = [];
  let resultJson = run.resultJson;
  if (resultJson.length > limits.resultChars) {
    resultJson = JSON.stringify(resultJson.slice(0, limits.resultChars));
    truncated.push('result');
  }
  if (run.stdout.truncated) truncated.push('stdout');
  if (run.stderr.truncated) truncated.push('stderr');
  const rest = JSON.stringify({ stdout: run.stdout.text, stderr: run.stderr.text, durationMs: Math.round(run.durationMs * 1000) / 1000, memoryBytes: run.memoryBytes, ...(truncated.length ? { truncated } : {}) });
  return `{"result":${resultJson},${rest.slice(1)}`;
}
