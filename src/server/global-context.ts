import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { filterTools, PERMISSIVE, redactForAgent, type EffectivePolicy, type SecurityLevel, type TrustLevel } from '../policy';
import { isToolBlocked } from '../policy/tools';
import type { AgentRecord, SessionRecord } from '../store/schema';
import { ANONYMOUS, policyOf } from './agents';
import { readCall } from './call-context';
import type { ServerContext } from './context';
import type { VisibleVariable } from './contexts';

// The global context (docs/context.md, "The global context"): what the sandbox as a whole is
// doing, readable by agents as the resource `context://global`. Served by the service worker
// itself (no tool runs for it), like `context://conversation/{id}`.
//
// Who may read it, and what each reader sees of other agents, is decided here (`decideGlobalRead`,
// `globalContextDocument`, both pure and unit-tested):
// - every agent may read it, unless the policy in force blocks it: `tools.blocked` naming
//   `context://global` (or `"*"`, every tool), in the agent's own policy (layer `agent`) or in the
//   conversation's security level (layer `context`);
// - everyone sees the server and its version, the service worker's start and uptime, the tool
//   counts, the Global variables (which every agent reads in every conversation anyway), and
//   active sessions as **counts**: in all, of how many agents, and its own;
// - only a FullyTrusted agent reading from a Permissive conversation also sees **which** agents
//   have active sessions (their ids and counts). Nobody ever sees another agent's name, trust
//   level, origin or session ids, nor a session id of its own other than the one it reads from
//   (a session id resumes a session).

export const GLOBAL_CONTEXT_URI = 'context://global';

/** The time this service-worker lifetime began (a worker's time origin is its global's creation). */
const LIFETIME_STARTED_AT = Math.round(typeof performance !== 'undefined' && performance.timeOrigin ? performance.timeOrigin : Date.now());

/** What a reader may see of other agents: counts only, or also which agents have sessions. */
export type GlobalVisibility = 'counts' | 'agents';

/** Who reads: the agent, its policy in force and the conversation's level. */
export interface GlobalReader {
  agentId: string;
  trustLevel: TrustLevel;
  sessionId: string;
  conversation: string;
  securityLevel: SecurityLevel;
}

/** The facts the document is written from (everything, before the reader's view is taken). */
export interface GlobalFacts {
  server: { name: string; version: string };
  startedAt: number;
  now: number;
  incarnation: string;
  tools: { callable: number; visibleToReader: number };
  /** Active sessions per agent id. */
  activeByAgent: ReadonlyMap<string, number>;
  globals: Record<string, VisibleVariable>;
}

export interface GlobalContextDocument {
  uri: string;
  server: { name: string; version: string };
  serviceWorker: { startedAt: string; uptimeMs: number; incarnation: string };
  tools: { callable: number; visibleToYou: number };
  sessions: {
    active: number;
    agentsWithActiveSessions: number;
    yours: { active: number; readFrom: string };
    /** Only for readers that may see other agents (`visibility: 'agents'`). */
    byAgent?: { agentId: string; active: number }[];
  };
  shared: { variables: Record<string, VisibleVariable> };
  reader: { agentId: string; trustLevel: TrustLevel; conversation: string; securityLevel: SecurityLevel; visibility: GlobalVisibility };
  now: string;
}

/** Pure: may this reader see which agents have sessions? FullyTrusted, in a conversation that narrows nothing. */
export function globalVisibility(reader: Pick<GlobalReader, 'trustLevel' | 'securityLevel'>): GlobalVisibility {
  return reader.trustLevel === 'FullyTrusted' && reader.securityLevel.level === 'Permissive' ? 'agents' : 'counts';
}

/** Pure: may the global context be read under these policies? Denials name the layer that denied. */
export function decideGlobalRead(agentPolicy: EffectivePolicy, policy: EffectivePolicy): { allow: true } | { allow: false; rule: 'tool.blocked'; layer: 'agent' | 'context'; reason: string } {
  if (isToolBlocked(agentPolicy, GLOBAL_CONTEXT_URI)) return { allow: false, rule: 'tool.blocked', layer: 'agent', reason: `your policy blocks ${GLOBAL_CONTEXT_URI} (tools.blocked)` };
  if (isToolBlocked(policy, GLOBAL_CONTEXT_URI)) return { allow: false, rule: 'tool.blocked', layer: 'context', reason: `this conversation's security level blocks ${GLOBAL_CONTEXT_URI} (tools.blocked)` };
  return { allow: true };
}

