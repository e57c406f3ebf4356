import type { RateWindow } from './rate';

// The policy model's shapes. Plain data only: every value here survives JSON and
// structured clone, so a policy can be stored, exported and posted between contexts (the
// call state the server passes in may carry its `RateWindow`s instead of arrays).

/** The four trust levels; each names a template (see `templates.ts`). */
export type TrustLevel = 'Untrusted' | 'Limited' | 'Trusted' | 'FullyTrusted';

export const TRUST_LEVELS = ['Untrusted', 'Limited', 'Trusted', 'FullyTrusted'] as const satisfies readonly TrustLevel[];

/**
 * The entry that means "any" in an allow or deny list. It is written out, never
 * implied: an empty list allows nothing.
 */
export const ANY = '*';

/** Local wall-clock window in which no tool call is allowed; may cross midnight. */
export interface QuietHours {
  /** "HH:MM", 24-hour, inclusive. */
  readonly start: string;
  /** "HH:MM", 24-hour, exclusive: calls are allowed again from this minute. */
  readonly end: string;
  /** IANA zone, e.g. "UTC" or "America/New_York". */
  readonly timeZone: string;
}

export interface ToolRules {
  /** Tool names this agent may see and call; `"*"` = any. */
  readonly allowed: readonly string[];
  /** Tool names denied even when `allowed` matches; `"*"` = all. */
  readonly blocked: readonly string[];
  /** Languages `execute_code` may run for this agent (`javascript`, `python`); `"*"` = any. */
  readonly codeLanguages: readonly string[];
}

/** The languages `execute_code` knows (the policy names them; the sandbox runs them). */
export const CODE_LANGUAGE_NAMES = ['javascript', 'python'] as const;

export interface Limits {
  /** Linear-memory cap per call. */
  readonly memoryMb: number;
  /** CPU (wall) time cap per call. */
  readonly cpuSeconds: number;
  /** Calls of this agent running at once. */
  readonly concurrentCalls: number;
  /**
   * How long a call may wait in the sandbox's fair queue when all agents together run the
   * sandbox-wide maximum of calls; 0 refuses it at once. This agent's own `concurrentCalls`
   * is never waited for: over it, a call is refused at once.
   */
  readonly queueWaitMs: number;
}

export interface NetworkRules {
  /**
   * Host patterns: `example.com`, `*.example.com` (sub-domains only), IP literals (matched
   * as addresses, in any spelling), CIDR ranges (`10.0.0.0/8`, `fc00::/7`), `"*"`.
   */
  readonly allowedDomains: readonly string[];
  /** Host patterns that are denied even when `allowedDomains` matches. */
  readonly blockedDomains: readonly string[];
  /**
   * Deny every private-network destination (loopback, RFC 1918, link-local, unique local,
   * CGNAT, `localhost`, … — see `addresses.ts`), as browsers' Private Network Access does.
   * Wins over `allowedDomains: ["*"]`; an `allowedDomains` entry that names private space
   * itself (an exact host or address, a CIDR inside one private range, `*.internal`) lets
   * the hosts it matches through. `blockedDomains` still wins over that.
   */
  readonly blockPrivateNetworks: boolean;
  /** Port numbers, or `"*"` for any. A URL without a port uses 80 (http) or 443 (https). */
  readonly allowedPorts: readonly (number | '*')[];
  /** Deny plain `http:`. */
  readonly httpsOnly: boolean;
  /** Largest request body in KiB; 0 allows only body-less requests. */
  readonly maxRequestKb: number;
  /** Requests per sliding minute; 0 = no network at all. */
  readonly requestsPerMinute: number;
}

export interface FileRules {
  /** Path globs (see `glob.ts`); `"*"` = any path. */
  readonly allowedPatterns: readonly string[];
  /** Path globs denied even when `allowedPatterns` matches. */
  readonly blockedPatterns: readonly string[];
  /** Largest file a tool may write (or read, when the host knows the size), in MiB. */
  readonly maxSizeMb: number;
}

export interface DataRules {
  /** Words or key names whose values are sensitive (see `sensitive.ts`). */
  readonly sensitivePatterns: readonly string[];
  /** Redact sensitive matches in everything the agent receives. */
  readonly redactForAgent: boolean;
  /** Carried for the store: encrypt this agent's data at rest. Not decided here. */
  readonly encryptionRequired: boolean;
  /** Carried for the audit layer: record every file and network access. Not decided here. */
  readonly auditAllAccess: boolean;
}

export interface SessionRules {
  /** Idle minutes after which the session ends (see `decideToolCall`). */
  readonly timeoutMinutes: number;
  /** Calls granted per session. */
  readonly maxCalls: number;
  /** Calls granted per sliding minute; 0 = none. */
  readonly callsPerMinute: number;
  readonly quietHours: QuietHours | null;
}

/** A trust level's template with an agent's refinement applied: every field is set. */
export interface EffectivePolicy {
  readonly trustLevel: TrustLevel;
  readonly tools: ToolRules;
  readonly limits: Limits;
  readonly network: NetworkRules;
  readonly files: FileRules;
  readonly data: DataRules;
  readonly session: SessionRules;
}

/** What a run-time grant or revoke names: exactly one tool, domain pattern or path pattern. */
export type Grant =
  | { readonly kind: 'tool'; readonly name: string }
  | { readonly kind: 'domain'; readonly pattern: string }
  | { readonly kind: 'path'; readonly pattern: string };

/** A revoke names things the same way a grant does. */
export type Revoke = Grant;

export interface ToolCall {
  readonly tool: string;
  /** The tool is of the restricted category: only an exact `tools.allowed` entry reaches it. */
  readonly restricted?: boolean;
}

/** What the caller knows about this agent and the sandbox when a call arrives. */
export interface CallState {
  /**
   * Epoch ms of this agent's past granted calls, any order (or the server's ascending
   * `RateWindow` of them, checked in O(log n)). Older than a minute is ignored.
   */
  readonly recentCallTimes: readonly number[] | RateWindow;
  readonly sessionCallCount: number;
  readonly sessionStartedAt: number;
  readonly sessionLastActivityAt: number;
  readonly agentActiveCalls: number;
  readonly globalActiveCalls: number;
  /** A sandbox setting, not a policy field: shared by all agents. */
  readonly globalConcurrentLimit: number;
}

export interface NetworkRequest {
  readonly url: string;
  readonly method: string;
  readonly bodyBytes: number;
}

export type FileOp = 'read' | 'write' | 'list' | 'stat' | 'delete';

export interface FileRequest {
  readonly path: string;
  readonly op: FileOp;
  readonly sizeBytes?: number;
}

/** Limits a tool declares for itself; it can only lower the policy's. */
export interface ToolLimits {
  readonly memoryMb?: number;
  readonly cpuMs?: number;
}


