import type { DBSchema } from 'idb';
import type { SandboxErrorInfo } from '../shared/errors';
import type { ContextActor, Grant, PolicyDocument, SecurityLevel, SharingRule, TrustLevel } from '../policy';

export const DB_NAME = 'mcp-sandbox';

/** One version a tool has had, newest last. */
export interface ToolVersion {
  version: string;
  /** SHA-256 (hex) of the component. */
  hash: string;
  size: number;
  /** When it was registered. */
  at: number;
  /**
   * What this version ran as (uploaded tools: its files stay in `toolFiles`), so pinning can
   * return to it. Absent for bundled versions, whose files are replaced by each build.
   */
  snapshot?: ToolVersionSnapshot;
}
export type ToolVersionSnapshot = Pick<ToolRecord, 'description' | 'version' | 'author' | 'tags' | 'categories' | 'inputSchema' | 'outputSchema' | 'permissions' | 'limits' | 'resource' | 'code' | 'context'>;

/**
 * A tool as the registry knows it. Bytes live at `code` URLs: bundled tools under `tools/<name>/`
 * (the build), uploaded ones under `tools/uploaded/<hash>/`, served from `toolFiles`.
 */
export interface ToolRecord {
  name: string;
  description: string;
  version: string;
  author: string;
  tags: string[];
  categories: string[];
  inputSchema: Record<string, unknown>;
  /** JSON Schema of the structured content a successful call returns (MCP `outputSchema`), if the tool declares one. */
  outputSchema?: Record<string, unknown>;
  permissions: string[];
  /** The tool's own ceilings; the effective limit is the smaller of these and the policy's. */
  limits: { memoryMb?: number; cpuMs?: number };
  /** Set for tools that produce a resource rather than being listed as tools. */
  resource?: { uri: string; mimeType: string };
  /** True: calls get the conversation's context through the tool's `get-context` import (docs/context.md). */
  context?: boolean;
  code: { hash: string; size: number; glueUrl: string; coreModules: Record<string, string> };
  source: 'bundled' | 'uploaded' | 'discovered';
  /** Test fixtures are registered only on request and never for production agents. */
  fixture: boolean;
  enabled: boolean;
  registeredAt: number;
  /** Every version registered under this name, oldest first; the current one is among them. */
  versions: ToolVersion[];
  /** When set, new calls run this hash and newer uploads are refused until it is unpinned. */
  pinnedHash: string | null;
}

/** One file of an uploaded tool's transpiled output (glue or core module), key `<hash>/<file>`. */
export interface ToolFileRecord {
  key: string;
  /** SHA-256 (hex) of the component the file was transpiled from. */
  hash: string;
  file: string;
  bytes: ArrayBuffer;
  size: number;
  storedAt: number;
}

/** An agent, registered by the person running the sandbox (admin API only). */
export interface AgentRecord {
  id: string;
  name: string;
  trustLevel: TrustLevel;
  /** Origins it may connect from (exact `scheme://host:port`). */
  origins: string[];
  /** SHA-256 (hex) of its secret token; the token itself is shown once, at registration. */
  tokenHash: string;
  /** Its own policy document refining the level's template, or null for the template as is. */
  policy: PolicyDocument | null;
  /** Run-time grants and revokes, applied in order on top of the policy. */
  changes: { op: 'grant' | 'revoke'; change: Grant; at: number }[];
  createdAt: number;
  updatedAt: number;
  revokedAt: number | null;
}

/** A file of the shared workspace that tools reach through the file capability. */
export interface WorkspaceFile {
  /** Normalised path (`./workspace/notes.txt`), as the policy judged it. */
  path: string;
  contents: string;
  /** Bytes of `contents` (UTF-8). */
  size: number;
  modifiedMs: number;
}

/**
 * A workspace file as stored: its contents in the clear, or sealed (encrypted at rest, bound to
 * its path) when the writer's policy requires encryption. Read and write it through
 * `readWorkspaceFile` / `writeWorkspaceFile` (workspace.ts), which open and seal it.
 */
