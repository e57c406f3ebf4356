/**
 * The admin API contract: what the app's own pages (UI, tests) may ask the service worker.
 * Types only; the server implements it (src/server/admin.ts), the client calls it
 * (src/client/admin.ts). Agents never reach it: it is not MCP, and only same-origin pages can
 * message the service worker at all.
 */
import type { Grant, PolicyDocument, TrustLevel, EffectivePolicy } from '../policy';
import type { ChainVerdict, Tail } from '../store/audit';
import type { AuditEntry, SessionRecord, SettingsRecord, ToolRecord } from '../store/schema';

/** An agent as the admin sees it: everything but the token hash. */
export interface AgentView {
  id: string;
  name: string;
  trustLevel: TrustLevel;
  origins: string[];
  policy: PolicyDocument | null;
  changes: { op: 'grant' | 'revoke'; change: Grant; at: number }[];
  createdAt: number;
  updatedAt: number;
  revokedAt: number | null;
  /** The policy in force: template + document + changes. */
  effective: EffectivePolicy;
}

export interface AgentInput {
  name: string;
  trustLevel: TrustLevel;
  origins: string[];
  /** A policy document (JSON value) refining the level's template. */
  policy?: unknown;
  /** Chosen id (letters, digits, `-`, `_`); a random one otherwise. */
  id?: string;
}

export interface AgentMetrics {
  agentId: string;
  calls: number;
  ok: number;
  errors: number;
  denied: number;
  /** Calls in the last 60 s (the rate window). */
  lastMinute: number;
  active: number;
  meanDurationMs: number | null;
}

export interface AdminMethods {
  /** Answered by the service worker without touching storage: the bare round trip. */
  ping: { params: undefined; result: 'pong' };
  'server.info': { params: undefined; result: { name: string; version: string; incarnation: string } };
  'tools.list': { params: undefined; result: ToolRecord[] };
  'tools.seed': { params: { fixtures: boolean }; result: string[] };
  'sessions.list': { params: undefined; result: SessionRecord[] };
  'audit.list': { params: { sessionId?: string; agentId?: string } | undefined; result: AuditEntry[] };
  'audit.tail': { params: { limit?: number } | undefined; result: AuditEntry[] };
  /** With `from` (a head verified before), checks only what came after it. */
  'audit.verify': { params: { from?: Tail } | undefined; result: ChainVerdict };
  'audit.export': { params: undefined; result: string };

  'agents.list': { params: undefined; result: AgentView[] };
  /** The token is returned once, here; only its hash is stored. */
  'agents.register': { params: AgentInput; result: { agent: AgentView; token: string } };
  'agents.update': { params: { id: string } & Partial<AgentInput>; result: AgentView };
  /** Revoked agents cannot open sessions, and their open sessions are refused on the next call. */
  'agents.revoke': { params: { id: string }; result: AgentView };
  'agents.rotateToken': { params: { id: string }; result: { agent: AgentView; token: string } };
  /** Opens exactly the one tool, domain or path named, from the next call on. */
  'agents.grant': { params: { id: string; grant: Grant }; result: AgentView };
  /** Closes exactly the one tool, domain or path named, from the next call on. */
  'agents.revokeGrant': { params: { id: string; revoke: Grant }; result: AgentView };
  'agents.metrics': { params: { id?: string } | undefined; result: AgentMetrics[] };
  /** Validates a policy document (as JSON text) without storing it. */
  'policy.validate': { params: { text: string }; result: { ok: true; policy: PolicyDocument } | { ok: false; errors: { path: string; reason: string }[] } };
  /** The agent's effective policy as a full document, ready to save as a file. */
  'policy.export': { params: { id: string }; result: string };
  'settings.get': { params: undefined; result: SettingsRecord };
  'settings.set': { params: Partial<Omit<SettingsRecord, 'key'>>; result: SettingsRecord };
}

export type AdminMethod = keyof AdminMethods;
