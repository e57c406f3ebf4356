/**
 * The admin API contract: what the app's own pages (UI, tests) may ask the service worker.
 * Types only; the server implements it (src/server/admin.ts), the client calls it
 * (src/client/admin.ts). Agents never reach it: it is not MCP, and only same-origin pages can
 * message the service worker at all.
 */
import type { Grant, PolicyDocument, TrustLevel, EffectivePolicy } from '../policy';
import type { OpenedEntry, Tail } from '../store/audit';
import type { ArchiveRange } from '../store/archive';
import type { LinkLine } from '../store/audit-file';
import type { VerifiedSlice } from '../store/verify';
import type { AuditFilter, AuditPage } from '../store/audit-query';
import type { ChartQuery, ChartWindowData } from '../store/aggregate-window';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { SandboxErrorInfo } from '../shared/errors';
import type { ArchiveCheckpoint, AuditEntry, ContextRecord } from '../store/schema';
import type { AuditEvent, AuditOutcome, SessionRecord, SettingsRecord, ToolRecord, ToolVersion, WatchedFolderRecord } from '../store/schema';
import type { FieldError } from '../shared/tool-metadata';
import type { FleetConfigInput, FleetStatus } from './fleet';

export type { FleetConfigInput, FleetStatus } from './fleet';

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
  /** Its version (agents.ts `policyVersionOf`): named by the refusals it decides and the changes that set it. */
  policyVersion: string;
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
  /** The tools it calls most (call.request entries), at most 5, most used first. */
  preferredTools: { tool: string; calls: number }[];
  /** The argument shapes it calls with most (a hash of keys and types, no values), at most 5. */
  argumentShapes: { shape: string; calls: number }[];
  /** Its sessions and their typical length (medians), from the session records. */
  sessions: { count: number; medianDurationMs: number | null; medianCalls: number | null };
}

/** Per-tool usage and performance, derived from the audit log (the one source of truth). */
export interface ToolStats {
  name: string;
  /** Calls that reached the sandbox (`call.request` entries), resource reads included. */
  invocations: number;
  ok: number;
  errors: number;
  /** Calls that ended refused by policy inside the tool (a capability denied). */
  denied: number;
  /** ok / (ok + errors + denied); null before the first finished call. */
  successRate: number | null;
  meanMs: number | null;
  p95Ms: number | null;
  /** Largest memory a call of the tool reached. */
  peakMemoryBytes: number | null;
  lastUsedAt: number | null;
}

/**
 * An uploaded (or discovered: found in a watched folder) tool, transpiled and introspected in
 * the app window, for the server to keep.
 */
export interface ToolRegistration {
  /** What `describe` returned (validated again by the server). */
  metadata: unknown;
  /** Transpiled output: the glue module and core modules, by file name. */
  files: Record<string, ArrayBuffer | Uint8Array>;
  /** File name of the glue module. */
  glue: string;
  /** Core module file names, in the order the glue asks for them. */
  coreModules: string[];
  /** SHA-256 (hex) and size of the uploaded component. */
  component: { sha256: string; size: number };
  /**
   * `uploaded` by the person, or `discovered` in a watched folder (the folder is the source of
   * truth: other code under a version number already used replaces it, see docs/upload.md).
   * A name is never taken across sources.
   */
  source: 'uploaded' | 'discovered';
}

export interface ToolVersions {
  name: string;
  source: ToolRecord['source'];
  /** The hash new calls run. */
  current: string;
  pinnedHash: string | null;
  versions: Omit<ToolVersion, 'snapshot'>[];
}

/**
 * A refused tool operation: `code` is stable (`not-wasm`, `not-a-component`, `too-large`,
 * `describe-failed`, `invalid-metadata`, `name-clash`, `pinned`, `unknown-tool`, …);
 * `errors` names the fields of invalid metadata.
 */
export interface ToolAdminErrorInfo {
  code: string;
  message: string;
  errors?: FieldError[];
}

/** How one call ended, as its audit entries record it. */
/** Replays (`audit.replay`). */
export interface CallOutcome {
  callId: string;
  /** The entry that closed the call (result, rejection, interruption), or its newest one while none did. */
  seq: number;
  event: AuditEvent;
  outcome: AuditOutcome;
  ts: number;
  durationMs: number | null;
  memoryBytes: number | null;
  error: SandboxErrorInfo | null;
  /** What the audit kept of the output (redacted, cut at 4 KB), null when there is none. */
  output: string | null;
  /** The call's first and last entries' seqs. */
  firstSeq: number;
}

export interface ReplayResult {
  /** The call replayed. */
  replayOf: string;
  agentId: string;
  tool: string;
  /** The arguments both calls had (as the original's entry recorded them). */
  args: Record<string, unknown>;
  /** The session the replay ran in: the agent's replay session (`replay:<agent id>`). */
  sessionId: string;
  original: CallOutcome;
  replay: CallOutcome;
  /** What the agent would have received (the MCP result; a protocol error as `isError`). */
  reply: CallToolResult;
}