export interface WorkspaceRecord extends Omit<WorkspaceFile, 'contents'> {
  contents: string | Sealed;
}

/** A value encrypted at rest (sealing.ts): AES-GCM with a key that never leaves this origin's IndexedDB. */
export interface Sealed {
  alg: 'AES-GCM-256';
  /** Which `keys` record opens it. */
  keyId: string;
  /** Base64 of the 12-byte nonce. */
  iv: string;
  /** Base64 of the ciphertext of the value's JSON, with its authentication tag. */
  data: string;
}

/** A sealing key. `key` is a non-extractable CryptoKey: it can be used here, never read out. */
export interface SealingKeyRecord {
  id: string;
  alg: 'AES-GCM-256';
  key: CryptoKey;
  createdAt: number;
}

/** Sandbox-wide settings (one record, key `settings`). */
export interface SettingsRecord {
  key: 'settings';
  /** What happens to a connection without valid credentials. */
  unauthenticated: 'refuse' | 'untrusted';
  /** Calls running at once across all agents. */
  globalConcurrentCalls: number;
}

export interface SessionRecord {
  id: string;
  agentId: string;
  /** The origin the session was opened from (attested by the browser); later messages must match. */
  origin: string;
  via: 'direct' | 'connector' | 'http' | 'replay';
  protocolVersion: string;
  clientInfo: { name: string; version: string } | null;
  createdAt: number;
  lastActivityAt: number;
  /** The calls whose request entries the log holds (rejections are not counted). */
  callCount: number;
  /** The seq of the newest entry `callCount` and `lastActivityAt` account for (session-checkpoints.ts). */
  countedThrough?: number;
  /** Set while later calls may be missing from this record: it is completed from the log when read. */
  unflushed?: boolean;
}

export type AuditEvent =
  /** Written and committed before a tool starts: no call runs unrecorded. */
  | 'call.request'
  /** Written and committed before the reply is sent. */
  | 'call.result'
  /** A call refused before it reached a sandbox (unknown tool, bad arguments, policy). */
  | 'call.rejected'
  /** A call whose service worker was stopped mid-flight, found on the next wake. */
  | 'call.interrupted'
  /** A running call used (or was refused) a host capability: files, HTTP. Committed before the use. */
  | 'call.capability'
  | 'session.open'
  /** A connection refused: wrong token, origin not allowed, unknown or revoked agent. */
  | 'session.refused'
  | 'resource.read'
  /** A conversation context variable or security level set or cleared (or refused), with before/after (docs/context.md). */
  | 'context.change'
  | 'admin';

/**
 * The entries that end a call: its outcome, its refusal, or the record that none was kept. A call
 * whose log holds one is over (the trail folds it into one row, a replay reads its outcome, and
 * recovery and archiving no longer treat it as open).
 */
export const CLOSING_EVENTS: ReadonlySet<AuditEvent> = new Set<AuditEvent>(['call.result', 'call.rejected', 'call.interrupted']);

export type AuditOutcome = 'pending' | 'ok' | 'error' | 'denied' | 'interrupted' | 'cancelled' | 'info';

/** Audit entry fields that can be sealed (encrypted at rest); the rest stay readable, so the trail stays usable. */
export type SealableField = 'args' | 'details';

