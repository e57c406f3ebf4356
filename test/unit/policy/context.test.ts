import { describe, expect, it } from 'vitest';
import {
  checkValue,
  contextLayer,
  decideCapacity,
  decideConversationId,
  decideFile,
  decideLayered,
  decideLevelChange,
  decideName,
  decideNetwork,
  decideToolAccess,
  decideVisible,
  decideWrite,
  homeOf,
  intersectPolicies,
  MAX_UPDATES,
  MAX_VALUE_BYTES,
  MAX_VARIABLES,
  narrowedPolicy,
  parseSecurityLevel,
  readContextUpdates,
  resolvePolicy,
  TEMPLATES,
  type EffectivePolicy,
  type SecurityLevel,
} from '../../../src/policy';

const A1 = { agentId: 'agent-1', sessionId: 's-1', conversationId: 'c-1' };

describe('sharing rules: where a variable is visible', () => {
  it('Private reaches its own conversation only: not another conversation, not another agent', () => {
    const home = homeOf('Private', A1);
    expect(decideVisible(home, A1)).toEqual({ allow: true });
    // Same agent, same session, another conversation.
    expect(decideVisible(home, { ...A1, conversationId: 'c-2' })).toMatchObject({ allow: false, rule: 'context.not-visible', limit: 'Private' });
    // Another agent that names the same conversation id.
    expect(decideVisible(home, { ...A1, agentId: 'agent-2' })).toMatchObject({ allow: false, rule: 'context.not-visible' });
  });

  it('SessionOnly reaches every conversation of its session: not another session, not another agent', () => {
    const home = homeOf('SessionOnly', A1);
    expect(decideVisible(home, { ...A1, conversationId: 'c-2' }).allow).toBe(true);
    expect(decideVisible(home, { ...A1, sessionId: 's-2' })).toMatchObject({ allow: false, rule: 'context.not-visible', limit: 'SessionOnly' });
    expect(decideVisible(home, { ...A1, agentId: 'agent-2' })).toMatchObject({ allow: false, rule: 'context.not-visible' });
  });

  it('UserScoped reaches every conversation and session of its agent: not another agent', () => {
    const home = homeOf('UserScoped', A1);
    expect(decideVisible(home, { agentId: 'agent-1', sessionId: 's-9', conversationId: 'c-9' }).allow).toBe(true);
    expect(decideVisible(home, { ...A1, agentId: 'agent-2' })).toMatchObject({ allow: false, rule: 'context.not-visible', limit: 'UserScoped' });
  });

  it('Global reaches every agent', () => {
    expect(decideVisible(homeOf('Global', A1), { agentId: 'agent-2', sessionId: 'x', conversationId: 'y' }).allow).toBe(true);
  });

  it('an unknown rule reaches no one', () => {
    expect(decideVisible({ sharing: 'Everyone' as never, agentId: 'agent-1', sessionId: null, conversationId: null }, A1).allow).toBe(false);
  });
});

describe('sharing rules: who may write', () => {
  it('an agent and a tool never write a Global variable; an admin does', () => {
    expect(decideWrite('agent', 'Global')).toMatchObject({ allow: false, rule: 'context.global-admin-only', observed: 'agent' });
    expect(decideWrite('tool', 'Global')).toMatchObject({ allow: false, rule: 'context.global-admin-only', observed: 'tool' });
    expect(decideWrite('admin', 'Global').allow).toBe(true);
    for (const rule of ['Private', 'SessionOnly', 'UserScoped']) expect(decideWrite('agent', rule).allow).toBe(true);
  });

  it('refuses a sharing rule that is not one of the four', () => {
    expect(decideWrite('agent', 'global')).toMatchObject({ allow: false, rule: 'context.sharing-invalid' });
    expect(decideWrite('admin', undefined)).toMatchObject({ allow: false, rule: 'context.sharing-invalid' });
  });

  it('bounds names and conversation ids', () => {
    expect(decideName('topic').allow).toBe(true);
    expect(decideName('user.lang-2').allow).toBe(true);
    for (const bad of ['', '9lives', 'a b', 'x'.repeat(65), '__proto__\n', 42]) expect(decideName(bad)).toMatchObject({ allow: false, rule: 'context.name-invalid' });
    expect(decideConversationId('chat-1').allow).toBe(true);
    expect(decideConversationId('a'.repeat(128)).allow).toBe(true);
    for (const bad of ['', 'a'.repeat(129), 'has space', 'x/y', 7, null]) expect(decideConversationId(bad)).toMatchObject({ allow: false, rule: 'context.conversation-invalid' });
  });
});

