// Security levels of a conversation context, and the intersection of two policies. A context's
// level can only NARROW its agent's policy: the effective policy of a call is what both the
// agent's policy and the context's layer allow. Where an exact intersection of two lists cannot
// be written as one list, this keeps less (an allow list loses entries, a deny list gains
// them): an uncertain reading can narrow, never widen.
import { isPrivateRange, parseCidr, privateDestination, privateNameOf } from './addresses';
import { clone } from './clone';
import type { Decision, Denial } from './decision';
import { parsePolicyDocument, type PolicyDocument } from './document';
import { findPrivateExemption, matchesDomain, sameDomainPattern } from './domains';
import type { PolicyError } from './errors';
import { matchesPathPattern, samePathPattern } from './glob';
import { normalisePath } from './paths';
import { TEMPLATES } from './templates';
import { ANY, type EffectivePolicy } from './types';

/** The preset levels, narrowest first. `Custom` carries a policy document. */
export const SECURITY_PRESETS = ['Strict', 'Moderate', 'Permissive'] as const;
export type SecurityPreset = (typeof SECURITY_PRESETS)[number];
export type SecurityLevel = { readonly level: SecurityPreset } | { readonly level: 'Custom'; readonly policy: PolicyDocument };

export const PERMISSIVE: SecurityLevel = Object.freeze({ level: 'Permissive' as const });

/** Which layer of a call's policy denied it. */
export type PolicyLayer = 'agent' | 'context';

/**
 * Reads a security level as given over the wire: `"Strict"`, `{level: "Moderate"}` or
 * `{level: "Custom", policy: {version: 1, …}}` (the policy parsed with the document parser, so
 * its errors name the field: `policy.limits.memoryMb: …`).
 */
export function parseSecurityLevel(input: unknown): { ok: true; level: SecurityLevel } | { ok: false; errors: PolicyError[] } {
  const raw = typeof input === 'string' ? { level: input } : input;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, errors: [{ path: '(root)', reason: `must be one of ${[...SECURITY_PRESETS, 'Custom'].join(', ')}, or {level, policy}` }] };
  const { level, policy, ...rest } = raw as { level?: unknown; policy?: unknown };
  const extra = Object.keys(rest);
  if (extra.length) return { ok: false, errors: [{ path: extra[0]!, reason: 'is not a field of a security level' }] };
  if ((SECURITY_PRESETS as readonly unknown[]).includes(level)) {
    if (policy !== undefined) return { ok: false, errors: [{ path: 'policy', reason: `only a Custom level carries a policy document` }] };
    return { ok: true, level: { level: level as SecurityPreset } };
  }
  if (level !== 'Custom') return { ok: false, errors: [{ path: 'level', reason: `must be one of ${[...SECURITY_PRESETS, 'Custom'].join(', ')}` }] };
  const parsed = parsePolicyDocument(policy);
  if (!parsed.ok) return { ok: false, errors: parsed.errors.map((e) => ({ path: `policy.${e.path}`, reason: e.reason })) };
  return { ok: true, level: { level: 'Custom', policy: parsed.policy } };
}

/** A stable text naming a level (a cache key, and what a trail shows). */
export function securityLevelKey(level: SecurityLevel): string {
  return level.level === 'Custom' ? `Custom:${JSON.stringify(level.policy)}` : level.level;
}

/**
 * The context's layer: the policy the level stands for, for this agent. `Strict` is the
 * Untrusted template, `Moderate` the Limited template without its quiet hours, `Permissive`
 * the agent's own policy (no narrowing). A Custom document refines the agent's policy (fields it
 * leaves out narrow nothing), or, when it names a `trustLevel`, that level's template.
 */
export function contextLayer(agent: EffectivePolicy, level: SecurityLevel): EffectivePolicy {
  switch (level.level) {
    case 'Permissive':
      return agent;
    case 'Strict':
      return clone(TEMPLATES.Untrusted);
    case 'Moderate':
      return { ...clone(TEMPLATES.Limited), session: { ...clone(TEMPLATES.Limited.session), quietHours: null } };
    case 'Custom': {
      const base = level.policy.trustLevel ? TEMPLATES[level.policy.trustLevel] : agent;
      const merged: Record<string, unknown> = { trustLevel: base.trustLevel };
      for (const name of ['tools', 'limits', 'network', 'files', 'data', 'session'] as const) merged[name] = clone({ ...base[name], ...defined(level.policy[name]) });
      return merged as unknown as EffectivePolicy;
    }
  }
}

