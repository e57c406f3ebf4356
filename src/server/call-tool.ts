import { McpError, ErrorCode, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CfWorkerJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/cfworker';
import { decideCodeLanguage, decideToolCall, effectiveLimits, isToolAllowed, redactValue, Redactor, type Denial, type EffectivePolicy } from '../policy';
import { EXECUTE_CODE_TOOL } from '../shared/execute-code';
import { ERROR_META_KEY, SandboxError, type SandboxErrorInfo } from '../shared/errors';
import type { ExecuteResult } from '../shared/wire';
import type { AgentRecord, SessionRecord, ToolRecord } from '../store/schema';
import { sealIf } from './at-rest';
import { ANONYMOUS, policyOf } from './agents';
import type { ServerContext } from './context';
import { readSettings } from './settings';
import { capabilitiesFor, type CapabilityDenialFacts, type CapabilitySession } from './capabilities';
import { holding } from './fair-queue';
import { ARGUMENT_BOUNDS, describeBound, measureJson } from '../shared/json-bounds';

const validator = new CfWorkerJsonSchemaValidator();
/** `_meta` key under which a call reports what sensitive data it carried. */
export const SENSITIVE_META_KEY = 'mcp-sandbox/sensitive';

export interface CallContext {
  session: SessionRecord;
  agent: AgentRecord;
  policy: EffectivePolicy;
  globalConcurrentCalls: number;
}

/**
 * What a call needs: session, tool, settings and agent, each kept in memory for this
 * service-worker lifetime once read (only this service worker changes them, and each store
 * updates its copy when it does), so a warm call reads nothing from IndexedDB.
 */
export async function readCall(ctx: ServerContext, sessionId: string, toolName: string | null): Promise<CallContext & { tool: ToolRecord | undefined }> {
  const [session, tool, settings] = await Promise.all([ctx.sessions.get(sessionId), toolName === null ? undefined : ctx.registry.get(toolName), readSettings(ctx.db)]);
  if (!session) throw new McpError(ErrorCode.InvalidRequest, `session ${sessionId} no longer exists`);
  const agent = session.agentId === ANONYMOUS.id ? ANONYMOUS : await ctx.agents.get(session.agentId);
  if (!agent || agent.revokedAt !== null) throw new McpError(-32003, 'this agent is not allowed to connect', { code: 'unauthenticated' });
  return { session, tool, agent, policy: policyOf(agent), globalConcurrentCalls: settings.globalConcurrentCalls };
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
  /** The output parsed, for a tool that declares an `outputSchema` (redacted like `output`). */
  structured?: Record<string, unknown>;
}

/**
 * Runs one admitted call with write-ahead audit: the request entry (and the session's counters)
 * commit before the sandbox is asked, the result entry commits before anything is returned.
 * Sensitive values are redacted in what the audit keeps.
 *
 * Invariants:
 * - Once the request entry has committed, a result entry follows on every path: a failure of
 *   our own between the two (a throw anywhere) is recorded as `internal-error`, not lost.
 * - If the request entry cannot be written, nothing runs (`audit-unavailable`).
 * - A tool that fails after one of its capabilities was denied ends `policy-denied` with that
 *   denial's facts, exactly like a call-level denial.
 */
export async function runAudited(ctx: ServerContext, call: CallContext, tool: ToolRecord, args: unknown, kind: 'call' | 'resource', signal?: AbortSignal): Promise<AuditedRun> {
  const { session, agent, policy } = call;
  const callId = crypto.randomUUID();
  const limits = effectiveLimits(policy, tool.limits);
  const startedAt = ctx.clock();
  const who = { sessionId: session.id, agentId: agent.id, callId, tool: tool.name };
  // One redactor for the whole call: a value found secret in the arguments stays masked when
  // the tool echoes it in its output, its logs, its errors or its capability requests.
  const redactor = new Redactor(policy.data.sensitivePatterns);
  const argsSeen = redactor.value(args);
  const argsMatched = [...redactor.matchedPatterns];
  // The tool starts while its request entry commits; nothing it does leaves the sandbox before
  // the commit lands: each capability use waits for it, and so does the reply (below). If the
  // entry cannot be written, the run is stopped and the agent gets `audit-unavailable`.
  const stop = new AbortController();
  let commitError: unknown = null;
  const durable = ctx.audit
    .append(
      { event: 'call.request', outcome: 'pending', ...who, args: argsSeen, ...sealIf(policy, ['args']), details: { kind, limits, toolHash: tool.code.hash, ...(argsMatched.length ? { sensitiveArgs: argsMatched } : {}) } },
      { openPending: { callId, incarnation: ctx.incarnation, sessionId: session.id, agentId: agent.id, tool: tool.name, startedAt }, putSession: touched(ctx, session, startedAt) },
    )
    .then(
      () => true,
      (error: unknown) => {
        commitError = error;
        stop.abort('the audit entry could not be written');
        return false;
      },
    );
  const runSignal = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
  let result: ExecuteResult;
  let capabilities: CapabilitySession | null = null;
  try {
    capabilities = capabilitiesFor(ctx, call, tool, callId, startedAt + limits.cpuMs, redactor, runSignal, durable);
    const ran = await ctx.executor.execute(
      {
        callId,
        tool: tool.name,
        code: { hash: tool.code.hash, glueUrl: tool.code.glueUrl, coreModules: tool.code.coreModules },
        entry: 'call',
        args: JSON.stringify(args ?? {}),
        limits,
      },
      capabilities.answer,
      runSignal,
    );
    const denied = capabilities.denials.at(-1);
    if (ran.ok && typeof ran.output !== 'string') throw new TypeError(`the tool answered ${typeof ran.output}, not text`);
    result = ran.ok || !denied ? ran : { ...ran, error: capabilityDenial(denied, ran.error) };
  } catch (thrown) {
    // A failure of ours after the request committed: recorded as such, never left pending.
    const info = new SandboxError('internal-error', `the sandbox failed while handling the call: ${(thrown as Error)?.message ?? String(thrown)}`).toInfo();
    result = { ok: false, error: info, durationMs: ctx.clock() - startedAt, memoryBytes: 0 };
  }
  if (!(await durable)) {
    const info = new SandboxError('audit-unavailable', `the call was stopped because its audit entry could not be written: ${(commitError as Error)?.message ?? String(commitError)}`).toInfo();
    return { ok: false, output: '', error: info, result: { ok: false, error: info, durationMs: result.durationMs, memoryBytes: 0 }, sensitive: null };
  }
  // What the audit keeps: everything the tool produced, redacted with what the call taught.
  const output = result.ok ? redactor.text(result.output) : undefined;
  const error = result.ok ? null : { ...result.error, message: redactor.text(result.error.message), ...(result.error.details ? { details: redactor.value(result.error.details) as Record<string, unknown> } : {}) };
  const logs = capabilities?.logs.length ? redactor.value(capabilities.logs) : undefined;
  const reads = capabilities?.unrecordedReads ?? {};
  const sensitive = redactor.redactions ? { matchedPatterns: [...redactor.matchedPatterns], redactions: redactor.redactions } : null;
  await ctx.audit.append(
    {
      event: 'call.result',
      outcome: result.ok ? 'ok' : result.error.code === 'policy-denied' ? 'denied' : result.error.code === 'cancelled' ? 'cancelled' : 'error',
      ...who,
      durationMs: result.durationMs,
      memoryBytes: result.memoryBytes,
      error,
      ...sealIf(policy, ['details']),
      details: {
        ...(output !== undefined ? { output: output.length > 4096 ? output.slice(0, 4096) + '…' : output } : {}),
        ...(sensitive ? { sensitive } : {}),
        ...(logs ? { logs } : {}),
        ...(Object.keys(reads).length ? { reads } : {}),
      },
    },
    { closePending: callId },
  );
  // What the agent receives: redacted too where its policy says so.
  const hide = policy.data.redactForAgent;
  const agentError = error && !hide && !result.ok ? result.error : error;
  const run: AuditedRun = { ok: result.ok, output: result.ok ? (hide ? output! : result.output) : '', error: agentError, result, sensitive };
  if (result.ok && tool.outputSchema) {
    // Structured content is redacted as a value (masking inside JSON text could break it).
    const parsed = parseObject(result.output);
    run.structured = (hide ? redactor.value(parsed) : parsed) as Record<string, unknown>;
    run.output = JSON.stringify(run.structured);
  }
  return run;
}

/** A tool's JSON output as an object; anything else is wrapped, so structured content always exists. */
function parseObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // not JSON: wrapped below
  }
  return { result: text };
}

