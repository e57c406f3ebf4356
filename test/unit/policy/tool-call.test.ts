import { describe, expect, test } from 'vitest';
import { decideToolCall, filterTools, resolvePolicy, type Decision } from '../../../src/policy';
import { PURE_TOOLS } from '../../../src/policy/templates';
import { at, idleState, MINUTE, NOON, SECOND } from './fake-clock';

const untrusted = resolvePolicy('Untrusted');
const call = (tool: string) => ({ tool });

function ruleOf(decision: Decision): string {
  return decision.allow ? 'allow' : decision.rule;
}

describe('which tools an agent may call', () => {
  test('a tool in tools.allowed is allowed', () => {
    expect(decideToolCall(untrusted, call('read_file'), idleState(NOON), NOON)).toEqual({ allow: true });
  });

  test('a tool not in tools.allowed is denied by tool.not-allowed, naming the list', () => {
    expect(decideToolCall(untrusted, call('write_file'), idleState(NOON), NOON)).toEqual({
      allow: false,
      rule: 'tool.not-allowed',
      reason: "Tool 'write_file' is not in this agent's allowed tools (tools.allowed); an admin can grant it.",
      limit: [...PURE_TOOLS, 'read_file', 'list_directory'],
      observed: 'write_file',
    });
  });

  test('an empty tools.allowed allows nothing', () => {
    const p = resolvePolicy('FullyTrusted', { version: 1, tools: { allowed: [] } });
    expect(ruleOf(decideToolCall(p, call('read_file'), idleState(NOON), NOON))).toBe('tool.not-allowed');
  });

  test('"*" in tools.allowed allows any tool', () => {
    expect(decideToolCall(resolvePolicy('FullyTrusted'), call('anything_at_all'), idleState(NOON), NOON).allow).toBe(true);
  });

  test('tool names are case-sensitive', () => {
    expect(ruleOf(decideToolCall(untrusted, call('READ_FILE'), idleState(NOON), NOON))).toBe('tool.not-allowed');
  });

  test('a restricted tool (a test bundle) is reached only by an exact tools.allowed entry, not by "*"', () => {
    const restricted = { tool: 'test_simple_text', restricted: true };
    expect(ruleOf(decideToolCall(resolvePolicy('FullyTrusted'), restricted, idleState(NOON), NOON))).toBe('tool.restricted');
    const named = resolvePolicy('Trusted', { version: 1, tools: { allowed: ['test_simple_text'] } });
    expect(decideToolCall(named, restricted, idleState(NOON), NOON).allow).toBe(true);
    const blocked = resolvePolicy('Trusted', { version: 1, tools: { allowed: ['test_simple_text'], blocked: ['test_simple_text'] } });
    expect(ruleOf(decideToolCall(blocked, restricted, idleState(NOON), NOON))).toBe('tool.blocked');
    const listed = [{ name: 'test_simple_text', categories: ['fixture', 'restricted'] }, { name: 'text_stats', categories: [] }];
    expect(filterTools(resolvePolicy('FullyTrusted'), listed).map((t) => t.name)).toEqual(['text_stats']);
    expect(filterTools(named, listed).map((t) => t.name)).toEqual(['test_simple_text']);
  });

  test('tools.blocked wins over an allowed "*"', () => {
    const p = resolvePolicy('FullyTrusted', { version: 1, tools: { blocked: ['system_command'] } });
    expect(ruleOf(decideToolCall(p, call('system_command'), idleState(NOON), NOON))).toBe('tool.blocked');
    expect(decideToolCall(p, call('read_file'), idleState(NOON), NOON).allow).toBe(true);
  });

  test('"*" in tools.blocked blocks every tool', () => {
    const p = resolvePolicy('FullyTrusted', { version: 1, tools: { blocked: ['*'] } });
    expect(ruleOf(decideToolCall(p, call('read_file'), idleState(NOON), NOON))).toBe('tool.blocked');
  });

  test('filterTools lists only the tools the agent could call', () => {
    const p = resolvePolicy('Trusted', { version: 1, tools: { blocked: ['fetch_url'] } });
    const tools = [{ name: 'read_file', x: 1 }, { name: 'fetch_url', x: 2 }, { name: 'list_directory', x: 3 }];
    expect(filterTools(p, tools)).toEqual([{ name: 'read_file', x: 1 }]);
    expect(filterTools(resolvePolicy('FullyTrusted'), tools)).toEqual(tools);
    expect(filterTools(resolvePolicy('FullyTrusted', { version: 1, tools: { allowed: [] } }), tools)).toEqual([]);
  });
});

