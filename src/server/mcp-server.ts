import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { SandboxServer } from './sandbox-server';
import { CfWorkerJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/cfworker';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { filterTools } from '../policy';
import { RpcCode } from '../shared/errors';
import { callTool } from './call-tool';
import { readCall } from './call-context';
import type { ServerContext } from './context';
import { agentMetrics } from './metrics';
import { readResource } from './resources';

/** The seed's custom methods, served beside MCP's own. */
const HealthRequest = z.object({ method: z.literal('health'), params: z.optional(z.object({}).passthrough()) });
const MetricsRequest = z.object({ method: z.literal('get_metrics'), params: z.optional(z.object({}).passthrough()) });
const RegisterAgentRequest = z.object({ method: z.literal('register_agent'), params: z.optional(z.object({}).passthrough()) });

/**
 * One SDK `Server` per session. It holds nothing that matters between events: every handler
 * reads the session, its agent, the registry and the counters' sources from IndexedDB, so a
 * server rebuilt after the service worker was stopped answers exactly as the old one would.
 */
export function createSessionServer(ctx: ServerContext, sessionId: string): Server {
  const server = new SandboxServer(ctx.config.serverInfo, {
    // Declared truthfully: a tool registered while the sandbox runs is announced to every
    // session this service-worker lifetime serves (src/server/live-sessions.ts).
    capabilities: { tools: { listChanged: true }, resources: {} },
    jsonSchemaValidator: new CfWorkerJsonSchemaValidator(),
    instructions: 'Tools run as WebAssembly in locked-down browser workers under your policy; every call is audited.',
  });

  server.setRequestHandler(ListToolsRequestSchema, async (request) => {
    noCursor(request.params?.cursor);
    const { policy } = await readCall(ctx, sessionId, null);
    const tools = filterTools(policy, await ctx.registry.callable());
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
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => callTool(ctx, sessionId, request.params.name, request.params.arguments, extra.signal));

  // Declared with `resources`, so answered: there are no templates (every resource is fixed).
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async (request) => {
    noCursor(request.params?.cursor);
    await readCall(ctx, sessionId, null);
    return { resourceTemplates: [] };
  });

  server.setRequestHandler(ListResourcesRequestSchema, async (request) => {
    noCursor(request.params?.cursor);
    await readCall(ctx, sessionId, null);
    const producers = await ctx.registry.resources();
    return { resources: producers.map((t) => ({ uri: t.resource!.uri, name: t.name, description: t.description, mimeType: t.resource!.mimeType })) };
  });

  server.setRequestHandler(ReadResourceRequestSchema, async (request) => readResource(ctx, sessionId, request.params.uri));

  server.setRequestHandler(HealthRequest, async () => {
    const { agent } = await readCall(ctx, sessionId, null);
    return { status: 'ok', agent: agent.id, server: ctx.config.serverInfo, incarnation: ctx.incarnation, time: new Date(ctx.clock()).toISOString() };
  });

  server.setRequestHandler(MetricsRequest, async () => {
    // An agent sees its own figures, never another's.
    const { agent } = await readCall(ctx, sessionId, null);
    return { metrics: (await agentMetrics(ctx, agent.id))[0] };
  });

  server.setRequestHandler(RegisterAgentRequest, async () => {
    const { agent } = await readCall(ctx, sessionId, null);
    await ctx.audit.append({ event: 'call.rejected', outcome: 'denied', sessionId, agentId: agent.id, tool: 'register_agent', error: { code: 'policy-denied', message: 'register_agent is admin only', details: { rule: 'admin-only' } } });
    throw new McpError(RpcCode.Forbidden, 'register_agent is admin only: agents are registered by the person running the sandbox, from the app', { code: 'admin-only' });
  });

  return server;
}

/** Lists here fit in one page, so no cursor was ever handed out: any cursor is unknown. */
function noCursor(cursor: unknown): void {
  if (cursor !== undefined) throw new McpError(ErrorCode.InvalidParams, `unknown cursor ${JSON.stringify(cursor)}: this list has one page`);
}
