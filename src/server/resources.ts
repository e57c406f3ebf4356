import { ErrorCode, McpError, type ReadResourceResult } from '@modelcontextprotocol/sdk/types.js';
import type { SessionRecord } from '../store/schema';
import type { ServerContext } from './context';
import { runAudited } from './call-tool';

/**
 * Resources are produced by wasm modules too: the producer gets the host's facts as arguments
 * and writes the document, under the same limits and audit as any call.
 */
export async function readResource(ctx: ServerContext, session: SessionRecord, uri: string): Promise<ReadResourceResult> {
  const producer = (await ctx.registry.resources()).find((t) => t.resource!.uri === uri);
  if (!producer) throw new McpError(ErrorCode.InvalidParams, `Resource not found: ${uri}`, { code: 'unknown-resource', uri });
  const db = await ctx.db.get();
  const facts = {
    server: ctx.config.serverInfo,
    tools: (await ctx.registry.callable()).length,
    sessions: await db.count('sessions'),
    auditEntries: await db.count('audit'),
    now: new Date(ctx.clock()).toISOString(),
  };
  const run = await runAudited(ctx, session, producer, facts, 'resource');
  if (!run.ok) throw new McpError(ErrorCode.InternalError, `resource producer ${producer.name} failed: ${run.error!.code}: ${run.error!.message}`, run.error);
  return { contents: [{ uri, mimeType: producer.resource!.mimeType, text: run.output }] };
}
