/**
 * What the Contexts view shows, computed from what the admin API answers (pure: unit-tested in
 * test/unit/contexts-model.test.ts): conversations per agent, the variables that reach a
 * conversation with their sharing rule (and which are shadowed by a more specific one), and the
 * history of changes of a conversation or of one variable, read from `context.change` entries.
 */
import type { SecurityLevel } from '../policy';
import type { AuditEntry, ContextRecord } from '../store/schema';

export type SharingRule = 'Private' | 'SessionOnly' | 'UserScoped' | 'Global';
/** Most specific first: where two variables share a name, the earlier one is the one seen. */
export const PRECEDENCE: readonly SharingRule[] = ['Private', 'SessionOnly', 'UserScoped', 'Global'];

export const conversationKeyOf = (agentId: string, conversation: string) => `conversation|${agentId}|${conversation}`;
const sessionKeyOf = (sessionId: string) => `session|${sessionId}`;
const agentKeyOf = (agentId: string) => `agent|${agentId}`;
const GLOBAL_KEY = 'global';

/** The stored conversations of each agent, the most recently changed first; agents by id. */
export function conversationsByAgent(records: readonly ContextRecord[]): Map<string, ContextRecord[]> {
  const out = new Map<string, ContextRecord[]>();
  for (const r of records) {
    if (r.kind !== 'conversation' || !r.agentId || !r.conversationId) continue;
    const list = out.get(r.agentId) ?? [];
    list.push(r);
    out.set(r.agentId, list);
  }
  for (const list of out.values()) list.sort((a, b) => b.updatedAt - a.updatedAt || (a.conversationId! < b.conversationId! ? -1 : 1));
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** One variable as the view lists it for a conversation. */
export interface ReachingVariable {
  name: string;
  value: unknown;
  sharing: SharingRule;
  updatedAt: number;
  updatedBy: string;
  /** The session whose conversations a SessionOnly variable reaches. */
  sessionId: string | null;
  /** A more specific variable of the same name is the one the conversation sees. */
  shadowed: boolean;
}

/**
 * The variables that reach `conversation`: its own (Private), those of the session it started in
 * (SessionOnly: they reach that session's conversations; another session of the agent has its
 * own), its agent's (UserScoped) and the Global ones. Ordered by rule, then name.
 */
export function reachingVariables(records: readonly ContextRecord[], conversation: ContextRecord): ReachingVariable[] {
  const byKey = new Map(records.map((r) => [r.key, r]));
  const scopes: [SharingRule, ContextRecord | undefined][] = [
    ['Private', byKey.get(conversation.key) ?? conversation],
    ['SessionOnly', conversation.sessionId ? byKey.get(sessionKeyOf(conversation.sessionId)) : undefined],
    ['UserScoped', conversation.agentId ? byKey.get(agentKeyOf(conversation.agentId)) : undefined],
    ['Global', byKey.get(GLOBAL_KEY)],
  ];
  const seen = new Set<string>();
  const out: ReachingVariable[] = [];
  for (const [sharing, record] of scopes) {
    if (!record) continue;
    for (const name of Object.keys(record.variables).sort()) {
      const v = record.variables[name]!;
      out.push({ name, value: v.value, sharing, updatedAt: v.updatedAt, updatedBy: v.updatedBy, sessionId: sharing === 'SessionOnly' ? record.sessionId : null, shadowed: seen.has(name) });
    }
    for (const name of Object.keys(record.variables)) seen.add(name);
  }
  return out;
}

/** The Global variables (admin-set; every agent sees them). */
export function globalVariables(records: readonly ContextRecord[]): ReachingVariable[] {
  const g = records.find((r) => r.key === GLOBAL_KEY);
  if (!g) return [];
  return Object.keys(g.variables)
    .sort()
    .map((name) => ({ name, value: g.variables[name]!.value, sharing: 'Global' as const, updatedAt: g.variables[name]!.updatedAt, updatedBy: g.variables[name]!.updatedBy, sessionId: null, shadowed: false }));
}

/** What the history is about: a whole conversation, or one variable of a scope reaching it. */
export type HistorySubject =
  | { kind: 'conversation'; agentId: string; conversation: string }
  | { kind: 'variable'; agentId: string; conversation: string; name: string; sharing: SharingRule; sessionId: string | null };

export interface HistoryRow {
  seq: number;
  ts: number;
  outcome: string;
  actor: string;
  op: string;
  name: string | null;
  sharing: string | null;
  conversation: string | null;
  tool: string | null;
  before: unknown;
  after: unknown;
  /** A refusal's rule. */
  rule: string | null;
  /** The details are sealed and could not be opened. */
  sealed: boolean;
}

/** The entry's details, unless they are sealed and did not open (`unopened`, as the admin API says). */
function detailsOf(e: AuditEntry & { unopened?: string[] }): Record<string, unknown> | null {
  if (e.unopened?.includes('details')) return null;
  return e.details && typeof e.details === 'object' && !Array.isArray(e.details) ? (e.details as Record<string, unknown>) : null;
}

/**
 * The `context.change` entries about `subject`, newest first. A conversation's history is every
 * change made in it (variables of any rule written there, its level, refusals). A variable's is
 * every change of that name in its scope: Private in that conversation, SessionOnly in that
 * session, UserScoped by that agent anywhere, Global by an admin.
 */
export function historyOf(entries: readonly (AuditEntry & { unopened?: string[] })[], subject: HistorySubject): HistoryRow[] {
  const rows: HistoryRow[] = [];
  for (const e of entries) {
    if (e.event !== 'context.change') continue;
    const d = detailsOf(e);
    const name = typeof d?.['name'] === 'string' ? (d['name'] as string) : null;
    const sharing = typeof d?.['sharing'] === 'string' ? (d['sharing'] as string) : null;
    const conversation = typeof d?.['conversation'] === 'string' ? (d['conversation'] as string) : null;
    let match: boolean;
    if (subject.kind === 'conversation') match = e.agentId === subject.agentId && conversation === subject.conversation;
    else if (name !== subject.name || sharing !== subject.sharing) match = false;
    else if (subject.sharing === 'Global') match = true;
    else if (e.agentId !== subject.agentId) match = false;
    else if (subject.sharing === 'Private') match = conversation === subject.conversation;
    else if (subject.sharing === 'SessionOnly') match = e.sessionId === subject.sessionId;
    else match = true;
    if (!match) continue;
    const error = e.error as { details?: { rule?: unknown } } | null | undefined;
    rows.push({
      seq: e.seq,
      ts: e.ts,
      outcome: e.outcome,
      actor: typeof d?.['actor'] === 'string' ? (d['actor'] as string) : '',
      op: typeof d?.['op'] === 'string' ? (d['op'] as string) : '',
      name,
      sharing,
      conversation,
      tool: e.tool ?? null,
      before: d?.['before'] ?? null,
      after: d?.['after'] ?? null,
      rule: typeof error?.details?.rule === 'string' ? error.details.rule : null,
      sealed: d === null && e.details != null,
    });
  }
  return rows.sort((a, b) => b.seq - a.seq);
}

/** A security level as a short label: the preset's name, or "Custom" with the fields its document sets. */
export function levelLabel(level: SecurityLevel | undefined): string {
  if (!level) return 'Permissive';
  if (level.level !== 'Custom') return level.level;
  const fields = Object.keys(level.policy).filter((k) => k !== 'version');
  return fields.length ? `Custom (${fields.join(', ')})` : 'Custom';
}

/** A value of a history row or a variable, short enough for a table cell. */
export function shortValue(value: unknown, max = 80): string {
  if (value === null || value === undefined) return '–';
  const v = value as { value?: unknown; level?: unknown };
  // A variable's before/after is {value, sharing, updatedBy}; a level's is {level, policy?}.
  const shown = typeof v === 'object' && 'level' in v && typeof v.level === 'string' ? levelLabel(v as SecurityLevel) : typeof v === 'object' && 'value' in v ? JSON.stringify(v.value) : JSON.stringify(value);
  return shown.length > max ? `${shown.slice(0, max - 1)}…` : shown;
}
