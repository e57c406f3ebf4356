// Every permission field has a test proving its denial, next to the positive case. Each
// case starts from FullyTrusted (everything open) and restricts exactly one field, so the
// denial can only come from that field. The last test fails when a field is added to the
// policy without a case here.
import { describe, expect, test } from 'vitest';
import {
  decideCodeLanguage,
  decideFile,
  decideNetwork,
  decideToolCall,
  effectiveLimits,
  redactForAgent,
  resolvePolicy,
  toPolicyDocument,
  type Decision,
  type EffectivePolicy,
  type PolicyDocument,
} from '../../../src/policy';
import { at, idleState, MINUTE, NOON, SECOND } from './fake-clock';

type Section = Exclude<keyof EffectivePolicy, 'trustLevel'>;

function only(section: Section, fields: Record<string, unknown>): EffectivePolicy {
  return resolvePolicy('FullyTrusted', { version: 1, [section]: fields } as PolicyDocument);
}

const verdict = (d: Decision) => (d.allow ? 'allow' : d.rule);
const callAt = (p: EffectivePolicy, tool: string, now = NOON, state = idleState(now)) => verdict(decideToolCall(p, { tool }, state, now));
const fetchAt = (p: EffectivePolicy, url: string, bodyBytes = 0, times: number[] = []) =>
  verdict(decideNetwork(p, { url, method: 'POST', bodyBytes }, times, NOON));
const file = (p: EffectivePolicy, path: string, op: 'read' | 'write' = 'read', sizeBytes = 1) =>
  verdict(decideFile(p, { path, op, sizeBytes }));

interface Case {
  readonly rule: string;
  readonly denied: () => string;
  readonly allowed: () => string;
}

const MiB = 1024 * 1024;
const recent = (n: number) => Array.from({ length: n }, (_, i) => NOON - (i + 1) * SECOND);

