import { effectiveLimits, Redactor } from '../policy';
import { SandboxError, type SandboxErrorInfo } from '../shared/errors';
import type { ExecuteResult } from '../shared/wire';
import type { ToolRecord } from '../store/schema';
import { policyVersionOf } from './agents';
import { sealIf } from './at-rest';
import type { CallContext } from './call-context';
import { capabilitiesFor, type CapabilityDenialFacts, type CapabilitySession, type ClientChannel } from './capabilities';
import type { ServerContext } from './context';
import { MCP_CONTENT_CATEGORY } from './registry';
import { auditedSuggestion, type Suggestion } from './suggestions';
import type { ToolContext } from './tool-context';

export interface AuditedRun {
  /** The call's id, as its request and result entries name it. */
  callId: string;
  ok: boolean;
  output: string;
  error: SandboxErrorInfo | null;
  result: ExecuteResult;
  sensitive: { matchedPatterns: string[]; redactions: number } | null;
  /** The output parsed, for a tool that declares an `outputSchema` (redacted like `output`). */
  structured?: Record<string, unknown>;
  /** The output parsed, for a producer of MCP results (category "mcp-content"; redacted like `output`); undefined if it is not JSON. */
  mcp?: unknown;
  /** The arguments as the audit keeps them (redacted by the call's policy). */
  argsSeen: unknown;
  /** Another tool to try, offered when the call failed (`RunOptions.suggest`); recorded in the result entry. */
  suggestion?: Suggestion;
}

/** What only some runs have (tools/call's). */
export interface RunOptions {
  /** The conversation's context, for a tool that declared it wants it (tool-context.ts). */
  context?: ToolContext;
  /** Asked only when the call failed: an alternative to offer (suggestions.ts). */
  suggest?: (error: SandboxErrorInfo) => Promise<Suggestion | null>;
}

/**
 * Runs one admitted call with write-ahead audit: the request entry (and the session's counters)
 * commit before anything the tool does leaves the sandbox; the result entry commits after the
 * reply.
 * Sensitive values are redacted in what the audit keeps.
 *
 * Invariants:
 * - Once the request entry has committed, a result entry follows on every path: a failure of
 *   our own between the two (a throw anywhere) is recorded as `internal-error`, not lost; a
 *   result entry that fails to commit is followed by `call.interrupted` (outcome not recorded).
 * - The reply never waits for the result entry (it commits after, see below).
 * - If the request entry cannot be written, nothing runs (`audit-unavailable`).
 * - A tool that fails after one of its capabilities was denied ends `policy-denied` with that
 *   denial's facts, exactly like a call-level denial.
 */
