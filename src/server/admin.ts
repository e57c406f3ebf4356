/// <reference lib="webworker" />
import type { AdminMethods } from '../api/admin';
import { parsePolicyDocumentText, serializePolicyDocument, toPolicyDocument } from '../policy';
import { envelope, type AdminRequestEnvelope, type AdminResponseEnvelope } from '../shared/wire';
import { readAudit, readAuditTail, toJsonLines, verifyChain, type Tail } from '../store/audit';
import { InvalidInput, policyOf, viewOf } from './agents';
import type { ServerContext } from './context';
import { agentMetrics } from './metrics';
import { readSettings, writeSettings } from './settings';

export interface AdminHooks {
  seed(fixtures: boolean): Promise<string[]>;
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
    reply({ result: await handler(ctx, request.params as never, hooks) });
  } catch (error) {
    const e = error as { code?: string; message: string; errors?: unknown };
    reply({ error: { code: e.code ?? 'admin-failed', message: e.message } });
  }
}

/** Audits an admin change, naming the agent and what changed (never a token). */
async function audited<T>(ctx: ServerContext, method: string, agentId: string | null, details: Record<string, unknown>, run: () => Promise<T>): Promise<T> {
  const result = await run();
  await ctx.audit.append({ event: 'admin', outcome: 'info', agentId, details: { method, ...details } });
  return result;
}

const HANDLERS: { [M in keyof AdminMethods]: Handler<M> } = {
  ping: async () => 'pong',
  'server.info': async (ctx) => ({ ...ctx.config.serverInfo, incarnation: ctx.incarnation }),
  'tools.list': (ctx) => ctx.registry.list(),
  'tools.seed': (_ctx, params, hooks) => hooks.seed(params.fixtures === true),
  'sessions.list': async (ctx) => (await ctx.db.get()).getAll('sessions'),
  'audit.list': async (ctx, params) => {
    const db = await ctx.db.get();
    if (params?.sessionId) return db.getAllFromIndex('audit', 'by-session', params.sessionId);
    if (params?.agentId) return db.getAllFromIndex('audit', 'by-agent', params.agentId);
    return readAudit(ctx.db);
  },
  'audit.tail': (ctx, params) => readAuditTail(ctx.db, Math.min(1000, Math.max(1, Number(params?.limit ?? 200)))),
  'audit.verify': async (ctx, params) => {
    // From a head the caller verified before (incremental), or from the genesis.
    const from: Tail | undefined = params?.from;
    return from ? verifyChain(await readAudit(ctx.db, from.seq), from) : verifyChain(await readAudit(ctx.db));
  },
  'audit.export': async (ctx) => toJsonLines(await readAudit(ctx.db)),

  'agents.list': async (ctx) => (await ctx.agents.list()).map(viewOf),
  'agents.register': (ctx, params) =>
    audited(ctx, 'agents.register', params.id ?? null, { name: params.name, trustLevel: params.trustLevel, origins: params.origins, policy: params.policy ?? null }, async () => {
      const { agent, token } = await ctx.agents.register(params);
      return { agent: viewOf(agent), token };
    }),
  'agents.update': (ctx, params) => {
    const { id, ...change } = params;
    return audited(ctx, 'agents.update', id, { change }, async () => viewOf(await ctx.agents.update(id, change)));
  },
  'agents.revoke': (ctx, params) => audited(ctx, 'agents.revoke', params.id, {}, async () => viewOf(await ctx.agents.revoke(params.id))),
  'agents.rotateToken': (ctx, params) =>
    audited(ctx, 'agents.rotateToken', params.id, {}, async () => {
      const { agent, token } = await ctx.agents.rotateToken(params.id);
      return { agent: viewOf(agent), token };
    }),
  'agents.grant': (ctx, params) => audited(ctx, 'agents.grant', params.id, { grant: params.grant }, async () => viewOf(await ctx.agents.change(params.id, 'grant', params.grant))),
  'agents.revokeGrant': (ctx, params) => audited(ctx, 'agents.revokeGrant', params.id, { revoke: params.revoke }, async () => viewOf(await ctx.agents.change(params.id, 'revoke', params.revoke))),
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
};

export { InvalidInput };
