// Run-time grants and revokes (an admin's action; this module only models them). Each
// names exactly one tool, host pattern or path pattern and changes exactly that entry:
//   grant:  add it to the allow list, remove an identical entry from the deny list
//   revoke: remove it from the allow list, add it to the deny list
// "Identical" means the same entry after normalisation (case for hosts, `./` for paths),
// never "covered by": a grant of `a.example.com` leaves a blocked `*.example.com` in
// place, and since deny wins, does not open it. Widening a deny rule is a policy edit.
import { clone } from './clone';
import { sameDomainPattern } from './domains';
import { issuesToErrors, type PolicyError } from './errors';
import { samePathPattern } from './glob';
import { grantSchema } from './schema';
import type { EffectivePolicy, Grant, Revoke } from './types';

type Same = (a: string, b: string) => boolean;

interface ListPair {
  readonly allowed: readonly string[];
  readonly blocked: readonly string[];
}

function open(pair: ListPair, entry: string, same: Same): ListPair {
  return {
    allowed: pair.allowed.some((e) => same(e, entry)) ? [...pair.allowed] : [...pair.allowed, entry],
    blocked: pair.blocked.filter((e) => !same(e, entry)),
  };
}

function close(pair: ListPair, entry: string, same: Same): ListPair {
  return {
    allowed: pair.allowed.filter((e) => !same(e, entry)),
    blocked: pair.blocked.some((e) => same(e, entry)) ? [...pair.blocked] : [...pair.blocked, entry],
  };
}

const exact: Same = (a, b) => a === b;

function change(policy: EffectivePolicy, target: Grant, edit: typeof open): EffectivePolicy {
  const next = clone(policy);
  switch (target.kind) {
    case 'tool': {
      const { allowed, blocked } = edit(policy.tools, target.name, exact);
      return { ...next, tools: { ...next.tools, allowed, blocked } };
    }
    case 'domain': {
      const pair = { allowed: policy.network.allowedDomains, blocked: policy.network.blockedDomains };
      const { allowed, blocked } = edit(pair, target.pattern, sameDomainPattern);
      return { ...next, network: { ...next.network, allowedDomains: allowed, blockedDomains: blocked } };
    }
    case 'path': {
      const pair = { allowed: policy.files.allowedPatterns, blocked: policy.files.blockedPatterns };
      const { allowed, blocked } = edit(pair, target.pattern, samePathPattern);
      return { ...next, files: { ...next.files, allowedPatterns: allowed, blockedPatterns: blocked } };
    }
  }
}

export function applyGrant(policy: EffectivePolicy, grant: Grant): EffectivePolicy {
  return change(policy, grant, open);
}

export function applyRevoke(policy: EffectivePolicy, revoke: Revoke): EffectivePolicy {
  return change(policy, revoke, close);
}

/** Validates a grant or revoke from outside (the admin UI, an import). */
export function parseGrant(json: unknown): { ok: true; grant: Grant } | { ok: false; errors: PolicyError[] } {
  const result = grantSchema.safeParse(json);
  return result.success ? { ok: true, grant: result.data } : { ok: false, errors: issuesToErrors(result.error.issues) };
}
