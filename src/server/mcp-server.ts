import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CfWorkerJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/cfworker';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { SessionRecord } from '../store/schema';
import { callTool } from './call-tool';
import type { ServerContext } from './context';
import { readResource } from './resources';

/**
 * One SDK `Server` per session. It holds nothing that matters between events: every handler
 * reads the session, the registry and the audit tail from IndexedDB, so a server rebuilt after
 * the service worker was stopped answers exactly as the old one would have.
 */
export function createSessionServer(ctx: ServerContext, sessionId: string): Server {
  const server = new Server(ctx.config.serverInfo, {
    // Declared truthfully: we answer these and nothing else; list changes are not announced yet.
    capabilities: { tools: {}, resources: {} },
    jsonSchemaValidator: new CfWorkerJsonSchemaValidator(),
    instructions: 'Tools run as WebAssembly in locked-down browser workers; every call is audited.',
  });
  const session = async (): Promise<SessionRecord> => {
    const s = await ctx.sessions.get(sessionId);
    if (!s) throw new McpError(ErrorCode.InvalidRequest, `session ${sessionId} no longer exists`);
    return s;
  };

  server.setRequestHandler(ListToolsRequestSchema, async () => {
    await session();
    const tools = await ctx.registry.callable();
    return {
      tools: tools.map(
        (t): Tool => ({
          name: t.name,
          description: t.description,
          inputSchema: t.inputSchema as Tool['inputSchema'],
          annotations: { title: t.name, readOnlyHint: !t.permissions.some((p) => p.startsWith('files:write')), openWorldHint: t.permissions.some((p) => p.startsWith('network')) },
          _meta: { 'mcp-sandbox/tool': { version: t.version, author: t.author, tags: t.tags, categories: t.categories, hash: t.code.hash } },
        }),
      ),
    };
  });

  server.setRequestHandler(CallToolRequestSchema, async (request) => callTool(ctx, sessionId, request.params.name, request.params.arguments));

  server.setRequestHandler(ListResourcesRequestSchema, async () => {
    await session();
    const producers = await ctx.registry.resources();
    return { resources: producers.map((t) => ({ uri: t.resource!.uri, name: t.name, description: t.description, mimeType: t.resource!.mimeType })) };
  });

  server.setRequestHandler(ReadResourceRequestSchema, async (request) => readResource(ctx, await session(), request.params.uri));

  return server;
}
