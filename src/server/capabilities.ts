import { decideFile, decideNetwork, normalisePath, type Decision, type FileOp, type Redactor } from '../policy';
import type { CapabilityName, CapabilityReply, CapabilityRequest } from '../shared/wire';
import type { ToolRecord } from '../store/schema';
import type { CallContext } from './call-context';
import { sealIf } from './at-rest';
import { readWorkspaceFile, writeWorkspaceFile } from '../store/workspace';
import type { ServerContext } from './context';
import { CLIENT_ASKS } from './input-required';

/** Largest response body handed to a tool, whatever the server sends. */
const MAX_RESPONSE_BYTES = 1024 * 1024;
/** Log lines kept per call (in its result entry), and characters per line. */
const MAX_LOG_LINES = 50;
const MAX_LOG_CHARS = 1000;

/** The permission a tool must declare in `describe` to use each capability. */
const PERMISSION: Record<CapabilityName, string | null> = {
  'read-file': 'files:read',
  'list-directory': 'files:read',
  stat: 'files:read',
  'write-file': 'files:write',
  'http-fetch': 'network',
  'client-request': 'client',
  log: null,
};

/** What a tool may ask the agent's own client, by way of its session (input-required.ts). */
const CLIENT_METHODS = new Set(Object.keys(CLIENT_ASKS));

/** The calling agent's MCP client, for the call that is running: its log lines and requests. */
export interface ClientChannel {
  /** The agent's page says the call came through its WebMCP model context (client/webmcp.ts). */
  via?: 'webmcp';
  /** Each log line as it is written (notifications/message, progress). */
  log?(level: string, message: string): void;
  /** A request to the client on the call's own stream; resolves with its result. */
  request?(method: string, params: Record<string, unknown>, signal?: AbortSignal): Promise<unknown>;
}

export interface CapabilitySession {
  answer(request: CapabilityRequest): Promise<CapabilityReply>;
  /** What the tool logged, for the call's result entry. */
  logs: { level: string; message: string }[];
  /** The uses refused during this call, in order: a tool that then fails ends `policy-denied`. */
  denials: CapabilityDenialFacts[];
  /** Allowed reads not recorded one by one (auditAllAccess off), counted per capability. */
  readonly unrecordedReads: Record<string, number>;
}

/** What a refused capability use tells the agent: the same facts as a call-level denial. */
export interface CapabilityDenialFacts {
  fn: CapabilityName;
  rule: string;
  reason: string;
  limit?: unknown;
  observed?: unknown;
  retryAfterMs?: number;
}

/**
 * The host capabilities of one running call. Each use is decided at the moment of use by the
 * calling agent's policy (and the permissions the tool declared), recorded as a
 * `call.capability` audit entry committed before anything is done, and answered with a
 * message the tool can pass on and the agent can act on.
 */
