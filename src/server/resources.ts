import { ErrorCode, McpError, type ReadResourceResult } from '@modelcontextprotocol/sdk/types.js';
import type { ServerContext } from './context';
import { readCall } from './call-context';
import { runAudited } from './audited-run';

/**
 * Resources are produced by wasm modules too: the producer gets the host's facts as arguments
 * and writes the document, under the agent's limits and the same audit as any call. Reading
 * a resource is not a tool call: it does not count against call rates.
 */
export async function readResource(ctx: ServerContext, sessionId: string, uri: string): Promise<ReadResourceResult> {
  const call = await readCall(ctx, sessionId, null);
  const producer = (await ctx.registry.resources()).find((t) => t.resource!.uri === uri);
  if (!producer) throw new McpError(ErrorCode.InvalidParams, `Resource not found: ${uri}`, { code: 'unknown-resource', uri });
  const db = await ctx.db.get();
  const facts = {
    server: ctx.config.serverInfo,
    tools: (await ctx.registry.callable()).length,
    sessions: await db.count('sessions'),
    auditEntries: await db.count('audit'),
    agent: { id: call.agent.id, trustLevel: call.agent.trustLevel },
    now: new Date(ctx.clock()).toISOString(),
  };
  const run = await runAudited(ctx, call, producer, facts, 'resource');
  if (!run.ok) throw new McpError(ErrorCode.InternalError, `resource producer ${producer.name} failed: ${run.error!.code}: ${run.error!.message}`, run.error);
  return { contents: [{ uri, mimeType: producer.resource!.mimeType, text: run.output }] };
}
