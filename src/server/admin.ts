/// <reference lib="webworker" />
import type { AdminMethods } from '../api/admin';
import { decideToolAccess, isRestricted, parsePolicyDocumentText, serializePolicyDocument, toPolicyDocument } from '../policy';
import { envelope, type AdminRequestEnvelope, type AdminResponseEnvelope } from '../shared/wire';
import type { IDBPDatabase } from 'idb';
import type { AuditEntry, AuditEvent, AuditOutcome, SandboxDB, ToolRecord, WatchedFolderRecord } from '../store/schema';
import { openEntry, readAudit, type OpenedEntry } from '../store/audit';
import { verifySlice } from '../store/verify';
import { queryAudit, readTail } from '../store/audit-query';
import { readChartWindow } from '../store/aggregate-window';
import type { LinkLine } from '../store/audit-file';
import { indexOlderEntries } from '../store/search';
import { replayCall } from './audit-replay';
import { archiveRange, pruneArchived, throughBefore } from '../store/archive';
import { policyOf, viewOf } from './agents';
import type { ServerContext } from './context';
import { agentMetrics } from './metrics';
import { ToolUploads } from './registry';
import { toolStats } from './tool-stats';
import { readSettings, writeSettings } from './settings';
import { setContextLevel, setGlobalVariable } from './context-admin';
import type { FleetExporter } from './fleet-export';

export interface AdminHooks {
  seed(fixtures: boolean): Promise<string[]>;
  /** Tells every live session that the tool list changed; returns how many were told. */
  toolsChanged?(agentId?: string): Promise<number>;
  /** Hands an upload to a host window (the service worker cannot transpile). */
  upload?(bytes: ArrayBuffer | Uint8Array, fileName: string): Promise<ToolRecord>;
  /** The fleet export of this service worker (src/server/fleet-export.ts). */
  fleet?: FleetExporter;
}

type Params<M extends keyof AdminMethods> = AdminMethods[M]['params'];
type Handler<M extends keyof AdminMethods> = (ctx: ServerContext, params: Params<M>, hooks: AdminHooks) => Promise<AdminMethods[M]['result']>;

/**
 * Admin requests from the app's own pages (only same-origin contexts can message a service
 * worker). Agent sessions never reach these: they arrive as `admin` envelopes, not MCP.
 * Every change is audited.
 */
export async function handleAdmin(ctx: ServerContext, request: AdminRequestEnvelope, source: Client, hooks: AdminHooks): Promise<void> {
  const reply = (body: Omit<AdminResponseEnvelope, 'channel' | 'v' | 'kind' | 'id'>) => source.postMessage(envelope<AdminResponseEnvelope>({ kind: 'admin-result', id: request.id, ...body }));
  const handler = (HANDLERS as Record<string, Handler<keyof AdminMethods> | undefined>)[request.method];
  try {
    if (!handler) throw Object.assign(new Error(`unknown admin method ${request.method}`), { code: 'unknown-method' });
    // What this request reads includes every entry appended before it (a call's result commits
    // after its reply, see audited-run.ts); a ping reads nothing.
    if (request.method !== 'ping') await ctx.audit.settled();
    reply({ result: await handler(ctx, request.params as never, hooks) });
  } catch (error) {
    const e = error as { code?: string; message: string; errors?: unknown; details?: unknown };
    const details = e.errors !== undefined ? { errors: e.errors } : e.details;
    reply({ error: { code: e.code ?? 'admin-failed', message: e.message, ...(details !== undefined ? { details } : {}) } });
  }
}

/** Audits an admin change, naming the agent and what changed (never a token). */
async function audited<T>(ctx: ServerContext, method: string, agentId: string | null, details: Record<string, unknown>, run: () => Promise<T>): Promise<T> {
  const result = await run();
  // An agent change records the policy version it leaves, which refusals name (agents.ts).
  const view = result as { policyVersion?: unknown; agent?: { policyVersion?: unknown } } | null;
  const policyVersion = view?.policyVersion ?? view?.agent?.policyVersion;
  if (typeof policyVersion === 'string') details = { ...details, policyVersion };
  await ctx.audit.append({ event: 'admin', outcome: 'info', agentId, details: { method, ...details } });
  return result;
}

