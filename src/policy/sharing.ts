// Conversation context variables: where a variable lives, who sees it, who may write it, and
// how big it may be. Pure: the server stores the records and passes them in.
//
// A variable has a sharing rule, fixed by where it is written:
//   Private      the conversation it was written in
//   SessionOnly  every conversation of the session it was written in
//   UserScoped   every conversation of its agent
//   Global       every agent — written by an admin only; no agent, and no tool (a tool acts
//                as its agent), can create, change or clear one
// A variable is visible only where its rule reaches: a reader of another conversation,
// session or agent does not see it at all (not even its name).

export const SHARING_RULES = ['Private', 'SessionOnly', 'UserScoped', 'Global'] as const;
export type SharingRule = (typeof SHARING_RULES)[number];

/** Who writes: the agent itself (through MCP), a tool's result (as its agent), or an admin. */
export type ContextActor = 'agent' | 'tool' | 'admin';

/** The conversation a call (or a read) belongs to. */
export interface ContextViewer {
  readonly agentId: string;
  readonly sessionId: string;
  readonly conversationId: string;
}

/** Where a variable lives: the rule, and the conversation, session or agent it is bound to. */
export interface VariableHome {
  readonly sharing: SharingRule;
  readonly agentId: string | null;
  readonly sessionId: string | null;
  readonly conversationId: string | null;
}

export type ContextRuleId =
  /** The variable's rule does not reach this conversation, session or agent. */
  | 'context.not-visible'
  /** Global variables are written by an admin only. */
  | 'context.global-admin-only'
  /** The sharing rule is not one of Private, SessionOnly, UserScoped, Global. */
  | 'context.sharing-invalid'
  /** The variable name is not 1–64 letters, digits, `_`, `-`, `.` starting with a letter or `_`. */
  | 'context.name-invalid'
  /** The value is not JSON (a function, undefined, a cycle, a number that is not finite…). */
  | 'context.value-invalid'
  /** The value's JSON is longer than `MAX_VALUE_BYTES`. */
  | 'context.value-too-large'
  /** The scope already holds `MAX_VARIABLES` variables. */
  | 'context.too-many-variables'
  /** A tool result carried more than `MAX_UPDATES` updates, or they were not an object. */
  | 'context.updates-invalid'
  /** The conversation id is not a bounded string. */
  | 'context.conversation-invalid'
  /** An agent asked for a security level wider than the one its context has. */
  | 'context.level-widen';

export interface ContextDenial {
  readonly allow: false;
  readonly rule: ContextRuleId;
  readonly reason: string;
  readonly limit?: number | string;
  readonly observed?: number | string;
}
export type ContextDecision = { readonly allow: true } | ContextDenial;

const ALLOW: ContextDecision = Object.freeze({ allow: true as const });
const denyWith = (rule: ContextRuleId, reason: string, extra: { limit?: number | string; observed?: number | string } = {}): ContextDenial => ({ allow: false, rule, reason, ...extra });

/** A variable's value, as JSON text, may be at most this long (UTF-16 code units). */
export const MAX_VALUE_BYTES = 16 * 1024;
/** Variables one scope (a conversation, a session, an agent, the global scope) may hold. */
export const MAX_VARIABLES = 100;
/** `context_updates` one tool result may carry. */
export const MAX_UPDATES = 32;
/** Conversation ids: 1–128 characters of letters, digits and `._:@-`. */
export const MAX_CONVERSATION_ID = 128;
/** Named conversations one agent may have. */
export const MAX_CONVERSATIONS = 1000;

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
const CONVERSATION = /^[A-Za-z0-9._:@-]{1,128}$/;

export function isSharingRule(value: unknown): value is SharingRule {
  return (SHARING_RULES as readonly unknown[]).includes(value);
}