/** Pure: the document `reader` gets from `facts`. What it may not see is left out, not blanked. */
export function globalContextDocument(facts: GlobalFacts, reader: GlobalReader): GlobalContextDocument {
  const visibility = globalVisibility(reader);
  let active = 0;
  let agents = 0;
  for (const n of facts.activeByAgent.values()) {
    active += n;
    if (n > 0) agents++;
  }
  const byAgent = [...facts.activeByAgent].filter(([, n]) => n > 0).map(([agentId, n]) => ({ agentId, active: n }));
  byAgent.sort((a, b) => b.active - a.active || (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0));
  return {
    uri: GLOBAL_CONTEXT_URI,
    server: facts.server,
    serviceWorker: { startedAt: new Date(facts.startedAt).toISOString(), uptimeMs: Math.max(0, Math.round(facts.now - facts.startedAt)), incarnation: facts.incarnation },
    tools: { callable: facts.tools.callable, visibleToYou: facts.tools.visibleToReader },
    sessions: {
      active,
      agentsWithActiveSessions: agents,
      yours: { active: facts.activeByAgent.get(reader.agentId) ?? 0, readFrom: reader.sessionId },
      ...(visibility === 'agents' ? { byAgent } : {}),
    },
    shared: { variables: facts.globals },
    reader: { agentId: reader.agentId, trustLevel: reader.trustLevel, conversation: reader.conversation, securityLevel: reader.securityLevel, visibility },
    now: new Date(facts.now).toISOString(),
  };
}

/**
 * Pure: active sessions per agent. A session is active while its agent is registered and not
 * revoked and it has been idle less than that agent's `session.timeoutMinutes` (after which its
 * calls are refused `session.timeout`).
 */
export function activeSessionsByAgent(sessions: readonly SessionRecord[], agents: ReadonlyMap<string, { revoked: boolean; timeoutMinutes: number }>, now: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of sessions) {
    const agent = agents.get(s.agentId);
    if (!agent || agent.revoked) continue;
    if (now - s.lastActivityAt >= agent.timeoutMinutes * 60_000) continue;
    out.set(s.agentId, (out.get(s.agentId) ?? 0) + 1);
  }
  return out;
}

/** The viewer that names no agent, session or conversation: it sees the Global variables only. */
const NOBODY = { agentId: '', sessionId: '', conversationId: '' };

/** The Global variables, as every agent sees them. */
async function globalVariables(ctx: ServerContext): Promise<Record<string, VisibleVariable>> {
  const seen = await ctx.contexts.visible(NOBODY);
  return Object.fromEntries(Object.entries(seen).filter(([, v]) => v.sharing === 'Global'));
}

/** The listing of `context://global` in resources/list. */
export const GLOBAL_CONTEXT_RESOURCE = {
  uri: GLOBAL_CONTEXT_URI,
  name: 'global-context',
  description: "The sandbox's state: version, service-worker uptime, tool counts, active sessions (counts; which agents only for a FullyTrusted reader) and the Global variables (docs/context.md)",
  mimeType: 'application/json',
};

/**
 * resources/read of `context://global`: the document for this session's agent, in the
 * conversation the request names in `_meta` (else the session's). A refusal is audited
 * (`resource.read`, denied) and answered `policy-denied` naming the layer.
 */
export async function readGlobalContext(ctx: ServerContext, sessionId: string, conversation?: unknown, startedAt = LIFETIME_STARTED_AT): Promise<{ contents: { uri: string; mimeType: string; text: string }[] }> {
  const call = await readCall(ctx, sessionId, null, conversation);
  const decision = decideGlobalRead(call.agentPolicy, call.policy);
  if (!decision.allow) {
    await ctx.audit.append({
      event: 'resource.read',
      outcome: 'denied',
      sessionId,
      agentId: call.agent.id,
      details: { uri: GLOBAL_CONTEXT_URI, conversation: call.conversation.conversationId },
      error: { code: 'policy-denied', message: decision.reason, details: { rule: decision.rule, layer: decision.layer } },
    });
    throw new McpError(ErrorCode.InvalidParams, `${GLOBAL_CONTEXT_URI} is not readable here: ${decision.reason}`, { code: 'policy-denied', rule: decision.rule, layer: decision.layer });
  }
  const [sessions, agents, callable, globals] = await Promise.all([ctx.sessions.list(), ctx.agents.list(), ctx.registry.callable(), globalVariables(ctx)]);
  const now = ctx.clock();
  const directory = new Map<string, { revoked: boolean; timeoutMinutes: number }>(agents.map((a: AgentRecord) => [a.id, { revoked: a.revokedAt !== null, timeoutMinutes: policyOf(a).session.timeoutMinutes }]));
  directory.set(ANONYMOUS.id, { revoked: false, timeoutMinutes: policyOf(ANONYMOUS).session.timeoutMinutes });
  const facts: GlobalFacts = {
    server: ctx.config.serverInfo,
    startedAt,
    now,
    incarnation: ctx.incarnation,
    // Both layers, as tools/list shows them.
    tools: { callable: callable.length, visibleToReader: filterTools(call.agentPolicy, filterTools(call.policy, callable)).length },
    activeByAgent: activeSessionsByAgent(sessions, directory, now),
    // Redacted for an agent whose policy says so (`data.redactForAgent`), as everything it receives.
    globals: Object.fromEntries(Object.entries(globals).map(([name, v]) => [name, { ...v, value: (redactForAgent(call.policy, { [name]: v.value }).value as Record<string, unknown>)[name] }])),
  };
  const doc = globalContextDocument(facts, {
    agentId: call.agent.id,
    trustLevel: call.agent.trustLevel,
    sessionId,
    conversation: call.conversation.conversationId!,
    securityLevel: call.conversation.securityLevel ?? PERMISSIVE,
  });
  return { contents: [{ uri: GLOBAL_CONTEXT_URI, mimeType: 'application/json', text: JSON.stringify(doc) }] };
}