/** An audited change to the tool list, announced to every live session. */
async function toolChange<T>(ctx: ServerContext, hooks: AdminHooks, method: string, tool: string, details: Record<string, unknown>, run: () => Promise<T>): Promise<T> {
  const result = await run();
  await ctx.audit.append({ event: 'admin', outcome: 'info', tool, details: { method, ...details } });
  await hooks.toolsChanged?.();
  return result;
}

/**
 * A grant of a tool by exact name must name a registered tool: a misspelt grant (`fetch_urll`)
 * would grant nothing and say so nowhere. A pattern (`fs_*`) may name tools yet to come.
 */
async function expectKnownTool(ctx: ServerContext, grant: unknown): Promise<void> {
  const g = grant as { kind?: unknown; name?: unknown } | null;
  if (g?.kind !== 'tool' || typeof g.name !== 'string' || /[*?[\]{}]/.test(g.name)) return;
  if (await ctx.registry.get(g.name)) return;
  const names = (await ctx.registry.list()).map((t) => t.name);
  const near = names.filter((n) => closeTo(n, g.name as string));
  throw Object.assign(new Error(`no tool named ${JSON.stringify(g.name)} is registered${near.length ? `; did you mean ${near.map((n) => JSON.stringify(n)).join(' or ')}?` : ''}`), { code: 'unknown-tool', details: { name: g.name, suggestions: near } });
}

/** Names one edit apart, or one a prefix of the other: what a typo usually is. */
function closeTo(a: string, b: string): boolean {
  if (a.startsWith(b) || b.startsWith(a)) return Math.abs(a.length - b.length) <= 2;
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return a.slice(i + 1) === b.slice(i + 1) || a.slice(i + 1) === b.slice(i) || a.slice(i) === b.slice(i + 1);
}

/** Seqs answered per `audit.segment` request (bounded work on the service worker's thread). */
const SEGMENT_PAGE = 2_000;

/** Work one `audit.prune` request does before it answers (well inside the admin client's 30 s). */
const PRUNE_BUDGET_MS = 5_000;

/** What `agents.update` changes on an agent. */
const EDITABLE = ['name', 'trustLevel', 'origins', 'policy'] as const;