/** The hashed part of an audit entry. `seq` is assigned by the store and covered by the hash. */
export interface AuditEntryBody {
  seq: number;
  ts: number;
  event: AuditEvent;
  sessionId: string | null;
  agentId: string | null;
  callId: string | null;
  tool: string | null;
  args: unknown;
  outcome: AuditOutcome;
  durationMs: number | null;
  memoryBytes: number | null;
  error: SandboxErrorInfo | null;
  details: Record<string, unknown> | null;
  /**
   * The fields that hold a `Sealed` instead of their value (encrypted at rest, before hashing:
   * the hash covers the ciphertext, so the chain verifies without the key). Absent when none.
   */
  sealed?: SealableField[];
  /**
   * The call id of the call this entry's call replays (`audit.replay`: re-run from the trail as
   * its agent, under the agent's policy of the time of the replay). Absent on every other entry.
   */
  replayOf?: string;
  /** SHA-256 (hex) of the previous entry; the first entry links to GENESIS_HASH. */
  prevHash: string;
  /**
   * The canonical form (hash.ts) `hash` was computed over: 2 for every entry written since
   * form 2 exists; absent on older entries, which were hashed in form 1.
   */
  canonical?: 2;
}
export interface AuditEntry extends AuditEntryBody {
  /** SHA-256 (hex) of the canonical JSON of the body. */
  hash: string;
}

/**
 * A call's write-ahead record, in a slot of its service-worker lifetime (`callSlots`, key
 * `[incarnation, slot]`): written with its request entry, and left in place when its result
 * commits (the slot's next call overwrites it). The call is open while its log holds no closing
 * entry (`call.result`, `call.interrupted`): open-calls.ts.
 */
export interface CallSlotRecord {
  /** Lowest free at the time: a lifetime uses as many slots as it ever had calls open at once. */
  slot: number;
  callId: string;
  /** The service-worker lifetime that started it; another lifetime finding it means it was cut off. */
  incarnation: string;
  sessionId: string;
  agentId: string;
  tool: string;
  startedAt: number;
}

/**
 * Durations as a fixed log-scale histogram (aggregates.ts): bucket `i` holds durations in
 * [2^(i/32), 2^((i+1)/32)) ms, 32 buckets an octave; bucket -321 holds those under 2^-10 ms
 * (and any below zero). Only non-empty buckets are kept. `count` and `sumMs` are exact, so the
 * mean is; a percentile read from the buckets is within 1.1 % of the exact one.
 */
export interface DurationHistogram {
  count: number;
  sumMs: number;
  minMs: number | null;
  maxMs: number | null;
  buckets: Record<string, number>;
}

/** Keys of the `aggregates` store: one global record, one per tool, one per agent, and the time buckets' ring slots. */
export type AggregateKey = ['global'] | ['tool', string] | ['agent', string] | TimeBucketKey;

/** A time bucket's place: its width (ms) and its slot in that width's ring (aggregates.ts, `bucketKey`). */
export type TimeBucketKey = ['time', number, number];

/** Finished calls by outcome, and their durations. */
export interface OutcomeFigures {
  ok: number;
  error: number;
  denied: number;
  durations: DurationHistogram;
}

/** One time bucket: finished calls that ended in [start, start + widthMs), in all and per agent and tool pair. */
export interface TimeBucket extends OutcomeFigures {
  key: TimeBucketKey;
  kind: 'time';
  widthMs: number;
  start: number;
  /** Per `pairKey(agentId, tool)`: the first MAX_BUCKET_PAIRS pairs of the bucket (durations at PAIR_BUCKETS_PER_OCTAVE). */
  pairs: Record<string, OutcomeFigures>;
  pairCount: number;
  /** Finished calls of the pairs beyond those (in the totals, in no pair). */
  unattributed: number;
}

/** What the aggregates have folded in: every audit entry up to `seq`, and how many there were. */
export interface GlobalAggregate {
  key: ['global'];
  kind: 'global';
  /** The folding rules' version (aggregates.ts `AGGREGATE_FORMAT`); another one means rebuild. */
  format: number;
  /** The last audit `seq` folded in; a rebuild or the next commit continues from there. */
  seq: number;
  /** Audit records folded in. */
  entries: number;
}

