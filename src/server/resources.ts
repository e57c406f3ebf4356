import { ErrorCode, McpError, type ReadResourceResult } from '@modelcontextprotocol/sdk/types.js';
import { ANY, CODE_LANGUAGE_NAMES, decideCodeLanguage, effectiveLimits, filterTools, type EffectivePolicy } from '../policy';
import csp from '../shared/csp.json';
import { EXECUTE_CODE_TOOL } from '../shared/execute-code';
import type { ToolRecord } from '../store/schema';
import type { ServerContext } from './context';
import { readCall, type CallContext } from './call-context';
import { runAudited } from './audited-run';
import { offlineStatus } from './offline';

/** The facts the service worker hands one resource producer as its arguments. */
type FactsOf = (ctx: ServerContext, call: CallContext) => Promise<Record<string, unknown>>;

/**
 * Resources are produced by wasm modules too: the producer gets the host's facts as arguments
 * and writes the document, under the agent's limits and the same audit as any call. Reading
 * a resource is not a tool call: it does not count against call rates, and every agent may
 * read every resource (a producer's document is about the sandbox and the reader itself).
 */
export async function readResource(ctx: ServerContext, sessionId: string, uri: string): Promise<ReadResourceResult> {
  const call = await readCall(ctx, sessionId, null);
  const producer = (await ctx.registry.resources()).find((t) => t.resource!.uri === uri);
  if (!producer) throw new McpError(ErrorCode.InvalidParams, `Resource not found: ${uri}`, { code: 'unknown-resource', uri });
  const facts = await factsFor(producer)(ctx, call);
  const run = await runAudited(ctx, call, producer, facts, 'resource');
  if (!run.ok) throw new McpError(ErrorCode.InternalError, `resource producer ${producer.name} failed: ${run.error!.code}: ${run.error!.message}`, run.error);
  return { contents: [{ uri, mimeType: producer.resource!.mimeType, text: run.output }] };
}

/** Bundled producers get the facts their document is about; any other producer the general ones. */
function factsFor(producer: ToolRecord): FactsOf {
  return (producer.source === 'bundled' && Object.hasOwn(BUNDLED_FACTS, producer.name) ? BUNDLED_FACTS[producer.name] : undefined) ?? infoFacts;
}

const BUNDLED_FACTS: Record<string, FactsOf> = {
  system_info: infoFacts,
  system_env: envFacts,
};

/** system://info (and any producer without facts of its own): the server, counts, the reader, the time. */
async function infoFacts(ctx: ServerContext, call: CallContext): Promise<Record<string, unknown>> {
  const db = await ctx.db.get();
  const all = await ctx.registry.list();
  const callable = all.filter((t) => t.enabled && !t.resource).length;
  return {
    server: ctx.config.serverInfo,
    // Callable tools; `toolCounts` splits what the app's Tools view lists ("registered").
    tools: callable,
    toolCounts: { registered: all.length, callable, resourceProducers: all.filter((t) => t.enabled && t.resource).length, disabled: all.filter((t) => !t.enabled).length },
    sessions: await db.count('sessions'),
    auditEntries: await db.count('audit'),
    agent: { id: call.agent.id, trustLevel: call.agent.trustLevel },
    now: new Date(ctx.clock()).toISOString(),
  };
}

/**
 * system://env: what the sandbox offers the agent reading it, as far as the service worker can
 * know. Which interpreters the app window registered is not known here (the window announces
 * itself, not its runtimes), so Python is said to depend on it.
 */