export interface AdminMethods {
  /** Answered by the service worker without touching storage: the bare round trip. */
  ping: { params: undefined; result: 'pong' };
  'server.info': { params: undefined; result: { name: string; version: string; incarnation: string } };
  'tools.list': { params: undefined; result: ToolRecord[] };
  /** Which agents (not revoked) may call a tool under their policy now, and if not, which rule says so. */
  'tools.audience': { params: { name: string }; result: { agentId: string; trustLevel: string; sees: boolean; rule: string | null }[] };
  'tools.seed': { params: { fixtures: boolean }; result: string[] };
  /** Usage and performance per tool (every tool, or the one named). */
  'tools.stats': { params: { name?: string } | undefined; result: ToolStats[] };
  /**
   * Uploads a component. Answered by the app window that hosts the sandbox (the service
   * worker cannot transpile); use `SandboxHost.importTool` there. The service worker refuses it.
   */
  'tools.upload': { params: { bytes: ArrayBuffer | Uint8Array; fileName: string }; result: ToolRecord };
  /**
   * Keeps an upload's files (not a tool yet) so its `describe` can run from
   * `tools/uploaded/<hash>/`; `tools.discard` drops them if it is refused.
   */
  'tools.stage': { params: { hash: string; files: Record<string, ArrayBuffer | Uint8Array> }; result: { urls: Record<string, string> } };
  'tools.discard': { params: { hash: string }; result: { removed: number } };
  /** Stores an uploaded tool's files and record in one transaction and tells every live session. */
  'tools.register': { params: ToolRegistration; result: ToolRecord };
  'tools.enable': { params: { name: string }; result: ToolRecord };
  'tools.disable': { params: { name: string }; result: ToolRecord };
  /** Pins new calls to one of the tool's versions (null: follow the newest). */
  'tools.pin': { params: { name: string; hash: string | null }; result: ToolRecord };
  /** Removes an uploaded or discovered tool, its history and its files (never a bundled one). */
  'tools.remove': { params: { name: string }; result: { removed: string } };
  'tools.versions': { params: { name: string }; result: ToolVersions };
  /** Watched folders (with their directory handles), kept for the app window's folder watcher. */
  'folders.list': { params: undefined; result: WatchedFolderRecord[] };
  /** Stores a watched folder (a new one, or the result of a scan). A new folder is audited. */
  'folders.put': { params: WatchedFolderRecord; result: WatchedFolderRecord };
  /** Forgets a watched folder (the watcher withdraws its tools first). */
  'folders.remove': { params: { id: string }; result: { removed: boolean } };
  'sessions.list': { params: undefined; result: SessionRecord[] };
  'audit.list': { params: { sessionId?: string; agentId?: string } | undefined; result: OpenedEntry[] };
  'audit.tail': { params: { limit?: number } | undefined; result: OpenedEntry[] };
  /** The entries named (at most 500), those still in the browser, in the order asked. */
  'audit.entries': { params: { seqs: number[] }; result: OpenedEntry[] };
  /**
   * Part of a verifiable segment (src/store/audit-file.ts): seqs `from`…`to` (at most 2,000 a
   * request; `next` continues), each entry in `include` as stored, every other as a link line;
   * `after` is where the chain before `from` ends (null if `from` is not in the log).
   */
  'audit.segment': { params: { from: number; to: number; include: number[] }; result: { after: Tail | null; lines: (AuditEntry | LinkLine)[]; next: number | null } };
  /**
   * One page of the whole log, newest first: entries matching every field of `filter`, older than
   * `beforeSeq` (src/store/audit-query.ts; walks the by-tool / by-agent index when one fits;
   * `filter.text` is answered from the search index, src/store/search.ts, and says its coverage in `search`).
   * `next` continues it (null: no more). At most 500 entries, and 5,000 records read, a request.
   */
  'audit.query': { params: { filter?: AuditFilter; beforeSeq?: number | null; limit?: number } | undefined; result: { entries: OpenedEntry[]; next: number | null; search?: AuditPage['search'] } };
  /**
   * Re-runs a call of the trail as its agent, under the agent's policy now, through the path an
   * agent's tools/call takes (src/server/audit-replay.ts); every entry it writes has `replayOf`.
   * A denial is a result. Refused (`code`): `unknown-call`, `unknown-agent`, `agent-revoked`,
   * `replay-no-arguments` (`details.reason`: redacted, sealed, not-recorded, no-request).
   */
  'audit.replay': { params: { callId: string }; result: ReplayResult };
  /**
   * The audit charts' window from the aggregates' time buckets (src/store/aggregate-window.ts),
   * never from entries: finished calls by outcome and durations' p50/p95 per bucket over
   * [from, to) (from absent: since the first finished call), by agent and/or tool if named.
   */
  'audit.chart': { params: ChartQuery; result: ChartWindowData };
  /** A call's entries, oldest first (at most `limit`, default 200, from its first): the `by-call` index. */
  'audit.call': { params: { callId: string; limit?: number }; result: OpenedEntry[] };
  /** With `from` (a head verified before), checks only what came after it. */
  /**
   * Verifies at most `limit` entries (default 2,000) after `from` (default: the genesis), on a
   * read transaction of their own, so a long verification never holds up a call. `newestSeq`
   * is the log's newest entry at the time; `complete` says the slice reached it.
   */
  'audit.verify': { params: { from?: Tail; limit?: number } | undefined; result: VerifiedSlice };
  /**
   * Retention: what the browser holds and what can be archived (docs/audit.md). With `before`
   * (a time), `throughBefore` is the newest entry written before it that can be archived.
   * `storage` is this origin's use and quota (the app warns near the quota).
   */
  'audit.retention': { params: { before?: number } | undefined; result: ArchiveRange & { entries: number; storage: { usage: number; quota: number; indexedDB: number | null; persisted: boolean } | null; throughBefore?: number } };
  /**
   * Removes the entries an archive file vouches for (its last line's checkpoint, which must be
   * signed by this sandbox and end at the entry the log holds). Audited. The archive itself is
   * downloaded from `audit/archive.jsonl?through=<seq>`.
   */
  /** Removes archived entries for about 5 s; `done: false` says to ask again with the same checkpoint. */
  'audit.prune': { params: { checkpoint: ArchiveCheckpoint }; result: { through: number; removed: number; done: boolean } };