describe('size caps', () => {
  it('keeps a value up to MAX_VALUE_BYTES of JSON and refuses one character more', () => {
    const fits = 'x'.repeat(MAX_VALUE_BYTES - 2); // plus two quotes
    expect(checkValue(fits)).toMatchObject({ allow: true, bytes: MAX_VALUE_BYTES });
    expect(checkValue(`${fits}x`)).toMatchObject({ allow: false, rule: 'context.value-too-large', limit: MAX_VALUE_BYTES, observed: MAX_VALUE_BYTES + 1 });
  });

  it('refuses what is not JSON, and stores a plain copy of what is', () => {
    expect(checkValue(undefined)).toMatchObject({ allow: false, rule: 'context.value-invalid' });
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(checkValue(cyclic)).toMatchObject({ allow: false, rule: 'context.value-invalid' });
    expect(checkValue(10n)).toMatchObject({ allow: false, rule: 'context.value-invalid' });
    const original = { a: [1, { b: 'c' }], gone: undefined };
    const checked = checkValue(original) as { allow: true; value: unknown };
    expect(checked.value).toEqual({ a: [1, { b: 'c' }] });
    expect(checked.value).not.toBe(original);
  });

  it('a scope holds at most MAX_VARIABLES; replacing one is always allowed', () => {
    const names = Array.from({ length: MAX_VARIABLES }, (_, i) => `v${i}`);
    expect(decideCapacity(names.slice(1), 'new').allow).toBe(true);
    expect(decideCapacity(names, 'new')).toMatchObject({ allow: false, rule: 'context.too-many-variables', limit: MAX_VARIABLES });
    expect(decideCapacity(names, 'v3').allow).toBe(true);
  });
});

describe('context_updates out of a tool result', () => {
  it('reads sets and clears, defaults to Private, and refuses Global, bad names and oversized values one by one', () => {
    const read = readContextUpdates({
      topic: { value: 'cats' },
      lang: { value: 'en', sharing: 'UserScoped' },
      old: null,
      gone: { clear: true, sharing: 'SessionOnly' },
      everyone: { value: 1, sharing: 'Global' },
      'bad name': { value: 1 },
      huge: { value: 'x'.repeat(MAX_VALUE_BYTES) },
      shapeless: 5,
    });
    if (!('updates' in read)) throw new Error('expected updates');
    expect(read.updates).toEqual([
      { name: 'topic', sharing: 'Private', value: 'cats' },
      { name: 'lang', sharing: 'UserScoped', value: 'en' },
      { name: 'old', sharing: 'Private' },
      { name: 'gone', sharing: 'SessionOnly' },
    ]);
    expect(read.refused.map((r) => [r.name, r.denial.rule])).toEqual([
      ['everyone', 'context.global-admin-only'],
      ['bad name', 'context.name-invalid'],
      ['huge', 'context.value-too-large'],
      ['shapeless', 'context.updates-invalid'],
    ]);
  });

  it('refuses a malformed whole, and more than MAX_UPDATES updates', () => {
    expect(readContextUpdates([1])).toMatchObject({ allow: false, rule: 'context.updates-invalid' });
    expect(readContextUpdates('x')).toMatchObject({ allow: false, rule: 'context.updates-invalid' });
    const many = Object.fromEntries(Array.from({ length: MAX_UPDATES + 1 }, (_, i) => [`v${i}`, { value: i }]));
    expect(readContextUpdates(many)).toMatchObject({ allow: false, rule: 'context.updates-invalid', observed: MAX_UPDATES + 1 });
  });
});