async function envFacts(ctx: ServerContext, call: CallContext): Promise<Record<string, unknown>> {
  const { policy, session, agent } = call;
  const visible = filterTools(policy, await ctx.registry.callable());
  const executeCode = visible.find((t) => t.name === EXECUTE_CODE_TOOL);
  const codeLimits = executeCode ? effectiveLimits(policy, executeCode.limits) : null;
  return {
    server: ctx.config.serverInfo,
    agent: { id: agent.id, trustLevel: agent.trustLevel },
    session: { protocolVersion: session.protocolVersion },
    tools: { visible: visible.length, names: visible.map((t) => t.name).sort() },
    executeCode: {
      visible: !!executeCode,
      languages: {
        // tools.codeLanguages, "*" spelt out.
        allowed: CODE_LANGUAGE_NAMES.filter((language) => decideCodeLanguage(policy, language).allow),
        runnable: {
          javascript: 'always (QuickJS, bundled with the app)',
          python: 'depends on the app window: it runs where a Python runtime is registered, otherwise a call fails load-failed (reason unsupported-language)',
        },
      },
      ...(codeLimits ? { limits: { memoryMb: codeLimits.memoryBytes / (1024 * 1024), timeoutMs: codeLimits.cpuMs } } : {}),
    },
    permissions: permissionVerdicts(policy),
    files: { allowedPatterns: policy.files.allowedPatterns, blockedPatterns: policy.files.blockedPatterns, maxSizeMb: policy.files.maxSizeMb },
    network: {
      allowedDomains: policy.network.allowedDomains,
      blockedDomains: policy.network.blockedDomains,
      blockPrivateNetworks: policy.network.blockPrivateNetworks,
      allowedPorts: policy.network.allowedPorts,
      httpsOnly: policy.network.httpsOnly,
      maxRequestKb: policy.network.maxRequestKb,
      requestsPerMinute: policy.network.requestsPerMinute,
    },
    limits: { ...policy.limits, globalConcurrentCalls: call.globalConcurrentCalls },
    rate: {
      callsPerMinute: policy.session.callsPerMinute,
      maxCallsPerSession: policy.session.maxCalls,
      sessionTimeoutMinutes: policy.session.timeoutMinutes,
      quietHours: policy.session.quietHours,
    },
    // Tools run in an app window's workers: with none open, every call fails `no-sandbox-host`.
    ...(ctx.executor.openHosts ? { sandboxHosts: { open: await ctx.executor.openHosts() } } : {}),
    workerCsp: csp.toolWorker,
    // Python runs in a frame of its own, under its own policy (where this build has one).
    ...(typeof (csp as Record<string, unknown>)['pythonFrame'] === 'string' ? { pythonFrameCsp: (csp as Record<string, unknown>)['pythonFrame'] } : {}),
    offline: await offlineStatus(),
    now: new Date(ctx.clock()).toISOString(),
  };
}

interface Verdict {
  allowed: boolean;
  reason: string;
}

/**
 * Whether this agent's policy lets each permission be used at all (some path, some host), and
 * within what. A use is still decided on its own when it happens; a tool must also have
 * declared the permission.
 */
function permissionVerdicts(policy: EffectivePolicy): Record<'files:read' | 'files:write' | 'network', Verdict> {
  const { allowedPatterns, blockedPatterns, maxSizeMb } = policy.files;
  const files: Verdict =
    allowedPatterns.length === 0
      ? { allowed: false, reason: 'files.allowedPatterns is empty' }
      : blockedPatterns.includes(ANY)
        ? { allowed: false, reason: 'files.blockedPatterns blocks every path' }
        : { allowed: true, reason: `paths matching ${allowedPatterns.join(', ')}${blockedPatterns.length ? ` except ${blockedPatterns.join(', ')}` : ''}` };
  const n = policy.network;
  const network: Verdict =
    n.requestsPerMinute <= 0
      ? { allowed: false, reason: 'network.requestsPerMinute is 0' }
      : n.allowedDomains.length === 0
        ? { allowed: false, reason: 'network.allowedDomains is empty' }
        : n.blockedDomains.includes(ANY)
          ? { allowed: false, reason: 'network.blockedDomains blocks every host' }
          : n.allowedPorts.length === 0
            ? { allowed: false, reason: 'network.allowedPorts is empty' }
            : {
                allowed: true,
                reason: `${n.httpsOnly ? 'https' : 'http(s)'} to ${n.allowedDomains.join(', ')}${n.blockedDomains.length ? ` except ${n.blockedDomains.join(', ')}` : ''}${n.blockPrivateNetworks ? ', no private networks' : ''}, ports ${n.allowedPorts.join(', ')}, ${n.requestsPerMinute} requests a minute`,
              };
  return {
    'files:read': files,
    'files:write': files.allowed ? { allowed: true, reason: `${files.reason}, files up to ${maxSizeMb} MiB` } : files,
    network,
  };
}
