import { ErrorCode, GetPromptResultSchema, McpError, ReadResourceResultSchema, type GetPromptResult, type ReadResourceResult } from '@modelcontextprotocol/sdk/types.js';
import { ANY, CODE_LANGUAGE_NAMES, decideCodeLanguage, effectiveLimits, filterTools, isRestricted, isToolAllowed, type EffectivePolicy } from '../policy';
import csp from '../shared/csp.json';
import { EXECUTE_CODE_TOOL } from '../shared/execute-code';
import type { ToolRecord } from '../store/schema';
import type { ServerContext } from './context';
import { readCall, type CallContext } from './call-context';
import { runAudited } from './audited-run';
import type { ClientChannel } from './capabilities';
import { offlineStatus } from './offline';
import { isPrompt, MCP_CONTENT_CATEGORY } from './registry';

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
  const producers = visibleProducers(call.policy, await ctx.registry.resources());
  let producer = producers.find((t) => t.resource!.uri === uri && !isTemplate(uri));
  let params: Record<string, string> | null = null;
  for (const t of producer ? [] : producers.filter((p) => isTemplate(p.resource!.uri))) {
    params = matchTemplate(t.resource!.uri, uri);
    if (params) {
      producer = t;
      break;
    }
  }
  if (!producer) throw new McpError(ErrorCode.InvalidParams, `Resource not found: ${uri}`, { code: 'unknown-resource', uri });
  const mcp = producer.categories.includes(MCP_CONTENT_CATEGORY);
  // A template's or an MCP-content producer's document is about the URI read, not the sandbox.
  const args = params || mcp ? { uri, params: params ?? {} } : await factsFor(producer)(ctx, call);
  const run = await runAudited(ctx, call, producer, args, 'resource');
  if (!run.ok) throw new McpError(ErrorCode.InternalError, `resource producer ${producer.name} failed: ${run.error!.code}: ${run.error!.message}`, run.error);
  if (!mcp) return { contents: [{ uri, mimeType: producer.resource!.mimeType, text: run.output }] };
  const parsed = ReadResourceResultSchema.safeParse(run.mcp);
  if (!parsed.success) throw new McpError(ErrorCode.InternalError, `resource producer ${producer.name} declares MCP content but its output is not a resources/read result`);
  return { contents: parsed.data.contents };
}

/** Resource producers this agent may read: all but the restricted ones its policy does not name. */
export function visibleProducers(policy: EffectivePolicy, producers: readonly ToolRecord[]): ToolRecord[] {
  return producers.filter((t) => !isRestricted(t) || isToolAllowed(policy, t.name, true));
}

export const isTemplate = (uri: string): boolean => /\{[^}]*\}/.test(uri);

/** The variables of `uri` read through `template` (simple `{name}` expansions only), or null if it does not match. */
export function matchTemplate(template: string, uri: string): Record<string, string> | null {
  const names: string[] = [];
  const pattern = template.split(/(\{[A-Za-z0-9_]+\})/).map((part) => {
    const variable = /^\{([A-Za-z0-9_]+)\}$/.exec(part);
    if (!variable) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    names.push(variable[1]!);
    return '([^/?#]+)';
  });
  const match = new RegExp(`^${pattern.join('')}$`).exec(uri);
  if (!match) return null;
  try {
    return Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(match[i + 1]!)]));
  } catch {
    return null;
  }
}

/** A prompt's arguments: the string properties of its producer's input schema. */
export function promptArguments(schema: Record<string, unknown>): { name: string; description?: string; required: boolean }[] {
  const properties = (schema['properties'] ?? {}) as Record<string, { description?: unknown }>;
  const required = Array.isArray(schema['required']) ? (schema['required'] as unknown[]) : [];
  return Object.entries(properties).map(([name, p]) => ({ name, ...(typeof p.description === 'string' ? { description: p.description } : {}), required: required.includes(name) }));
}

/**
 * prompts/get: the producer runs like a resource producer (audited, under the agent's limits,
 * not counted as a tool call) with the prompt's arguments, and writes the GetPromptResult.
 */
export async function getPrompt(ctx: ServerContext, sessionId: string, name: string, args: Record<string, string>, client?: ClientChannel): Promise<GetPromptResult> {
  const call = await readCall(ctx, sessionId, null);
  const prompt = filterTools(call.policy, await ctx.registry.prompts()).find((t) => t.name === name);
  if (!prompt) throw new McpError(ErrorCode.InvalidParams, `Prompt not found: ${name}`, { code: 'unknown-prompt', name });
  const missing = promptArguments(prompt.inputSchema).filter((a) => a.required && typeof args[a.name] !== 'string');
  if (missing.length) throw new McpError(ErrorCode.InvalidParams, `prompt ${name} needs the argument${missing.length > 1 ? 's' : ''} ${missing.map((a) => a.name).join(', ')}`);
  // A producer may ask the client (permission "client"), like a tool.
  const run = await runAudited(ctx, call, prompt, args, 'prompt', undefined, client);
  if (!run.ok) throw new McpError(ErrorCode.InternalError, `prompt producer ${name} failed: ${run.error!.code}: ${run.error!.message}`, run.error);
  let output: unknown;
  try {
    output = JSON.parse(run.output);
  } catch {
    output = undefined;
  }
  const parsed = GetPromptResultSchema.safeParse(output);
  if (!parsed.success) throw new McpError(ErrorCode.InternalError, `prompt producer ${name} did not write a prompts/get result`);
  return { ...(parsed.data.description ? { description: parsed.data.description } : {}), messages: parsed.data.messages };
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
  const callable = all.filter((t) => t.enabled && !t.resource && !isPrompt(t)).length;
  return {
    server: ctx.config.serverInfo,
    // Callable tools; `toolCounts` splits what the app's Tools view lists ("registered").
    tools: callable,
    toolCounts: { registered: all.length, callable, resourceProducers: all.filter((t) => t.enabled && t.resource).length, promptProducers: all.filter((t) => t.enabled && !t.resource && isPrompt(t)).length, disabled: all.filter((t) => !t.enabled).length },
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
function permissionVerdicts(policy: EffectivePolicy): Record<'files:read' | 'files:write' | 'network' | 'client', Verdict> {
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
    // Sampling and elicitation go to this agent's own client, which decides each request.
    client: { allowed: true, reason: 'requests go to your own client (sampling/createMessage, elicitation/create), which decides each' },
  };
}
