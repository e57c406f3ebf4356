import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import {
  decideCapacity,
  decideConversationId,
  decideLevelChange,
  decideName,
  decideVisible,
  decideWrite,
  homeOf,
  MAX_CONVERSATIONS,
  narrowedPolicy,
  PERMISSIVE,
  PRECEDENCE,
  readContextUpdates,
  redactForAgent,
  redactValue,
  checkValue,
  type ContextActor,
  type ContextDenial,
  type ContextViewer,
  type EffectivePolicy,
  type SecurityLevel,
  type SharingRule,
} from '../policy';
import type { DbHandle } from '../store/db';
import type { AgentRecord, ContextRecord, ContextVariableRecord, SessionRecord } from '../store/schema';
import { sealIf } from './at-rest';
import type { ServerContext } from './context';
import { foldToolUses, type ToolUse } from './preferences';

// Conversation contexts (docs/context.md): variables with sharing rules, and a security level
// that narrows the agent's policy for calls in the conversation. Records live in IndexedDB
// (`contexts`) and are kept in memory once read for this service-worker lifetime: only this
// service worker writes them, so a warm call reads nothing.

/** `_meta` key naming a call's conversation; without it the session is the conversation. */
export const CONVERSATION_META_KEY = 'mcp-sandbox/conversation';
/** `_meta` key of a result reporting the `context_updates` applied (and refused). */
export const CONTEXT_META_KEY = 'mcp-sandbox/context';
export const CONTEXT_URI_PREFIX = 'context://conversation/';
export const CONTEXT_URI_TEMPLATE = 'context://conversation/{id}';

const conversationKey = (agentId: string, id: string) => `conversation|${agentId}|${id}`;
const sessionKey = (sessionId: string) => `session|${sessionId}`;
const agentKey = (agentId: string) => `agent|${agentId}`;
const GLOBAL_KEY = 'global';

/** The record a write with `sharing` by `viewer` goes to. */
function scopeKey(sharing: SharingRule, viewer: ContextViewer): string {
  switch (sharing) {
    case 'Private':
      return conversationKey(viewer.agentId, viewer.conversationId);
    case 'SessionOnly':
      return sessionKey(viewer.sessionId);
    case 'UserScoped':
      return agentKey(viewer.agentId);
    case 'Global':
      return GLOBAL_KEY;
  }
}

function emptyScope(key: string, sharing: SharingRule, viewer: ContextViewer, now: number): ContextRecord {
  const home = homeOf(sharing, viewer);
  const kind = ({ Private: 'conversation', SessionOnly: 'session', UserScoped: 'agent', Global: 'global' } as const)[sharing];
  return { key, kind, agentId: home.agentId, sessionId: kind === 'conversation' ? viewer.sessionId : home.sessionId, conversationId: home.conversationId, startedAt: now, updatedAt: now, variables: {} };
}

/** A variable as an agent sees it. */
export interface VisibleVariable {
  value: unknown;
  sharing: SharingRule;
  updatedAt: string;
  updatedBy: ContextActor;
}

/** One applied change: what was there before and what is there after (null: nothing). */
export interface ContextChange {
  name: string;
  sharing: SharingRule;
  before: ContextVariableRecord | null;
  after: ContextVariableRecord | null;
}

/** A refused context change, as an error a client can act on (`data.code` is the rule). */
export class ContextError extends McpError {
  constructor(readonly denial: ContextDenial) {
    super(ErrorCode.InvalidParams, denial.reason, { code: 'policy-denied', rule: denial.rule, layer: 'context', ...(denial.limit !== undefined ? { limit: denial.limit } : {}), ...(denial.observed !== undefined ? { observed: denial.observed } : {}) });
  }
}

export class ContextStore {
  private readonly known = new Map<string, ContextRecord | null>();
  /** Session conversations kept in memory only (nothing written to them yet): no preferences to fold. */
  private readonly unsaved = new WeakSet<ContextRecord>();
  /** Effective policies per conversation record (replaced records drop theirs) and agent version. */
  private readonly policies = new WeakMap<ContextRecord, Map<string, EffectivePolicy>>();
  /** Live sessions to tell when a context they may read changed: session id → its agent and how. */
  private readonly watchers = new Map<string, { agentId: string; changed: () => void }>();
  /** Finished calls not yet folded into their conversation's tool preferences, per record key. */
  private readonly uses = new Map<string, ToolUse[]>();
  private folding: Promise<void> | null = null;