describe('security levels', () => {
  it('parses presets and Custom documents with the policy document parser, naming the field of an error', () => {
    expect(parseSecurityLevel('Strict')).toEqual({ ok: true, level: { level: 'Strict' } });
    expect(parseSecurityLevel({ level: 'Custom', policy: { version: 1, limits: { memoryMb: 64 } } })).toMatchObject({ ok: true, level: { level: 'Custom', policy: { limits: { memoryMb: 64 } } } });
    expect(parseSecurityLevel({ level: 'Custom', policy: { version: 1, limits: { memoryMb: -1 } } })).toMatchObject({ ok: false, errors: [{ path: 'policy.limits.memoryMb' }] });
    expect(parseSecurityLevel('Lax')).toMatchObject({ ok: false, errors: [{ path: 'level' }] });
    expect(parseSecurityLevel({ level: 'Strict', policy: {} })).toMatchObject({ ok: false, errors: [{ path: 'policy' }] });
    expect(parseSecurityLevel({ level: 'Strict', extra: 1 })).toMatchObject({ ok: false, errors: [{ path: 'extra' }] });
  });

  it('an agent only narrows its level; an admin may set any', () => {
    expect(decideLevelChange('agent', 'Permissive', 'Moderate').allow).toBe(true);
    expect(decideLevelChange('agent', 'Moderate', 'Strict').allow).toBe(true);
    expect(decideLevelChange('agent', 'Custom', 'Strict').allow).toBe(true);
    expect(decideLevelChange('agent', 'Permissive', 'Custom').allow).toBe(true);
    expect(decideLevelChange('agent', 'Strict', 'Permissive')).toMatchObject({ allow: false, rule: 'context.level-widen', limit: 'Strict', observed: 'Permissive' });
    expect(decideLevelChange('agent', 'Strict', 'Moderate')).toMatchObject({ allow: false, rule: 'context.level-widen' });
    expect(decideLevelChange('agent', 'Moderate', 'Custom')).toMatchObject({ allow: false, rule: 'context.level-widen' });
    expect(decideLevelChange('agent', 'Custom', 'Permissive')).toMatchObject({ allow: false, rule: 'context.level-widen' });
    expect(decideLevelChange('admin', 'Strict', 'Permissive').allow).toBe(true);
  });

  it('Permissive narrows nothing: the agent policy itself', () => {
    const agent = TEMPLATES.Trusted;
    expect(narrowedPolicy(agent, { level: 'Permissive' })).toBe(agent);
  });
});

/** Every field the effective policy has is no wider than the agent's. */
function expectNoWider(effective: EffectivePolicy, agent: EffectivePolicy): void {
  for (const k of ['memoryMb', 'cpuSeconds', 'concurrentCalls', 'queueWaitMs'] as const) expect(effective.limits[k]).toBeLessThanOrEqual(agent.limits[k]);
  for (const k of ['timeoutMinutes', 'maxCalls', 'callsPerMinute'] as const) expect(effective.session[k]).toBeLessThanOrEqual(agent.session[k]);
  for (const k of ['maxRequestKb', 'requestsPerMinute'] as const) expect(effective.network[k]).toBeLessThanOrEqual(agent.network[k]);
  expect(effective.files.maxSizeMb).toBeLessThanOrEqual(agent.files.maxSizeMb);
  if (agent.network.httpsOnly) expect(effective.network.httpsOnly).toBe(true);
  if (agent.network.blockPrivateNetworks) expect(effective.network.blockPrivateNetworks).toBe(true);
  if (agent.data.redactForAgent) expect(effective.data.redactForAgent).toBe(true);
  if (agent.data.encryptionRequired) expect(effective.data.encryptionRequired).toBe(true);
  for (const b of agent.tools.blocked) expect(effective.tools.blocked.includes(b) || effective.tools.blocked.includes('*')).toBe(true);
  for (const p of agent.data.sensitivePatterns) expect(effective.data.sensitivePatterns).toContain(p);
}