const HANDLERS: { [M in keyof AdminMethods]: Handler<M> } = {
  ping: async () => 'pong',
  'server.info': async (ctx) => ({ ...ctx.config.serverInfo, incarnation: ctx.incarnation }),
  'tools.list': (ctx) => ctx.registry.list(),
  'tools.seed': (_ctx, params, hooks) => hooks.seed(params.fixtures === true),
  'tools.stats': (ctx, params) => toolStats(ctx, params?.name),
  'tools.upload': async (_ctx, params, hooks) => {
    if (!hooks.upload) throw Object.assign(new Error('uploads are imported by the app window'), { code: 'no-sandbox-host' });
    if (!(params?.bytes instanceof ArrayBuffer || params?.bytes instanceof Uint8Array)) throw Object.assign(new Error('bytes must be an ArrayBuffer or Uint8Array'), { code: 'not-wasm' });
    return hooks.upload(params.bytes, String(params.fileName ?? 'tool.wasm'));
  },
  'tools.stage': (ctx, params) => new ToolUploads(ctx.db).stage(params.hash, params.files, ctx.clock()),
  'tools.discard': (ctx, params) => new ToolUploads(ctx.db).discard(params.hash),
  'tools.register': async (ctx, params, hooks) => {
    const uploads = new ToolUploads(ctx.db);
    const before = await ctx.registry.get((params.metadata as { name?: string } | null)?.name ?? '');
    const record = await uploads.register(params, ctx.clock()).catch(async (error: unknown) => {
      await ctx.audit.append({ event: 'admin', outcome: 'denied', tool: (params.metadata as { name?: string } | null)?.name ?? null, details: { method: 'tools.register', code: (error as { code?: string }).code ?? 'admin-failed', hash: params.component?.sha256 ?? null } });
      throw error;
    });
    if (before?.code.hash === record.code.hash) return record;
    await ctx.audit.append({ event: 'admin', outcome: 'info', tool: record.name, details: { method: 'tools.register', source: record.source, version: record.version, hash: record.code.hash, size: record.code.size, previous: before ? { version: before.version, hash: before.code.hash } : null } });
    await hooks.toolsChanged?.();
    return record;
  },
  'tools.enable': (ctx, params, hooks) => toolChange(ctx, hooks, 'tools.enable', params.name, {}, () => new ToolUploads(ctx.db).setEnabled(params.name, true)),
  'tools.disable': (ctx, params, hooks) => toolChange(ctx, hooks, 'tools.disable', params.name, {}, () => new ToolUploads(ctx.db).setEnabled(params.name, false)),
  'tools.pin': (ctx, params, hooks) => toolChange(ctx, hooks, 'tools.pin', params.name, { hash: params.hash }, () => new ToolUploads(ctx.db).pin(params.name, params.hash ?? null)),
  'tools.remove': (ctx, params, hooks) => toolChange(ctx, hooks, 'tools.remove', params.name, {}, () => new ToolUploads(ctx.db).remove(params.name)),
  'tools.versions': (ctx, params) => new ToolUploads(ctx.db).versions(params.name),
  'folders.list': async (ctx) => (await ctx.db.get()).getAll('folders'),
  'folders.put': async (ctx, params) => {
    const folder = checkedFolder(params);
    const db = await ctx.db.get();
    const tx = db.transaction('folders', 'readwrite');
    const isNew = !(await tx.store.getKey(folder.id));
    void tx.store.put(folder);
    await tx.done;
    // Scans store their results here every few seconds; only a new folder is an admin change
    // (what a scan registers or withdraws is audited by tools.register / tools.remove).
    if (isNew) await ctx.audit.append({ event: 'admin', outcome: 'info', details: { method: 'folders.put', id: folder.id, name: folder.name } });
    return folder;
  },
  'folders.remove': async (ctx, params) => {
    const id = String(params?.id ?? '');
    const db = await ctx.db.get();
    const tx = db.transaction('folders', 'readwrite');
    const existing = await tx.store.get(id);
    if (existing) void tx.store.delete(id);
    await tx.done;
    if (existing) await ctx.audit.append({ event: 'admin', outcome: 'info', details: { method: 'folders.remove', id, name: existing.name } });
    return { removed: Boolean(existing) };
  },
  'sessions.list': async (ctx) => ctx.sessions.list(),
  // The person running the sandbox sees sealed fields decrypted (export keeps them sealed).
  'audit.list': async (ctx, params) => {
    const db = await ctx.db.get();
    const entries = params?.sessionId ? await db.getAllFromIndex('audit', 'by-session', params.sessionId) : params?.agentId ? await agentEntries(db, String(params.agentId)) : await readAudit(ctx.db);
    return opened(ctx, entries);
  },
  'audit.query': async (ctx, params) => {
    const f = params?.filter ?? {};
    const text = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
    const time = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
    const filter = { agentId: text(f.agentId), tool: text(f.tool), event: text(f.event) as AuditEvent | undefined, outcome: text(f.outcome) as AuditOutcome | undefined, from: time(f.from), to: time(f.to), text: text(f.text)?.slice(0, 500) };
    const beforeSeq = Number.isSafeInteger(params?.beforeSeq) ? params!.beforeSeq! : null;
    const page = await queryAudit(ctx.db, filter, beforeSeq, Number(params?.limit ?? 200));
    return { entries: await opened(ctx, page.entries), next: page.next, ...(page.search ? { search: page.search } : {}) };
  },
  'audit.replay': (ctx, params) => replayCall(ctx, params?.callId),
  // Read from the aggregates (the log's own fold, so calls not yet checkpointed count too).
  'audit.chart': async (ctx, params) => {
    const time = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
    const text = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
    const to = time(params?.to) ?? ctx.clock();
    return readChartWindow(ctx.db, await ctx.audit.aggregates(), { from: time(params?.from) ?? null, to, agentId: text(params?.agentId), tool: text(params?.tool) });
  },
  'audit.call': async (ctx, params) => {
    const callId = typeof params?.callId === 'string' ? params.callId : '';
    const limit = Math.min(1000, Math.max(1, Math.floor(Number(params?.limit ?? 200)) || 200));
    return opened(ctx, callId ? await (await ctx.db.get()).getAllFromIndex('audit', 'by-call', callId, limit) : []);
  },
  // A verifiable segment of the log (src/store/audit-file.ts): the included entries as stored
  // (sealed fields stay sealed: the hash covers them so), every other entry of [from, to] as a link.
  'audit.segment': async (ctx, params) => {
    const from = Number(params?.from);
    const to = Math.min(Number(params?.to), from + SEGMENT_PAGE - 1);
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 1 || to < from) throw Object.assign(new Error('audit.segment: expects integers 1 ≤ from ≤ to'), { code: 'invalid-params' });
    const include = new Set((Array.isArray(params?.include) ? params.include : []).filter((s): s is number => Number.isSafeInteger(s) && s >= from && s <= to));
    const tx = (await ctx.db.get()).transaction('audit');
    const records = await tx.store.getAll(IDBKeyRange.bound(from, to));
    await tx.done;
    const lines = records.map((e): AuditEntry | LinkLine => (include.has(e.seq) ? e : { link: { seq: e.seq, prevHash: e.prevHash, hash: e.hash } }));
    return { after: records[0]?.seq === from ? { seq: from - 1, hash: records[0].prevHash } : null, lines, next: to < Number(params?.to) ? to + 1 : null };
  },
  'audit.entries': async (ctx, params) => {
    const seqs = (Array.isArray(params?.seqs) ? params.seqs : []).filter((s): s is number => Number.isSafeInteger(s)).slice(0, 500);
    const tx = (await ctx.db.get()).transaction('audit');
    const found = await Promise.all(seqs.map((s) => tx.store.get(s)));
    await tx.done;
    return opened(ctx, found.filter((e): e is AuditEntry => e !== undefined));
  },
  'audit.tail': async (ctx, params) => {
    // The trail is open: entries stored before the search index existed are indexed meanwhile.
    void indexOlderEntries(ctx.db).catch(() => undefined);
    return opened(ctx, await readTail(ctx.db, Math.min(1000, Math.max(1, Number(params?.limit ?? 200)))));
  },
  // One bounded slice per request (the app verifies in its own worker: src/entries/audit-worker.ts).
  'audit.verify': (ctx, params) => verifySlice(ctx.db, params?.from, params?.limit),
  'audit.retention': async (ctx, params) => {
    const db = await ctx.db.get();
    const [range, entries, storage, persisted] = await Promise.all([
      archiveRange(ctx.db),
      db.count('audit'),
      navigator.storage?.estimate?.().catch(() => null) ?? null,
      navigator.storage?.persisted?.().catch(() => false) ?? false,
    ]);
    const before = typeof params?.before === 'number' ? { throughBefore: await throughBefore(ctx.db, params.before) } : {};
    // `usageDetails` is Chromium's breakdown (not in the DOM typings): the database's share of the use.
    const indexedDB = (storage as { usageDetails?: { indexedDB?: number } } | null)?.usageDetails?.indexedDB ?? null;
    return { ...range, entries, storage: storage ? { usage: storage.usage ?? 0, quota: storage.quota ?? 0, indexedDB, persisted } : null, ...before };
  },
  'audit.prune': async (ctx, params) => {
    const checkpoint = params?.checkpoint;
    if (typeof checkpoint !== 'object' || checkpoint === null) throw Object.assign(new Error('checkpoint: the archive file\'s last line ({"archive": …}) is needed'), { code: 'invalid-params' });
    // The aggregates keep the figures of what is removed: they are stored through the newest entry first.
    // So are the sessions' records: one completed from the log must not need what is removed.
    // One request removes what it can in PRUNE_BUDGET_MS; the caller asks again until `done`.
    const settle = async () => {
      await ctx.sessions.list();
      await ctx.audit.checkpoint();
    };
    const { removed, done } = await pruneArchived(ctx.db, checkpoint, settle, PRUNE_BUDGET_MS);
    await ctx.audit.append({ event: 'admin', outcome: 'info', details: { method: 'audit.prune', firstSeq: checkpoint.firstSeq, through: checkpoint.through, hash: checkpoint.hash, fileSha256: checkpoint.fileSha256, removed, done } });
    return { through: checkpoint.through, removed, done };
  },

  'tools.audience': async (ctx, params) => {
    // A restricted tool (a test bundle) is reached only by an exact grant, as calls decide.
    const tool = await ctx.registry.get(String(params.name));
    const restricted = tool ? isRestricted(tool) : false;
    return (await ctx.agents.list())
      .filter((a) => a.revokedAt === null)
      .map((a) => {
        const decision = decideToolAccess(policyOf(a), String(params.name), restricted);
        return { agentId: a.id, trustLevel: a.trustLevel, sees: decision.allow, rule: decision.allow ? null : decision.rule };
      });
  },
  'agents.list': async (ctx) => (await ctx.agents.list()).map(viewOf),
  'agents.register': (ctx, params) => {
    // The id is settled first, so the audit entry names the agent even when one is generated.
    const input = { ...params, id: params.id ?? crypto.randomUUID() };
    return audited(ctx, 'agents.register', input.id, { name: input.name, trustLevel: input.trustLevel, origins: input.origins, policy: input.policy ?? null }, async () => {
      const { agent, token } = await ctx.agents.register(input);
      return { agent: viewOf(agent), token };
    });
  },
  'agents.update': async (ctx, params, hooks) => {
    const { id, revertOf, ...change } = params;
    // What each changed setting held before, so the trail can show the change and take it back:
    // the settings an update can change, never another field of the record (the token's hash).
    const record = await ctx.agents.get(id);
    const before = record ? Object.fromEntries(EDITABLE.filter((k) => k in change).map((k) => [k, record[k] ?? null])) : null;
    const view = await audited(ctx, 'agents.update', id, { change, before, ...(Number.isSafeInteger(revertOf) ? { revertOf } : {}) }, async () => viewOf(await ctx.agents.update(id, change)));
    // A new trust level or policy can change which tools the agent sees.
    await hooks.toolsChanged?.(id);
    return view;
  },
  'agents.revoke': (ctx, params) => audited(ctx, 'agents.revoke', params.id, {}, async () => viewOf(await ctx.agents.revoke(params.id))),
  'agents.rotateToken': (ctx, params) =>
    audited(ctx, 'agents.rotateToken', params.id, {}, async () => {
      const { agent, token } = await ctx.agents.rotateToken(params.id);
      return { agent: viewOf(agent), token };
    }),
  'agents.grant': async (ctx, params, hooks) => {
    await expectKnownTool(ctx, params.grant);
    const view = await audited(ctx, 'agents.grant', params.id, { grant: params.grant }, async () => viewOf(await ctx.agents.change(params.id, 'grant', params.grant)));
    // The agent's live sessions are told at once (`notifications/tools/list_changed`).
    await hooks.toolsChanged?.(params.id);
    return view;
  },
  'agents.revokeGrant': async (ctx, params, hooks) => {
    const view = await audited(ctx, 'agents.revokeGrant', params.id, { revoke: params.revoke }, async () => viewOf(await ctx.agents.change(params.id, 'revoke', params.revoke)));
    await hooks.toolsChanged?.(params.id);
    return view;
  },
  'agents.undoChange': async (ctx, params, hooks) => {
    const { id, op, change, at } = params;
    const view = await audited(ctx, 'agents.undoChange', id, { undone: { op, change, at } }, async () => viewOf(await ctx.agents.undoChange(id, op, change, at)));
    await hooks.toolsChanged?.(id);
    return view;
  },
  'agents.metrics': (ctx, params) => agentMetrics(ctx, params?.id),
  'policy.validate': async (_ctx, params) => {
    const parsed = parsePolicyDocumentText(String(params.text ?? ''));
    return parsed.ok ? { ok: true as const, policy: parsed.policy } : { ok: false as const, errors: parsed.errors.map((e) => ({ path: e.path, reason: e.reason })) };
  },
  'policy.export': async (ctx, params) => {
    const agent = await ctx.agents.get(params.id);
    if (!agent) throw Object.assign(new Error(`no agent ${params.id}`), { code: 'unknown-agent' });
    return serializePolicyDocument(toPolicyDocument(policyOf(agent)));
  },
  'settings.get': (ctx) => readSettings(ctx.db),
  'settings.set': (ctx, params) => audited(ctx, 'settings.set', null, { change: params }, () => writeSettings(ctx.db, params)),
  'contexts.list': (ctx, params) => ctx.contexts.list(typeof params?.agentId === 'string' ? params.agentId : undefined),
  'contexts.setGlobal': (ctx, params) => setGlobalVariable(ctx, params),
  'contexts.setLevel': (ctx, params) => setContextLevel(ctx, params),
  'fleet.status': (_ctx, _params, hooks) => fleetOf(hooks).status(),
  // Audited with the header names, never their values.
  'fleet.configure': async (ctx, params, hooks) => {
    const change = await fleetOf(hooks).configure(params);
    await ctx.audit.append({ event: 'admin', outcome: 'info', details: { method: 'fleet.configure', ...change } });
    return fleetOf(hooks).status();
  },
  'fleet.retry': (_ctx, _params, hooks) => fleetOf(hooks).retryNow(),
};

