/**
 * One vocabulary of failures for every context. Wire errors carry JSON-RPC codes; local
 * failures carry these string codes with details, so tests and agents branch on codes, never
 * on message text.
 */

/** JSON-RPC 2.0 codes we answer with, plus the implementation-defined range (-32000..-32099). */
export const RpcCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** The envelope named a session the server has never initialised. */
  UnknownSession: -32001,
  /** The envelope was larger than the server accepts. */
  MessageTooLarge: -32002,
  /** Credentials missing or wrong, origin not allowed, agent unknown or revoked. */
  Unauthenticated: -32003,
  /** Authenticated, but this method is not for agents (admin only). */
  Forbidden: -32004,
} as const;
export type RpcCode = (typeof RpcCode)[keyof typeof RpcCode];

/** Why a tool call did not produce a result. Stable: agents and tests branch on these. */
export type SandboxErrorCode =
  /** No window is open to host tool workers (a service worker cannot start workers). */
  | 'no-sandbox-host'
  /** The call ran past its CPU-time limit; its worker was terminated. */
  | 'timeout'
  /** The tool tried to grow its memory past the limit set for this call. */
  | 'memory-limit'
  /** The tool's WebAssembly trapped (unreachable, out-of-bounds, stack overflow...). */
  | 'trap'
  /** The tool ran and returned its own error (`err(...)` from `call`). */
  | 'tool-error'
  /** Too many calls in flight; try again shortly. */
  | 'busy'
  /** The tool's code could not be fetched, compiled or instantiated. */
  | 'load-failed'
  /** Arguments did not match the tool's input schema. */
  | 'invalid-arguments'
  /** No enabled tool of that name. */
  | 'unknown-tool'
  /** The sandbox host went away (closed or reloaded) while the call ran. */
  | 'host-gone'
  /** The service worker was stopped while the call ran; recorded on the next wake. */
  | 'interrupted'
  /** The agent's policy does not allow this call now; `details.rule` says which rule. */
  | 'policy-denied'
  /**
   * The sandbox itself failed while handling an admitted call (a bug of ours, or storage
   * failing). The call was recorded and everything it held was released.
   */
  | 'internal-error'
  /** The audit log could not be written, so the call was not run (nothing runs unrecorded). */
  | 'audit-unavailable'
  /** The agent cancelled the call (`notifications/cancelled`); its worker was stopped. */
  | 'cancelled';

export interface SandboxErrorInfo {
  code: SandboxErrorCode;
  message: string;
  /** Facts an agent can act on: the limit that was hit, the observed value, when to retry. */
  details?: Record<string, unknown>;
}

export class SandboxError extends Error {
  readonly code: SandboxErrorCode;
  readonly details: Record<string, unknown> | undefined;
  constructor(code: SandboxErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'SandboxError';
    this.code = code;
    this.details = details;
  }
  toInfo(): SandboxErrorInfo {
    return this.details ? { code: this.code, message: this.message, details: this.details } : { code: this.code, message: this.message };
  }
}

/** `_meta` key under which a failed call carries its `SandboxErrorInfo`. */
export const ERROR_META_KEY = 'mcp-sandbox/error';