describe('session timeout (idle time since the last activity)', () => {
  const timeout = 10 * MINUTE; // Untrusted

  test('a call exactly at the timeout is still allowed', () => {
    const state = idleState(NOON - timeout);
    expect(decideToolCall(untrusted, call('read_file'), state, NOON).allow).toBe(true);
  });

  test('a call one millisecond later is denied by session.timeout', () => {
    const state = idleState(NOON - timeout - 1);
    expect(decideToolCall(untrusted, call('read_file'), state, NOON)).toMatchObject({
      allow: false,
      rule: 'session.timeout',
      limit: 10,
      observed: 10.1,
    });
  });

  test('it is idle time that counts, not the age of the session', () => {
    const state = idleState(NOON, { sessionStartedAt: NOON - 3 * 60 * MINUTE, sessionLastActivityAt: NOON - MINUTE });
    expect(decideToolCall(untrusted, call('read_file'), state, NOON).allow).toBe(true);
  });

  test('a session with no activity yet times out from its start', () => {
    const state = idleState(NOON, { sessionStartedAt: NOON - 11 * MINUTE, sessionLastActivityAt: 0 });
    expect(ruleOf(decideToolCall(untrusted, call('read_file'), state, NOON))).toBe('session.timeout');
  });

  test('a corrupt (NaN) activity time denies rather than passes', () => {
    const state = idleState(NOON, { sessionLastActivityAt: Number.NaN });
    expect(ruleOf(decideToolCall(untrusted, call('read_file'), state, NOON))).toBe('session.timeout');
  });
});

describe('session max calls', () => {
  test('the last allowed call of a session is allowed', () => {
    expect(decideToolCall(untrusted, call('read_file'), idleState(NOON, { sessionCallCount: 9 }), NOON).allow).toBe(true);
  });

  test('the call after session.maxCalls is denied by session.max-calls', () => {
    expect(decideToolCall(untrusted, call('read_file'), idleState(NOON, { sessionCallCount: 10 }), NOON)).toMatchObject({
      allow: false,
      rule: 'session.max-calls',
      limit: 10,
      observed: 10,
    });
  });
});

describe('calls per minute (sliding window)', () => {
  const t0 = NOON;
  const five = [t0, t0 + SECOND, t0 + 2 * SECOND, t0 + 3 * SECOND, t0 + 4 * SECOND]; // Untrusted: 5/min

  test('the fifth call in a minute is allowed', () => {
    const state = idleState(t0, { recentCallTimes: five.slice(0, 4) });
    expect(decideToolCall(untrusted, call('read_file'), state, t0 + 10 * SECOND).allow).toBe(true);
  });

  test('the sixth is denied by rate.calls-per-minute, with retryAfterMs when the oldest call leaves the window', () => {
    const now = t0 + 10 * SECOND;
    const state = idleState(now, { recentCallTimes: [...five].reverse() });
    expect(decideToolCall(untrusted, call('read_file'), state, now)).toEqual({
      allow: false,
      rule: 'rate.calls-per-minute',
      reason: 'This agent made 5 calls in the last minute, its limit is 5 (session.callsPerMinute); retry in 50 s.',
      limit: 5,
      observed: 5,
      retryAfterMs: 50_000,
    });
  });

  test('retrying exactly retryAfterMs later succeeds; one millisecond earlier does not', () => {
    const state = (now: number) => idleState(now, { recentCallTimes: five });
    const first = decideToolCall(untrusted, call('read_file'), state(t0 + 10 * SECOND), t0 + 10 * SECOND);
    const retryAt = t0 + 10 * SECOND + (first.allow ? 0 : (first.retryAfterMs ?? 0));
    expect(retryAt).toBe(t0 + MINUTE);
    expect(decideToolCall(untrusted, call('read_file'), state(retryAt - 1), retryAt - 1)).toMatchObject({ rule: 'rate.calls-per-minute', retryAfterMs: 1 });
    expect(decideToolCall(untrusted, call('read_file'), state(retryAt), retryAt).allow).toBe(true);
  });

  test('callsPerMinute 0 denies every call, with no retry time', () => {
    const p = resolvePolicy('Untrusted', { version: 1, session: { callsPerMinute: 0 } });
    const decision = decideToolCall(p, call('read_file'), idleState(NOON), NOON);
    expect(decision).toMatchObject({ allow: false, rule: 'rate.calls-per-minute', limit: 0 });
    expect(decision).not.toHaveProperty('retryAfterMs');
  });
});