  'agents.list': { params: undefined; result: AgentView[] };
  /** The token is returned once, here; only its hash is stored. */
  'agents.register': { params: AgentInput; result: { agent: AgentView; token: string } };
  /** Audited with each changed field's value before (`details.before`); `revertOf` names the entry of a change this one takes back. */
  'agents.update': { params: { id: string; revertOf?: number } & Partial<AgentInput>; result: AgentView };
  /** Revoked agents cannot open sessions, and their open sessions are refused on the next call. */
  'agents.revoke': { params: { id: string }; result: AgentView };
  'agents.rotateToken': { params: { id: string }; result: { agent: AgentView; token: string } };
  /** Opens exactly the one tool, domain or path named, from the next call on. */
  'agents.grant': { params: { id: string; grant: Grant }; result: AgentView };
  /** Closes exactly the one tool, domain or path named, from the next call on. */
  'agents.revokeGrant': { params: { id: string; revoke: Grant }; result: AgentView };
  /** Takes back one grant or revoke (named by its op, what it named and when): the policy is as if it had never been made. */
  'agents.undoChange': { params: { id: string; op: 'grant' | 'revoke'; change: Grant; at: number }; result: AgentView };
  'agents.metrics': { params: { id?: string } | undefined; result: AgentMetrics[] };
  /** Validates a policy document (as JSON text) without storing it. */
  'policy.validate': { params: { text: string }; result: { ok: true; policy: PolicyDocument } | { ok: false; errors: { path: string; reason: string }[] } };
  /** The agent's effective policy as a full document, ready to save as a file. */
  'policy.export': { params: { id: string }; result: string };
  'settings.get': { params: undefined; result: SettingsRecord };
  'settings.set': { params: Partial<Omit<SettingsRecord, 'key'>>; result: SettingsRecord };
  /** Conversation contexts (docs/context.md): every stored record, or one agent's. */
  'contexts.list': { params: { agentId?: string } | undefined; result: ContextRecord[] };
  /** Sets (`value` given) or clears (`clear: true`) a Global variable: every agent sees it; only an admin writes one. Audited as `context.change`. */
  'contexts.setGlobal': { params: { name: string; value?: unknown; clear?: boolean }; result: { name: string; op: 'set' | 'clear' } };
  /** Sets a conversation's security level (any level: an admin may also widen back to the agent's own policy). Audited. */
  'contexts.setLevel': { params: { agentId: string; conversation: string; level: unknown }; result: { securityLevel: unknown } };
  /** Fleet export (docs/fleet.md): configuration (header names only: values are write-only) and progress. */
  'fleet.status': { params: undefined; result: FleetStatus };
  /** Changes the fleet export; audited (endpoint, header names, enabled; never a header value). */
  'fleet.configure': { params: FleetConfigInput; result: FleetStatus };
  /** Forgets the export's back-off and tries at once. */
  'fleet.retry': { params: undefined; result: FleetStatus };
}

export type AdminMethod = keyof AdminMethods;