describe('the intersection of the agent policy and the context layer', () => {
  const levels: SecurityLevel[] = [
    { level: 'Strict' },
    { level: 'Moderate' },
    { level: 'Permissive' },
    // A Custom document that tries to widen everything.
    { level: 'Custom', policy: { version: 1, trustLevel: 'FullyTrusted' } },
    { level: 'Custom', policy: { version: 1, tools: { allowed: ['*'] }, network: { allowedDomains: ['*'], blockPrivateNetworks: false, allowedPorts: ['*'], httpsOnly: false }, limits: { memoryMb: 4096 }, files: { allowedPatterns: ['*'] } } },
  ];

  it('never widens any field, for every template and level, even when the layer tries to', () => {
    for (const template of Object.values(TEMPLATES)) for (const level of levels) expectNoWider(narrowedPolicy(template, level), template);
  });

  it('a Custom document that tries to widen decides exactly as the agent policy does', () => {
    const agent = TEMPLATES.Limited;
    const wide = narrowedPolicy(agent, levels[4]!);
    for (const tool of ['fetch_url', 'system_command', 'execute_code', 'read_file']) expect(decideToolAccess(wide, tool).allow).toBe(decideToolAccess(agent, tool).allow);
    expect(decideNetwork(wide, { url: 'https://example.org/', method: 'GET', bodyBytes: 0 }, [], 0)).toMatchObject({ allow: false, rule: 'network.domain-not-allowed' });
    expect(decideNetwork(wide, { url: 'http://api.openai.com/', method: 'GET', bodyBytes: 0 }, [], 0)).toMatchObject({ allow: false, rule: 'network.scheme' });
    expect(decideFile(wide, { path: './etc/passwd', op: 'read' })).toMatchObject({ allow: false });
    expect(decideFile(wide, { path: './workspace/a.txt', op: 'read' }).allow).toBe(true);
  });

  it('Strict narrows a FullyTrusted agent to the Untrusted template', () => {
    const strict = narrowedPolicy(TEMPLATES.FullyTrusted, { level: 'Strict' });
    expect(strict.tools.allowed).toEqual(TEMPLATES.Untrusted.tools.allowed);
    expect(strict.tools.codeLanguages).toEqual([]);
    expect(strict.limits.memoryMb).toBe(32);
    expect(strict.network.requestsPerMinute).toBe(0);
    expect(strict.trustLevel).toBe('FullyTrusted'); // a label, kept
  });

  it('Moderate keeps no quiet hours of its own', () => {
    expect(contextLayer(TEMPLATES.Trusted, { level: 'Moderate' }).session.quietHours).toBeNull();
    expect(narrowedPolicy(TEMPLATES.Limited, { level: 'Moderate' }).session.quietHours).toEqual(TEMPLATES.Limited.session.quietHours);
  });

  it('a Custom document refines the agent policy: fields it leaves out narrow nothing', () => {
    const agent = TEMPLATES.Trusted;
    const custom = narrowedPolicy(agent, { level: 'Custom', policy: { version: 1, tools: { allowed: ['text_stats'] } } });
    expect(custom.tools.allowed).toEqual(['text_stats']);
    expect(custom.network).toEqual(agent.network);
    expect(custom.limits).toEqual(agent.limits);
  });

  it('lists: "*" on one side keeps the other side; otherwise only entries both allow; deny lists are unions', () => {
    const a = resolvePolicy('Trusted', { version: 1, tools: { allowed: ['a', 'b', 'c'], blocked: ['x'] }, network: { allowedPorts: [80, 443] } });
    const b = resolvePolicy('Trusted', { version: 1, tools: { allowed: ['b', 'c', 'd'], blocked: ['y'] }, network: { allowedPorts: ['*'] } });
    const both = intersectPolicies(a, b);
    expect(both.tools.allowed).toEqual(['b', 'c']);
    expect(both.tools.blocked).toEqual(['x', 'y']);
    expect(both.network.allowedPorts).toEqual([80, 443]);
    const any = intersectPolicies(TEMPLATES.FullyTrusted, a);
    expect(any.tools.allowed).toEqual(['a', 'b', 'c']);
  });

  it('domains: a host under the agent\'s wildcard is kept, one outside it is not', () => {
    const agent = resolvePolicy('Trusted', { version: 1, network: { allowedDomains: ['*.example.com', 'api.openai.com'] } });
    const layer = resolvePolicy('Trusted', { version: 1, network: { allowedDomains: ['docs.example.com', 'evil.org', 'api.openai.com'] } });
    expect([...intersectPolicies(agent, layer).network.allowedDomains].sort()).toEqual(['api.openai.com', 'docs.example.com']);
  });

  it('domains: a private entry of the layer does not open private space the agent blocks', () => {
    const agent = resolvePolicy('Limited', { version: 1, network: { allowedDomains: ['*'], blockPrivateNetworks: true } });
    const layer = resolvePolicy('Trusted', { version: 1, network: { allowedDomains: ['localhost', '10.0.0.0/8', '*.internal', 'example.org'], blockPrivateNetworks: false } });
    const both = intersectPolicies(agent, layer);
    expect(both.network.allowedDomains).toEqual(['example.org']);
    expect(decideNetwork(both, { url: 'https://localhost/', method: 'GET', bodyBytes: 0 }, [], 0)).toMatchObject({ allow: false, rule: 'network.private-address' });
    expect(decideNetwork(agent, { url: 'https://localhost/', method: 'GET', bodyBytes: 0 }, [], 0)).toMatchObject({ allow: false, rule: 'network.private-address' });
  });

  it('paths: a directory below the agent\'s is kept, one beside it is not', () => {
    const agent = resolvePolicy('Trusted', { version: 1, files: { allowedPatterns: ['./workspace/*'] } });
    const layer = resolvePolicy('Trusted', { version: 1, files: { allowedPatterns: ['./workspace/notes/*', './workspace/a.txt', './secrets/*', '/tmp/*'] } });
    expect(intersectPolicies(agent, layer).files.allowedPatterns).toEqual(['./workspace/notes/*', './workspace/a.txt']);
    const both = intersectPolicies(agent, layer);
    expect(decideFile(both, { path: './workspace/notes/n.md', op: 'read' }).allow).toBe(true);
    expect(decideFile(both, { path: './workspace/b.txt', op: 'read' })).toMatchObject({ allow: false, rule: 'file.pattern' });
  });
});

