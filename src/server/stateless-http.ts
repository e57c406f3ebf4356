import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, LoggingLevel } from '@modelcontextprotocol/sdk/types.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { RpcCode } from '../shared/errors';
import { policyOf } from './agents';
import type { ServerContext } from './context';
import { createSessionServer, SESSION_CAPABILITIES, SESSION_INSTRUCTIONS } from './mcp-server';
import { CLIENT_ASKS, MISSING_CLIENT_CAPABILITY, openRound, type InputRound } from './input-required';
import { listenFilterOf, listenStream } from './listen-stream';
import type { LiveSessions } from './live-sessions';
import { openSession } from './session-opener';

/**
 * The 2026-07-28 revision of MCP over the same `/mcp` endpoint and the same server core.
 *
 * That revision is stateless: no `initialize`, no `Mcp-Session-Id`; every request carries
 * its protocol version, client info and client capabilities in `params._meta`, and
 * `server/discover` replaces the handshake. Here each such request is run through a fresh
 * session server (`createSessionServer`, the very handlers of the 2025 path) connected to a
 * one-request transport, and its result is written in the 2026 form (`resultType`, cache
 * fields, the server's identity in `_meta`).
 *
 * **Who and which counters**: the bearer token names the agent on every request (checked by
 * the endpoint before this runs). The policy's session rules keep their meaning through one
 * **implicit session per agent**, `stateless:<agent id>`, a session record like any other
 * (via `http`, protocol `2026-07-28`, audited `session.open`): every stateless request of that
 * agent is served in it, so its calls count towards `session.maxCalls`, its rate windows are
 * the agent's as always, and the audit names the agent and that session. When it has been
 * idle longer than `session.timeoutMinutes` it starts anew (counts at zero, `session.open`
 * with `renewed: true`), as a 2025 client opens a new session after a timeout.
 */

/** The revisions of the stateless era served here. */
export const STATELESS_VERSIONS = ['2026-07-28'] as const;
/** Everything `server/discover` lists: the stateless revision and the session one. */
const DISCOVER_VERSIONS = ['2026-07-28', '2025-11-25'];
const PROTOCOL_VERSION_KEY = 'io.modelcontextprotocol/protocolVersion';
const CLIENT_INFO_KEY = 'io.modelcontextprotocol/clientInfo';
const CLIENT_CAPABILITIES_KEY = 'io.modelcontextprotocol/clientCapabilities';
const LOG_LEVEL_KEY = 'io.modelcontextprotocol/logLevel';
const SERVER_INFO_KEY = 'io.modelcontextprotocol/serverInfo';
/** JSON-RPC codes of the 2026-07-28 revision. */
const UNSUPPORTED_PROTOCOL_VERSION = -32022;
const HEADER_MISMATCH = -32020;
/** Results a 2026 client may cache: they carry `ttlMs` and `cacheScope` (private: they depend on the agent's policy). */
const CACHEABLE = new Set(['tools/list', 'prompts/list', 'resources/list', 'resources/templates/list', 'resources/read', 'server/discover']);
/** Methods the 2026-07-28 revision removed (the session handshake, session state, ping). */
const REMOVED = new Set(['initialize', 'notifications/initialized', 'ping', 'logging/setLevel', 'resources/subscribe', 'resources/unsubscribe']);
/** The request parameter the `Mcp-Name` header repeats, by method. */
const NAMED_BY: Record<string, string> = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri' };
const LOG_LEVELS = new Set(['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency']);

type JsonObject = Record<string, unknown>;

/** Whether `version` names a stateless-era revision (2026-07-28 or later). */
export function isStatelessVersion(version: unknown): version is string {
  return typeof version === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(version) && version >= '2026-07-28';
}

/** Whether `version` names a revision of the session era (a date before 2026-07-28). */
function isSessionVersion(version: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(version) && version < '2026-07-28';
}

/**
 * The stateless revision a sessionless request speaks, or null for the 2025 era: the version in
 * its `_meta` envelope, else an `MCP-Protocol-Version` header of that era.
 */