/** The effective policy of a call in a context of `level`: the agent's policy ∩ the context's layer. */
export function narrowedPolicy(agent: EffectivePolicy, level: SecurityLevel): EffectivePolicy {
  return level.level === 'Permissive' ? agent : intersectPolicies(agent, contextLayer(agent, level));
}

/**
 * What both `a` and `b` allow. `a` is the agent's policy (its trust level is kept: it is a
 * label, not a permission). Every number that bounds is the smaller, every switch that closes
 * is on if either is, every deny list the union, every allow list the entries both allow.
 * Quiet hours: when both layers have a window and they differ, the union of two windows is not
 * one window; `b`'s is kept, and the caller decides the call on `a` as well (`decideLayered`),
 * which is what the server does for every tool call.
 */
export function intersectPolicies(a: EffectivePolicy, b: EffectivePolicy): EffectivePolicy {
  const blockPrivateNetworks = a.network.blockPrivateNetworks || b.network.blockPrivateNetworks;
  return {
    trustLevel: a.trustLevel,
    tools: {
      allowed: intersectNames(a.tools.allowed, b.tools.allowed),
      blocked: unionNames(a.tools.blocked, b.tools.blocked),
      codeLanguages: intersectNames(a.tools.codeLanguages, b.tools.codeLanguages),
    },
    limits: {
      memoryMb: Math.min(a.limits.memoryMb, b.limits.memoryMb),
      cpuSeconds: Math.min(a.limits.cpuSeconds, b.limits.cpuSeconds),
      concurrentCalls: Math.min(a.limits.concurrentCalls, b.limits.concurrentCalls),
      queueWaitMs: Math.min(a.limits.queueWaitMs, b.limits.queueWaitMs),
    },
    network: {
      allowedDomains: intersectDomains(a.network, b.network),
      blockedDomains: unionNames(a.network.blockedDomains, b.network.blockedDomains),
      blockPrivateNetworks,
      allowedPorts: intersectPorts(a.network.allowedPorts, b.network.allowedPorts),
      httpsOnly: a.network.httpsOnly || b.network.httpsOnly,
      maxRequestKb: Math.min(a.network.maxRequestKb, b.network.maxRequestKb),
      requestsPerMinute: Math.min(a.network.requestsPerMinute, b.network.requestsPerMinute),
    },
    files: {
      allowedPatterns: intersectPaths(a.files.allowedPatterns, b.files.allowedPatterns),
      blockedPatterns: unionNames(a.files.blockedPatterns, b.files.blockedPatterns),
      maxSizeMb: Math.min(a.files.maxSizeMb, b.files.maxSizeMb),
    },
    data: {
      sensitivePatterns: unionNames(a.data.sensitivePatterns, b.data.sensitivePatterns),
      redactForAgent: a.data.redactForAgent || b.data.redactForAgent,
      encryptionRequired: a.data.encryptionRequired || b.data.encryptionRequired,
      auditAllAccess: a.data.auditAllAccess || b.data.auditAllAccess,
    },
    session: {
      timeoutMinutes: Math.min(a.session.timeoutMinutes, b.session.timeoutMinutes),
      maxCalls: Math.min(a.session.maxCalls, b.session.maxCalls),
      callsPerMinute: Math.min(a.session.callsPerMinute, b.session.callsPerMinute),
      quietHours: b.session.quietHours ? clone(b.session.quietHours) : a.session.quietHours ? clone(a.session.quietHours) : null,
    },
  };
}

/**
 * Decides on the agent's policy first, then on the effective one: a denial says which layer
 * denied (`agent` when the agent's own policy already does). With no narrowing context
 * (`effective` is `agent`) it decides once.
 */
export function decideLayered(agent: EffectivePolicy, effective: EffectivePolicy, decide: (policy: EffectivePolicy) => Decision): { allow: true } | (Denial & { layer: PolicyLayer }) {
  const first = decide(agent);
  if (!first.allow) return { ...first, layer: 'agent' };
  if (effective === agent) return first;
  const second = decide(effective);
  return second.allow ? second : { ...second, layer: 'context' };
}