  constructor(
    private readonly handle: DbHandle,
    private readonly clock: () => number,
  ) {}

  private async read(key: string): Promise<ContextRecord | null> {
    if (this.known.has(key)) return this.known.get(key)!;
    const stored = (await (await this.handle.get()).get('contexts', key)) ?? null;
    // A write of this lifetime that finished meanwhile is newer than what was read.
    if (!this.known.has(key)) this.known.set(key, stored);
    return this.known.get(key)!;
  }

  /**
   * The conversation a call belongs to: `named` (its `_meta['mcp-sandbox/conversation']`) or the
   * session. A named conversation is stored on first use (so it is listed, and its start survives
   * a stop); the session's is stored on its first write. Warm: no IndexedDB.
   */
  async conversation(agentId: string, session: SessionRecord, named?: unknown): Promise<ContextRecord> {
    if (named !== undefined) {
      const valid = decideConversationId(named);
      if (!valid.allow) throw new ContextError(valid);
    }
    const id = named === undefined ? session.id : (named as string);
    const key = conversationKey(agentId, id);
    const cached = this.known.get(key);
    if (cached) return cached;
    const stored = await this.read(key);
    if (stored) return stored;
    const now = this.clock();
    const fresh: ContextRecord = { key, kind: 'conversation', agentId, sessionId: session.id, conversationId: id, startedAt: named === undefined ? session.createdAt : now, updatedAt: now, variables: {} };
    if (named !== undefined) return this.create(fresh);
    // The session's conversation, not stored until something is written to it: kept as is.
    if (!this.known.get(key)) {
      this.known.set(key, fresh);
      this.unsaved.add(fresh);
    }
    return this.known.get(key)!;
  }

  private async create(fresh: ContextRecord): Promise<ContextRecord> {
    const db = await this.handle.get();
    const tx = db.transaction('contexts', 'readwrite', { durability: 'strict' });
    const existing = await tx.store.get(fresh.key);
    if (existing) {
      await tx.done;
      this.known.set(fresh.key, existing);
      return existing;
    }
    const count = await tx.store.index('by-agent').count(fresh.agentId!);
    if (count >= MAX_CONVERSATIONS) {
      tx.abort();
      await tx.done.catch(() => undefined);
      throw new ContextError({ allow: false, rule: 'context.too-many-variables', reason: `an agent may have at most ${MAX_CONVERSATIONS} context records (conversations and scopes)`, limit: MAX_CONVERSATIONS, observed: count });
    }
    await Promise.all([tx.store.put(fresh), tx.done]);
    this.known.set(fresh.key, fresh);
    return fresh;
  }

  /** The effective policy of a call in `conversation`: the agent's, narrowed by the level. */
  policyFor(agent: AgentRecord, agentPolicy: EffectivePolicy, conversation: ContextRecord): EffectivePolicy {
    const level = conversation.securityLevel;
    if (!level || level.level === 'Permissive') return agentPolicy;
    let byAgent = this.policies.get(conversation);
    if (!byAgent) this.policies.set(conversation, (byAgent = new Map()));
    const version = `${agent.id}@${agent.updatedAt}`;
    let policy = byAgent.get(version);
    if (!policy) byAgent.set(version, (policy = narrowedPolicy(agentPolicy, level)));
    return policy;
  }

  /** Every variable `viewer` can see, the most specific of each name (Private over SessionOnly …). */
  async visible(viewer: ContextViewer): Promise<Record<string, VisibleVariable>> {
    const out: Record<string, VisibleVariable> = {};
    for (const sharing of PRECEDENCE) {
      const record = await this.read(scopeKey(sharing, viewer));
      if (!record) continue;
      for (const [name, v] of Object.entries(record.variables)) {
        if (Object.hasOwn(out, name)) continue;
        // The record was chosen by the viewer's own keys; the rule is checked again all the same.
        if (!decideVisible({ ...homeOf(v.sharing, viewer), ...homeFields(record) }, viewer).allow) continue;
        out[name] = { value: v.value, sharing: v.sharing, updatedAt: new Date(v.updatedAt).toISOString(), updatedBy: v.updatedBy };
      }
    }
    return out;
  }