/** One tool's figures, from its `call.request`, `call.result` and `call.interrupted` entries. */
export interface ToolAggregate {
  key: ['tool', string];
  kind: 'tool';
  name: string;
  /** The first and the last entry folded into this record. */
  firstSeq: number;
  seq: number;
  /** `call.request` entries. */
  invocations: number;
  /** `call.result` entries: ok + errors + denied + cancelled. */
  results: number;
  ok: number;
  /** Results with outcome `error` (or any outcome other than ok, denied, cancelled). */
  errors: number;
  denied: number;
  cancelled: number;
  /** `call.interrupted` entries (the service worker stopped mid-call). */
  interrupted: number;
  /** `durationMs` of the results that have one. */
  durations: DurationHistogram;
  peakMemoryBytes: number | null;
  /** Newest `ts` of a `call.request`. */
  lastUsedAt: number | null;
}

/** One agent's figures, from every entry naming it. */
export interface AgentAggregate {
  key: ['agent', string];
  kind: 'agent';
  agentId: string;
  firstSeq: number;
  seq: number;
  /** `call.request` entries. */
  calls: number;
  ok: number;
  /** Results with outcome `error` (or any outcome other than ok, denied, cancelled). */
  errors: number;
  /** `call.rejected` entries and results with outcome `denied`. */
  denied: number;
  /** Of `denied`, the `call.rejected` entries. */
  rejected: number;
  cancelled: number;
  interrupted: number;
  /** Over every `call.result` (a missing duration counts as 0, as metrics always did). */
  durationSumMs: number;
  durationCount: number;
  /** Newest `ts` of a `call.request`. */
  lastCallAt: number | null;
  /** `call.request` entries per tool: the tools it prefers. */
  tools: Record<string, number>;
  /** `call.request` entries per argument shape (`shapeHash`, src/shared/shape.ts; arguments sealed at rest are not read): the MAX_AGENT_SHAPES most used. */
  shapes: Record<string, number>;
}

export type AggregateRecord = GlobalAggregate | ToolAggregate | AgentAggregate;

/** One `.wasm` file of a watched folder as the last scan found it, and what became of it. */
export interface WatchedFileRecord {
  /** Path inside the folder (`tool.wasm`, `team/tool.wasm`). */
  file: string;
  /** SHA-256 (hex) of its bytes; '' when it could not be read. */
  hash: string;
  /** Size and modification time when `hash` was taken: a file with both unchanged is not read again. */
  size?: number;
  modifiedMs?: number;
  /** The discovered tool it provides (its last good content, when the current one was refused). */
  tool: string | null;
  /** Why its current content is not registered: `{ code, message, details? }`. */
  error: { code: string; message: string; details?: unknown } | null;
}

/**
 * A folder the person picked (File System Access API) or the origin-private file system: its
 * components are kept registered as `discovered` tools. The handle is structured-cloned into
 * IndexedDB, so the watch survives a reload (a picked folder may need its permission granted again).
 */
export interface WatchedFolderRecord {
  id: string;
  name: string;
  handle: FileSystemDirectoryHandle;
  addedAt: number;
  lastScanAt: number | null;
  files: WatchedFileRecord[];
}

/** A window client that announced it hosts tool workers. */
export interface HostRecord {
  clientId: string;
  announcedAt: number;
}

