/// <reference lib="webworker" />
import { envelope, type AdminRequestEnvelope, type AdminResponseEnvelope } from '../shared/wire';
import { readAudit, readAuditTail, toJsonLines, verifyChain, type Tail } from '../store/audit';
import type { ServerContext } from './context';

export interface AdminHooks {
  seed(fixtures: boolean): Promise<string[]>;
}

/**
 * Admin requests from the app's own pages (only same-origin contexts can message a service
 * worker). Agent sessions never reach these: they arrive as `admin` envelopes, not MCP.
 */
export async function handleAdmin(ctx: ServerContext, request: AdminRequestEnvelope, source: Client, hooks: AdminHooks): Promise<void> {
  const reply = (body: Omit<AdminResponseEnvelope, 'channel' | 'v' | 'kind' | 'id'>) => source.postMessage(envelope<AdminResponseEnvelope>({ kind: 'admin-result', id: request.id, ...body }));
  try {
    reply({ result: await dispatch(ctx, request, hooks) });
  } catch (error) {
    reply({ error: { code: (error as { code?: string }).code ?? 'admin-failed', message: (error as Error).message } });
  }
}

async function dispatch(ctx: ServerContext, { method, params }: AdminRequestEnvelope, hooks: AdminHooks): Promise<unknown> {
  switch (method) {
    case 'ping':
      return 'pong';
    case 'server.info':
      return { ...ctx.config.serverInfo, incarnation: ctx.incarnation };
    case 'tools.list':
      return ctx.registry.list();
    case 'tools.seed':
      return hooks.seed((params as { fixtures?: boolean } | undefined)?.fixtures === true);
    case 'sessions.list':
      return (await ctx.db.get()).getAll('sessions');
    case 'audit.list': {
      const sessionId = (params as { sessionId?: string } | undefined)?.sessionId;
      return sessionId ? (await ctx.db.get()).getAllFromIndex('audit', 'by-session', sessionId) : readAudit(ctx.db);
    }
    case 'audit.tail':
      return readAuditTail(ctx.db, Math.min(1000, Math.max(1, Number((params as { limit?: number } | undefined)?.limit ?? 200))));
    case 'audit.verify': {
      // From a head the caller verified before (incremental), or from the genesis.
      const from = (params as { from?: Tail } | undefined)?.from;
      return from ? verifyChain(await readAudit(ctx.db, from.seq), from) : verifyChain(await readAudit(ctx.db));
    }
    case 'audit.export':
      return toJsonLines(await readAudit(ctx.db));
    default:
      throw Object.assign(new Error(`unknown admin method ${method}`), { code: 'unknown-method' });
  }
}