/** The home a write by `viewer` with `sharing` lands in. */
export function homeOf(sharing: SharingRule, viewer: ContextViewer): VariableHome {
  switch (sharing) {
    case 'Private':
      return { sharing, agentId: viewer.agentId, sessionId: null, conversationId: viewer.conversationId };
    case 'SessionOnly':
      return { sharing, agentId: viewer.agentId, sessionId: viewer.sessionId, conversationId: null };
    case 'UserScoped':
      return { sharing, agentId: viewer.agentId, sessionId: null, conversationId: null };
    case 'Global':
      return { sharing, agentId: null, sessionId: null, conversationId: null };
  }
}

/** Whether a variable living at `home` is visible to `viewer`. Deny by default. */
export function decideVisible(home: VariableHome, viewer: ContextViewer): ContextDecision {
  const ok = (() => {
    switch (home.sharing) {
      case 'Private':
        return home.agentId === viewer.agentId && home.conversationId === viewer.conversationId;
      case 'SessionOnly':
        return home.agentId === viewer.agentId && home.sessionId === viewer.sessionId;
      case 'UserScoped':
        return home.agentId === viewer.agentId;
      case 'Global':
        return true;
      default:
        return false;
    }
  })();
  if (ok) return ALLOW;
  const where = { Private: 'its conversation', SessionOnly: 'its session', UserScoped: 'its agent', Global: 'every agent' }[home.sharing] ?? 'nowhere';
  return denyWith('context.not-visible', `a ${home.sharing} variable is visible to ${where} only`, { limit: home.sharing });
}

/** Whether `actor` may create, change or clear a variable of this rule. */
export function decideWrite(actor: ContextActor, sharing: unknown): ContextDecision {
  if (!isSharingRule(sharing)) return denyWith('context.sharing-invalid', `sharing must be one of ${SHARING_RULES.join(', ')}`, { observed: String(sharing).slice(0, 40) });
  if (sharing === 'Global' && actor !== 'admin')
    return denyWith('context.global-admin-only', `a Global variable is seen by every agent, so only an admin sets it (in the app); ${actor === 'tool' ? 'a tool acts as its agent and' : 'an agent'} may use Private, SessionOnly or UserScoped`, { limit: 'admin', observed: actor });
  return ALLOW;
}

export function decideName(name: unknown): ContextDecision {
  if (typeof name === 'string' && NAME.test(name)) return ALLOW;
  return denyWith('context.name-invalid', 'a variable name is 1–64 letters, digits, _, - or ., starting with a letter or _', { observed: typeof name === 'string' ? name.slice(0, 80) : typeof name });
}

/**
 * Checks a value and returns its stored form: the JSON text parsed back (plain data, no
 * prototypes, `undefined` members dropped). At most `MAX_VALUE_BYTES` of JSON.
 */
export function checkValue(value: unknown): { allow: true; value: unknown; bytes: number } | ContextDenial {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    return denyWith('context.value-invalid', `the value is not JSON (${(error as Error).message.slice(0, 120)})`);
  }
  if (text === undefined) return denyWith('context.value-invalid', 'the value is not JSON (undefined, a function or a symbol)');
  if (text.length > MAX_VALUE_BYTES) return denyWith('context.value-too-large', `a variable's value may be at most ${MAX_VALUE_BYTES} characters of JSON`, { limit: MAX_VALUE_BYTES, observed: text.length });
  return { allow: true, value: JSON.parse(text) as unknown, bytes: text.length };
}

/** A scope may hold at most `MAX_VARIABLES`; replacing an existing one is always fine. */
export function decideCapacity(existing: readonly string[], name: string): ContextDecision {
  if (existing.includes(name) || existing.length < MAX_VARIABLES) return ALLOW;
  return denyWith('context.too-many-variables', `a ${'scope'} may hold at most ${MAX_VARIABLES} variables; clear one first`, { limit: MAX_VARIABLES, observed: existing.length });
}

