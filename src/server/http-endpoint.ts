/// <reference lib="webworker" />
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { InitializeRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { RpcCode } from '../shared/errors';
import { sha256Hex } from '../store/hash';
import type { ServerContext } from './context';
import type { LiveSessions } from './live-sessions';
import { createSessionServer } from './mcp-server';
import { openSession } from './session-opener';
import { serveStateless, statelessVersionOf } from './stateless-http';

/** Where the app answers MCP over Streamable HTTP, relative to its root. */
export const MCP_HTTP_PATH = 'mcp';
/** Largest `initialize` body read here (later requests are bounded by the SDK transport: 4 MiB). */
const MAX_INITIALIZE_BYTES = 64 * 1024;
/** Largest body of a sessionless request (a stateless 2026-07-28 request, like a session's: 4 MiB). */
const MAX_SESSIONLESS_BYTES = 4 * 1024 * 1024;

interface HttpSession {
  transport: WebStandardStreamableHTTPServerTransport;
  agentId: string;
}

/**
 * MCP over Streamable HTTP, produced by the service worker itself from the same server core as
 * the postMessage path: the same session records, policy, counters and audit; only the
 * transport differs (the SDK's `WebStandardStreamableHTTPServerTransport`, Request in, Response
 * out, SSE streamed from the worker).
 *
 * - **Who**: `Authorization: Bearer <the agent's token>` on every request; the token names the
 *   agent (its hash is compared with each agent's). The origin is the app's own: a service
 *   worker only sees requests of the pages it controls, so a page of another site cannot reach
 *   this endpoint; an `Origin` header naming another origin is refused (403) all the same. The
 *   agent must be registered for the app's origin.
 * - **Revisions**: 2025-11-25 (and earlier) with sessions, below; 2026-07-28, stateless (no
 *   session header, the version in each request's `_meta`), served by `serveStateless` through
 *   the same session server, in a per-agent implicit session (stateless-http.ts).
 * - **Sessions** live as long as this service-worker lifetime: after a stop a request naming an
 *   old session gets 404, and the client initializes again (as the protocol says). A session
 *   answers only to the agent that opened it.
 */
export class HttpEndpoint {
  private readonly sessions = new Map<string, HttpSession>();
  /** Token hash → agent id, learnt in this lifetime (a token is checked against the agent's record each time). */
  private readonly byToken = new Map<string, string>();

  constructor(
    private readonly ctx: ServerContext,
    private readonly origin: string,
    private readonly live?: LiveSessions,
  ) {}

  async handle(request: Request): Promise<Response> {
    const origin = request.headers.get('origin');
    if (origin !== null && origin !== this.origin) return rpcError(403, RpcCode.Unauthenticated, `requests from ${origin} are not served here`);
    const caller = await this.caller(request);
    if (!caller) return rpcError(401, RpcCode.Unauthenticated, 'authentication failed: send Authorization: Bearer <agent token>', { 'WWW-Authenticate': 'Bearer realm="mcp-sandbox"' });
    const sessionId = request.headers.get('mcp-session-id');
    if (sessionId !== null) {
      const session = this.sessions.get(sessionId);
      // Another agent's session is answered as if it did not exist.
      if (!session || session.agentId !== caller.agentId) return rpcError(404, RpcCode.UnknownSession, 'Session not found');
      if (request.method === 'DELETE') {
        this.sessions.delete(sessionId);
        this.live?.delete(sessionId);
      }
      return session.transport.handleRequest(request);
    }
    if (request.method !== 'POST') return rpcError(400, RpcCode.InvalidRequest, 'Bad Request: Mcp-Session-Id header is required');
    const declared = Number(request.headers.get('content-length') ?? 0);
    if (declared > MAX_SESSIONLESS_BYTES) return rpcError(413, RpcCode.InvalidRequest, `a request is at most ${MAX_SESSIONLESS_BYTES} bytes`);
    const text = await request.text();
    if (text.length > MAX_SESSIONLESS_BYTES) return rpcError(413, RpcCode.InvalidRequest, `a request is at most ${MAX_SESSIONLESS_BYTES} bytes`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return rpcError(400, RpcCode.ParseError, 'Parse error: the body is not JSON');
    }
    // The 2026-07-28 revision has no sessions: each request stands alone (stateless-http.ts).
    if (statelessVersionOf(request.headers, body) !== null) return serveStateless(this.ctx, this.origin, request, body, caller, this.live);
    if (text.length > MAX_INITIALIZE_BYTES) return rpcError(413, RpcCode.InvalidRequest, `an initialize request is at most ${MAX_INITIALIZE_BYTES} bytes`);
    return this.initialize(request, body, caller);
  }

  /** A 2025-era POST without a session: must be `initialize`, which opens one. */
  private async initialize(request: Request, body: unknown, caller: { agentId: string; token: string }): Promise<Response> {
    const parsed = InitializeRequestSchema.safeParse(body);
    if (!parsed.success) return rpcError(400, RpcCode.InvalidRequest, 'Bad Request: Mcp-Session-Id header is required (only initialize opens a session)');
    const sessionId = crypto.randomUUID();
    try {
      await openSession(this.ctx, sessionId, { origin: this.origin, via: 'http' }, { agent: caller.agentId, token: caller.token }, parsed.data);
    } catch (error) {
      return rpcError(401, RpcCode.Unauthenticated, (error as Error).message);
    }
    const server = createSessionServer(this.ctx, sessionId);
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => sessionId,
      onsessionclosed: (id) => {
        this.sessions.delete(id);
        this.live?.delete(id);
      },
    });
    await server.connect(transport);
    this.sessions.set(sessionId, { transport, agentId: caller.agentId });
    this.live?.set(sessionId, Promise.resolve(server), caller.agentId);
    return transport.handleRequest(request, { parsedBody: body });
  }

  /** The agent whose token the request bears, if any (revoked agents and wrong tokens: none). */
  private async caller(request: Request): Promise<{ agentId: string; token: string } | null> {
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.get('authorization') ?? '');
    if (!match) return null;
    const token = match[1]!;
    const hash = await sha256Hex(token);
    // The agent a token named before is read from the registry's cache; a token not seen yet in
    // this lifetime (or no longer that agent's: rotated) is looked for among all agents.
    const known = this.byToken.get(hash);
    let agent = known === undefined ? undefined : await this.ctx.agents.get(known);
    if (agent?.tokenHash !== hash) {
      agent = (await this.ctx.agents.list()).find((a) => a.tokenHash === hash);
      if (agent) this.byToken.set(hash, agent.id);
      else this.byToken.delete(hash);
    }
    return agent && agent.revokedAt === null ? { agentId: agent.id, token } : null;
  }
}

function rpcError(status: number, code: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}