export function capabilitiesFor(
  ctx: ServerContext,
  call: CallContext,
  tool: ToolRecord,
  callId: string,
  deadline: number,
  redactor: Redactor,
  signal?: AbortSignal,
  /** Resolves when the call's request entry has committed (false: it could not be written). */
  durable: Promise<boolean> = Promise.resolve(true),
  client?: ClientChannel,
): CapabilitySession {
  const logs: { level: string; message: string }[] = [];
  const denials: CapabilityDenialFacts[] = [];
  const reads = new Map<CapabilityName, number>();
  const who = { sessionId: call.session.id, agentId: call.agent.id, callId, tool: tool.name };

  const record = async (fn: CapabilityName, target: Record<string, unknown>, decision: CapabilityDecision): Promise<void> => {
    if (!decision.allow) {
      denials.push({ fn, rule: decision.rule, reason: decision.reason, ...(decision.limit === undefined ? {} : { limit: decision.limit }), ...(decision.observed === undefined ? {} : { observed: decision.observed }), ...(decision.retryAfterMs === undefined ? {} : { retryAfterMs: decision.retryAfterMs }) });
    }
    // Reads that were allowed are recorded one by one only when the policy asks for it
    // (data.auditAllAccess); otherwise they are counted in the call's result entry. Denials,
    // writes and network requests are always recorded before they happen.
    if (decision.allow && READS.has(fn) && !call.policy.data.auditAllAccess) {
      reads.set(fn, (reads.get(fn) ?? 0) + 1);
      return;
    }
    await ctx.audit.append({
      event: 'call.capability',
      outcome: decision.allow ? 'ok' : 'denied',
      ...who,
      args: redactor.value(target) as Record<string, unknown>,
      // Not `details`: the rate counters are rebuilt from `details.fn` without the key.
      ...sealIf(call.policy, ['args']),
      details: decision.allow ? { fn } : { fn, rule: decision.rule, reason: decision.reason, limit: decision.limit ?? null, observed: decision.observed ?? null },
    });
  };

  const refusal = (decision: Exclude<CapabilityDecision, { allow: true }>) => `denied by policy (${decision.rule}): ${decision.reason}`;

  // Never rejects: whatever fails here (recording included, in which case nothing was done,
  // since each use is recorded before it happens) is the tool's refusal.
  const answer = async (request: CapabilityRequest): Promise<CapabilityReply> => {
    const { id, fn, args } = request;
    const fail = (error: string): CapabilityReply => ({ id, ok: false, error });
    // Write-ahead: nothing leaves the sandbox before the call's request entry is durable.
    if (!(await durable)) return fail(`${String(fn)} refused: the call's audit entry could not be written`);
    // Nothing is done for a call the agent cancelled, even if the request was already on its way.
    if (signal?.aborted) return fail(`${String(fn)} refused: the call was cancelled`);
    try {
      if (fn === 'log') {
        const line = { level: String(args['level']).slice(0, 16), message: String(args['message']).slice(0, MAX_LOG_CHARS) };
        if (logs.length < MAX_LOG_LINES) {
          logs.push(line);
          client?.log?.(line.level, line.message);
        }
        return { id, ok: true, value: null };
      }
      const permission = PERMISSION[fn];
      if (permission && !tool.permissions.includes(permission)) {
        const decision: CapabilityDenial = { allow: false, rule: 'tool.undeclared-permission', reason: `tool ${tool.name} did not declare the permission ${permission} it needs for ${fn}` };
        await record(fn, args, decision);
        return fail(refusal(decision));
      }
      if (fn === 'http-fetch') return await httpFetch(ctx, call, id, String(args['request']), deadline, record, refusal, signal);
      if (fn === 'client-request') return await clientRequest(id, String(args['method']), String(args['params']), client, record, signal);
      return await fileOp(ctx, call, id, fn, args, record, refusal);
    } catch (error) {
      return fail(`${String(fn)} failed: ${(error as Error)?.message ?? String(error)}`);
    }
  };
  return {
    answer,
    logs,
    denials,
    get unrecordedReads() {
      return Object.fromEntries(reads);
    },
  };
}

/** Capabilities that only read the agent's data (see `data.auditAllAccess`). */
const READS = new Set<CapabilityName>(['read-file', 'list-directory', 'stat']);

/** A policy decision, or the host's own refusal of a capability the tool never declared. */
type CapabilityDenial = { allow: false; rule: 'tool.undeclared-permission'; reason: string; limit?: undefined; observed?: undefined; retryAfterMs?: undefined };
type CapabilityDecision = Decision | CapabilityDenial;
type Recorder = (fn: CapabilityName, target: Record<string, unknown>, decision: CapabilityDecision) => Promise<void>;
type Refusal = (decision: Exclude<CapabilityDecision, { allow: true }>) => string;

const OPS: Record<Exclude<CapabilityName, 'http-fetch' | 'client-request' | 'log'>, FileOp> = { 'read-file': 'read', 'write-file': 'write', 'list-directory': 'list', stat: 'stat' };

async function fileOp(ctx: ServerContext, call: CallContext, id: number, fn: Exclude<CapabilityName, 'http-fetch' | 'client-request' | 'log'>, args: Record<string, unknown>, record: Recorder, refusal: Refusal): Promise<CapabilityReply> {
  const rawPath = String(args['path'] ?? '');
  const contents = fn === 'write-file' ? String(args['contents'] ?? '') : null;
  const sizeBytes = contents === null ? undefined : new TextEncoder().encode(contents).length;
  const decision = decideFile(call.policy, { path: rawPath, op: OPS[fn], ...(sizeBytes === undefined ? {} : { sizeBytes }) });
  const target = { path: rawPath, ...(sizeBytes === undefined ? {} : { bytes: sizeBytes }) };
  await record(fn, target, decision);
  if (!decision.allow) return { id, ok: false, error: refusal(decision) };
  // The policy judged the normalised path; the store uses exactly that one.
  const normal = normalisePath(rawPath);
  if (!normal.ok) return { id, ok: false, error: normal.problem.reason };
  const path = normal.path.path;
  const db = await ctx.db.get();
  switch (fn) {
    case 'read-file': {
      const file = await readWorkspaceFile(ctx.db, ctx.sealer, path);
      return file ? { id, ok: true, value: file.contents } : { id, ok: false, error: `no file ${path}` };
    }
    case 'write-file':
      // Encrypted at rest when the writing agent's policy requires it; read back transparently.
      await writeWorkspaceFile(ctx.db, ctx.sealer, { path, contents: contents!, size: sizeBytes!, modifiedMs: ctx.clock() }, { seal: call.policy.data.encryptionRequired });
      return { id, ok: true, value: sizeBytes };
    case 'list-directory': {
      const prefix = path === '.' || path === '/' ? (path === '/' ? '/' : './') : path + '/';
      const names = new Set<string>();
      for (const key of await db.getAllKeys('workspace', IDBKeyRange.bound(prefix, prefix + '\uffff'))) {
        const rest = key.slice(prefix.length);
        const slash = rest.indexOf('/');
        names.add(slash === -1 ? rest : rest.slice(0, slash + 1));
      }
      return { id, ok: true, value: [...names].sort() };
    }
    case 'stat': {
      const file = await db.get('workspace', path);
      if (file) return { id, ok: true, value: JSON.stringify({ size: file.size, isDirectory: false, modifiedMs: file.modifiedMs }) };
      const child = await db.getKey('workspace', IDBKeyRange.bound(path + '/', path + '/\uffff'));
      return child ? { id, ok: true, value: JSON.stringify({ size: 0, isDirectory: true, modifiedMs: 0 }) } : { id, ok: false, error: `no file or folder ${path}` };
    }
  }
}

