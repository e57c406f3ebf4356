import { PERMISSIVE } from '../policy';
import type { ToolRecord } from '../store/schema';
import type { CallContext } from './call-context';
import type { ServerContext } from './context';
import { viewerOf } from './contexts';

// Into tools (docs/context.md): a tool whose metadata declares `"context": true` reads the calling
// conversation's context through its own host import, `get-context` (tools/wit/tool.wit), which
// the tool's worker answers from the call's request. Other tools get nothing: their request
// carries no context and their `get-context` is refused. No tool's arguments are touched.

/** What `get-context` answers, and the names of the variables it holds (for the audit). */
export interface ToolContext {
  json: string;
  variables: string[];
}

/**
 * The context of a call for `tool`, or undefined when the tool did not declare that it wants it.
 * Variables are those visible in the call's conversation from its session under the sharing
 * rules (the most specific of each name), as the agent reads them in context://conversation/{id}.
 * Warm, a few map lookups; only declaring tools pay even that.
 */
export async function toolContextFor(ctx: ServerContext, call: CallContext, tool: Pick<ToolRecord, 'context'>): Promise<ToolContext | undefined> {
  if (tool.context !== true) return undefined;
  const viewer = viewerOf(call.session, call.conversation);
  const visible = await ctx.contexts.visible(viewer);
  const variables = Object.fromEntries(Object.entries(visible).map(([name, v]) => [name, { value: v.value, sharing: v.sharing }]));
  const context = {
    conversation: viewer.conversationId,
    agentId: call.agent.id,
    sessionId: call.session.id,
    sessionStartedAt: new Date(call.session.createdAt).toISOString(),
    conversationStartedAt: new Date(call.conversation.startedAt).toISOString(),
    securityLevel: (call.conversation.securityLevel ?? PERMISSIVE).level,
    variables,
  };
  return { json: JSON.stringify(context), variables: Object.keys(variables) };
}