/** An agent's name for a conversation (`_meta['mcp-sandbox/conversation']`). */
export function decideConversationId(id: unknown): ContextDecision {
  if (typeof id === 'string' && CONVERSATION.test(id)) return ALLOW;
  return denyWith('context.conversation-invalid', `a conversation id is 1–${MAX_CONVERSATION_ID} letters, digits or ._:@-`, {
    limit: MAX_CONVERSATION_ID,
    observed: typeof id === 'string' ? id.length : typeof id,
  });
}

/** One update out of a tool's `context_updates`: set (with a value) or clear (`null`). */
export interface ContextUpdate {
  readonly name: string;
  readonly sharing: SharingRule;
  /** Absent: clear. */
  readonly value?: unknown;
}

/**
 * Reads a tool's `context_updates`: an object `{ name: {value, sharing?} | {clear: true,
 * sharing?} | null }` (null clears the Private one; sharing defaults to Private). Returns the updates to apply and, for each refused
 * entry, its denial; a malformed whole is refused whole.
 */
export function readContextUpdates(raw: unknown): { updates: ContextUpdate[]; refused: { name: string; denial: ContextDenial }[] } | ContextDenial {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return denyWith('context.updates-invalid', 'context_updates must be an object {name: {value, sharing?} | null}');
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length > MAX_UPDATES) return denyWith('context.updates-invalid', `a result may carry at most ${MAX_UPDATES} context_updates`, { limit: MAX_UPDATES, observed: entries.length });
  const updates: ContextUpdate[] = [];
  const refused: { name: string; denial: ContextDenial }[] = [];
  for (const [name, spec] of entries) {
    const named = decideName(name);
    if (!named.allow) {
      refused.push({ name: name.slice(0, 80), denial: named });
      continue;
    }
    if (spec === null) {
      updates.push({ name, sharing: 'Private' });
      continue;
    }
    const clear = typeof spec === 'object' && !Array.isArray(spec) && (spec as { clear?: unknown }).clear === true;
    if (typeof spec !== 'object' || Array.isArray(spec) || (!clear && !('value' in spec))) {
      refused.push({ name, denial: denyWith('context.updates-invalid', 'each update is {value, sharing?}, {clear: true, sharing?}, or null (clears the Private one)') });
      continue;
    }
    const { value, sharing = 'Private' } = spec as { value: unknown; sharing?: unknown };
    const writable = decideWrite('tool', sharing);
    if (!writable.allow) {
      refused.push({ name, denial: writable });
      continue;
    }
    if (clear) {
      updates.push({ name, sharing: sharing as SharingRule });
      continue;
    }
    const checked = checkValue(value);
    if (!checked.allow) {
      refused.push({ name, denial: checked });
      continue;
    }
    updates.push({ name, sharing: sharing as SharingRule, value: checked.value });
  }
  return { updates, refused };
}

/** The most specific first: a Private variable hides a SessionOnly one of the same name, and so on. */
export const PRECEDENCE: readonly SharingRule[] = ['Private', 'SessionOnly', 'UserScoped', 'Global'];

/**
 * Whether an agent may change its context's level from `current` to `next`: only to one at least
 * as narrow (Strict from anything; Moderate from Permissive or Moderate; Permissive only when it
 * already is; a Custom document only over Permissive, since two documents cannot be compared).
 * An admin may set any level.
 */
export function decideLevelChange(actor: ContextActor, current: string, next: string): ContextDecision {
  if (actor === 'admin') return ALLOW;
  const rank: Record<string, number> = { Permissive: 0, Moderate: 1, Strict: 3 };
  const ok = next === 'Strict' || (next === 'Custom' ? current === 'Permissive' : current !== 'Custom' && rank[next] !== undefined && rank[current] !== undefined && rank[next]! >= rank[current]!);
  if (ok) return ALLOW;
  return denyWith('context.level-widen', `an agent can only narrow its context's security level (now ${current}); ask an admin to set ${next}`, { limit: current, observed: next });
}
