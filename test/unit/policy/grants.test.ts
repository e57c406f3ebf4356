import { describe, expect, test } from 'vitest';
import {
  applyGrant,
  applyRevoke,
  decideFile,
  decideNetwork,
  decideToolCall,
  parseGrant,
  resolvePolicy,
  type Decision,
  type EffectivePolicy,
} from '../../../src/policy';
import { PURE_TOOLS } from '../../../src/policy/templates';
import { idleState, NOON } from './fake-clock';

const ruleOf = (d: Decision) => (d.allow ? 'allow' : d.rule);
const tool = (p: EffectivePolicy, name: string) => ruleOf(decideToolCall(p, { tool: name }, idleState(NOON), NOON));
const host = (p: EffectivePolicy, h: string) => ruleOf(decideNetwork(p, { url: `https://${h}/`, method: 'GET', bodyBytes: 0 }, [], NOON));
const path = (p: EffectivePolicy, file: string, op: 'read' | 'list' | 'write' = 'read') =>
  ruleOf(decideFile(p, op === 'write' ? { path: file, op, sizeBytes: 1 } : { path: file, op }));

describe('tool grants and revokes', () => {
  const base = resolvePolicy('Untrusted');

  test('a tool grant opens exactly that tool', () => {
    const p = applyGrant(base, { kind: 'tool', name: 'write_file' });
    expect(tool(p, 'write_file')).toBe('allow');
    expect(tool(p, 'execute_code')).toBe('tool.not-allowed');
    expect(p.tools.allowed).toEqual([...PURE_TOOLS, 'read_file', 'list_directory', 'write_file']);
  });

  test('a grant removes an identical blocked entry, and only that one', () => {
    const blocked = resolvePolicy('FullyTrusted', { version: 1, tools: { blocked: ['system_command', 'fetch_url'] } });
    const p = applyGrant(blocked, { kind: 'tool', name: 'system_command' });
    expect(tool(p, 'system_command')).toBe('allow');
    expect(tool(p, 'fetch_url')).toBe('tool.blocked');
  });

  test('a tool revoke closes exactly that tool, even under an allowed "*"', () => {
    const p = applyRevoke(resolvePolicy('FullyTrusted'), { kind: 'tool', name: 'system_command' });
    expect(tool(p, 'system_command')).toBe('tool.blocked');
    expect(tool(p, 'read_file')).toBe('allow');
    expect(p.tools).toEqual({ allowed: ['*'], blocked: ['system_command'], codeLanguages: ['*'] });
  });

  test('revoking removes the name from the allow list too, and a later grant restores it', () => {
    const revoked = applyRevoke(base, { kind: 'tool', name: 'read_file' });
    expect(revoked.tools).toEqual({ allowed: [...PURE_TOOLS, 'list_directory'], blocked: ['read_file'], codeLanguages: [] });
    const granted = applyGrant(revoked, { kind: 'tool', name: 'read_file' });
    expect(granted.tools).toEqual({ allowed: [...PURE_TOOLS, 'list_directory', 'read_file'], blocked: [], codeLanguages: [] });
  });

  test('grants and revokes are idempotent and pure', () => {
    const once = applyGrant(base, { kind: 'tool', name: 'x' });
    expect(applyGrant(once, { kind: 'tool', name: 'x' })).toEqual(once);
    const r = applyRevoke(base, { kind: 'tool', name: 'x' });
    expect(applyRevoke(r, { kind: 'tool', name: 'x' })).toEqual(r);
    expect(base).toEqual(resolvePolicy('Untrusted'));
  });
});