  /** Sets (`value` given) or clears one variable; returns before and after. The caller audits. */
  async write(viewer: ContextViewer, actor: ContextActor, name: string, sharing: unknown, value: { set: unknown } | null, startedAt?: number): Promise<ContextChange> {
    const named = decideName(name);
    if (!named.allow) throw new ContextError(named);
    const writable = decideWrite(actor, sharing);
    if (!writable.allow) throw new ContextError(writable);
    const rule = sharing as SharingRule;
    let stored: unknown;
    if (value) {
      const checked = checkValue(value.set);
      if (!checked.allow) throw new ContextError(checked);
      stored = checked.value;
    }
    const key = scopeKey(rule, viewer);
    const now = this.clock();
    const db = await this.handle.get();
    const tx = db.transaction('contexts', 'readwrite', { durability: 'strict' });
    const current = (await tx.store.get(key)) ?? { ...emptyScope(key, rule, viewer, now), ...(rule === 'Private' && startedAt !== undefined ? { startedAt } : {}), ...(this.known.get(key)?.securityLevel ? { securityLevel: this.known.get(key)!.securityLevel } : {}) };
    const before = current.variables[name] ?? null;
    if (value) {
      const capacity = decideCapacity(Object.keys(current.variables), name);
      if (!capacity.allow) {
        tx.abort();
        await tx.done.catch(() => undefined);
        throw new ContextError(capacity);
      }
    }
    const after: ContextVariableRecord | null = value ? { value: stored, sharing: rule, updatedAt: now, updatedBy: actor } : null;
    const variables = { ...current.variables };
    if (after) variables[name] = after;
    else delete variables[name];
    const next: ContextRecord = { ...current, variables, updatedAt: now };
    if (before === null && after === null) await tx.done;
    else await Promise.all([tx.store.put(next), tx.done]);
    this.known.set(key, next);
    this.notify(rule === 'Global' ? null : viewer.agentId);
    return { name, sharing: rule, before, after };
  }

  /** Sets a conversation's security level (an agent only narrows it). Returns the level before. */
  async setLevel(conversation: ContextRecord, actor: ContextActor, level: SecurityLevel): Promise<{ before: SecurityLevel; after: SecurityLevel; record: ContextRecord }> {
    const db = await this.handle.get();
    const tx = db.transaction('contexts', 'readwrite', { durability: 'strict' });
    const current = (await tx.store.get(conversation.key)) ?? conversation;
    const before = current.securityLevel ?? PERMISSIVE;
    const allowed = decideLevelChange(actor, before.level, level.level);
    if (!allowed.allow) {
      tx.abort();
      await tx.done.catch(() => undefined);
      throw new ContextError(allowed);
    }
    const next: ContextRecord = { ...current, securityLevel: level, updatedAt: this.clock() };
    await Promise.all([tx.store.put(next), tx.done]);
    this.known.set(next.key, next);
    this.notify(next.agentId);
    return { before, after: level, record: next };
  }

  /**
   * Folds a finished call into its conversation's tool preferences (preferences.ts), behind the
   * reply: queued in memory now, written on a later task in a transaction of its own, several
   * calls at once under load. Only a stored conversation keeps them (a named one always is; a
   * session's once something was written to it), so they never take a record of their own.
   */
  recordUse(conversation: ContextRecord, use: ToolUse): void {
    // Preferences are kept for stored conversations only (foldUses finds nothing else): a call
    // in a session conversation nothing was written to costs no transaction.
    if (this.unsaved.has(conversation)) return;
    const queued = this.uses.get(conversation.key);
    if (queued) queued.push(use);
    else this.uses.set(conversation.key, [use]);
    this.foldLater();
  }

  /** Resolves once every call recorded so far is folded in (or failed to be). */
  async usesSettled(): Promise<void> {
    while (this.folding) await this.folding;
  }

