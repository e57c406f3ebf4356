import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { parseSecurityLevel } from '../policy';
import { readCall } from './call-context';
import type { ServerContext } from './context';
import { auditContextChange, ContextError, CONTEXT_URI_PREFIX, CONVERSATION_META_KEY, viewerOf } from './contexts';
import { GLOBAL_CONTEXT_URI } from './global-context';
import { subscriptions } from './session-state';

// An agent's own conversation context over MCP, beside the resource `context://conversation/{id}`
// (docs/context.md). Custom methods, like `get_metrics`: they are not tools, so they do not
// count against call rates and are not in `tools/list`. Every change and every refusal is
// audited as `context.change` with what was there before and after.

const params = <T extends z.ZodRawShape>(shape: T) => z.object({ ...shape, conversation: z.optional(z.string()), _meta: z.optional(z.object({}).passthrough()) }).passthrough();
export const SetContextRequest = z.object({ method: z.literal('mcp-sandbox/context/set'), params: params({ name: z.string(), value: z.unknown(), sharing: z.optional(z.string()) }) });
export const ClearContextRequest = z.object({ method: z.literal('mcp-sandbox/context/clear'), params: params({ name: z.string(), sharing: z.optional(z.string()) }) });
export const ContextLevelRequest = z.object({ method: z.literal('mcp-sandbox/context/level'), params: params({ level: z.unknown() }) });

/** The conversation a request names: `params.conversation`, else its `_meta`, else the session. */
function conversationOf(p: { conversation?: string | undefined; _meta?: Record<string, unknown> | undefined }): unknown {
  return p.conversation ?? p._meta?.[CONVERSATION_META_KEY];
}

export function contextMethods(ctx: ServerContext, sessionId: string, server: Server): void {
  // Subscribed context:// URIs (a conversation, the global context's Global variables) are
  // announced as updated when a context this agent reads changes.
  void ctx.sessions
    .get(sessionId)
    .then((session) => {
      if (!session) return;
      ctx.contexts.watch(sessionId, session.agentId, () => {
        for (const uri of subscriptions.get(sessionId) ?? []) if (uri.startsWith(CONTEXT_URI_PREFIX) || uri === GLOBAL_CONTEXT_URI) void server.sendResourceUpdated({ uri }).catch(() => undefined);
      });
    })
    .catch(() => undefined);

  const change = async (p: { name: string; sharing?: string | undefined; conversation?: string | undefined; _meta?: Record<string, unknown> | undefined }, value: { set: unknown } | null) => {
    const call = await readCall(ctx, sessionId, null, conversationOf(p));
    const viewer = viewerOf(call.session, call.conversation);
    const who = { agentId: viewer.agentId, sessionId, policy: call.policy };
    try {
      const result = await ctx.contexts.write(viewer, 'agent', p.name, p.sharing ?? 'Private', value, call.conversation.startedAt);
      await auditContextChange(ctx, who, { conversation: viewer.conversationId, actor: 'agent', change: result });
      return { conversation: viewer.conversationId, name: result.name, sharing: result.sharing, op: result.after ? 'set' : 'clear', changed: JSON.stringify(result.before) !== JSON.stringify(result.after) };
    } catch (error) {
      if (!(error instanceof ContextError)) throw error;
      await auditContextChange(ctx, who, { conversation: viewer.conversationId, actor: 'agent', refused: { name: p.name.slice(0, 80), sharing: p.sharing, rule: error.denial.rule, reason: error.denial.reason } });
      throw error;
    }
  };

  server.setRequestHandler(SetContextRequest, async (request) => change(request.params, { set: request.params.value }));
  server.setRequestHandler(ClearContextRequest, async (request) => change(request.params, null));

  server.setRequestHandler(ContextLevelRequest, async (request) => {
    const call = await readCall(ctx, sessionId, null, conversationOf(request.params));
    const viewer = viewerOf(call.session, call.conversation);
    const parsed = parseSecurityLevel(request.params.level);
    if (!parsed.ok) throw new McpError(ErrorCode.InvalidParams, `level: ${parsed.errors.map((e) => `${e.path}: ${e.reason}`).join('; ')}`, { code: 'invalid-arguments', errors: parsed.errors });
    const who = { agentId: viewer.agentId, sessionId, policy: call.agentPolicy };
    try {
      const { before, after } = await ctx.contexts.setLevel(call.conversation, 'agent', parsed.level);
      await auditContextChange(ctx, who, { conversation: viewer.conversationId, actor: 'agent', level: { before, after } });
      return { conversation: viewer.conversationId, securityLevel: after };
    } catch (error) {
      if (!(error instanceof ContextError)) throw error;
      await auditContextChange(ctx, who, { conversation: viewer.conversationId, actor: 'agent', refused: { name: 'securityLevel', rule: error.denial.rule, reason: error.denial.reason } });
      throw error;
    }
  });
}
