import { CallToolResultSchema, McpError, ErrorCode, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CfWorkerJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/cfworker';
import { decideCodeLanguage, decideLayered, decideToolAccess, decideToolCall, isRestricted, redactValue, type Denial, type PolicyLayer } from '../policy';
import { EXECUTE_CODE_TOOL } from '../shared/execute-code';
import { ERROR_META_KEY, SandboxError, type SandboxErrorInfo } from '../shared/errors';
import { ARGUMENT_BOUNDS, describeBound, measureJson } from '../shared/json-bounds';
import type { ToolRecord } from '../store/schema';
import { policyVersionOf } from './agents';
import { sealIf } from './at-rest';
import type { ClientChannel } from './capabilities';
import { runAudited } from './audited-run';
import { readCall, type CallContext } from './call-context';
import type { ServerContext } from './context';
import { holding } from './fair-queue';
import { applyContextUpdates, CONTEXT_META_KEY } from './contexts';
import { isPrompt, MCP_CONTENT_CATEGORY } from './registry';
import { preferencesOffer, PREFERENCES_META_KEY } from './preferences';
import { auditedSuggestion, suggestAlternative, SUGGESTION_META_KEY, type Suggestion } from './suggestions';
import { toolContextFor } from './tool-context';

// The tools/call handler: everything that decides whether a call runs. What happens once it
// runs (write-ahead audit, sandbox, redaction) is `runAudited` (audited-run.ts).

const validator = new CfWorkerJsonSchemaValidator();
/** Outcomes that say nothing of how a tool fares: not folded into a conversation's preferences. */
const UNFINISHED: ReadonlySet<string> = new Set(['cancelled', 'audit-unavailable']);
/** `_meta` key under which a call reports what sensitive data it carried. */
export const SENSITIVE_META_KEY = 'mcp-sandbox/sensitive';

/** Validators compiled once per tool version for this service-worker lifetime. */
const validators = new Map<string, ReturnType<typeof validator.getValidator>>();
function validatorFor(tool: ToolRecord) {
  let v = validators.get(tool.code.hash);
  if (!v) {
    v = validator.getValidator(tool.inputSchema as Parameters<typeof validator.getValidator>[0]);
    validators.set(tool.code.hash, v);
  }
  return v;
}

/**
 * Records a refused call. It gets a call id like any call (so the trail can name it, and the
 * agent can quote it): the id is in the entry and in the error's details.
 */
async function refuse(ctx: ServerContext, call: CallContext, tool: string, args: unknown, refusal: SandboxError, suggestion: Suggestion | null = null): Promise<SandboxError> {
  const callId = crypto.randomUUID();
  // The policy version that decided (agents.ts): the admin change that set it records it too.
  const error = new SandboxError(refusal.code, refusal.message, { ...refusal.details, callId, policyVersion: policyVersionOf(call.agent) });
  await ctx.audit.append(
    {
      event: 'call.rejected',
      outcome: 'denied',
      sessionId: call.session.id,
      agentId: call.agent.id,
      callId,
      tool,
      args: redactValue(args, call.policy.data.sensitivePatterns).value,
      error: error.toInfo(),
      ...sealIf(call.policy, ['args']),
      ...(suggestion || call.via ? { details: { ...(suggestion ? { suggestion: auditedSuggestion(suggestion) } : {}), ...(call.via ? { via: call.via } : {}) } } : {}),
    },
    { putSession: ctx.sessions.touch(call.session, ctx.clock(), false) },
  );
  return error;
}

/**
 * A refused call's result: recorded, with another tool to try when one fits (suggestions.ts) and
 * what the conversation remembers of this tool (preferences.ts) offered in `_meta`.
 */
async function refusal(ctx: ServerContext, call: CallContext, tool: ToolRecord, args: unknown, error: SandboxError): Promise<CallToolResult> {
  const suggestion = await suggestAlternative(ctx, call, tool, error.code);
  const info = (await refuse(ctx, call, tool.name, args, error, suggestion)).toInfo();
  return withOffers(errorResult(info), call, tool.name, suggestion);
}

/** A failed call's result with what the failure path offers: an alternative, and this tool's preferences here. */
function withOffers(result: CallToolResult, call: CallContext, name: string, suggestion: Suggestion | null): CallToolResult {
  const offer = preferencesOffer(call.conversation.preferences, name);
  if (!suggestion && !offer) return result;
  return { ...result, _meta: { ...result._meta, ...(suggestion ? { [SUGGESTION_META_KEY]: suggestion } : {}), ...(offer ? { [PREFERENCES_META_KEY]: offer } : {}) } };
}

export function denialError(denial: Denial & { layer?: PolicyLayer }): SandboxError {
  const details: Record<string, unknown> = { rule: denial.rule };
  // Which layer denied: the agent's policy, or its conversation's security level (docs/context.md).
  if (denial.layer !== undefined) details['layer'] = denial.layer;
  if (denial.limit !== undefined) details['limit'] = denial.limit;
  if (denial.observed !== undefined) details['observed'] = denial.observed;
  if (denial.retryAfterMs !== undefined) details['retryAfterMs'] = denial.retryAfterMs;
  return new SandboxError('policy-denied', denial.reason, details);
}

/**
 * Handles `tools/call`: arguments are bounded before anything walks them; an unknown tool is a
 * JSON-RPC error; a tool outside the policy is a denial naming the rule (before its schema is
 * shown to anyone); arguments are checked against the schema; then the policy decides on the
 * call with the agent's counters, and only then does anything run. Everything admission
 * counts comes back as one slot, released by `holding` on every path.
 */
export async function callTool(ctx: ServerContext, sessionId: string, name: string, args: Record<string, unknown> | undefined, signal?: AbortSignal, client?: ClientChannel, conversation?: unknown): Promise<CallToolResult> {
  const call = await readCall(ctx, sessionId, name, conversation);
  // A label the page gives, recorded as said (it decides nothing): the call came through WebMCP.
  if (client?.via) call.via = client.via;
  const { tool, policy, agent, session, agentPolicy } = call;
  const measured = measureJson(args ?? {}, ARGUMENT_BOUNDS);
  if (!measured.ok) {
    const { bound, max, observed, at } = measured.exceeded;
    const error = new SandboxError('invalid-arguments', `the arguments of ${name} ${describeBound(measured.exceeded)}`, { limit: bound, max, observed, at });
    // The arguments themselves are not kept: walking them is what the bound prevents.
    return errorResult((await refuse(ctx, call, name, { '[not recorded]': error.message }, error)).toInfo());
  }
  if (!tool || !tool.enabled || tool.resource || isPrompt(tool)) {
    // A disabled tool still has a kind: another of it may be offered (in the error's data).
    const suggestion = tool && !tool.resource && !isPrompt(tool) ? await suggestAlternative(ctx, call, tool, 'unknown-tool') : null;
    const refused = await refuse(ctx, call, name, args, new SandboxError('unknown-tool', `no enabled tool named ${JSON.stringify(name)}`), suggestion);
    throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`, { code: 'unknown-tool', callId: refused.details?.['callId'], ...(suggestion ? { [SUGGESTION_META_KEY]: suggestion } : {}) });
  }
  const restricted = isRestricted(tool);
  const access = decideLayered(agentPolicy, policy, (p) => decideToolAccess(p, name, restricted));
  if (!access.allow) {
    // Known but outside the policy: say which rule, so the agent can ask for a grant.
    return refusal(ctx, call, tool, args, denialError(access));
  }
  const check = validatorFor(tool)(args ?? {});
  if (!check.valid) {
    const error = new SandboxError('invalid-arguments', `arguments do not match the input schema of ${name}: ${check.errorMessage}`, { schema: tool.inputSchema });
    return refusal(ctx, call, tool, args, error);
  }
  if (name === EXECUTE_CODE_TOOL) {
    // Which languages this agent's code may be written in is policy too (tools.codeLanguages).
    const language = decideLayered(agentPolicy, policy, (p) => decideCodeLanguage(p, String((args as { language?: unknown }).language)));
    if (!language.allow) return refusal(ctx, call, tool, args, denialError(language));
  }
  const now = ctx.clock();
  await ctx.counters.load(agent.id, now);
  const admission = await ctx.counters.admit({
    agentId: agent.id,
    sessionId: session.id,
    storedSessionCalls: session.callCount,
    now,
    globalLimit: call.globalConcurrentCalls,
    waitMs: policy.limits.queueWaitMs,
    decide: (counts) => decideLayered(agentPolicy, policy, (p) => decideToolCall(p, { tool: name, restricted }, { ...counts, sessionStartedAt: session.createdAt, sessionLastActivityAt: session.lastActivityAt, globalConcurrentLimit: call.globalConcurrentCalls }, now)),
  });
  if (!admission.ok) {
    const error = admission.waitedMs === undefined ? denialError(admission.denial) : busyError(admission.denial, admission.waitedMs, admission.retryAfterMs);
    return refusal(ctx, call, tool, args, error);
  }
  const run = await holding(admission.slot, async () => {
    // Into tools: only a tool that declared it wants the context gets it, through get-context.
    const context = tool.context ? await toolContextFor(ctx, call, tool) : undefined;
    return runAudited(ctx, call, tool, args ?? {}, 'call', signal, client, { ...(context ? { context } : {}), suggest: (error) => suggestAlternative(ctx, call, tool, error.code) });
  });
  const finished = run.result;
  // The conversation's tool preferences, written behind the reply (contexts.ts); a call that was
  // cancelled, or stopped before it ran (its audit entry could not be written), teaches nothing.
  if (finished.ok || !UNFINISHED.has(finished.error.code)) ctx.contexts.recordUse(call.conversation, { tool: name, ok: finished.ok, outcome: finished.ok ? 'ok' : finished.error.code, at: ctx.clock(), args: run.argsSeen, withhold: policy.data.encryptionRequired });
  const meta: Record<string, unknown> = { 'mcp-sandbox/call': { durationMs: run.result.durationMs, memoryBytes: run.result.memoryBytes } };
  if (run.sensitive) meta[SENSITIVE_META_KEY] = { ...run.sensitive, redactedForAgent: policy.data.redactForAgent };
  if (!run.ok) return withOffers({ ...errorResult(run.error!), _meta: { ...meta, [ERROR_META_KEY]: run.error! } }, call, name, run.suggestion ?? null);
  // Out of tools: a JSON output's top-level `context_updates`, applied as the agent (docs/context.md).
  if (run.output.includes('"context_updates"')) {
    const updates = contextUpdatesOf(run.structured ?? run.output);
    if (updates !== undefined) meta[CONTEXT_META_KEY] = await applyContextUpdates(ctx, call, name, run.callId, updates);
  }
  if (tool.categories.includes(MCP_CONTENT_CATEGORY)) {
    // The tool wrote the MCP result itself (content blocks of any type): checked, not trusted.
    const parsed = CallToolResultSchema.safeParse(run.mcp);
    if (!parsed.success) return { ...errorResult({ code: 'tool-error', message: `${name} declares MCP content but its output is not an MCP tool result` }), _meta: meta };
    const { content, isError, structuredContent } = parsed.data;
    return { content, ...(isError ? { isError } : {}), ...(structuredContent ? { structuredContent } : {}), _meta: meta };
  }
  return { content: [{ type: 'text', text: run.output }], ...(run.structured ? { structuredContent: run.structured } : {}), _meta: meta };
}

/** The top-level `context_updates` of a tool's JSON object output, if it has one. */
function contextUpdatesOf(output: string | Record<string, unknown>): unknown {
  let value: unknown = output;
  if (typeof output === 'string') {
    try {
      value = JSON.parse(output);
    } catch {
      return undefined;
    }
  }
  return value && typeof value === 'object' && !Array.isArray(value) && Object.hasOwn(value, 'context_updates') ? (value as Record<string, unknown>)['context_updates'] : undefined;
}

/** A call that waited its policy's time in the queue for a global slot and got none. */
function busyError(denial: Denial, waitedMs: number, retryAfterMs: number | undefined): SandboxError {
  return new SandboxError('busy', `the sandbox stayed at its limit of ${String(denial.limit)} running calls for all agents while this call waited ${waitedMs} ms (limits.queueWaitMs); retry shortly`, {
    rule: denial.rule,
    limit: denial.limit,
    observed: denial.observed,
    waitedMs,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}


export function errorResult(info: SandboxErrorInfo): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: `${info.code}: ${info.message}` }], _meta: { [ERROR_META_KEY]: info } };
}