interface HttpRequest {
  method?: string;
  url?: string;
  headers?: Record<string, string>;
  body?: string;
}

async function httpFetch(ctx: ServerContext, call: CallContext, id: number, requestJson: string, deadline: number, record: Recorder, refusal: Refusal, signal?: AbortSignal): Promise<CapabilityReply> {
  let request: HttpRequest;
  try {
    request = JSON.parse(requestJson) as HttpRequest;
  } catch {
    return { id, ok: false, error: 'http-fetch: the request is not JSON' };
  }
  const url = String(request.url ?? '');
  const method = String(request.method ?? 'GET').toUpperCase();
  const body = typeof request.body === 'string' ? request.body : undefined;
  const bodyBytes = body === undefined ? 0 : new TextEncoder().encode(body).length;
  const now = ctx.clock();
  await ctx.counters.load(call.agent.id, now);
  // Decide and count in one synchronous step, as for calls.
  const decision = decideNetwork(call.policy, { url, method, bodyBytes }, ctx.counters.requestTimes(call.agent.id), now);
  if (decision.allow) ctx.counters.countRequest(call.agent.id, now);
  await record('http-fetch', { url, method, bytes: bodyBytes }, decision);
  if (!decision.allow) return { id, ok: false, error: refusal(decision) };
  const headers = new Headers();
  for (const [k, v] of Object.entries(request.headers ?? {})) if (typeof v === 'string') headers.set(k, v);
  const response = await fetch(url, {
    method,
    headers,
    ...(body !== undefined && method !== 'GET' && method !== 'HEAD' ? { body } : {}),
    // Each URL is judged by the policy: a redirect would reach one that was not.
    redirect: 'error',
    credentials: 'omit',
    cache: 'no-store',
    signal: signal ? AbortSignal.any([AbortSignal.timeout(Math.max(1, deadline - ctx.clock())), signal]) : AbortSignal.timeout(Math.max(1, deadline - ctx.clock())),
  });
  const bytes = new Uint8Array(await response.arrayBuffer());
  const truncated = bytes.length > MAX_RESPONSE_BYTES;
  const text = new TextDecoder().decode(truncated ? bytes.subarray(0, MAX_RESPONSE_BYTES) : bytes);
  return { id, ok: true, value: JSON.stringify({ status: response.status, headers: Object.fromEntries(response.headers), body: text, ...(truncated ? { truncated: true } : {}) }) };
}

/**
 * Sampling or elicitation, asked of the agent's own client (which decides, as it would for any
 * server): no policy rule, the permission `client` and an audit entry before it is sent. The
 * params are the tool's; the client's result comes back as JSON.
 */
async function clientRequest(id: number, method: string, paramsJson: string, client: ClientChannel | undefined, record: Recorder, signal?: AbortSignal): Promise<CapabilityReply> {
  const fail = (error: string): CapabilityReply => ({ id, ok: false, error });
  if (!CLIENT_METHODS.has(method)) return fail(`client-request refused: a tool may ask the client only ${[...CLIENT_METHODS].join(', ')}`);
  let params: unknown;
  try {
    params = JSON.parse(paramsJson);
  } catch {
    return fail('client-request refused: params-json is not JSON');
  }
  if (!params || typeof params !== 'object' || Array.isArray(params)) return fail('client-request refused: params-json must be a JSON object');
  if (!client?.request) return fail('client-request failed: this call has no client to ask (tools/call and prompts/get have one)');
  await record('client-request', { method }, { allow: true });
  try {
    return { id, ok: true, value: JSON.stringify(await client.request(method, params as Record<string, unknown>, signal)) };
  } catch (error) {
    return fail(`client-request failed: ${(error as Error)?.message ?? String(error)}`);
  }
}