const cases: Record<string, Case> = {
  'tools.allowed': (() => {
    const p = only('tools', { allowed: ['read_file'] });
    return { rule: 'tool.not-allowed', denied: () => callAt(p, 'write_file'), allowed: () => callAt(p, 'read_file') };
  })(),
  'tools.blocked': (() => {
    const p = only('tools', { blocked: ['write_file'] });
    return { rule: 'tool.blocked', denied: () => callAt(p, 'write_file'), allowed: () => callAt(p, 'read_file') };
  })(),
  'limits.memoryMb': (() => {
    const p = only('limits', { memoryMb: 64 });
    const granted = (mb: number) => effectiveLimits(p, { memoryMb: mb }).memoryBytes;
    return {
      rule: 'capped',
      denied: () => (granted(1024) === 64 * MiB ? 'capped' : 'not capped'),
      allowed: () => (granted(32) === 32 * MiB ? 'allow' : 'capped'),
    };
  })(),
  'limits.cpuSeconds': (() => {
    const p = only('limits', { cpuSeconds: 5 });
    const granted = (ms: number) => effectiveLimits(p, { cpuMs: ms }).cpuMs;
    return {
      rule: 'capped',
      denied: () => (granted(60_000) === 5000 ? 'capped' : 'not capped'),
      allowed: () => (granted(1000) === 1000 ? 'allow' : 'capped'),
    };
  })(),
  'limits.concurrentCalls': (() => {
    const p = only('limits', { concurrentCalls: 2 });
    return {
      rule: 'concurrency.agent',
      denied: () => callAt(p, 'x', NOON, idleState(NOON, { agentActiveCalls: 2 })),
      allowed: () => callAt(p, 'x', NOON, idleState(NOON, { agentActiveCalls: 1 })),
    };
  })(),
  'network.allowedDomains': (() => {
    const p = only('network', { allowedDomains: ['ok.example'] });
    return { rule: 'network.domain-not-allowed', denied: () => fetchAt(p, 'https://other.example/'), allowed: () => fetchAt(p, 'https://ok.example/') };
  })(),
  'network.blockedDomains': (() => {
    const p = only('network', { blockedDomains: ['bad.example'] });
    return { rule: 'network.domain-blocked', denied: () => fetchAt(p, 'https://bad.example/'), allowed: () => fetchAt(p, 'https://ok.example/') };
  })(),
  'tools.codeLanguages': (() => {
    const p = only('tools', { allowed: ['*'], codeLanguages: ['javascript'] });
    return { rule: 'code.language-not-allowed', denied: () => verdict(decideCodeLanguage(p, 'python')), allowed: () => verdict(decideCodeLanguage(p, 'javascript')) };
  })(),
  'network.blockPrivateNetworks': (() => {
    const p = only('network', { blockPrivateNetworks: true });
    return { rule: 'network.private-address', denied: () => fetchAt(p, 'https://10.0.0.1/'), allowed: () => fetchAt(p, 'https://8.8.8.8/') };
  })(),
  'network.allowedPorts': (() => {
    const p = only('network', { allowedPorts: [443] });
    return { rule: 'network.port', denied: () => fetchAt(p, 'https://x.example:8443/'), allowed: () => fetchAt(p, 'https://x.example/') };
  })(),
  'network.httpsOnly': (() => {
    const p = only('network', { httpsOnly: true });
    return { rule: 'network.scheme', denied: () => fetchAt(p, 'http://x.example/'), allowed: () => fetchAt(p, 'https://x.example/') };
  })(),
  'network.maxRequestKb': (() => {
    const p = only('network', { maxRequestKb: 1 });
    return { rule: 'network.request-size', denied: () => fetchAt(p, 'https://x.example/', 1025), allowed: () => fetchAt(p, 'https://x.example/', 1024) };
  })(),
  'network.requestsPerMinute': (() => {
    const p = only('network', { requestsPerMinute: 3 });
    return { rule: 'network.rate', denied: () => fetchAt(p, 'https://x.example/', 0, recent(3)), allowed: () => fetchAt(p, 'https://x.example/', 0, recent(2)) };
  })(),
  'files.allowedPatterns': (() => {
    const p = only('files', { allowedPatterns: ['./workspace/*'] });
    return { rule: 'file.pattern', denied: () => file(p, './workspace/../etc/passwd'), allowed: () => file(p, './workspace/a.txt') };
  })(),
  'files.blockedPatterns': (() => {
    const p = only('files', { blockedPatterns: ['./workspace/private/*'] });
    return { rule: 'file.blocked', denied: () => file(p, './workspace/private/a'), allowed: () => file(p, './workspace/public/a') };
  })(),
  'files.maxSizeMb': (() => {
    const p = only('files', { maxSizeMb: 1 });
    return { rule: 'file.size', denied: () => file(p, './a', 'write', MiB + 1), allowed: () => file(p, './a', 'write', MiB) };
  })(),
  'data.sensitivePatterns': (() => {
    const p = only('data', { redactForAgent: true, sensitivePatterns: ['token'] });
    const seen = (v: unknown) => JSON.stringify(redactForAgent(p, v).value);
    return {
      rule: 'redacted',
      denied: () => (seen({ token: 'abc' }).includes('abc') ? 'leaked' : 'redacted'),
      allowed: () => (seen({ color: 'blue' }).includes('blue') ? 'allow' : 'redacted'),
    };
  })(),
  'data.redactForAgent': (() => {
    const on = only('data', { redactForAgent: true, sensitivePatterns: ['password'] });
    const off = only('data', { redactForAgent: false, sensitivePatterns: ['password'] });
    const seen = (p: EffectivePolicy) => JSON.stringify(redactForAgent(p, 'password=hunter2').value);
    return {
      rule: 'redacted',
      denied: () => (seen(on).includes('hunter2') ? 'leaked' : 'redacted'),
      allowed: () => (seen(off).includes('hunter2') ? 'allow' : 'redacted'),
    };
  })(),
  'session.timeoutMinutes': (() => {
    const p = only('session', { timeoutMinutes: 5 });
    const idle = (ms: number) => callAt(p, 'x', NOON, idleState(NOON, { sessionStartedAt: NOON - ms, sessionLastActivityAt: NOON - ms }));
    return { rule: 'session.timeout', denied: () => idle(5 * MINUTE + 1), allowed: () => idle(5 * MINUTE) };
  })(),
  'session.maxCalls': (() => {
    const p = only('session', { maxCalls: 3 });
    return {
      rule: 'session.max-calls',
      denied: () => callAt(p, 'x', NOON, idleState(NOON, { sessionCallCount: 3 })),
      allowed: () => callAt(p, 'x', NOON, idleState(NOON, { sessionCallCount: 2 })),
    };
  })(),
  'session.callsPerMinute': (() => {
    const p = only('session', { callsPerMinute: 2 });
    return {
      rule: 'rate.calls-per-minute',
      denied: () => callAt(p, 'x', NOON, idleState(NOON, { recentCallTimes: recent(2) })),
      allowed: () => callAt(p, 'x', NOON, idleState(NOON, { recentCallTimes: recent(1) })),
    };
  })(),
  'session.quietHours': (() => {
    const p = only('session', { quietHours: { start: '22:00', end: '06:00', timeZone: 'UTC' } });
    return { rule: 'quiet-hours', denied: () => callAt(p, 'x', at('2024-06-12T02:00:00Z')), allowed: () => callAt(p, 'x', at('2024-06-12T07:00:00Z')) };
  })(),
};

// Carried for other layers (the store encrypts, the audit log records); no decision here.
// Enforced by the server, each with its own tests: encryption at rest (test/unit/sealing.test.ts),
// per-read audit entries and the fair queue's wait (test/unit/capabilities.test.ts,
// test/unit/call-faults.test.ts).
const NOT_DECIDED_HERE = ['data.encryptionRequired', 'data.auditAllAccess', 'limits.queueWaitMs'];

describe('every permission has a test proving its denial', () => {
  test.each(Object.entries(cases))('%s denies', (_field, c) => {
    expect(c.denied()).toBe(c.rule);
  });

  test.each(Object.entries(cases))('%s allows what it should', (_field, c) => {
    expect(c.allowed()).toBe('allow');
  });

  test('the global concurrency limit (a sandbox setting, not a field) denies too', () => {
    const p = resolvePolicy('FullyTrusted');
    expect(callAt(p, 'x', NOON, idleState(NOON, { globalActiveCalls: 4, globalConcurrentLimit: 4 }))).toBe('concurrency.global');
    expect(callAt(p, 'x', NOON, idleState(NOON, { globalActiveCalls: 3, globalConcurrentLimit: 4 }))).toBe('allow');
  });

  test('no policy field is missing from this table', () => {
    const doc = toPolicyDocument(resolvePolicy('Limited')) as unknown as Record<string, unknown>;
    const fields = Object.entries(doc)
      .filter(([, value]) => typeof value === 'object' && value !== null)
      .flatMap(([section, value]) => Object.keys(value as object).map((key) => `${section}.${key}`));
    expect([...Object.keys(cases), ...NOT_DECIDED_HERE].sort()).toEqual(fields.sort());
  });
});
