// A decision is data, not an exception: the caller audits it, shows it in the UI and
// turns a denial into a tool error the agent can act on. Every denial names one rule.

/**
 * Stable ids of the rules a decision can deny by. They are part of the wire and audit
 * format: add new ids, never rename.
 */
export type RuleId =
  /** The call's `now` is not a finite number, so no time rule can be evaluated. */
  | 'clock.invalid'
  /** The tool is not in `tools.allowed`. */
  | 'tool.not-allowed'
  /** The tool is restricted (a test bundle) and `tools.allowed` does not name it: `"*"` does not reach it. */
  | 'tool.restricted'
  /** The tool is in `tools.blocked` (wins over `tools.allowed`). */
  | 'tool.blocked'
  /** The session has been idle longer than `session.timeoutMinutes`. */
  | 'session.timeout'
  /** The session already had `session.maxCalls` granted calls. */
  | 'session.max-calls'
  /** `now` falls inside `session.quietHours`. */
  | 'quiet-hours'
  /** `session.callsPerMinute` calls were granted in the last 60 s. */
  | 'rate.calls-per-minute'
  /** `execute_code` was asked for a language outside `tools.codeLanguages`. */
  | 'code.language-not-allowed'
  /** This agent already runs `limits.concurrentCalls` calls. */
  | 'concurrency.agent'
  /** The sandbox already runs its global number of concurrent calls. */
  | 'concurrency.global'
  /** The URL does not parse (WHATWG URL), or this runtime has no URL parser. */
  | 'network.url-invalid'
  /** The scheme is not http(s), or it is http and `network.httpsOnly` is set. */
  | 'network.scheme'
  /** The HTTP method is not one fetch can send (CONNECT, TRACE, TRACK, or not a token). */
  | 'network.method'
  /** The host matches `network.blockedDomains` (wins over `network.allowedDomains`). */
  | 'network.domain-blocked'
  /** The host matches no entry of `network.allowedDomains`. */
  | 'network.domain-not-allowed'
  /** The host is a private-network destination and `network.blockPrivateNetworks` is set. */
  | 'network.private-address'
  /** The port is not in `network.allowedPorts`. */
  | 'network.port'
  /** The body is larger than `network.maxRequestKb`. */
  | 'network.request-size'
  /** `network.requestsPerMinute` requests were made in the last 60 s (or it is 0). */
  | 'network.rate'
  /** The path is empty, or holds a backslash or a control character. */
  | 'file.path-invalid'
  /** The path's `..` segments climb above its root. */
  | 'file.path-escape'
  /** The path matches `files.blockedPatterns` (wins over `files.allowedPatterns`). */
  | 'file.blocked'
  /** The path matches no entry of `files.allowedPatterns`. */
  | 'file.pattern'
  /** The file is larger than `files.maxSizeMb`, or a write did not say its size. */
  | 'file.size';

export interface Denial {
  readonly allow: false;
  readonly rule: RuleId;
  /** A sentence naming what was denied and what would allow it. */
  readonly reason: string;
  /** The policy value that denied, in the policy's own units. */
  readonly limit?: number | string | string[];
  /** What the request or state had, in the same units as `limit`. */
  readonly observed?: number | string;
  /** When a retry can succeed, if the rule is time-based and that time is known. */
  readonly retryAfterMs?: number;
}

export type Decision = { readonly allow: true } | Denial;

export const ALLOW: Decision = Object.freeze({ allow: true as const });

interface DenialDetails {
  readonly limit?: Denial['limit'] | undefined;
  readonly observed?: Denial['observed'] | undefined;
  readonly retryAfterMs?: number | undefined;
}

/** Builds a denial without `undefined`-valued keys, so it serialises and compares cleanly. */
export function deny(rule: RuleId, reason: string, details: DenialDetails = {}): Denial {
  const denial: { -readonly [K in keyof Denial]: Denial[K] } = { allow: false, rule, reason };
  if (details.limit !== undefined) denial.limit = details.limit;
  if (details.observed !== undefined) denial.observed = details.observed;
  if (details.retryAfterMs !== undefined) denial.retryAfterMs = details.retryAfterMs;
  return denial;
}

/** Shared guard: a time rule evaluated at NaN would silently pass. */
export function invalidClock(now: number): Denial | null {
  return Number.isFinite(now)
    ? null
    : deny('clock.invalid', 'The sandbox clock gave no valid time, so time-based rules cannot be checked; the call is denied until the clock is fixed.');
}
