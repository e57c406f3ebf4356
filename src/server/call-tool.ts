import { McpError, ErrorCode, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CfWorkerJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/cfworker';
import { decideToolCall, effectiveLimits, isToolAllowed, redact, redactValue, type Denial, type EffectivePolicy } from '../policy';
import { ERROR_META_KEY, SandboxError, type SandboxErrorInfo } from '../shared/errors';
import type { ExecuteResult } from '../shared/wire';
import type { AgentRecord, SessionRecord, ToolRecord } from '../store/schema';
import { ANONYMOUS, policyOf } from './agents';
import type { ServerContext } from './context';
import { DEFAULT_SETTINGS } from './settings';
import { capabilitiesFor } from './capabilities';

const validator = new CfWorkerJsonSchemaValidator();
/** `_meta` key under which a call reports what sensitive data it carried. */
export const SENSITIVE_META_KEY = 'mcp-sandbox/sensitive';

export interface CallContext {
  session: SessionRecord;
  agent: AgentRecord;
  policy: EffectivePolicy;
  globalConcurrentCalls: number;
}

/** Reads what a call needs in one transaction, in parallel (session, settings, tool); the agent comes from the directory's cache. */
export async function readCall(ctx: ServerContext, sessionId: string, toolName: string | null): Promise<CallContext & { tool: ToolRecord | undefined }> {
  const tx = (await ctx.db.get()).transaction(['sessions', 'tools', 'settings']);
  const [session, tool, settings] = await Promise.all([
    tx.objectStore('sessions').get(sessionId),
    toolName === null ? undefined : tx.objectStore('tools').get(toolName),
    tx.objectStore('settings').get('settings'),
  ]);
  if (!session) throw new McpError(ErrorCode.InvalidRequest, `session ${sessionId} no longer exists`);
  const agent = session.agentId === ANONYMOUS.id ? ANONYMOUS : await ctx.agents.get(session.agentId);
  if (!agent || agent.revokedAt !== null) throw new McpError(-32003, 'this agent is not allowed to connect', { code: 'unauthenticated' });
  return { session, tool, agent, policy: policyOf(agent), globalConcurrentCalls: (settings ?? DEFAULT_SETTINGS).globalConcurrentCalls };
}

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

export interface AuditedRun {
  ok: boolean;
  output: string;
  error: SandboxErrorInfo | null;
  result: ExecuteResult;
  sensitive: { matchedPatterns: string[]; redactions: number } | null;
}

/**
 * Runs one admitted call with write-ahead audit: the request entry (and the session's counters)
 * commit before the sandbox is asked, the result entry commits before anything is returned.
 * Sensitive values are redacted in what the audit keeps.
 */
export async function runAudited(ctx: ServerContext, call: CallContext, tool: ToolRecord, args: unknown, kind: 'call' | 'resource'): Promise<AuditedRun> {
  const { session, agent, policy } = call;
  const callId = crypto.randomUUID();
  const limits = effectiveLimits(policy, tool.limits);
  const startedAt = ctx.clock();
  const who = { sessionId: session.id, agentId: agent.id, callId, tool: tool.name };
  const patterns = policy.data.sensitivePatterns;
  const argsSeen = redactValue(args, patterns);
  await ctx.audit.append(
    { event: 'call.request', outcome: 'pending', ...who, args: argsSeen.value, details: { kind, limits, toolHash: tool.code.hash, ...(argsSeen.redactions ? { sensitiveArgs: argsSeen.matchedPatterns } : {}) } },
    { openPending: { callId, incarnation: ctx.incarnation, sessionId: session.id, agentId: agent.id, tool: tool.name, startedAt }, putSession: touched(ctx, session, startedAt) },
  );
  const capabilities = capabilitiesFor(ctx, call, tool, callId, startedAt + limits.cpuMs);
  let result: ExecuteResult;
  try {
    result = await ctx.executor.execute(
      {
        callId,
        tool: tool.name,
        code: { hash: tool.code.hash, glueUrl: tool.code.glueUrl, coreModules: tool.code.coreModules },
        entry: 'call',
        args: JSON.stringify(args ?? {}),
        limits,
      },
      capabilities.answer,
    );
  } finally {
    if (kind === 'call') ctx.counters.end(agent.id);
  }
  const error = result.ok ? null : result.error;
  const outputSeen = result.ok ? redact(result.output, patterns) : null;
  const matched = [...new Set([...argsSeen.matchedPatterns, ...(outputSeen?.matchedPatterns ?? [])])];
  const sensitive = matched.length ? { matchedPatterns: matched, redactions: argsSeen.redactions + (outputSeen?.redactions ?? 0) } : null;
  await ctx.audit.append(
    {
      event: 'call.result',
      outcome: result.ok ? 'ok' : 'error',
      ...who,
      durationMs: result.durationMs,
      memoryBytes: result.memoryBytes,
      error,
      details: {
        ...(outputSeen ? { output: outputSeen.text.length > 4096 ? outputSeen.text.slice(0, 4096) + '…' : outputSeen.text } : {}),
        ...(sensitive ? { sensitive } : {}),
        ...(capabilities.logs.length ? { logs: redactValue(capabilities.logs, patterns).value } : {}),
      },
    },
    { closePending: callId },
  );
  const output = result.ok ? (policy.data.redactForAgent && outputSeen ? outputSeen.text : result.output) : '';
  return { ok: result.ok, output, error, result, sensitive };
}

/** The session after activity at `at`, with the call count this lifetime knows. */
function touched(ctx: ServerContext, session: SessionRecord, at: number): SessionRecord {
  return { ...session, lastActivityAt: at, callCount: ctx.counters.sessionCount(session.id, session.callCount) };
}

/** Records a refused call and turns the refusal into what the agent receives. */
async function refuse(ctx: ServerContext, call: CallContext, tool: string, args: unknown, error: SandboxError): Promise<void> {
  await ctx.audit.append(
    { event: 'call.rejected', outcome: 'denied', sessionId: call.session.id, agentId: call.agent.id, tool, args: redactValue(args, call.policy.data.sensitivePatterns).value, error: error.toInfo() },
    { putSession: touched(ctx, call.session, ctx.clock()) },
  );
}

export function denialError(denial: Denial): SandboxError {
  const details: Record<string, unknown> = { rule: denial.rule };
  if (denial.limit !== undefined) details['limit'] = denial.limit;
  if (denial.observed !== undefined) details['observed'] = denial.observed;
  if (denial.retryAfterMs !== undefined) details['retryAfterMs'] = denial.retryAfterMs;
  return new SandboxError('policy-denied', denial.reason, details);
}

/**
 * Handles `tools/call`: an unknown tool is a JSON-RPC error; a tool outside the policy is a
 * denial naming the rule (before its schema is shown to anyone); arguments are checked
 * against the schema; then the policy decides on the call with the agent's counters, and only
 * then does anything run.
 */
export async function callTool(ctx: ServerContext, sessionId: string, name: string, args: Record<string, unknown> | undefined): Promise<CallToolResult> {
  const call = await readCall(ctx, sessionId, name);
  const { tool, policy, agent, session } = call;
  if (!tool || !tool.enabled || tool.resource) {
    await refuse(ctx, call, name, args, new SandboxError('unknown-tool', `no enabled tool named ${JSON.stringify(name)}`));
    throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`, { code: 'unknown-tool' });
  }
  if (!isToolAllowed(policy, name)) {
    // Known but outside the policy: say which rule, so the agent can ask for a grant.
    const error = denialError(decideToolCall(policy, { tool: name }, emptyState(session), ctx.clock()) as Denial);
    await refuse(ctx, call, name, args, error);
    return errorResult(error.toInfo());
  }
  const check = validatorFor(tool)(args ?? {});
  if (!check.valid) {
    const error = new SandboxError('invalid-arguments', `arguments do not match the input schema of ${name}: ${check.errorMessage}`, { schema: tool.inputSchema });
    await refuse(ctx, call, name, args, error);
    return errorResult(error.toInfo());
  }
  const now = ctx.clock();
  await ctx.counters.load(agent.id, now);
  // From here to `begin` nothing is awaited: the decision and the counting are one step.
  const state = { ...ctx.counters.snapshot(agent.id, session.id, session.callCount, now), sessionStartedAt: session.createdAt, sessionLastActivityAt: session.lastActivityAt, globalConcurrentLimit: call.globalConcurrentCalls };
  const decision = decideToolCall(policy, { tool: name }, state, now);
  if (!decision.allow) {
    const error = denialError(decision);
    await refuse(ctx, call, name, args, error);
    return errorResult(error.toInfo());
  }
  ctx.counters.begin(agent.id, session.id, session.callCount, now);
  const run = await runAudited(ctx, call, tool, args ?? {}, 'call');
  const meta: Record<string, unknown> = { 'mcp-sandbox/call': { durationMs: run.result.durationMs, memoryBytes: run.result.memoryBytes } };
  if (run.sensitive) meta[SENSITIVE_META_KEY] = { ...run.sensitive, redactedForAgent: policy.data.redactForAgent };
  if (!run.ok) return { ...errorResult(run.error!), _meta: { ...meta, [ERROR_META_KEY]: run.error! } };
  return { content: [{ type: 'text', text: run.output }], _meta: meta };
}

function emptyState(session: SessionRecord) {
  return { recentCallTimes: [], sessionCallCount: 0, sessionStartedAt: session.createdAt, sessionLastActivityAt: session.lastActivityAt, agentActiveCalls: 0, globalActiveCalls: 0, globalConcurrentLimit: Infinity };
}

export function errorResult(info: SandboxErrorInfo): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: `${info.code}: ${info.message}` }], _meta: { [ERROR_META_KEY]: info } };
}
