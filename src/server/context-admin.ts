import { parseSecurityLevel } from '../policy';
import type { ServerContext } from './context';
import { auditContextChange, ContextError } from './contexts';

// The admin side of conversation contexts (docs/context.md): Global variables, which only an
// admin writes, and any conversation's security level. Audited like the agents' own changes.

/** The viewer an admin writes the global scope as: it names no agent, session or conversation. */
const ADMIN_VIEWER = { agentId: '', sessionId: '', conversationId: '' };

export async function setGlobalVariable(ctx: ServerContext, params: { name: string; value?: unknown; clear?: boolean }): Promise<{ name: string; op: 'set' | 'clear' }> {
  const clear = params?.clear === true;
  if (!clear && (params === undefined || !('value' in params))) throw Object.assign(new Error('give a value, or clear: true'), { code: 'invalid-input' });
  try {
    const change = await ctx.contexts.write(ADMIN_VIEWER, 'admin', String(params.name), 'Global', clear ? null : { set: params.value });
    await auditContextChange(ctx, { agentId: null, sessionId: null, policy: null }, { conversation: null, actor: 'admin', change });
    return { name: change.name, op: change.after ? 'set' : 'clear' };
  } catch (error) {
    if (error instanceof ContextError) throw Object.assign(new Error(error.denial.reason), { code: 'invalid-input', details: { rule: error.denial.rule } });
    throw error;
  }
}

export async function setContextLevel(ctx: ServerContext, params: { agentId: string; conversation: string; level: unknown }): Promise<{ securityLevel: unknown }> {
  const parsed = parseSecurityLevel(params?.level);
  if (!parsed.ok) throw Object.assign(new Error(parsed.errors.map((e) => `level.${e.path}: ${e.reason}`).join('; ')), { code: 'invalid-input', errors: parsed.errors });
  const agentId = String(params.agentId);
  if (!(await ctx.agents.get(agentId))) throw Object.assign(new Error(`no agent ${agentId}`), { code: 'unknown-agent' });
  const session = await ctx.sessions.get(String(params.conversation));
  // A session of the agent is its conversation even before anything was stored for it.
  const conversation = session?.agentId === agentId ? await ctx.contexts.conversation(agentId, session) : await ctx.contexts.stored(agentId, String(params.conversation));
  if (!conversation) throw Object.assign(new Error(`agent ${agentId} has no conversation ${String(params.conversation)}`), { code: 'unknown-conversation' });
  const { before, after } = await ctx.contexts.setLevel(conversation, 'admin', parsed.level);
  await auditContextChange(ctx, { agentId, sessionId: null, policy: null }, { conversation: conversation.conversationId, actor: 'admin', level: { before, after } });
  return { securityLevel: after };
}