describe('domain grants and revokes', () => {
  const base = resolvePolicy('Limited');

  test('a domain grant opens that host only: not a sibling, not the parent, not a sub-domain', () => {
    const p = applyGrant(base, { kind: 'domain', pattern: 'a.example.com' });
    expect(host(p, 'a.example.com')).toBe('allow');
    expect(host(p, 'b.example.com')).toBe('network.domain-not-allowed');
    expect(host(p, 'example.com')).toBe('network.domain-not-allowed');
    expect(host(p, 'x.a.example.com')).toBe('network.domain-not-allowed');
  });

  test('a wildcard grant opens sub-domains but not the parent', () => {
    const p = applyGrant(base, { kind: 'domain', pattern: '*.example.com' });
    expect(host(p, 'a.example.com')).toBe('allow');
    expect(host(p, 'example.com')).toBe('network.domain-not-allowed');
  });

  test('a grant removes the identical blocked entry, matching case-insensitively', () => {
    const p = applyGrant(resolvePolicy('Trusted'), { kind: 'domain', pattern: 'Malware.Example.com.' });
    expect(p.network.blockedDomains).toEqual([]);
    expect(host(p, 'malware.example.com')).toBe('allow');
  });

  test('a grant does not punch a hole in a broader block: deny still wins', () => {
    const blocked = resolvePolicy('Trusted', { version: 1, network: { blockedDomains: ['*.example.com'] } });
    const p = applyGrant(blocked, { kind: 'domain', pattern: 'api.example.com' });
    expect(p.network.blockedDomains).toEqual(['*.example.com']);
    expect(host(p, 'api.example.com')).toBe('network.domain-blocked');
  });

  test('a domain revoke closes that host under an allowed "*", and leaves its siblings', () => {
    const p = applyRevoke(resolvePolicy('Trusted'), { kind: 'domain', pattern: 'a.example.com' });
    expect(host(p, 'a.example.com')).toBe('network.domain-blocked');
    expect(host(p, 'b.example.com')).toBe('allow');
    expect(host(p, 'example.com')).toBe('allow');
  });

  test('a domain revoke removes the identical allowed entry', () => {
    const p = applyRevoke(base, { kind: 'domain', pattern: 'HTTPBIN.org' });
    expect(p.network.allowedDomains).toEqual(['api.openai.com']);
    expect(p.network.blockedDomains).toEqual(['HTTPBIN.org']);
    expect(host(p, 'api.openai.com')).toBe('allow');
  });
});

describe('path grants and revokes', () => {
  const base = resolvePolicy('Limited'); // ./workspace/*, ./temp/*

  test('a path grant opens what is below that directory, not its parent nor siblings', () => {
    const p = applyGrant(resolvePolicy('Untrusted'), { kind: 'path', pattern: './data/reports/*' });
    expect(path(p, './data/reports/q1.csv')).toBe('allow');
    expect(path(p, './data/reports', 'list')).toBe('allow');
    expect(path(p, './data', 'list')).toBe('file.pattern');
    expect(path(p, './data/other.csv')).toBe('file.pattern');
    expect(path(p, './data/reports-old/q1.csv')).toBe('file.pattern');
  });

  test('a grant of one file opens only that file', () => {
    const p = applyGrant(resolvePolicy('Untrusted'), { kind: 'path', pattern: './data/one.csv' });
    expect(path(p, './data/one.csv')).toBe('allow');
    expect(path(p, './data/two.csv')).toBe('file.pattern');
    expect(path(p, './data', 'list')).toBe('file.pattern');
  });

  test('a path revoke closes that sub-tree and leaves the rest of the granted directory', () => {
    const p = applyRevoke(base, { kind: 'path', pattern: './workspace/keys/*' });
    expect(path(p, './workspace/keys/id_rsa')).toBe('file.blocked');
    expect(path(p, './workspace/keys', 'list')).toBe('file.blocked');
    expect(path(p, './workspace/notes.md')).toBe('allow');
  });

  test('identity ignores spelling: workspace/* and ./workspace/** name the same entry', () => {
    const revoked = applyRevoke(base, { kind: 'path', pattern: 'workspace/**' });
    expect(revoked.files.allowedPatterns).toEqual(['./temp/*']);
    expect(path(revoked, './workspace/a')).toBe('file.blocked');
    const regranted = applyGrant(revoked, { kind: 'path', pattern: './workspace/*' });
    expect(regranted.files.blockedPatterns).toEqual([]);
    expect(path(regranted, './workspace/a')).toBe('allow');
  });
});

describe('parseGrant', () => {
  test('accepts the three kinds', () => {
    expect(parseGrant({ kind: 'tool', name: 'read_file' })).toEqual({ ok: true, grant: { kind: 'tool', name: 'read_file' } });
    expect(parseGrant({ kind: 'domain', pattern: '*.example.com' }).ok).toBe(true);
    expect(parseGrant({ kind: 'path', pattern: './a/*' }).ok).toBe(true);
  });

  test('rejects malformed grants with the field path', () => {
    expect(parseGrant({ kind: 'domain', pattern: 'https://x.com' })).toEqual({
      ok: false,
      errors: [{ path: 'pattern', reason: 'must be a host name without a scheme (write example.com, not https://example.com)' }],
    });
    expect(parseGrant({ kind: 'path', pattern: '../x' })).toEqual({ ok: false, errors: [{ path: 'pattern', reason: "must not hold '..' segments" }] });
    expect(parseGrant({ kind: 'everything' }).ok).toBe(false);
    expect(parseGrant({ kind: 'tool', name: 'x', extra: 1 })).toMatchObject({ ok: false, errors: [{ path: 'extra' }] });
  });
});
