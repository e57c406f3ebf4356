import { McpError, ErrorCode, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CfWorkerJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/cfworker';
import { ERROR_META_KEY, SandboxError, type SandboxErrorInfo } from '../shared/errors';
import type { CallLimits, ExecuteResult } from '../shared/wire';
import type { SessionRecord, ToolRecord } from '../store/schema';
import type { ServerContext } from './context';

const validator = new CfWorkerJsonSchemaValidator();
const MB = 1024 * 1024;

/** The smaller of the tool's own ceilings and the server's. */
export function limitsFor(tool: ToolRecord, ctx: ServerContext): CallLimits {
  const d = ctx.config.defaultLimits;
  return {
    cpuMs: Math.min(tool.limits.cpuMs ?? Infinity, d.cpuMs),
    memoryBytes: Math.min(tool.limits.memoryMb ?? Infinity, d.memoryMb) * MB,
  };
}

export interface AuditedRun {
  ok: boolean;
  output: string;
  error: SandboxErrorInfo | null;
  result: ExecuteResult;
}

/**
 * Runs one call with write-ahead audit: the request entry (and the session's counters) commit
 * before the sandbox is asked, the result entry commits before anything is returned.
 */
export async function runAudited(ctx: ServerContext, session: SessionRecord, tool: ToolRecord, args: unknown, kind: 'call' | 'resource'): Promise<AuditedRun> {
  const callId = crypto.randomUUID();
  const limits = limitsFor(tool, ctx);
  const startedAt = ctx.clock();
  const who = { sessionId: session.id, agentId: session.agentId, callId, tool: tool.name };
  await ctx.audit.append(
    { event: 'call.request', outcome: 'pending', ...who, args, details: { kind, limits, toolHash: tool.code.hash } },
    { openPending: { callId, incarnation: ctx.incarnation, sessionId: session.id, agentId: session.agentId, tool: tool.name, startedAt }, touchSession: { id: session.id, at: startedAt, calls: 1 } },
  );
  const result = await ctx.executor.execute({
    callId,
    tool: tool.name,
    code: { hash: tool.code.hash, glueUrl: tool.code.glueUrl, coreModules: tool.code.coreModules },
    entry: 'call',
    args: JSON.stringify(args ?? {}),
    limits,
  });
  const error = result.ok ? null : result.error;
  await ctx.audit.append(
    { event: 'call.result', outcome: result.ok ? 'ok' : 'error', ...who, durationMs: result.durationMs, memoryBytes: result.memoryBytes, error },
    { closePending: callId },
  );
  return { ok: result.ok, output: result.ok ? result.output : '', error, result };
}

/** Reads what a call needs in one transaction: the session and the tool, in parallel. */
async function readCall(ctx: ServerContext, sessionId: string, name: string): Promise<{ session: SessionRecord; tool: ToolRecord | undefined }> {
  const tx = (await ctx.db.get()).transaction(['sessions', 'tools']);
  const [session, tool] = await Promise.all([tx.objectStore('sessions').get(sessionId), tx.objectStore('tools').get(name)]);
  if (!session) throw new McpError(ErrorCode.InvalidRequest, `session ${sessionId} no longer exists`);
  return { session, tool };
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

/** Handles `tools/call`. Unknown tools are protocol errors; everything else is a result. */
export async function callTool(ctx: ServerContext, sessionId: string, name: string, args: Record<string, unknown> | undefined): Promise<CallToolResult> {
  const { session, tool } = await readCall(ctx, sessionId, name);
  if (!tool || !tool.enabled || tool.resource) {
    await reject(ctx, session, name, args, new SandboxError('unknown-tool', `no enabled tool named ${JSON.stringify(name)}`));
    throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`, { code: 'unknown-tool' });
  }
  const check = validatorFor(tool)(args ?? {});
  if (!check.valid) {
    const error = new SandboxError('invalid-arguments', `arguments do not match the input schema of ${name}: ${check.errorMessage}`, { schema: tool.inputSchema });
    await reject(ctx, session, name, args, error);
    return errorResult(error.toInfo());
  }
  const run = await runAudited(ctx, session, tool, args ?? {}, 'call');
  if (!run.ok) return errorResult(run.error!);
  const meta = { durationMs: run.result.durationMs, memoryBytes: run.result.memoryBytes };
  return { content: [{ type: 'text', text: run.output }], _meta: { 'mcp-sandbox/call': meta } };
}

async function reject(ctx: ServerContext, session: SessionRecord, tool: string, args: unknown, error: SandboxError): Promise<void> {
  await ctx.audit.append(
    { event: 'call.rejected', outcome: 'denied', sessionId: session.id, agentId: session.agentId, tool, args, error: error.toInfo() },
    { touchSession: { id: session.id, at: ctx.clock(), calls: 0 } },
  );
}

export function errorResult(info: SandboxErrorInfo): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: `${info.code}: ${info.message}` }], _meta: { [ERROR_META_KEY]: info } };
}
