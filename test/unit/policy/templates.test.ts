import { describe, expect, test } from 'vitest';
import { resolvePolicy, TEMPLATES, TRUST_LEVELS, type TrustLevel } from '../../../src/policy';
import { PURE_TOOLS } from '../../../src/policy/templates';

// The seed guide's table, restated independently of templates.ts.
const table: Record<TrustLevel, unknown> = {
  Untrusted: {
    tools: [...PURE_TOOLS, 'read_file', 'list_directory'],
    memory: 32, cpu: 10, concurrent: 1, fileMb: 1, rpm: 0,
    domains: [], blocked: [], ports: [], https: true, kb: 0,
    files: ['./sandbox/*'], sensitive: ['password', 'key'], encrypt: true, audit: true, redact: true,
    timeout: 10, maxCalls: 10, callsPerMinute: 5, quiet: null,
  },
  Limited: {
    tools: [...PURE_TOOLS, 'read_file', 'write_file', 'execute_code', 'list_directory'],
    memory: 128, cpu: 60, concurrent: 3, fileMb: 10, rpm: 10,
    domains: ['api.openai.com', 'httpbin.org'], blocked: [], ports: [80, 443], https: true, kb: 100,
    files: ['./workspace/*', './temp/*'], sensitive: ['password', 'secret'], encrypt: true, audit: true, redact: true,
    timeout: 60, maxCalls: 50, callsPerMinute: 20, quiet: { start: '22:00', end: '06:00', timeZone: 'UTC' },
  },
  Trusted: {
    tools: [...PURE_TOOLS, 'read_file', 'write_file', 'execute_code', 'fetch_url', 'system_command'],
    memory: 512, cpu: 300, concurrent: 10, fileMb: 100, rpm: 100,
    domains: ['*'], blocked: ['malware.example.com'], ports: [80, 443, 22, 3000], https: false, kb: 1024,
    files: ['./workspace/*', '/tmp/*'], sensitive: ['password'], encrypt: false, audit: true, redact: false,
    timeout: 240, maxCalls: 500, callsPerMinute: 100, quiet: null,
  },
  FullyTrusted: {
    tools: ['*'],
    memory: 2048, cpu: 3600, concurrent: 50, fileMb: 1024, rpm: 1000,
    domains: ['*'], blocked: [], ports: ['*'], https: false, kb: 10240,
    files: ['*'], sensitive: [], encrypt: false, audit: false, redact: false,
    timeout: 1440, maxCalls: 10000, callsPerMinute: 1000, quiet: null,
  },
};

describe('trust level templates', () => {
  test.each(TRUST_LEVELS)('%s matches the seed table', (level) => {
    const p = resolvePolicy(level);
    expect(p.trustLevel).toBe(level);
    expect({
      tools: p.tools.allowed,
      memory: p.limits.memoryMb, cpu: p.limits.cpuSeconds, concurrent: p.limits.concurrentCalls,
      fileMb: p.files.maxSizeMb, rpm: p.network.requestsPerMinute,
      domains: p.network.allowedDomains, blocked: p.network.blockedDomains, ports: p.network.allowedPorts,
      https: p.network.httpsOnly, kb: p.network.maxRequestKb,
      files: p.files.allowedPatterns, sensitive: p.data.sensitivePatterns,
      encrypt: p.data.encryptionRequired, audit: p.data.auditAllAccess, redact: p.data.redactForAgent,
      timeout: p.session.timeoutMinutes, maxCalls: p.session.maxCalls, callsPerMinute: p.session.callsPerMinute,
      quiet: p.session.quietHours,
    }).toEqual(table[level]);
    expect(p.tools.blocked).toEqual([]);
    expect(p.files.blockedPatterns).toEqual([]);
  });

  test('templates are frozen, so no caller can widen a level for everyone', () => {
    expect(Object.isFrozen(TEMPLATES.Limited.tools.allowed)).toBe(true);
    expect(() => (TEMPLATES.Limited.tools.allowed as string[]).push('system_command')).toThrow();
  });
});

describe('resolvePolicy', () => {
  test('a refinement may widen and narrow; fields it leaves out come from the template', () => {
    const p = resolvePolicy('Limited', { version: 1, limits: { memoryMb: 1024 }, session: { maxCalls: 5 } });
    expect(p.limits).toEqual({ memoryMb: 1024, cpuSeconds: 60, concurrentCalls: 3, queueWaitMs: 2_000 });
    expect(p.session.maxCalls).toBe(5);
    expect(p.session.callsPerMinute).toBe(20);
  });

  test('a list in a refinement replaces the template list whole', () => {
    const p = resolvePolicy('Limited', { version: 1, tools: { allowed: ['read_file'] } });
    expect(p.tools.allowed).toEqual(['read_file']);
    expect(resolvePolicy('Limited', { version: 1, network: { allowedDomains: [] } }).network.allowedDomains).toEqual([]);
  });

  test("a document's own trustLevel picks the template; without one the agent's level does", () => {
    expect(resolvePolicy('Untrusted', { version: 1, trustLevel: 'Trusted' }).limits.memoryMb).toBe(512);
    expect(resolvePolicy('Trusted', { version: 1 }).limits.memoryMb).toBe(512);
    expect(resolvePolicy('Untrusted', { version: 1 }).limits.memoryMb).toBe(32);
  });

  test('fields given as undefined do not erase template values', () => {
    expect(resolvePolicy('Limited', { version: 1, limits: { memoryMb: undefined } }).limits.memoryMb).toBe(128);
  });

  test('the result shares nothing with the template or the document', () => {
    const doc = { version: 1 as const, tools: { allowed: ['a'] } };
    const p = resolvePolicy('Limited', doc);
    (p.tools.allowed as string[]).push('b');
    (p.files.allowedPatterns as string[]).push('*');
    expect(doc.tools.allowed).toEqual(['a']);
    expect(resolvePolicy('Limited').files.allowedPatterns).toEqual(['./workspace/*', './temp/*']);
  });
});

describe('execute_code languages', () => {
  test('the policy names exactly the languages the sandbox knows', async () => {
    const { CODE_LANGUAGE_NAMES } = await import('../../../src/policy');
    const { CODE_LANGUAGES } = await import('../../../src/shared/execute-code');
    expect([...CODE_LANGUAGE_NAMES]).toEqual([...CODE_LANGUAGES]);
  });
});
