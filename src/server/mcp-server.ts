import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { SandboxServer } from './sandbox-server';
import { CfWorkerJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/cfworker';
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type LoggingLevel,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { filterTools } from '../policy';
import { RpcCode } from '../shared/errors';
import { callTool } from './call-tool';
import { readCall } from './call-context';
import type { ServerContext } from './context';
import { agentMetrics } from './metrics';
import { getPrompt, isTemplate, promptArguments, readResource, visibleProducers } from './resources';
import { logLevels, subscriptions } from './session-state';
import { CONTEXT_URI_PREFIX, CONTEXT_URI_TEMPLATE, CONVERSATION_META_KEY, readConversationResource } from './contexts';
import { contextMethods } from './context-methods';
import { CLIENT_ASKS, finishRound, isClientMethod, keyOf, type InputRound } from './input-required';
import { decideGlobalRead, GLOBAL_CONTEXT_RESOURCE, GLOBAL_CONTEXT_URI, readGlobalContext } from './global-context';

/**
 * What a tool or prompt producer asks the client: on a 2025-11-25 session, a request on the
 * call's own stream, for a capability the client declared (when this lifetime saw its
 * initialize; else the client answers for itself); on a stateless request, the request's round.
 */
function askClient(server: Server, extra: { sendRequest: (request: never, schema: never, options?: { signal?: AbortSignal }) => Promise<unknown> }, options: SessionServerOptions) {
  return async (method: string, params: Record<string, unknown>, signal?: AbortSignal): Promise<unknown> => {
    if (options.stateless) {
      if (!options.stateless.round) throw new Error('this request cannot carry answers from the client');
      return options.stateless.round.ask(method, params);
    }
    if (!isClientMethod(method)) throw new Error(`a tool may ask the client only ${Object.keys(CLIENT_ASKS).join(', ')}`);
    const { capability, schema } = CLIENT_ASKS[method];
    const declared = server.getClientCapabilities();
    if (declared && !declared[capability]) throw new Error(`the client did not declare the capability ${capability}`);
    return extra.sendRequest({ method, params: keyOf(method, params, 0).params } as never, schema as never, signal ? { signal } : {});
  };
}

/** Where an agent's page labels how a call reached it (`webmcp`: through its WebMCP model context); recorded, never trusted. */
export const VIA_META_KEY = 'mcp-sandbox/via';

/** Resource URIs one session may watch at once. */
const MAX_SUBSCRIPTIONS = 100;

/** The seed's custom methods, served beside MCP's own. */
const HealthRequest = z.object({ method: z.literal('health'), params: z.optional(z.object({}).passthrough()) });
const MetricsRequest = z.object({ method: z.literal('get_metrics'), params: z.optional(z.object({}).passthrough()) });
const RegisterAgentRequest = z.object({ method: z.literal('register_agent'), params: z.optional(z.object({}).passthrough()) });

// Declared truthfully: a tool registered while the sandbox runs is announced to every
// session this service-worker lifetime serves (src/server/live-sessions.ts).
// Prompts are produced by wasm modules like resources; logging carries what a tool logs
// while it runs; completions offer the values a prompt argument's schema enumerates.
export const SESSION_CAPABILITIES = { tools: { listChanged: true }, resources: { subscribe: true }, prompts: {}, logging: {}, completions: {} };
export const SESSION_INSTRUCTIONS = 'Tools run as WebAssembly in locked-down browser workers under your policy; every call is audited.';

export interface SessionServerOptions {
  /**
   * The server answers one stateless request of the 2026-07-28 revision (stateless-http.ts):
   * log lines reach the client only at or above the level its request opted in to (none
   * without), and what a tool asks the client is answered from the request's `round`, or
   * asked with an InputRequiredResult (input-required.ts).
   */
  stateless?: { logLevel?: LoggingLevel; round?: InputRound };
}

/**
 * One SDK `Server` per session. It holds nothing that matters between events: every handler
 * reads the session, its agent, the registry and the counters' sources from IndexedDB, so a
 * server rebuilt after the service worker was stopped answers exactly as the old one would.
 */
export function createSessionServer(ctx: ServerContext, sessionId: string, options: SessionServerOptions = {}): Server {
  const server = new SandboxServer(ctx.config.serverInfo, {
    capabilities: SESSION_CAPABILITIES,
    jsonSchemaValidator: new CfWorkerJsonSchemaValidator(),
    instructions: SESSION_INSTRUCTIONS,
  });

  server.setRequestHandler(ListToolsRequestSchema, async (request) => {
    noCursor(request.params?.cursor);
    const { policy, agentPolicy } = await readCall(ctx, sessionId, null);
    // Both layers, as calls are decided (a narrowing context can never show more: docs/context.md).
    const tools = filterTools(agentPolicy, filterTools(policy, await ctx.registry.callable()));
    return {
      tools: tools.map(
        (t): Tool => ({
          name: t.name,
          description: t.description,
          inputSchema: t.inputSchema as Tool['inputSchema'],
          ...(t.outputSchema ? { outputSchema: t.outputSchema as Tool['outputSchema'] } : {}),
          annotations: { title: t.name, readOnlyHint: !t.permissions.some((p) => p.startsWith('files:write')), openWorldHint: t.permissions.some((p) => p.startsWith('network')) },
          _meta: { 'mcp-sandbox/tool': { version: t.version, author: t.author, tags: t.tags, categories: t.categories, hash: t.code.hash, permissions: t.permissions } },
        }),
      ),
    };
  });

  // `extra.signal` aborts on the agent's notifications/cancelled: the call is stopped where it runs.
  // What the tool logs meanwhile reaches the client on the call's own stream: log lines as
  // notifications/message (at or above the session's level), lines of level "progress" (JSON
  // {progress, total?, message?}) as notifications/progress when the request asked for progress.
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const progressToken = request.params._meta?.progressToken;
    // Sent before the result: once it is, the call's stream closes.
    const sending: Promise<void>[] = [];
    const notify = (notification: Parameters<typeof extra.sendNotification>[0]) => void sending.push(extra.sendNotification(notification).catch(() => undefined));
    const onLog = (level: string, message: string): void => {
      if (level === 'progress') {
        const progress = progressOf(message);
        if (progressToken !== undefined && progress) notify({ method: 'notifications/progress', params: { progressToken, ...progress } });
        return;
      }
      const mcpLevel = logLevelOf(level);
      const floor = options.stateless ? options.stateless.logLevel : (logLevels.get(sessionId) ?? 'debug');
      if (floor === undefined || LOG_LEVELS.indexOf(mcpLevel) < LOG_LEVELS.indexOf(floor)) return;
      notify({ method: 'notifications/message', params: { level: mcpLevel, logger: request.params.name, data: message } });
    };
    const run = async () => {
      const via = request.params._meta?.[VIA_META_KEY] === 'webmcp' ? { via: 'webmcp' as const } : {};
      const result = await callTool(ctx, sessionId, request.params.name, request.params.arguments, extra.signal, { log: onLog, request: askClient(server, extra, options), ...via }, request.params._meta?.[CONVERSATION_META_KEY]);
      await Promise.all(sending);
      return result;
    };
    const round = options.stateless?.round;
    return round ? finishRound(round, run, (result) => result.isError === true) : run();
  });

  server.setRequestHandler(SetLevelRequestSchema, async (request) => {
    await readCall(ctx, sessionId, null);
    logLevels.set(sessionId, request.params.level);
    return {};
  });

  // A producer whose URI has {variables} is a template (RFC 6570 level 1).
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async (request) => {
    noCursor(request.params?.cursor);
    const { policy } = await readCall(ctx, sessionId, null);
    const producers = visibleProducers(policy, await ctx.registry.resources()).filter((t) => isTemplate(t.resource!.uri));
    const conversation = { uriTemplate: CONTEXT_URI_TEMPLATE, name: 'conversation', description: 'A conversation of yours: its start, security level and the context variables visible in it (docs/context.md)', mimeType: 'application/json' };
    return { resourceTemplates: [...producers.map((t) => ({ uriTemplate: t.resource!.uri, name: t.name, description: t.description, mimeType: t.resource!.mimeType })), conversation] };
  });

  server.setRequestHandler(ListResourcesRequestSchema, async (request) => {
    noCursor(request.params?.cursor);
    const { policy, agentPolicy } = await readCall(ctx, sessionId, null);
    const producers = visibleProducers(policy, await ctx.registry.resources()).filter((t) => !isTemplate(t.resource!.uri));
    // The global context (global-context.ts), where the session's policy lets it be read.
    const global = decideGlobalRead(agentPolicy, policy).allow ? [GLOBAL_CONTEXT_RESOURCE] : [];
    return { resources: [...producers.map((t) => ({ uri: t.resource!.uri, name: t.name, description: t.description, mimeType: t.resource!.mimeType })), ...global] };
  });

  // Any URI may be watched (one not served yet may come with a new tool): it is announced as
  // updated whenever tools or this agent's policy change (live-sessions.ts).
  server.setRequestHandler(SubscribeRequestSchema, async (request) => {
    await readCall(ctx, sessionId, null);
    const watched = subscriptions.get(sessionId) ?? new Set<string>();
    if (watched.size >= MAX_SUBSCRIPTIONS && !watched.has(request.params.uri)) throw new McpError(ErrorCode.InvalidParams, `a session may watch at most ${MAX_SUBSCRIPTIONS} resources`);
    subscriptions.set(sessionId, watched.add(request.params.uri));
    return {};
  });

  server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
    await readCall(ctx, sessionId, null);
    subscriptions.get(sessionId)?.delete(request.params.uri);
    return {};
  });

  server.setRequestHandler(ListPromptsRequestSchema, async (request) => {
    noCursor(request.params?.cursor);
    const { policy } = await readCall(ctx, sessionId, null);
    return { prompts: filterTools(policy, await ctx.registry.prompts()).map((t) => ({ name: t.name, description: t.description, arguments: promptArguments(t.inputSchema) })) };
  });

  server.setRequestHandler(GetPromptRequestSchema, async (request, extra) => {
    const run = () => getPrompt(ctx, sessionId, request.params.name, request.params.arguments ?? {}, { request: askClient(server, extra, options) });
    const round = options.stateless?.round;
    return round ? finishRound(round, run, () => false) : run();
  });

  server.setRequestHandler(CompleteRequestSchema, async (request) => {
    const { policy } = await readCall(ctx, sessionId, null);
    const { ref, argument } = request.params;
    const prompt = ref.type === 'ref/prompt' ? filterTools(policy, await ctx.registry.prompts()).find((t) => t.name === ref.name) : undefined;
    const property = (prompt?.inputSchema['properties'] as Record<string, { enum?: unknown[] }> | undefined)?.[argument.name];
    const values = (property?.enum ?? []).filter((v): v is string => typeof v === 'string' && v.startsWith(argument.value)).slice(0, 100);
    return { completion: { values, total: values.length, hasMore: false } };
  });

  server.setRequestHandler(ReadResourceRequestSchema, async (request) =>
    request.params.uri === GLOBAL_CONTEXT_URI
      ? readGlobalContext(ctx, sessionId, request.params._meta?.[CONVERSATION_META_KEY])
      : request.params.uri.startsWith(CONTEXT_URI_PREFIX)
        ? readCall(ctx, sessionId, null).then((call) => readConversationResource(ctx, call.session, request.params.uri, call.policy))
        : readResource(ctx, sessionId, request.params.uri),
  );
  // Conversation contexts: set, clear, security level (context-methods.ts); a subscribed
  // context:// URI is announced as updated when a context this agent can read changes.
  contextMethods(ctx, sessionId, server);

  server.setRequestHandler(HealthRequest, async () => {
    const { agent } = await readCall(ctx, sessionId, null);
    return { status: 'ok', agent: agent.id, server: ctx.config.serverInfo, incarnation: ctx.incarnation, time: new Date(ctx.clock()).toISOString() };
  });

  server.setRequestHandler(MetricsRequest, async () => {
    // An agent sees its own figures, never another's.
    const { agent } = await readCall(ctx, sessionId, null);
    // Its last call's result may still be held for group commit: counted once committed.
    await ctx.audit.settled();
    return { metrics: (await agentMetrics(ctx, agent.id))[0] };
  });

  server.setRequestHandler(RegisterAgentRequest, async () => {
    const { agent } = await readCall(ctx, sessionId, null);
    await ctx.audit.append({ event: 'call.rejected', outcome: 'denied', sessionId, agentId: agent.id, tool: 'register_agent', error: { code: 'policy-denied', message: 'register_agent is admin only', details: { rule: 'admin-only' } } });
    throw new McpError(RpcCode.Forbidden, 'register_agent is admin only: agents are registered by the person running the sandbox, from the app', { code: 'admin-only' });
  });

  return server;
}

const LOG_LEVELS: LoggingLevel[] = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'];

/** A tool's level name as MCP's ("warn" is "warning"; an unknown one is "info"). */
function logLevelOf(level: string): LoggingLevel {
  const l = level.toLowerCase();
  return l === 'warn' ? 'warning' : (LOG_LEVELS.find((x) => x === l) ?? 'info');
}

function progressOf(message: string): { progress: number; total?: number; message?: string } | null {
  try {
    const p = JSON.parse(message) as { progress?: unknown; total?: unknown; message?: unknown };
    if (typeof p.progress !== 'number' || !Number.isFinite(p.progress)) return null;
    return { progress: p.progress, ...(typeof p.total === 'number' ? { total: p.total } : {}), ...(typeof p.message === 'string' ? { message: p.message } : {}) };
  } catch {
    return null;
  }
}

/** Lists here fit in one page, so no cursor was ever handed out: any cursor is unknown. */
function noCursor(cursor: unknown): void {
  if (cursor !== undefined) throw new McpError(ErrorCode.InvalidParams, `unknown cursor ${JSON.stringify(cursor)}: this list has one page`);
}
