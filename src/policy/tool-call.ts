// The decision for one tools/call. Checks run in a fixed order, so the rule a denial
// names is predictable: what the agent may call at all → session → time of day → rate →
// concurrency. Reasons that waiting cannot fix come first, so a denial only suggests a
// retry when retrying can help.
//
// Session timeout is an *idle* timeout: the session ends when the time since its last
// activity (or its start, if it has none yet) exceeds `session.timeoutMinutes`. An
// absolute lifetime would end busy sessions mid-work; what bounds a long-lived session is
// `session.maxCalls`.
import type { CallState, EffectivePolicy, ToolCall } from './types';
import { ALLOW, deny, invalidClock, type Decision } from './decision';
import { checkRate, retryHint } from './rate';
import { describeQuietHours, formatLocalTime, isQuietTime, msUntilQuietEnds, quietHoursProblem } from './quiet-hours';
import { isToolBlocked, listNames } from './tools';
import { MINUTE_MS } from './wall-clock';

// Comparisons below are written as `!(x < limit)` so that a NaN in the state denies.

export function decideToolCall(policy: EffectivePolicy, call: ToolCall, state: CallState, now: number): Decision {
  const clock = invalidClock(now);
  if (clock !== null) return clock;
  return (
    checkTool(policy, call.tool, call.restricted === true) ??
    checkSession(policy, state, now) ??
    checkQuietHours(policy, now) ??
    checkCallRate(policy, state, now) ??
    checkConcurrency(policy, state) ??
    ALLOW
  );
}

/**
 * May this agent call `tool` at all (tools.allowed / tools.blocked), whatever its counters say?
 * The first check of `decideToolCall`, on its own for refusing before anything is counted.
 */
/** `restricted`: the tool is of the restricted category (see `isRestricted`), so `"*"` does not reach it. */
export function decideToolAccess(policy: EffectivePolicy, tool: string, restricted = false): Decision {
  return checkTool(policy, tool, restricted) ?? ALLOW;
}

function checkTool(policy: EffectivePolicy, tool: string, restricted = false): Decision | null {
  if (isToolBlocked(policy, tool)) {
    return deny('tool.blocked', `Tool '${tool}' is blocked for this agent (tools.blocked); an admin must grant it to unblock it.`, {
      limit: [...policy.tools.blocked],
      observed: tool,
    });
  }
  if (restricted && !policy.tools.allowed.includes(tool)) {
    return deny('tool.restricted', `Tool '${tool}' is restricted: only an agent whose tools.allowed names it may use it ("*" does not).`, {
      limit: [...policy.tools.allowed],
      observed: tool,
    });
  }
  if (!listNames(policy.tools.allowed, tool)) {
    return deny('tool.not-allowed', `Tool '${tool}' is not in this agent's allowed tools (tools.allowed); an admin can grant it.`, {
      limit: [...policy.tools.allowed],
      observed: tool,
    });
  }
  return null;
}

function checkSession(policy: EffectivePolicy, state: CallState, now: number): Decision | null {
  const { timeoutMinutes, maxCalls } = policy.session;
  const lastActivity = Math.max(state.sessionStartedAt, state.sessionLastActivityAt);
  const idleMs = now - lastActivity;
  if (!(idleMs <= timeoutMinutes * MINUTE_MS)) {
    return deny('session.timeout', `The session was idle longer than ${timeoutMinutes} min (session.timeoutMinutes); start a new session to continue.`, {
      limit: timeoutMinutes,
      observed: Math.ceil((idleMs / MINUTE_MS) * 10) / 10,
    });
  }
  if (!(state.sessionCallCount < maxCalls)) {
    return deny('session.max-calls', `The session already made its ${maxCalls} calls (session.maxCalls); start a new session to continue.`, {
      limit: maxCalls,
      observed: state.sessionCallCount,
    });
  }
  return null;
}

function checkQuietHours(policy: EffectivePolicy, now: number): Decision | null {
  const quiet = policy.session.quietHours;
  if (quiet === null) return null;
  const problem = quietHoursProblem(quiet);
  if (problem !== null) {
    return deny('quiet-hours', `The quiet hours cannot be evaluated: ${problem}; fix session.quietHours to allow calls again.`);
  }
  if (!isQuietTime(quiet, now)) return null;
  const window = describeQuietHours(quiet);
  return deny('quiet-hours', `No calls are allowed during quiet hours (${window}, session.quietHours); retry after ${quiet.end} ${quiet.timeZone}.`, {
    limit: window,
    observed: formatLocalTime(now, quiet.timeZone),
    retryAfterMs: msUntilQuietEnds(quiet, now),
  });
}

function checkCallRate(policy: EffectivePolicy, state: CallState, now: number): Decision | null {
  const limit = policy.session.callsPerMinute;
  const rate = checkRate(state.recentCallTimes, limit, now);
  if (rate.allowed) return null;
  if (!(limit > 0)) {
    return deny('rate.calls-per-minute', 'This agent may make no calls (session.callsPerMinute is 0); an admin must raise the limit.', {
      limit,
      observed: rate.count,
    });
  }
  return deny('rate.calls-per-minute', `This agent made ${rate.count} calls in the last minute, its limit is ${limit} (session.callsPerMinute); ${retryHint(rate.retryAfterMs)}.`, {
    limit,
    observed: rate.count,
    retryAfterMs: rate.retryAfterMs,
  });
}

function checkConcurrency(policy: EffectivePolicy, state: CallState): Decision | null {
  const agentLimit = policy.limits.concurrentCalls;
  if (!(state.agentActiveCalls < agentLimit)) {
    return deny('concurrency.agent', `This agent already runs ${state.agentActiveCalls} calls, its limit is ${agentLimit} (limits.concurrentCalls); retry when one finishes.`, {
      limit: agentLimit,
      observed: state.agentActiveCalls,
    });
  }
  if (!(state.globalActiveCalls < state.globalConcurrentLimit)) {
    return deny('concurrency.global', `The sandbox already runs ${state.globalActiveCalls} calls, its limit for all agents is ${state.globalConcurrentLimit}; retry when one finishes.`, {
      limit: state.globalConcurrentLimit,
      observed: state.globalActiveCalls,
    });
  }
  return null;
}
