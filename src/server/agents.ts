import { applyGrant, applyRevoke, parseGrant, parsePolicyDocument, resolvePolicy, TRUST_LEVELS, type EffectivePolicy, type Grant, type TrustLevel } from '../policy';
import type { AgentInput, AgentView } from '../api/admin';
import type { DbHandle } from '../store/db';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { canonicalize, sha256Hex } from '../store/hash';
import type { AgentRecord } from '../store/schema';

/** The identity of connections without credentials, when settings let them in at all. */
export const ANONYMOUS: AgentRecord = {
  id: 'anonymous',
  name: 'Unauthenticated',
  trustLevel: 'Untrusted',
  origins: ['*'],
  tokenHash: '',
  policy: null,
  changes: [],
  createdAt: 0,
  updatedAt: 0,
  revokedAt: null,
};

const ID = /^[A-Za-z0-9_-]{1,64}$/;

/** A failure of an admin request, naming the field and the reason. */
export class InvalidInput extends Error {
  readonly code = 'invalid-input';
  constructor(readonly errors: { path: string; reason: string }[]) {
    super(errors.map((e) => `${e.path}: ${e.reason}`).join('; '));
  }
}

const policies = new Map<string, EffectivePolicy>();

/** Template + document + run-time changes, cached per agent version for this lifetime. */
export function policyOf(agent: AgentRecord): EffectivePolicy {
  const key = `${agent.id}@${agent.updatedAt}`;
  let policy = policies.get(key);
  if (!policy) {
    policy = resolvePolicy(agent.trustLevel, agent.policy ?? undefined);
    for (const { op, change } of agent.changes) policy = op === 'grant' ? applyGrant(policy, change) : applyRevoke(policy, change);
    policies.set(key, policy);
  }
  return policy;
}

const versions = new Map<string, string>();

/**
 * The version of the policy in force for an agent: the first 12 hex digits of the SHA-256 of
 * the effective policy's canonical form. It changes exactly when what decides changes (a new
 * trust level, document, grant or revoke; not a rename), so a refusal that names it can be
 * matched with the admin change that made it (`agents.*` entries record the version they leave).
 */
export function policyVersionOf(agent: AgentRecord): string {
  const key = `${agent.id}@${agent.updatedAt}`;
  let version = versions.get(key);
  if (!version) {
    const text = canonicalize(policyOf(agent));
    version = bytesToHex(sha256(utf8ToBytes(text.ok ? text.text : JSON.stringify(policyOf(agent))))).slice(0, 12);
    versions.set(key, version);
  }
  return version;
}

export function viewOf(agent: AgentRecord): AgentView {
  const { tokenHash: _hidden, ...rest } = agent;
  return { ...rest, effective: policyOf(agent), policyVersion: policyVersionOf(agent) };
}