export interface SandboxDB extends DBSchema {
  tools: { key: string; value: ToolRecord };
  sessions: { key: string; value: SessionRecord };
  audit: { key: number; value: AuditEntry; indexes: { 'by-session': string; 'by-call': string; 'by-agent-ts': [string, number]; 'by-tool-seq': [string, number] } };
  callSlots: { key: [string, number]; value: CallSlotRecord };
  /** The write-ahead records before version 15, one a call (deleted on its result): moved into `callSlots` and deleted by version 15's step. */
  pending: { key: string; value: Omit<CallSlotRecord, 'slot'> };
  hosts: { key: string; value: HostRecord };
  agents: { key: string; value: AgentRecord };
  settings: { key: string; value: SettingsRecord };
  workspace: { key: string; value: WorkspaceRecord };
  toolFiles: { key: string; value: ToolFileRecord; indexes: { 'by-hash': string } };
  folders: { key: string; value: WatchedFolderRecord };
  keys: { key: string; value: SealingKeyRecord };
  aggregates: { key: AggregateKey; value: AggregateRecord | TimeBucket };
  archives: { key: number; value: ArchiveCheckpoint };
  signingKeys: { key: string; value: SigningKeyRecord };
  fleet: { key: string; value: FleetConfigRecord | FleetProgressRecord };
  /** Version 12's index, emptied and no longer used from version 14 (kept for the migrations that write it). */
  searchTerms: { key: number; value: SearchTermsRecord; indexes: { 'by-term': [string, number] } };
  searchBlocks: { key: [string, number]; value: SearchBlockRecord };
  searchWindows: { key: number; value: SearchWindowRecord };
  contexts: { key: string; value: ContextRecord; indexes: { 'by-agent': string } };
}

/**
 * What vouches for audit entries archived to a file and removed from the browser
 * (src/store/archive.ts): the file's last line, and kept here so the chain left in the browser
 * verifies from it. Signed with this sandbox's archive key (ECDSA P-256), so the file can be
 * checked anywhere with `publicKey`.
 */
export interface ArchiveCheckpoint {
  format: 1;
  /** The file holds entries `firstSeq` … `through`, in order. */
  firstSeq: number;
  through: number;
  /** Hash of entry #through: the first entry left in the browser links to it. */
  hash: string;
  /** Where the file's chain starts: the previous archive's `through` and `hash`, or seq 0 and the genesis hash. */
  previous: { through: number; hash: string };
  /** SHA-256 (hex) of the file's bytes before this line. */
  fileSha256: string;
  createdAt: number;
  /** The archive key's public half. */
  publicKey: JsonWebKey;
  /** Base64 of the ECDSA P-256 / SHA-256 signature (IEEE P1363) over the canonical JSON of every other field. */
  signature: string;
}

/** The key that signs archive checkpoints; `privateKey` is non-extractable. */
export interface SigningKeyRecord {
  id: string;
  alg: 'ECDSA-P256';
  privateKey: CryptoKey;
  publicKey: JsonWebKey;
  createdAt: number;
}

/**
 * Fleet export (src/server/fleet-export.ts): where the audit stream is sent as OpenTelemetry logs.
 * Set only by the person running the sandbox (admin `fleet.configure`).
 */
export interface FleetConfigRecord {
  key: 'config';
  /** Base OTLP/HTTP endpoint (`https://collector:4318`); logs go to `{endpoint}/v1/logs`. Null: none set. */
  endpoint: string | null;
  enabled: boolean;
  /** Names of the headers sent with each request (their values are in `headers`, sealed). */
  headerNames: string[];
  /** The headers (`{name: value}`) sealed at rest (sealing.ts, context `fleet-export.headers`); null when there are none. */
  headers: Sealed | null;
  compression: 'gzip' | 'none';
  /** A name for this sandbox in the fleet (resource attribute `mcp_sandbox.name`); '' for none. */
  name: string;
  /** Random id of this sandbox (resource attribute `service.instance.id`), made once. */
  instanceId: string;
  updatedAt: number;
}

/** How far the fleet export got: written only by the exporter. */
export interface FleetProgressRecord {
  key: 'progress';
  /** Every entry up to this seq was acknowledged (2xx) by the endpoint, or set as the start by the person. */
  ackedSeq: number;
  /** Failed attempts since the last acknowledged one (the back-off's exponent). */
  failures: number;
  /** No attempt before this time (back-off, or the endpoint's Retry-After); 0: none due. */
  nextAttemptAt: number;
  lastError: { message: string; status: number | null; at: number } | null;
  lastSuccessAt: number | null;
  /** Log records the endpoint said it rejected (OTLP partial success), in total. */
  rejected: number;
  /** Entries found gone (archived and pruned) before they were sent: ranges of seqs skipped. */
  skipped: { from: number; to: number }[];
  /** Who may send now: one sender at a time across service-worker lifetimes (an update runs two). */
  lease: { holder: string; until: number } | null;
}

