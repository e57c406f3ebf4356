import { McpError, ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import type { EffectivePolicy } from '../policy';
import type { AgentRecord, ContextRecord, SessionRecord, ToolRecord } from '../store/schema';
import { ANONYMOUS, policyOf } from './agents';
import type { ServerContext } from './context';
import { readSettings } from './settings';

export interface CallContext {
  session: SessionRecord;
  agent: AgentRecord;
  /** The effective policy: the agent's, narrowed by the conversation's security level (contexts.ts). */
  policy: EffectivePolicy;
  /** The agent's own policy (`policy` is this object itself when the conversation narrows nothing). */
  agentPolicy: EffectivePolicy;
  /** The conversation the call belongs to (docs/context.md). */
  conversation: ContextRecord;
  globalConcurrentCalls: number;
  /** How the agent's page says the call reached it (`_meta['mcp-sandbox/via']`), recorded with it: `webmcp`. */
  via?: 'webmcp';
}

/**
 * What a call needs: session, tool, settings and agent, each kept in memory for this
 * service-worker lifetime once read (only this service worker changes them, and each store
 * updates its copy when it does), so a warm call reads nothing from IndexedDB.
 */
export async function readCall(ctx: ServerContext, sessionId: string, toolName: string | null, conversationId?: unknown): Promise<CallContext & { tool: ToolRecord | undefined }> {
  const [session, tool, settings] = await Promise.all([ctx.sessions.get(sessionId), toolName === null ? undefined : ctx.registry.get(toolName), readSettings(ctx.db)]);
  if (!session) throw new McpError(ErrorCode.InvalidRequest, `session ${sessionId} no longer exists`);
  const agent = session.agentId === ANONYMOUS.id ? ANONYMOUS : await ctx.agents.get(session.agentId);
  if (!agent || agent.revokedAt !== null) throw new McpError(-32003, 'this agent is not allowed to connect', { code: 'unauthenticated' });
  const agentPolicy = policyOf(agent);
  // The conversation named in the request's `_meta`, or the session's (memory once read).
  const conversation = await ctx.contexts.conversation(agent.id, session, conversationId);
  return { session, tool, agent, policy: ctx.contexts.policyFor(agent, agentPolicy, conversation), agentPolicy, conversation, globalConcurrentCalls: settings.globalConcurrentCalls };
}