export function statelessVersionOf(headers: Headers, body: unknown): string | null {
  const meta = metaOf(body);
  const claimed = meta?.[PROTOCOL_VERSION_KEY];
  // The envelope is of the new era: a version in it that is not a session revision (a later
  // date, or no date at all) is answered there, as unsupported, with the request's id.
  if (typeof claimed === 'string') return isSessionVersion(claimed) ? null : claimed;
  const header = headers.get('mcp-protocol-version');
  return isStatelessVersion(header) ? header : null;
}

export interface StatelessCaller {
  agentId: string;
  token: string;
}

/** Serves one request of the stateless revision for an authenticated caller. */
export async function serveStateless(ctx: ServerContext, origin: string, request: Request, body: unknown, caller: StatelessCaller, live?: LiveSessions): Promise<Response> {
  if (Array.isArray(body) || typeof body !== 'object' || body === null || (body as JsonObject)['jsonrpc'] !== '2.0') return rpcError(400, RpcCode.InvalidRequest, 'Invalid Request: one JSON-RPC message per request');
  const message = body as JsonObject;
  const id = message['id'];
  const method = message['method'];
  // A notification or a response of a stateless client: there is no session to deliver it to.
  if (typeof method !== 'string' || id === undefined) return new Response(null, { status: 202 });
  const rpcId = typeof id === 'string' || typeof id === 'number' ? id : null;
  const meta = metaOf(message);
  const version = meta?.[PROTOCOL_VERSION_KEY] ?? request.headers.get('mcp-protocol-version');
  if (!meta || typeof meta[PROTOCOL_VERSION_KEY] !== 'string' || typeof meta[CLIENT_CAPABILITIES_KEY] !== 'object' || meta[CLIENT_CAPABILITIES_KEY] === null) {
    return rpcError(400, RpcCode.InvalidParams, `Request is missing the required _meta envelope for protocol revision ${String(version)} (${PROTOCOL_VERSION_KEY}, ${CLIENT_CAPABILITIES_KEY})`, rpcId);
  }
  // The headers repeat the body (so intermediaries can route): they must agree with it, before
  // anything else is judged (a header naming another version is a mismatch, not a version question).
  // Header values are compared without surrounding whitespace (RFC 9110 §5.5), case-sensitively.
  const headerVersion = request.headers.get('mcp-protocol-version')?.trim();
  const headerMethod = request.headers.get('mcp-method')?.trim();
  const headerName = decodeHeaderValue(request.headers.get('mcp-name'));
  const namedBy = NAMED_BY[method];
  const name = namedBy ? (message['params'] as JsonObject)[namedBy] : undefined;
  if ((headerVersion !== undefined && headerVersion !== version) || (headerMethod !== undefined && headerMethod !== method)) {
    return rpcError(400, HEADER_MISMATCH, 'MCP-Protocol-Version or Mcp-Method header does not match the request body', rpcId);
  }
  // Mcp-Name repeats params.name (tools/call, prompts/get) or params.uri (resources/read); a
  // client that sends the routing headers sends it too.
  if (namedBy && (headerName !== undefined ? headerName !== name : headerMethod !== undefined)) {
    return rpcError(400, HEADER_MISMATCH, `Mcp-Name header ${headerName === undefined ? 'is missing' : 'does not match'} the request's params.${namedBy}`, rpcId);
  }
  if (!(STATELESS_VERSIONS as readonly string[]).includes(String(version))) {
    return rpcError(400, UNSUPPORTED_PROTOCOL_VERSION, `Unsupported protocol version ${String(version)}`, rpcId, { supported: DISCOVER_VERSIONS, requested: version });
  }
  // Removed and unknown methods: 404, as the revision says for HTTP.
  if (REMOVED.has(method)) return rpcError(404, RpcCode.MethodNotFound, `Method not found: ${method} is not part of protocol revision ${version}`, rpcId);
  if (method === 'server/discover') return json(encodeResult(ctx, method, { supportedVersions: DISCOVER_VERSIONS, capabilities: SESSION_CAPABILITIES_2026, instructions: SESSION_INSTRUCTIONS }), rpcId);

  let sessionId: string;
  try {
    sessionId = await implicitSession(ctx, origin, caller, meta);
  } catch (error) {
    return rpcError(401, RpcCode.Unauthenticated, (error as Error).message, rpcId, undefined, { 'WWW-Authenticate': 'Bearer realm="mcp-sandbox"' });
  }
  if (method === 'subscriptions/listen' && live) {
    const filter = listenFilterOf(message['params']);
    if (typeof filter === 'string') return rpcError(400, RpcCode.InvalidParams, filter, rpcId);
    return new Response(listenStream(ctx, live, caller.agentId, rpcId ?? 0, filter, request.signal), { status: 200, headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' } });
  }
  // What a tool or prompt asks the client is answered from this request (input-required.ts):
  // a state that does not verify is refused before anything runs.
  let round: InputRound | undefined;
  if (method === 'tools/call' || method === 'prompts/get') {
    const params = message['params'] as JsonObject;
    try {
      round = await openRound(ctx, { agentId: caller.agentId, method, name: String(params['name']), args: params['arguments'] ?? {} }, params, meta[CLIENT_CAPABILITIES_KEY] as JsonObject);
    } catch (error) {
      if (!(error instanceof McpError)) throw error;
      return rpcError(400, error.code, error.message, rpcId, error.data);
    }
  }
  const level = meta[LOG_LEVEL_KEY];
  const server = createSessionServer(ctx, sessionId, { stateless: { ...(typeof level === 'string' && LOG_LEVELS.has(level) ? { logLevel: level as LoggingLevel } : {}), ...(round ? { round } : {}) } });
  if (!handles(server, method)) {
    void server.close().catch(() => undefined);
    return rpcError(404, RpcCode.MethodNotFound, `Method not found: ${method}`, rpcId);
  }
  const sse = (request.headers.get('accept') ?? '').includes('text/event-stream');
  const transport = new OneRequestTransport(rpcId, (m) => encodeMessage(ctx, method, rpcId, m));
  await server.connect(transport);
  // The 2026 client cancels by ending its request: the call is stopped where it runs.
  const onAbort = (): void => transport.onmessage?.({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason: 'the client ended the request' } } as JSONRPCMessage);
  request.signal.addEventListener('abort', onAbort, { once: true });
  transport.finished.finally(() => {
    request.signal.removeEventListener('abort', onAbort);
    void server.close().catch(() => undefined);
  });
  transport.onmessage?.({ ...message, params: withoutEnvelope(message['params']) } as JSONRPCMessage);
  // An error that asks for an HTTP status of its own (-32021: 400) and is the request's only
  // message goes out as one JSON body with that status, even to a client that accepts a stream.
  // Only a run that may ask the client for a capability it did not declare can end so: for it
  // the stream's headers wait for the first message; any other stream starts at once.
  await (sse ? (round && (await mayLackCapability(ctx, meta, String((message['params'] as JsonObject)['name']))) ? transport.firstOutput : undefined) : transport.finished);
  const status = httpStatusOf(transport.response);
  if (!sse || (transport.onlyResponse && status !== 200)) {
    return new Response(JSON.stringify(transport.response), { status, headers: { 'Content-Type': 'application/json' } });
  }
  return new Response(transport.stream(), { status: 200, headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' } });
}

/**
 * Capabilities in the 2026 vocabulary: list changes and resource updates are delivered on
 * `subscriptions/listen` streams (listen-stream.ts), prompts' too.
 */
const SESSION_CAPABILITIES_2026 = { ...SESSION_CAPABILITIES, tools: { listChanged: true }, prompts: { listChanged: true }, resources: { subscribe: true, listChanged: true } };

/**
 * The agent's implicit session, opened on its first stateless request and renewed after it
 * idled longer than the policy's `session.timeoutMinutes`. Returns its id.
 */
async function implicitSession(ctx: ServerContext, origin: string, caller: StatelessCaller, meta: JsonObject): Promise<string> {
  const sessionId = `stateless:${caller.agentId}`;
  const now = ctx.clock();
  const existing = await ctx.sessions.get(sessionId);
  const agent = await ctx.agents.get(caller.agentId);
  const idleLimitMs = agent ? policyOf(agent).session.timeoutMinutes * 60_000 : Infinity;
  if (existing && existing.agentId === caller.agentId && now - Math.max(existing.createdAt, existing.lastActivityAt) <= idleLimitMs) return sessionId;
  // Concurrent first requests of one agent open it once.
  let opening = openingSessions.get(sessionId);
  if (!opening) {
    const info = meta[CLIENT_INFO_KEY] as { name?: unknown; version?: unknown } | undefined;
    const clientInfo = { name: String(info?.name ?? 'unnamed'), version: String(info?.version ?? '0') };
    const initialize = { method: 'initialize' as const, params: { protocolVersion: STATELESS_VERSIONS[0], capabilities: {}, clientInfo } };
    opening = (async () => {
      if (existing) {
        // Renewed after idling: counted from zero like any new session (openSession keeps
        // the start and count of the record it finds, and audits it as reinitialized).
        await ctx.sessions.put({ ...existing, createdAt: now, lastActivityAt: now, callCount: 0 });
        ctx.counters.forgetSession(sessionId);
      }
      await openSession(ctx, sessionId, { origin, via: 'http' }, { agent: caller.agentId, token: caller.token }, initialize);
      return sessionId;
    })().finally(() => openingSessions.delete(sessionId));
    openingSessions.set(sessionId, opening);
  }
  return opening;
}

/**
 * Whether the session server has a handler for `method`. The SDK (1.32) keeps its handlers in
 * `_requestHandlers`, not part of its typed surface: if that ever changes, every method is
 * passed on, and the SDK answers an unknown one -32601 with HTTP 200 as before.
 */
function handles(server: object, method: string): boolean {
  const handlers = (server as { _requestHandlers?: unknown })._requestHandlers;
  return !(handlers instanceof Map) || handlers.has(method);
}

/** Implicit sessions being opened, by id (this service-worker lifetime). */
const openingSessions = new Map<string, Promise<string>>();

/** A JSON-RPC message of the session server, in the 2026 form when it answers the request. */
function encodeMessage(ctx: ServerContext, method: string, rpcId: string | number | null, message: JSONRPCMessage): JSONRPCMessage {
  const m = message as JsonObject;
  if (m['id'] !== rpcId || m['method'] !== undefined) return message;
  if (m['result'] !== undefined) return { ...m, result: encodeResult(ctx, method, m['result'] as JsonObject) } as JSONRPCMessage;
  return message;
}

/** `resultType`, the cache fields of a cacheable result, the server's identity in `_meta`. */
function encodeResult(ctx: ServerContext, method: string, result: JsonObject): JsonObject {
  const meta = (typeof result['_meta'] === 'object' && result['_meta'] !== null ? result['_meta'] : {}) as JsonObject;
  // An InputRequiredResult is only its questions and state (the SDK's tools/call check adds `content: []`).
  const { content: _content, ...asked } = result;
  return {
    ...(result['resultType'] === 'input_required' ? asked : result),
    resultType: result['resultType'] ?? 'complete',
    ...(CACHEABLE.has(method) ? { ttlMs: 0, cacheScope: 'private' } : {}),
    _meta: { ...meta, [SERVER_INFO_KEY]: ctx.config.serverInfo },
  };
}

/**
 * A header value as the revision encodes it: trimmed (RFC 9110 §5.5), and a value that is not
 * plain visible ASCII sent as `=?base64?<UTF-8 in base64>?=`, decoded. Undefined when absent.
 */
export function decodeHeaderValue(raw: string | null): string | undefined {
  if (raw === null) return undefined;
  const value = raw.trim();
  const sentinel = /^=\?base64\?([A-Za-z0-9+/]*={0,2})\?=$/.exec(value);
  if (!sentinel) return value;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(atob(sentinel[1]!), (c) => c.charCodeAt(0)));
  } catch {
    return value;
  }
}

function metaOf(body: unknown): JsonObject | null {
  const params = (body as { params?: unknown } | null)?.params;
  const meta = typeof params === 'object' && params !== null ? (params as { _meta?: unknown })._meta : undefined;
  return typeof meta === 'object' && meta !== null ? (meta as JsonObject) : null;
}

/** The params without the revision's envelope keys, which the session server has no use for. */
function withoutEnvelope(params: unknown): unknown {
  if (typeof params !== 'object' || params === null) return params;
  const meta = { ...((params as JsonObject)['_meta'] as JsonObject) };
  for (const key of [PROTOCOL_VERSION_KEY, CLIENT_INFO_KEY, CLIENT_CAPABILITIES_KEY, LOG_LEVEL_KEY]) delete meta[key];
  // The answers and state of a multi-round request are the round's (input-required.ts).
  const { inputResponses: _responses, requestState: _state, ...rest } = params as JsonObject;
  return { ...rest, _meta: meta };
}

/**
 * The session server's transport for one HTTP request: what it sends (notifications of the
 * call, then the response) goes out as server-sent events, or as one JSON body.
 */
class OneRequestTransport implements Transport {
  onmessage?: Transport['onmessage'];
  onclose?: () => void;
  onerror?: (error: Error) => void;
  response: JSONRPCMessage | undefined;
  readonly finished: Promise<void>;
  /** Settles with the first message written, or when the request ends without one. */
  readonly firstOutput: Promise<void>;
  /** Whether the response was the first message written (nothing streamed before it). */
  onlyResponse = false;
  private finish!: () => void;
  private firstWritten!: () => void;
  private written = 0;
  private readonly queued: string[] = [];
  private controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  private readonly encoder = new TextEncoder();

  constructor(
    private readonly rpcId: string | number | null,
    private readonly encode: (message: JSONRPCMessage) => JSONRPCMessage,
  ) {
    this.finished = new Promise((resolve) => (this.finish = resolve));
    this.firstOutput = new Promise((resolve) => (this.firstWritten = resolve));
    void this.finished.then(this.firstWritten);
  }

  async start(): Promise<void> {}

  async send(message: JSONRPCMessage): Promise<void> {
    const out = this.encode(message);
    const m = out as JsonObject;
    const isResponse = m['method'] === undefined && m['id'] === this.rpcId;
    // Requests to the client cannot be answered in this revision's stateless form (see mcp-server.ts).
    if (m['method'] !== undefined && m['id'] !== undefined) return;
    this.write(`event: message\ndata: ${JSON.stringify(out)}\n\n`);
    if (isResponse) {
      this.onlyResponse = this.written === 1;
      this.response = out;
      this.controller?.close();
      this.controller = undefined;
      this.finish();
    }
  }

  async close(): Promise<void> {
    this.finish();
    this.onclose?.();
  }

  stream(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        for (const chunk of this.queued.splice(0)) controller.enqueue(this.encoder.encode(chunk));
        if (this.response) controller.close();
        else this.controller = controller;
      },
      cancel: () => this.finish(),
    });
  }

  private write(chunk: string): void {
    this.written += 1;
    this.firstWritten();
    if (this.controller) this.controller.enqueue(this.encoder.encode(chunk));
    else this.queued.push(chunk);
  }
}

/** Whether the named tool or prompt may ask the client (permission "client") something the client did not declare. */
async function mayLackCapability(ctx: ServerContext, meta: JsonObject, name: string): Promise<boolean> {
  const declared = meta[CLIENT_CAPABILITIES_KEY] as JsonObject;
  if (Object.values(CLIENT_ASKS).every(({ capability }) => capability in declared)) return false;
  return (await ctx.registry.get(name))?.permissions.includes('client') ?? false;
}

function httpStatusOf(response: JSONRPCMessage | undefined): number {
  const code = ((response as JsonObject | undefined)?.['error'] as { code?: unknown } | undefined)?.code;
  return code === MISSING_CLIENT_CAPABILITY ? 400 : 200;
}

function json(result: JsonObject, id: string | number | null): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', id, result }), { status: 200, headers: { 'Content-Type': 'application/json' } });
}

function rpcError(status: number, code: number, message: string, id: string | number | null = null, data?: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', id, error: { code, message, ...(data === undefined ? {} : { data }) } }), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}