/**
 * One term's postings in one window of the audit log (src/store/search.ts): the seqs, ascending,
 * of the window's entries holding the term. Key `[term, first]`.
 */
export interface SearchBlockRecord {
  term: string;
  /** The window's first seq (every block of one window has the same). */
  first: number;
  seqs: number[];
}

/**
 * A window of the audit log indexed at once (src/store/search.ts): its seqs and the terms it
 * has blocks for (what an archive's removal deletes). At key 0, how far the index reaches.
 */
export interface SearchWindowRecord {
  /** The window's first seq; 0 for the progress record. */
  first: number;
  last?: number;
  terms?: string[];
  /** Record 0: entries after this are not indexed yet (a search reads them from the log). */
  indexedThrough?: number;
  /** Record 0: entries at or below this were stored before the index existed and are not indexed yet (0: none). */
  pendingThrough?: number;
  /** Record 0: the index's layout and tokenizer (`SEARCH_FORMAT`). */
  format?: number;
}

/**
 * Version 12's search index of the audit log (emptied and unused from version 14): an entry's terms (key: its seq), or,
 * at key 0, how far indexing the entries stored before the index existed has come.
 */
export interface SearchTermsRecord {
  seq: number;
  /** The entry's terms, each as `[term, seq]` (multi-entry index `by-term`); absent on record 0. */
  terms?: [string, number][];
  /** Record 0: entries at or below this seq are not indexed yet (0: all are). */
  pendingThrough?: number;
  /** Record 0: the tokenizer's version (`SEARCH_FORMAT`). */
  format?: number;
}

/** A variable of a context scope (docs/context.md). */
export interface ContextVariableRecord {
  /** Plain JSON, at most MAX_VALUE_BYTES of it. */
  value: unknown;
  sharing: SharingRule;
  updatedAt: number;
  updatedBy: ContextActor;
}

/**
 * One scope of conversation context (src/server/contexts.ts). `key` is
 * `conversation|<agent>|<conversation>`, `session|<session>`, `agent|<agent>` or `global`;
 * its variables all have the scope's sharing rule (Private, SessionOnly, UserScoped, Global).
 */
export interface ContextRecord {
  key: string;
  kind: 'conversation' | 'session' | 'agent' | 'global';
  /** Null for the global scope only (so it is not in `by-agent`). */
  agentId: string | null;
  sessionId: string | null;
  conversationId: string | null;
  startedAt: number;
  updatedAt: number;
  variables: Record<string, ContextVariableRecord>;
  /** Conversations only: narrows the agent's policy for calls in it (Permissive: not at all). */
  securityLevel?: SecurityLevel;
  /** Conversations only: per tool, how calls in it fared (src/server/preferences.ts). */
  preferences?: Record<string, ToolPreferenceRecord>;
}

/** A conversation's record of one tool (docs/context.md, "Tool preferences"). */
export interface ToolPreferenceRecord {
  /** Finished calls of the tool in this conversation, and how many succeeded. */
  calls: number;
  ok: number;
  /** The tool's share (0–1) of the conversation's finished calls on record. */
  weight: number;
  /** ok / calls, as of the tool's last call here. */
  successRate: number;
  /** `ok` or the error code of its last call. */
  lastOutcome: string;
  lastUsedAt: number;
  /**
   * The arguments of its last successful call here: the hash of their shape, and the values
   * redacted by the call's policy, or null when over the size cap (`truncated`) or the policy
   * requires encryption at rest (`withheld`). Offered to the agent, never applied.
   */
  preferred?: { shape: string; arguments: unknown; at: number; truncated?: true; withheld?: true };
}
