import { ErrorCode, InitializeRequestSchema, McpError, type InitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { ServerSessionTransport } from '../transport/server-transport';
import type { OpenSessionRequest, SessionOpener } from '../transport/session-router';
import type { ServerContext } from './context';
import { createSessionServer } from './mcp-server';

/**
 * Maps session ids to connected servers. The map is only a cache for this service-worker
 * lifetime: a session known to IndexedDB but not to the map (the worker was stopped and woken)
 * gets a fresh server, and only `initialize` may create a session.
 */
export function createSessionOpener(ctx: ServerContext): SessionOpener {
  const live = new Map<string, Promise<ServerSessionTransport>>();

  const connect = (sessionId: string): Promise<ServerSessionTransport> => {
    let p = live.get(sessionId);
    if (!p) {
      p = (async () => {
        const transport = new ServerSessionTransport(sessionId);
        await createSessionServer(ctx, sessionId).connect(transport);
        return transport;
      })();
      live.set(sessionId, p);
      p.catch(() => live.delete(sessionId));
    }
    return p;
  };

  return async ({ sessionId, agent, initialize }: OpenSessionRequest) => {
    if (initialize) {
      const parsed = InitializeRequestSchema.safeParse(initialize);
      if (!parsed.success) throw new McpError(ErrorCode.InvalidParams, `invalid initialize request: ${parsed.error.issues[0]?.message ?? 'malformed'}`);
      await openSession(ctx, sessionId, agent, parsed.data);
      return connect(sessionId);
    }
    if (live.has(sessionId)) return connect(sessionId);
    return (await ctx.sessions.get(sessionId)) ? connect(sessionId) : null;
  };
}

async function openSession(ctx: ServerContext, sessionId: string, agent: string | undefined, init: InitializeRequest): Promise<void> {
  const now = ctx.clock();
  const existing = await ctx.sessions.get(sessionId);
  const agentId = existing?.agentId ?? agent ?? ctx.config.anonymousAgent;
  await ctx.sessions.put({
    id: sessionId,
    agentId,
    protocolVersion: init.params.protocolVersion,
    clientInfo: { name: init.params.clientInfo.name, version: init.params.clientInfo.version },
    createdAt: existing?.createdAt ?? now,
    lastActivityAt: now,
    callCount: existing?.callCount ?? 0,
  });
  await ctx.audit.append({ event: 'session.open', outcome: 'info', sessionId, agentId, details: { clientInfo: init.params.clientInfo, protocolVersion: init.params.protocolVersion, reinitialized: !!existing } });
}
