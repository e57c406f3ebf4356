import { ErrorCode, InitializeRequestSchema, McpError, type InitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { RpcCode } from '../shared/errors';
import { ServerSessionTransport } from '../transport/server-transport';
import type { OpenSessionRequest, Peer, SessionOpener } from '../transport/session-router';
import { ANONYMOUS, authenticate, type AuthFailure } from './agents';
import type { ServerContext } from './context';
import type { LiveSessions } from './live-sessions';
import { createSessionServer } from './mcp-server';
import { readSettings } from './settings';

/**
 * Maps session ids to connected servers. The map is only a cache for this service-worker
 * lifetime: a session known to IndexedDB but not to the map (the worker was stopped and woken)
 * gets a fresh server. Only `initialize` with valid credentials (or, if settings allow, none)
 * creates a session, and a session answers only to the origin that opened it.
 */
export function createSessionOpener(ctx: ServerContext, sessions?: LiveSessions): SessionOpener {
  const live = new Map<string, { origin: string; transport: Promise<ServerSessionTransport> }>();

  const connect = (sessionId: string, origin: string, agentId: string): Promise<ServerSessionTransport> => {
    let entry = live.get(sessionId);
    if (!entry) {
      const t = new ServerSessionTransport(sessionId);
      const server = createSessionServer(ctx, sessionId);
      const transport = server.connect(t).then(() => t);
      sessions?.set(sessionId, transport.then(() => server), agentId);
      entry = { origin, transport };
      live.set(sessionId, entry);
      transport.catch(() => live.delete(sessionId));
    }
    return entry.transport;
  };

  return async ({ sessionId, peer, auth, initialize }: OpenSessionRequest) => {
    if (initialize) {
      const parsed = InitializeRequestSchema.safeParse(initialize);
      if (!parsed.success) throw new McpError(ErrorCode.InvalidParams, `invalid initialize request: ${parsed.error.issues[0]?.message ?? 'malformed'}`);
      const existing = await ctx.sessions.get(sessionId);
      if (existing && existing.origin !== peer.origin) return null; // not yours: as if unknown
      const agentId = await openSession(ctx, sessionId, peer, auth, parsed.data);
      live.delete(sessionId);
      sessions?.delete(sessionId);
      return connect(sessionId, peer.origin, agentId);
    }
    const cached = live.get(sessionId);
    if (cached) return cached.origin === peer.origin ? cached.transport : null;
    const session = await ctx.sessions.get(sessionId);
    return session && session.origin === peer.origin ? connect(sessionId, peer.origin, session.agentId) : null;
  };
}

/** Records a new (or re-initialized) session of an authenticated agent; returns the agent's id. */
export async function openSession(ctx: ServerContext, sessionId: string, peer: Peer, auth: OpenSessionRequest['auth'], init: InitializeRequest): Promise<string> {
  const now = ctx.clock();
  const agentId = await identify(ctx, sessionId, peer, auth);
  const existing = await ctx.sessions.get(sessionId);
  if (existing && existing.agentId !== agentId) throw new McpError(RpcCode.Unauthenticated, 'this session belongs to another agent', { code: 'unauthenticated' });
  // Only the two named strings, capped: clientInfo is the peer's own object and may carry
  // anything, of any size or depth, which the session record and the audit must not keep.
  const clientInfo = { name: String(init.params.clientInfo.name).slice(0, 200), version: String(init.params.clientInfo.version).slice(0, 100) };
  const protocolVersion = String(init.params.protocolVersion).slice(0, 40);
  await ctx.sessions.put({
    id: sessionId,
    agentId,
    origin: peer.origin,
    via: peer.via,
    protocolVersion,
    clientInfo,
    createdAt: existing?.createdAt ?? now,
    lastActivityAt: now,
    callCount: existing?.callCount ?? 0,
  });
  await ctx.audit.append({ event: 'session.open', outcome: 'info', sessionId, agentId, details: { origin: peer.origin, via: peer.via, clientInfo, protocolVersion, reinitialized: !!existing } });
  return agentId;
}

/** Who this connection is. Every refusal is audited with its reason; the peer learns none. */
async function identify(ctx: ServerContext, sessionId: string, peer: Peer, auth: OpenSessionRequest['auth']): Promise<string> {
  let failure: AuthFailure | 'no-credentials';
  if (auth) {
    const agent = await ctx.agents.get(auth.agent);
    const problem = await authenticate(agent, auth.token, peer.origin);
    if (!problem) return agent!.id;
    failure = problem;
  } else {
    if ((await readSettings(ctx.db)).unauthenticated === 'untrusted') return ANONYMOUS.id;
    failure = 'no-credentials';
  }
  await ctx.audit.append({ event: 'session.refused', outcome: 'denied', sessionId, agentId: auth?.agent ?? null, details: { reason: failure, origin: peer.origin, via: peer.via } });
  throw new McpError(RpcCode.Unauthenticated, 'authentication failed: unknown agent, wrong token, or an origin this agent may not use', { code: 'unauthenticated' });
}