  private foldLater(): void {
    if (this.folding) return;
    this.folding = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 0));
      while (this.uses.size) {
        const batch = [...this.uses];
        this.uses.clear();
        // Preferences are a convenience: a failed write loses them, never a call.
        await Promise.all(batch.map(([key, uses]) => this.foldUses(key, uses).catch(() => undefined)));
      }
    })().finally(() => {
      this.folding = null;
      if (this.uses.size) this.foldLater();
    });
  }

  private async foldUses(key: string, uses: readonly ToolUse[]): Promise<void> {
    const db = await this.handle.get();
    const tx = db.transaction('contexts', 'readwrite');
    const current = await tx.store.get(key);
    if (!current) {
      await tx.done;
      return;
    }
    const next: ContextRecord = { ...current, preferences: foldToolUses(current.preferences, uses) };
    await Promise.all([tx.store.put(next), tx.done]);
    const previous = this.known.get(key);
    // The level did not change: the effective policy cached for the record still holds, so the
    // next call in a narrowed conversation does not intersect again.
    const cached = previous && this.policies.get(previous);
    if (cached && JSON.stringify(previous.securityLevel) === JSON.stringify(next.securityLevel)) this.policies.set(next, cached);
    this.known.set(key, next);
  }

  /** The stored conversation `id` of `agentId`, or null. Cold: one read. */
  async stored(agentId: string, id: string): Promise<ContextRecord | null> {
    return this.read(conversationKey(agentId, id));
  }

  /** Every stored record of an agent (admin view), or the global scope. */
  async list(agentId?: string): Promise<ContextRecord[]> {
    const db = await this.handle.get();
    if (agentId !== undefined) return db.getAllFromIndex('contexts', 'by-agent', agentId);
    return db.getAll('contexts');
  }

  /** `changed` runs when a context that session's agent can read changes (at most one per session). */
  watch(sessionId: string, agentId: string, changed: () => void): void {
    this.watchers.set(sessionId, { agentId, changed });
  }

  unwatch(sessionId: string): void {
    this.watchers.delete(sessionId);
  }

  private notify(agentId: string | null): void {
    for (const w of this.watchers.values()) if (agentId === null || w.agentId === agentId) w.changed();
  }
}

function homeFields(record: ContextRecord): { agentId: string | null; sessionId: string | null; conversationId: string | null } {
  // A conversation record keeps the session it started in: that is not its variables' home.
  return { agentId: record.agentId, sessionId: record.kind === 'session' ? record.sessionId : null, conversationId: record.kind === 'conversation' ? record.conversationId : null };
}

/** A change as the audit keeps it: values redacted by the writer's policy. */
function auditedVariable(v: ContextVariableRecord | null, policy: EffectivePolicy): unknown {
  if (!v) return null;
  return { value: redactValue(v.value, policy.data.sensitivePatterns).value, sharing: v.sharing, updatedBy: v.updatedBy };
}

/** Audits one change (or refusal) of context as `context.change`, with before and after. */
export async function auditContextChange(
  ctx: ServerContext,
  who: { agentId: string | null; sessionId: string | null; callId?: string | null; tool?: string | null; policy: EffectivePolicy | null },
  details: { conversation: string | null; actor: ContextActor; change?: ContextChange; level?: { before: SecurityLevel; after: SecurityLevel }; refused?: { name?: string; sharing?: unknown; rule: string; reason: string } },
): Promise<void> {
  const policy = who.policy;
  const body: Record<string, unknown> = { conversation: details.conversation, actor: details.actor };
  if (details.change) Object.assign(body, { name: details.change.name, sharing: details.change.sharing, op: details.change.after ? 'set' : 'clear', before: policy ? auditedVariable(details.change.before, policy) : details.change.before, after: policy ? auditedVariable(details.change.after, policy) : details.change.after });
  if (details.level) Object.assign(body, { op: 'level', before: details.level.before, after: details.level.after });
  if (details.refused) Object.assign(body, { op: 'refused', name: details.refused.name ?? null, sharing: details.refused.sharing ?? null });
  await ctx.audit.append({
    event: 'context.change',
    outcome: details.refused ? 'denied' : 'info',
    sessionId: who.sessionId,
    agentId: who.agentId,
    callId: who.callId ?? null,
    tool: who.tool ?? null,
    details: body,
    ...(details.refused ? { error: { code: 'policy-denied', message: details.refused.reason, details: { rule: details.refused.rule, layer: 'context' } } } : {}),
    ...(policy ? sealIf(policy, ['details']) : {}),
  });
}

/** The viewer of a call in `conversation` of `session`. */
export function viewerOf(session: SessionRecord, conversation: ContextRecord): ContextViewer {
  return { agentId: session.agentId, sessionId: session.id, conversationId: conversation.conversationId! };
}

/**
 * Applies a tool result's `context_updates` as the tool's agent (never Global), each audited;
 * returns what the result's `_meta['mcp-sandbox/context']` reports.
 */