/** A fresh secret: 32 random bytes, base64url. */
function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Compares two hex digests in time independent of where they differ. */
function sameDigest(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export type AuthFailure = 'unknown-agent' | 'revoked' | 'wrong-token' | 'origin-not-allowed';

/** Checks a connection's credentials and browser-attested origin against the agent record. */
export async function authenticate(agent: AgentRecord | undefined, token: string, origin: string): Promise<AuthFailure | null> {
  if (!agent) return 'unknown-agent';
  if (agent.revokedAt !== null) return 'revoked';
  if (!sameDigest(await sha256Hex(token), agent.tokenHash)) return 'wrong-token';
  if (!agent.origins.includes(origin)) return 'origin-not-allowed';
  return null;
}

function isOrigin(value: unknown): boolean {
  try {
    return typeof value === 'string' && value !== 'null' && new URL(value).origin === value;
  } catch {
    return false;
  }
}

function validate(input: Partial<AgentInput>, partial: boolean): { path: string; reason: string }[] {
  const errors: { path: string; reason: string }[] = [];
  if (!partial || input.name !== undefined) {
    if (typeof input.name !== 'string' || !input.name.trim() || input.name.length > 100) errors.push({ path: 'name', reason: 'must be 1–100 characters' });
  }
  if (!partial || input.trustLevel !== undefined) {
    if (!TRUST_LEVELS.includes(input.trustLevel as TrustLevel)) errors.push({ path: 'trustLevel', reason: `must be one of ${TRUST_LEVELS.join(', ')}` });
  }
  if (!partial || input.origins !== undefined) {
    if (!Array.isArray(input.origins)) errors.push({ path: 'origins', reason: 'must be a list of origins' });
    else
      input.origins.forEach((o, i) => {
        if (!isOrigin(o)) errors.push({ path: `origins[${i}]`, reason: 'must be an origin like https://example.com (scheme, host and port only)' });
      });
  }
  if (input.id !== undefined && (typeof input.id !== 'string' || !ID.test(input.id) || input.id === ANONYMOUS.id)) errors.push({ path: 'id', reason: 'must be 1–64 letters, digits, - or _ (and not "anonymous")' });
  if (input.policy !== undefined && input.policy !== null) {
    const parsed = parsePolicyDocument(input.policy);
    if (!parsed.ok) errors.push(...parsed.errors.map((e) => ({ path: `policy.${e.path}`, reason: e.reason })));
  }
  return errors;
}

/**
 * Agents in IndexedDB. Only the admin API changes them (no agent connection can), and the admin
 * API runs in this service worker, so the records read in this lifetime are kept in memory and
 * replaced on every change made here: the hot path does not read IndexedDB for them.
 */
export class AgentDirectory {
  private readonly cache = new Map<string, AgentRecord | undefined>();

  constructor(
    private readonly handle: DbHandle,
    private readonly clock: () => number,
  ) {}

  async get(id: string): Promise<AgentRecord | undefined> {
    if (id === ANONYMOUS.id) return undefined;
    if (this.cache.has(id)) return this.cache.get(id);
    const agent = await (await this.handle.get()).get('agents', id);
    this.cache.set(id, agent);
    return agent;
  }

  async list(): Promise<AgentRecord[]> {
    return (await this.handle.get()).getAll('agents');
  }

  async register(input: AgentInput): Promise<{ agent: AgentRecord; token: string }> {
    const errors = validate(input, false);
    if (errors.length) throw new InvalidInput(errors);
    const id = input.id ?? crypto.randomUUID();
    const token = newToken();
    const now = this.clock();
    const agent: AgentRecord = {
      id,
      name: input.name.trim(),
      trustLevel: input.trustLevel,
      origins: [...new Set(input.origins)],
      tokenHash: await sha256Hex(token),
      policy: input.policy ? (parsePolicyDocument(input.policy) as { ok: true; policy: AgentRecord['policy'] }).policy : null,
      changes: [],
      createdAt: now,
      updatedAt: now,
      revokedAt: null,
    };
    const db = await this.handle.get();
    const tx = db.transaction('agents', 'readwrite', { durability: 'strict' });
    if (await tx.store.get(id)) {
      tx.abort();
      await tx.done.catch(() => undefined);
      throw new InvalidInput([{ path: 'id', reason: `an agent with id ${id} exists` }]);
    }
    await Promise.all([tx.store.add(agent), tx.done]);
    this.cache.set(id, agent);
    return { agent, token };
  }

  async update(id: string, input: Partial<AgentInput>): Promise<AgentRecord> {
    const errors = validate(input, true);
    if (input.id !== undefined && input.id !== id) errors.push({ path: 'id', reason: 'cannot be changed' });
    if (errors.length) throw new InvalidInput(errors);
    return this.modify(id, (agent) => {
      if (input.name !== undefined) agent.name = input.name.trim();
      if (input.trustLevel !== undefined) agent.trustLevel = input.trustLevel;
      if (input.origins !== undefined) agent.origins = [...new Set(input.origins)];
      if (input.policy !== undefined) agent.policy = input.policy === null ? null : (parsePolicyDocument(input.policy) as { ok: true; policy: AgentRecord['policy'] }).policy;
    });
  }

  revoke(id: string): Promise<AgentRecord> {
    return this.modify(id, (agent) => {
      agent.revokedAt ??= this.clock();
    });
  }

  async rotateToken(id: string): Promise<{ agent: AgentRecord; token: string }> {
    const token = newToken();
    const tokenHash = await sha256Hex(token);
    const agent = await this.modify(id, (a) => {
      a.tokenHash = tokenHash;
    });
    return { agent, token };
  }

  change(id: string, op: 'grant' | 'revoke', change: unknown): Promise<AgentRecord> {
    const parsed = parseGrant(change);
    if (!parsed.ok) throw new InvalidInput(parsed.errors.map((e) => ({ path: `${op}.${e.path}`, reason: e.reason })));
    return this.modify(id, (agent) => {
      agent.changes = [...agent.changes, { op, change: parsed.grant as Grant, at: this.clock() }];
    });
  }

  /**
   * Removes one change (the newest matching its op, what it named and when): the effective
   * policy is rebuilt from the changes that remain, so this is an exact undo, not a counter-change.
   */
  undoChange(id: string, op: 'grant' | 'revoke', change: unknown, at: number): Promise<AgentRecord> {
    const parsed = parseGrant(change);
    if (!parsed.ok) throw new InvalidInput(parsed.errors.map((e) => ({ path: `change.${e.path}`, reason: e.reason })));
    const same = (c: AgentRecord['changes'][number]) => c.op === op && c.at === at && JSON.stringify(c.change) === JSON.stringify(parsed.grant);
    return this.modify(id, (agent) => {
      const i = agent.changes.findLastIndex(same);
      if (i === -1) throw Object.assign(new Error(`agent ${id} has no such ${op} to undo`), { code: 'unknown-change' });
      agent.changes = [...agent.changes.slice(0, i), ...agent.changes.slice(i + 1)];
    });
  }

  private async modify(id: string, edit: (agent: AgentRecord) => void): Promise<AgentRecord> {
    const db = await this.handle.get();
    const tx = db.transaction('agents', 'readwrite', { durability: 'strict' });
    const agent = await tx.store.get(id);
    if (!agent) {
      tx.abort();
      await tx.done.catch(() => undefined);
      throw Object.assign(new Error(`no agent ${id}`), { code: 'unknown-agent' });
    }
    try {
      edit(agent);
    } catch (error) {
      tx.abort();
      await tx.done.catch(() => undefined);
      throw error;
    }
    agent.updatedAt = Math.max(this.clock(), agent.updatedAt + 1);
    await Promise.all([tx.store.put(agent), tx.done]);
    this.cache.set(id, agent);
    return agent;
  }
}