describe('concurrency', () => {
  test('a call below limits.concurrentCalls is allowed', () => {
    const p = resolvePolicy('Limited');
    expect(decideToolCall(p, call('read_file'), idleState(NOON, { agentActiveCalls: 2 }), NOON).allow).toBe(true);
  });

  test('a call at limits.concurrentCalls is denied by concurrency.agent', () => {
    expect(decideToolCall(untrusted, call('read_file'), idleState(NOON, { agentActiveCalls: 1 }), NOON)).toMatchObject({
      allow: false,
      rule: 'concurrency.agent',
      limit: 1,
      observed: 1,
    });
  });

  test('a call when the sandbox is at its global limit is denied by concurrency.global', () => {
    const state = idleState(NOON, { globalActiveCalls: 8, globalConcurrentLimit: 8 });
    expect(decideToolCall(untrusted, call('read_file'), state, NOON)).toMatchObject({
      allow: false,
      rule: 'concurrency.global',
      limit: 8,
      observed: 8,
    });
    expect(decideToolCall(untrusted, call('read_file'), { ...state, globalActiveCalls: 7 }, NOON).allow).toBe(true);
  });
});

describe('order of checks', () => {
  const everythingWrong = (now: number) =>
    idleState(now, {
      sessionLastActivityAt: now - 2 * 60 * MINUTE,
      sessionStartedAt: now - 2 * 60 * MINUTE,
      sessionCallCount: 1000,
      recentCallTimes: Array.from({ length: 100 }, () => now - SECOND),
      agentActiveCalls: 100,
      globalActiveCalls: 100,
      globalConcurrentLimit: 1,
    });

  test('tool → timeout → max calls → quiet hours → rate → agent → global', () => {
    const limited = resolvePolicy('Limited');
    const night = at('2024-06-12T23:00:00Z');
    const steps: [string, Partial<ReturnType<typeof everythingWrong>>][] = [
      ['session.timeout', {}],
      ['session.max-calls', { sessionLastActivityAt: night }],
      ['quiet-hours', { sessionLastActivityAt: night, sessionCallCount: 0 }],
    ];
    expect(ruleOf(decideToolCall(limited, call('system_command'), everythingWrong(night), night))).toBe('tool.not-allowed');
    for (const [rule, fix] of steps) {
      expect(ruleOf(decideToolCall(limited, call('read_file'), { ...everythingWrong(night), ...fix }, night))).toBe(rule);
    }
    const day = NOON;
    const fixedSession = { sessionLastActivityAt: day, sessionCallCount: 0 };
    expect(ruleOf(decideToolCall(limited, call('read_file'), { ...everythingWrong(day), ...fixedSession }, day))).toBe('rate.calls-per-minute');
    const fixedRate = { ...fixedSession, recentCallTimes: [] };
    expect(ruleOf(decideToolCall(limited, call('read_file'), { ...everythingWrong(day), ...fixedRate }, day))).toBe('concurrency.agent');
    expect(ruleOf(decideToolCall(limited, call('read_file'), { ...everythingWrong(day), ...fixedRate, agentActiveCalls: 0 }, day))).toBe('concurrency.global');
  });

  test('an invalid clock denies by clock.invalid', () => {
    expect(ruleOf(decideToolCall(untrusted, call('read_file'), idleState(NOON), Number.NaN))).toBe('clock.invalid');
  });
});