export async function runAudited(ctx: ServerContext, call: CallContext, tool: ToolRecord, args: unknown, kind: 'call' | 'resource' | 'prompt', signal?: AbortSignal, client?: ClientChannel, options: RunOptions = {}): Promise<AuditedRun> {
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
  // entry cannot be written, the run is stopped and the agent gets `audit-unavailable`. The call
  // is handed to the sandbox before the entry is even prepared: sealing, hashing and issuing
  // the write then happen while the call travels to its worker and runs.
  const stop = new AbortController();
  let commitError: unknown = null;
  let settleDurable!: (ok: boolean) => void;
  const durable = new Promise<boolean>((resolve) => (settleDurable = resolve));
  const runSignal = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
  let result: ExecuteResult;
  let capabilities: CapabilitySession | null = null;
  let running: Promise<ExecuteResult>;
  try {
    // Log lines reach the client redacted as its policy says, like the output.
    const log = client?.log;
    const forward: ClientChannel | undefined = client && { ...client, ...(log ? { log: (level: string, message: string) => log(level, policy.data.redactForAgent ? redactor.text(message) : message) } : {}) };
    capabilities = capabilitiesFor(ctx, call, tool, callId, startedAt + limits.cpuMs, redactor, runSignal, durable, forward);
    running = ctx.executor.execute(
      {
        callId,
        agentId: agent.id,
        tool: tool.name,
        code: { hash: tool.code.hash, glueUrl: tool.code.glueUrl, coreModules: tool.code.coreModules },
        entry: 'call',
        args: JSON.stringify(args ?? {}),
        limits,
        ...(options.context ? { context: options.context.json } : {}),
      },
      capabilities.answer,
      runSignal,
    );
  } catch (thrown) {
    running = Promise.reject(thrown as Error);
  }
  // The slot of its write-ahead record, held until an entry closing the call has committed.
  const slot = ctx.callSlots.take();
  void ctx.audit
    .append(
      { event: 'call.request', outcome: 'pending', ...who, args: argsSeen, ...sealIf(policy, ['args']), details: { kind, limits, toolHash: tool.code.hash, policyVersion: policyVersionOf(agent), ...(argsMatched.length ? { sensitiveArgs: argsMatched } : {}), ...(options.context ? { contextVariables: options.context.variables } : {}), ...(call.via ? { via: call.via } : {}) } },
      { openCall: { slot, callId, incarnation: ctx.incarnation, sessionId: session.id, agentId: agent.id, tool: tool.name, startedAt }, putSession: ctx.sessions.touch(session, startedAt, kind === 'call') },
    )
    .then(
      () => settleDurable(true),
      (error: unknown) => {
        // Nothing of the call was written (its record is in the entry's transaction).
        ctx.callSlots.release(slot);
        commitError = error;
        stop.abort('the audit entry could not be written');
        settleDurable(false);
      },
    );
  try {
    const ran = await running;
    const denied = capabilities?.denials.at(-1);
    if (ran.ok && typeof ran.output !== 'string') throw new TypeError(`the tool answered ${typeof ran.output}, not text`);
    result = ran.ok || !denied ? ran : { ...ran, error: capabilityDenial(denied, ran.error) };
  } catch (thrown) {
    // A failure of ours after the request committed: recorded as such, never left pending.
    const info = new SandboxError('internal-error', `the sandbox failed while handling the call: ${(thrown as Error)?.message ?? String(thrown)}`).toInfo();
    result = { ok: false, error: info, durationMs: ctx.clock() - startedAt, memoryBytes: 0 };
  }
  if (!(await durable)) {
    const info = auditUnavailable(commitError);
    return { callId, ok: false, output: '', error: info, result: { ok: false, error: info, durationMs: result.durationMs, memoryBytes: 0 }, sensitive: null, argsSeen };
  }
  // What the audit keeps: everything the tool produced, redacted with what the call taught.
  const output = result.ok ? redactor.text(result.output) : undefined;
  const error = result.ok ? null : { ...result.error, message: redactor.text(result.error.message), ...(result.error.details ? { details: redactor.value(result.error.details) as Record<string, unknown> } : {}) };
  const logs = capabilities?.logs.length ? redactor.value(capabilities.logs) : undefined;
  const reads = capabilities?.unrecordedReads ?? {};
  const sensitive = redactor.redactions ? { matchedPatterns: [...redactor.matchedPatterns], redactions: redactor.redactions } : null;
  // Failure path only: which other tool to offer, recorded with the outcome.
  const suggestion = !result.ok && options.suggest ? await options.suggest(result.error) : null;
  // The reply does not wait for the result entry: the request entry made the call durable before
  // anything left the sandbox, and the result commits after the reply, with the next call's
  // request when one comes soon (audit.ts, RELAXED_HOLD_MS). A result that fails to commit is
  // recorded as an outcome not recorded, at once or by the next wake's recovery (docs/audit.md);
  // a reader of the log (the admin API) first lets held entries commit (`settled`).
  const recorded = ctx.audit.append(
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
        ...(suggestion ? { suggestion: auditedSuggestion(suggestion) } : {}),
      },
    },
    { durability: 'relaxed' },
  );
  recorded.then(
    () => ctx.callSlots.release(slot),
    (error: unknown) => recordUnrecorded(ctx, who, slot, startedAt, error),
  );
  // What the agent receives: redacted too where its policy says so.
  const hide = policy.data.redactForAgent;
  const agentError = error && !hide && !result.ok ? result.error : error;
  const run: AuditedRun = { callId, ok: result.ok, output: result.ok ? (hide ? output! : result.output) : '', error: agentError, result, sensitive, argsSeen, ...(suggestion ? { suggestion } : {}) };
  if (result.ok && tool.categories.includes(MCP_CONTENT_CATEGORY)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(result.output);
    } catch {
      parsed = undefined;
    }
    run.mcp = hide ? redactor.value(parsed) : parsed;
  }
  if (result.ok && tool.outputSchema) {
    // Structured content is redacted as a value (masking inside JSON text could break it).
    const parsed = parseObject(result.output);
    run.structured = (hide ? redactor.value(parsed) : parsed) as Record<string, unknown>;
    run.output = JSON.stringify(run.structured);
  }
  return run;
}

/**
 * Closes the write-ahead record of a call whose result entry failed to commit after its reply
 * left: `call.interrupted`, outcome not recorded. If even that fails, the record stays open and
 * the next wake's recovery closes it the same way.
 */
function recordUnrecorded(ctx: ServerContext, who: { sessionId: string; agentId: string; callId: string; tool: string }, slot: number, startedAt: number, error: unknown): void {
  void ctx.audit
    .append(
      {
        event: 'call.interrupted',
        outcome: 'interrupted',
        ...who,
        error: { code: 'interrupted', message: `the call's outcome could not be recorded (${(error as Error)?.message ?? String(error)}); its agent may have received a result` },
        details: { startedAt, outcomeRecorded: false },
      },
    )
    .then(
      () => ctx.callSlots.release(slot),
      () => undefined,
    );
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

/** Why a call was stopped unrecorded; a full quota says what the person can do about it. */
function auditUnavailable(commitError: unknown) {
  const cause = (commitError as Error)?.message ?? String(commitError);
  if ((commitError as { name?: string } | null)?.name === 'QuotaExceededError') {
    return new SandboxError('audit-unavailable', `the call was stopped because its audit entry could not be written: this app's storage is full (the browser's quota is reached); archive older audit entries (Audit → Archive) or free space`, { cause: 'quota', detail: cause }).toInfo();
  }
  return new SandboxError('audit-unavailable', `the call was stopped because its audit entry could not be written: ${cause}`).toInfo();
}