describe('which layer denied', () => {
  it('names the agent when the agent policy already denies, the context when only the narrowed one does', () => {
    const agent = TEMPLATES.Limited;
    const effective = narrowedPolicy(agent, { level: 'Strict' });
    expect(decideLayered(agent, effective, (p) => decideToolAccess(p, 'fetch_url'))).toMatchObject({ allow: false, rule: 'tool.not-allowed', layer: 'agent' });
    expect(decideLayered(agent, effective, (p) => decideToolAccess(p, 'write_file'))).toMatchObject({ allow: false, rule: 'tool.not-allowed', layer: 'context' });
    expect(decideLayered(agent, effective, (p) => decideToolAccess(p, 'text_stats'))).toEqual({ allow: true });
  });

  it('checks the agent layer even when the effective policy would allow (a restricted tool, a quiet hour the context replaced)', () => {
    const agent = TEMPLATES.FullyTrusted;
    const layer = resolvePolicy('Trusted', { version: 1, tools: { allowed: ['conformance_probe'] } });
    const effective = intersectPolicies(agent, layer);
    // The agent's "*" never reaches a restricted tool; the intersection names it exactly.
    expect(decideToolAccess(effective, 'conformance_probe', true).allow).toBe(true);
    expect(decideLayered(agent, effective, (p) => decideToolAccess(p, 'conformance_probe', true))).toMatchObject({ allow: false, rule: 'tool.restricted', layer: 'agent' });
  });
});