function defined(fields: object | undefined): Record<string, unknown> {
  if (fields === undefined) return {};
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

/** Exact names (tools, languages): `"*"` on one side leaves the other's names. */
function intersectNames(a: readonly string[], b: readonly string[]): string[] {
  if (a.includes(ANY)) return [...b];
  if (b.includes(ANY)) return [...a];
  return a.filter((name) => b.includes(name));
}

function unionNames(a: readonly string[], b: readonly string[]): string[] {
  if (a.includes(ANY) || b.includes(ANY)) return [ANY];
  return [...new Set([...a, ...b])];
}

function intersectPorts(a: readonly (number | '*')[], b: readonly (number | '*')[]): (number | '*')[] {
  if (a.includes(ANY)) return [...b];
  if (b.includes(ANY)) return [...a];
  return a.filter((port) => b.includes(port));
}

/**
 * Domain patterns both sides allow: an entry of one side is kept when the other has `"*"`,
 * the same pattern, or (an exact host) a pattern matching it. Private space needs care: under
 * `blockPrivateNetworks` an allowed entry naming private space is what lets private hosts
 * through, so an entry that may name private space is kept only if the side that blocks
 * private networks has the same entry or exempts that host itself.
 */
function intersectDomains(a: { allowedDomains: readonly string[]; blockPrivateNetworks: boolean }, b: { allowedDomains: readonly string[]; blockPrivateNetworks: boolean }): string[] {
  const kept: string[] = [];
  const keep = (entry: string) => {
    if (!kept.some((k) => sameDomainPattern(k, entry))) kept.push(entry);
  };
  for (const [mine, other] of [
    [a, b],
    [b, a],
  ] as const) {
    for (const entry of mine.allowedDomains) {
      if (other.allowedDomains.some((o) => o !== ANY && sameDomainPattern(o, entry))) {
        keep(entry);
        continue;
      }
      const host = exactHost(entry);
      const covered = other.allowedDomains.includes(ANY) || (host !== null && other.allowedDomains.some((o) => matchesDomain(o, host)));
      if (!covered) continue;
      // Only `mine` names it: private space needs the other side's own exemption.
      if (other.blockPrivateNetworks && mayNamePrivate(entry) && (host === null || findPrivateExemption(other.allowedDomains, host) === undefined)) continue;
      keep(entry);
    }
  }
  return kept;
}

/** A domain entry that names one host (no wildcard, no range), as `parseUrl` would give it. */
function exactHost(entry: string): string | null {
  if (entry === ANY || entry.includes('*') || entry.includes('/')) return null;
  return entry.toLowerCase().replace(/\.$/, '');
}

/** Whether an allowed entry could let a private host through `blockPrivateNetworks`. */
function mayNamePrivate(entry: string): boolean {
  if (entry === ANY) return false;
  if (entry.startsWith('*.')) return privateNameOf(`x.${entry.slice(2).toLowerCase()}`) !== null;
  if (entry.includes('/')) {
    const parsed = parseCidr(entry);
    return !parsed.ok || isPrivateRange(parsed.range);
  }
  const host = entry.toLowerCase().replace(/\.$/, '');
  const bare = host.replace(/^\[|\]$/g, '');
  return privateDestination(host) !== null || privateDestination(bare) !== null || privateDestination(`[${bare}]`) !== null;
}

/**
 * File patterns both sides allow: an entry of one side is kept when the other has `"*"`, the
 * same pattern, a pattern matching it (an exact path), or a recursive directory pattern
 * (`./a/*`) above it (`./a/b/*`, `./a/b.txt`).
 */
function intersectPaths(a: readonly string[], b: readonly string[]): string[] {
  const kept: string[] = [];
  const keep = (entry: string) => {
    if (!kept.some((k) => samePathPattern(k, entry))) kept.push(entry);
  };
  for (const [mine, other] of [
    [a, b],
    [b, a],
  ] as const) {
    for (const entry of mine) {
      if (other.includes(ANY) || other.some((o) => samePathPattern(o, entry) || pathCovers(o, entry))) keep(entry);
    }
  }
  return kept;
}

function pathCovers(outer: string, inner: string): boolean {
  if (inner === ANY) return false;
  const innerDir = recursiveBase(inner);
  if (innerDir === null) {
    if (inner.includes('*')) return false;
    const path = normalisePath(inner);
    return path.ok && matchesPathPattern(outer, path.path, false);
  }
  const outerDir = recursiveBase(outer);
  if (outerDir === null || outerDir.root !== innerDir.root || innerDir.segments.length < outerDir.segments.length) return false;
  return outerDir.segments.every((s, i) => innerDir.segments[i] === s);
}

/** `./a/b/*` (or `/**`) with no other wildcard: the directory it covers everything below. */
function recursiveBase(pattern: string): { root: string; segments: readonly string[] } | null {
  const match = /^(.*)\/\*\*?$/.exec(pattern);
  if (!match || match[1]!.includes('*')) return null;
  const base = normalisePath(match[1] === '' ? '/' : match[1]!);
  return base.ok ? { root: base.path.root, segments: base.path.segments } : null;
}