function fleetOf(hooks: AdminHooks): FleetExporter {
  if (!hooks.fleet) throw Object.assign(new Error('the fleet export runs in the service worker'), { code: 'unknown-method' });
  return hooks.fleet;
}

/** A watched folder as the watcher sends it: checked shape, nothing else kept. */
function checkedFolder(params: WatchedFolderRecord): WatchedFolderRecord {
  const invalid = (message: string) => Object.assign(new Error(message), { code: 'invalid-input' });
  const f = params as Partial<WatchedFolderRecord> | undefined;
  if (!f || typeof f.id !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(f.id)) throw invalid('a folder needs an id (letters, digits, - and _)');
  if (typeof f.name !== 'string' || f.name.length > 1024) throw invalid('a folder needs a name');
  // A FileSystemDirectoryHandle survives structured cloning (postMessage, IndexedDB).
  if (!f.handle || typeof f.handle !== 'object' || (f.handle as { kind?: unknown }).kind !== 'directory') throw invalid('a folder needs a FileSystemDirectoryHandle');
  if (!Number.isFinite(f.addedAt) || !(f.lastScanAt === null || Number.isFinite(f.lastScanAt))) throw invalid('addedAt and lastScanAt must be times');
  if (!Array.isArray(f.files) || !f.files.every((x) => x && typeof x.file === 'string' && typeof x.hash === 'string' && (x.tool === null || typeof x.tool === 'string'))) throw invalid('files must be {file, hash, tool, error}[]');
  const files = f.files.map(({ file, hash, tool, error }) => ({ file, hash, tool, error: error ? { code: String(error.code), message: String(error.message), ...(error.details !== undefined ? { details: error.details } : {}) } : null }));
  return { id: f.id, name: f.name, handle: f.handle, addedAt: Number(f.addedAt), lastScanAt: f.lastScanAt ?? null, files };
}

/** Entries with their sealed fields decrypted (those that will not open are listed in `unopened`). */
/** An agent's entries in log order, from the (agent, time) index (the clock may step back: sorted by seq). */
async function agentEntries(db: IDBPDatabase<SandboxDB>, agentId: string): Promise<AuditEntry[]> {
  const entries = await db.getAllFromIndex('audit', 'by-agent-ts', IDBKeyRange.bound([agentId, -Infinity], [agentId, Infinity]));
  return entries.sort((a, b) => a.seq - b.seq);
}

function opened(ctx: ServerContext, entries: AuditEntry[]): Promise<OpenedEntry[]> {
  return Promise.all(entries.map((e) => (e.sealed?.length ? openEntry(e, ctx.sealer) : e)));
}