/** The error of a tool that failed after a capability was denied: the denial, with its facts. */
function capabilityDenial(denial: CapabilityDenialFacts, toolError: SandboxErrorInfo): SandboxErrorInfo {
  const details: Record<string, unknown> = { rule: denial.rule, capability: denial.fn };
  if (denial.limit !== undefined) details['limit'] = denial.limit;
  if (denial.observed !== undefined) details['observed'] = denial.observed;
  if (denial.retryAfterMs !== undefined) details['retryAfterMs'] = denial.retryAfterMs;
  details['toolMessage'] = toolError.message;
  return { code: 'policy-denied', message: denial.reason, details };
}

/** The session after activity at `at`, with the call count this lifetime knows. */
function touched(ctx: ServerContext, session: SessionRecord, at: number): SessionRecord {
  const next = { ...session, lastActivityAt: at, callCount: ctx.counters.sessionCount(session.id, session.callCount) };
  ctx.sessions.remember(next);
  return next;
}

/** Records a refused call and turns the refusal into what the agent receives. */
async function refuse(ctx: ServerContext, call: CallContext, tool: string, args: unknown, error: SandboxError): Promise<void> {
  await ctx.audit.append(
    { event: 'call.rejected', outcome: 'denied', sessionId: call.session.id, agentId: call.agent.id, tool, args: redactValue(args, call.policy.data.sensitivePatterns).value, error: error.toInfo(), ...sealIf(call.policy, ['args']) },
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
 * Handles `tools/call`: arguments are bounded before anything walks them; an unknown tool is a
 * JSON-RPC error; a tool outside the policy is a denial naming the rule (before its schema is
 * shown to anyone); arguments are checked against the schema; then the policy decides on the
 * call with the agent's counters, and only then does anything run. Everything admission
 * counts comes back as one slot, released by `holding` on every path.
 */
export async function callTool(ctx: ServerContext, sessionId: string, name: string, args: Record<string, unknown> | undefined, signal?: AbortSignal): Promise<CallToolResult> {
  const call = await readCall(ctx, sessionId, name);
  const { tool, policy, agent, session } = call;
  const measured = measureJson(args ?? {}, ARGUMENT_BOUNDS);
  if (!measured.ok) {
    const { bound, max, observed, at } = measured.exceeded;
    const error = new SandboxError('invalid-arguments', `the arguments of ${name} ${describeBound(measured.exceeded)}`, { limit: bound, max, observed, at });
    // The arguments themselves are not kept: walking them is what the bound prevents.
    await refuse(ctx, call, name, { '[not recorded]': error.message }, error);
    return errorResult(error.toInfo());
  }
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
  if (name === EXECUTE_CODE_TOOL) {
    // Which languages this agent's code may be written in is policy too (tools.codeLanguages).
    const language = decideCodeLanguage(policy, String((args as { language?: unknown }).language));
    if (!language.allow) {
      const error = denialError(language);
      await refuse(ctx, call, name, args, error);
      return errorResult(error.toInfo());
    }
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
    decide: (counts) => decideToolCall(policy, { tool: name }, { ...counts, sessionStartedAt: session.createdAt, sessionLastActivityAt: session.lastActivityAt, globalConcurrentLimit: call.globalConcurrentCalls }, now),
  });
  if (!admission.ok) {
    const error = admission.waitedMs === undefined ? denialError(admission.denial) : busyError(admission.denial, admission.waitedMs, admission.retryAfterMs);
    await refuse(ctx, call, name, args, error);
    return errorResult(error.toInfo());
  }
  const run = await holding(admission.slot, () => runAudited(ctx, call, tool, args ?? {}, 'call', signal));
  const meta: Record<string, unknown> = { 'mcp-sandbox/call': { durationMs: run.result.durationMs, memoryBytes: run.result.memoryBytes } };
  if (run.sensitive) meta[SENSITIVE_META_KEY] = { ...run.sensitive, redactedForAgent: policy.data.redactForAgent };
  if (!run.ok) return { ...errorResult(run.error!), _meta: { ...meta, [ERROR_META_KEY]: run.error! } };
  return { content: [{ type: 'text', text: run.output }], ...(run.structured ? { structuredContent: run.structured } : {}), _meta: meta };
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

function emptyState(session: SessionRecord) {
  return { recentCallTimes: [], sessionCallCount: 0, sessionStartedAt: session.createdAt, sessionLastActivityAt: session.lastActivityAt, agentActiveCalls: 0, globalActiveCalls: 0, globalConcurrentLimit: Infinity };
}

export function errorResult(info: SandboxErrorInfo): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: `${info.code}: ${info.message}` }], _meta: { [ERROR_META_KEY]: info } };
}