export async function applyContextUpdates(
  ctx: ServerContext,
  call: { session: SessionRecord; conversation: ContextRecord; policy: EffectivePolicy },
  tool: string,
  callId: string | null,
  raw: unknown,
): Promise<{ conversation: string; applied: { name: string; sharing: SharingRule; op: 'set' | 'clear' }[]; refused: { name: string; rule: string; reason: string }[] }> {
  const viewer = viewerOf(call.session, call.conversation);
  const who = { agentId: viewer.agentId, sessionId: viewer.sessionId, callId, tool, policy: call.policy };
  const read = readContextUpdates(raw);
  const report = { conversation: viewer.conversationId, applied: [] as { name: string; sharing: SharingRule; op: 'set' | 'clear' }[], refused: [] as { name: string; rule: string; reason: string }[] };
  if (!('updates' in read)) {
    report.refused.push({ name: '*', rule: read.rule, reason: read.reason });
    await auditContextChange(ctx, who, { conversation: viewer.conversationId, actor: 'tool', refused: { rule: read.rule, reason: read.reason } });
    return report;
  }
  for (const { name, denial } of read.refused) {
    report.refused.push({ name, rule: denial.rule, reason: denial.reason });
    await auditContextChange(ctx, who, { conversation: viewer.conversationId, actor: 'tool', refused: { name, sharing: (raw as Record<string, { sharing?: unknown } | null>)[name]?.sharing, rule: denial.rule, reason: denial.reason } });
  }
  for (const update of read.updates) {
    try {
      const change = await ctx.contexts.write(viewer, 'tool', update.name, update.sharing, 'value' in update ? { set: update.value } : null, call.conversation.startedAt);
      report.applied.push({ name: update.name, sharing: update.sharing, op: change.after ? 'set' : 'clear' });
      await auditContextChange(ctx, who, { conversation: viewer.conversationId, actor: 'tool', change });
    } catch (error) {
      if (!(error instanceof ContextError)) throw error;
      report.refused.push({ name: update.name, rule: error.denial.rule, reason: error.denial.reason });
      await auditContextChange(ctx, who, { conversation: viewer.conversationId, actor: 'tool', refused: { name: update.name, sharing: update.sharing, rule: error.denial.rule, reason: error.denial.reason } });
    }
  }
  return report;
}

/**
 * `context://conversation/{id}`: the conversation's start, security level and the variables
 * visible in it from the reading session. An agent reads only its own conversations: another
 * agent's (or one that does not exist) is "not found", the same answer either way.
 */
/**
 * `context://conversation/{id}` for the reading session's agent. `policy` is the reader's
 * effective policy: where it redacts what the agent receives (`data.redactForAgent`), the
 * variables' values are redacted here too, as everything else it reads is.
 */
export async function readConversationResource(ctx: ServerContext, session: SessionRecord, uri: string, policy: EffectivePolicy): Promise<{ contents: { uri: string; mimeType: string; text: string }[] }> {
  let id: string;
  try {
    id = decodeURIComponent(uri.slice(CONTEXT_URI_PREFIX.length));
  } catch {
    id = '';
  }
  const notFound = async () => {
    await ctx.audit.append({ event: 'resource.read', outcome: 'denied', sessionId: session.id, agentId: session.agentId, details: { uri: uri.slice(0, 300) }, error: { code: 'policy-denied', message: 'not a conversation of this agent', details: { rule: 'context.not-visible', layer: 'context' } } });
    return new McpError(ErrorCode.InvalidParams, `Resource not found: ${uri.slice(0, 300)} (a conversation of yours)`, { code: 'unknown-resource', uri: uri.slice(0, 300) });
  };
  if (!decideConversationId(id).allow) throw await notFound();
  let record = await ctx.contexts.stored(session.agentId, id);
  if (!record) {
    // A session of this agent is a conversation of it, stored or not.
    const other = id === session.id ? session : await ctx.sessions.get(id);
    if (!other || other.agentId !== session.agentId) throw await notFound();
    record = await ctx.contexts.conversation(session.agentId, other);
  }
  if (record.agentId !== session.agentId) throw await notFound();
  // Calls that finished before this read are in it, though their preferences are written behind.
  await ctx.contexts.usesSettled();
  record = (await ctx.contexts.stored(session.agentId, id)) ?? record;
  const viewer = { agentId: session.agentId, sessionId: session.id, conversationId: id };
  const doc = {
    id,
    agentId: record.agentId,
    startedInSession: record.sessionId,
    startedAt: new Date(record.startedAt).toISOString(),
    securityLevel: record.securityLevel ?? PERMISSIVE,
    readFromSession: session.id,
    variables: redactForAgent(policy, await ctx.contexts.visible(viewer)).value,
    // Per tool: how calls here fared, and the arguments of its last success (docs/context.md).
    toolPreferences: record.preferences ?? {},
  };
  return { contents: [{ uri, mimeType: 'application/json', text: JSON.stringify(doc) }] };
}
