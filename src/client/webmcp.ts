/**
 * WebMCP: offers the sandboxed tools an agent may use to the browser's own agent, through the
 * page's model context (`document.modelContext`; Chromium behind `--enable-features=WebMCPTesting`,
 * or the `@mcp-b/global` polyfill elsewhere, which also fills in `navigator.modelContext` on
 * older builds).
 *
 *   import { connect, exposeToWebMCP } from '/client.js';
 *   const client = await connect({ agent: 'my-agent', token });
 *   const exposure = await exposeToWebMCP(client);   // registers what `tools/list` shows this agent
 *   …
 *   await exposure.unregister();                      // takes them all back
 *
 * Every registered tool's `execute` is `client.callTool`: a call of this agent's session, so it is
 * policy-checked, sandboxed and audited like any other. The list follows the server: on
 * `notifications/tools/list_changed` (a grant, a revoke, a new tool) tools the agent no longer
 * sees are unregistered and new ones registered.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ToolListChangedNotificationSchema, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';

/** What `execute` receives and returns, as the model context calls it. */
export type WebMcpExecute = (input: unknown, client?: unknown) => Promise<unknown>;

export interface WebMcpToolDefinition {
  name: string;
  description: string;
  inputSchema?: object;
  annotations?: { readOnlyHint?: boolean; [k: string]: unknown };
  execute: WebMcpExecute;
}

/**
 * The slice of a model context this module uses. In Chromium 156 `registerTool(tool, { signal })`
 * returns a promise and a tool is unregistered by aborting its signal; older builds and the
 * polyfill have `unregisterTool(name)` or return a handle with `unregister()`. All are handled.
 */
export interface ModelContextLike {
  registerTool(tool: WebMcpToolDefinition, options?: { signal?: AbortSignal }): unknown;
  unregisterTool?(name: string): unknown;
}

/** The page's model context, or null where there is none (no flag, no polyfill). */
export function findModelContext(scope: { document?: unknown; navigator?: unknown } = globalThis): ModelContextLike | null {
  for (const holder of [scope.document, scope.navigator]) {
    const candidate = (holder as { modelContext?: unknown } | undefined)?.modelContext;
    if (candidate && typeof (candidate as ModelContextLike).registerTool === 'function') return candidate as ModelContextLike;
  }
  return null;
}

export const WEBMCP_UNAVAILABLE = 'webmcp-unavailable';

/** Thrown by `exposeToWebMCP` when the page has no model context (and `ifUnavailable` is not `'skip'`). */
export class WebMcpUnavailableError extends Error {
  readonly code = WEBMCP_UNAVAILABLE;
  constructor() {
    super('WebMCP is not available in this page: neither document.modelContext nor navigator.modelContext exists (Chromium needs --enable-features=WebMCPTesting; elsewhere load the @mcp-b/global polyfill)');
    this.name = 'WebMcpUnavailableError';
  }
}

export interface ExposeOptions {
  /** The model context to register with; found in the page when not given. */
  modelContext?: ModelContextLike | null;
  /** Prepended to every registered name (e.g. `'sandbox_'`), to keep clear of the page's own tools. */
  prefix?: string;
  /** Which of the agent's tools to offer; all of them when not given. */
  filter?: (tool: Tool) => boolean;
  /** `'throw'` (default): a page without a model context throws `WebMcpUnavailableError`; `'skip'`: resolves to an exposure with `available: false`. */
  ifUnavailable?: 'throw' | 'skip';
  /** Called after every change of what is registered, with the registered names. */
  onChange?: (names: readonly string[]) => void;
  /** Called when a tool could not be registered or the list could not be read; exposure goes on. */
  onError?: (error: unknown, toolName?: string) => void;
}

export interface WebMcpExposure {
  /** False when the page has no model context (only with `ifUnavailable: 'skip'`); nothing was registered. */
  readonly available: boolean;
  /** Why not, when not available. */
  readonly reason?: string;
  /** The names registered now, sorted. */
  readonly tools: readonly string[];
  /** Tools the model context refused, by registered name, with the reason. */
  readonly failed: ReadonlyMap<string, string>;
  /** Reads `tools/list` again and brings the registration in step (done on every `list_changed` already). */
  refresh(): Promise<void>;
  /** Unregisters every tool and stops following the list. Idempotent. */
  unregister(): Promise<void>;
}

interface Registration {
  fingerprint: string;
  controller: AbortController;
  handle: unknown;
}

type NotificationHandler = (notification: unknown) => Promise<void>;

/**
 * Registers each tool this client's agent may use with the page's model context, keeps them in
 * step with `notifications/tools/list_changed`, and returns a handle to take them back. Closing
 * the client unregisters them too.
 */
export async function exposeToWebMCP(client: Client, options: ExposeOptions = {}): Promise<WebMcpExposure> {
  const modelContext = options.modelContext === undefined ? findModelContext() : options.modelContext;
  if (!modelContext) {
    if (options.ifUnavailable === 'skip') {
      const reason = new WebMcpUnavailableError().message;
      return { available: false, reason, tools: [], failed: new Map(), refresh: () => Promise.resolve(), unregister: () => Promise.resolve() };
    }
    throw new WebMcpUnavailableError();
  }
  const prefix = options.prefix ?? '';
  const registered = new Map<string, Registration>();
  const failed = new Map<string, string>();
  let disposed = false;

  const report = (error: unknown, name?: string): void => {
    try {
      options.onError?.(error, name);
    } catch {
      // a faulty callback must not stop the exposure
    }
  };

  const drop = (name: string): void => {
    const registration = registered.get(name);
    if (!registration) return;
    registered.delete(name);
    registration.controller.abort();
    // Builds without signal support: their own way of taking a tool back.
    const handle = registration.handle as { unregister?: () => unknown } | null | undefined;
    try {
      if (handle && typeof handle.unregister === 'function') handle.unregister();
      else if (typeof modelContext.unregisterTool === 'function') void Promise.resolve(modelContext.unregisterTool(name)).catch(() => undefined);
    } catch {
      // already gone (the signal did it)
    }
  };

  const register = async (tool: Tool, name: string, fingerprint: string): Promise<void> => {
    const controller = new AbortController();
    const definition: WebMcpToolDefinition = {
      name,
      description: tool.description ?? tool.title ?? tool.name,
      inputSchema: tool.inputSchema,
      execute: (input) => callThrough(client, tool.name, input),
    };
    if (tool.annotations?.readOnlyHint !== undefined) definition.annotations = { readOnlyHint: tool.annotations.readOnlyHint };
    try {
      const handle = await modelContext.registerTool(definition, { signal: controller.signal });
      if (disposed) {
        controller.abort();
        return;
      }
      registered.set(name, { fingerprint, controller, handle });
      failed.delete(name);
    } catch (error) {
      controller.abort();
      failed.set(name, error instanceof Error ? `${error.name}: ${error.message}` : String(error));
      report(error, name);
    }
  };

  const sync = async (): Promise<void> => {
    const tools = await listAllTools(client);
    if (disposed) return;
    const wanted = new Map<string, Tool>();
    for (const tool of tools) if (!options.filter || options.filter(tool)) wanted.set(prefix + tool.name, tool);
    for (const name of [...registered.keys()]) {
      const tool = wanted.get(name);
      if (!tool || fingerprintOf(tool) !== registered.get(name)!.fingerprint) drop(name);
    }
    for (const name of [...failed.keys()]) if (!wanted.has(name)) failed.delete(name);
    for (const [name, tool] of wanted) if (!registered.has(name)) await register(tool, name, fingerprintOf(tool));
    if (!disposed) options.onChange?.(names());
  };

  // One sync at a time; a notification during one asks for one more after it. The first sync
  // (strict) rejects on failure; later ones report it and keep the last registration.
  let running: Promise<void> | null = null;
  let again = false;
  const run = (strict: boolean): Promise<void> => {
    if (disposed) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          try {
            await sync();
          } catch (error) {
            if (strict) throw error;
            report(error);
          }
        } while (again && !disposed);
      } finally {
        running = null;
      }
    })();
    return running;
  };
  const refresh = (): Promise<void> => run(false);

  const names = (): string[] => [...registered.keys()].sort();

  // Follow the server's list, chaining whatever handler the page set before us.
  const handlers = (client as unknown as { _notificationHandlers?: Map<string, NotificationHandler> })._notificationHandlers;
  const method = 'notifications/tools/list_changed';
  const previous = handlers?.get(method);
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
    void refresh();
  });
  const ours = handlers?.get(method);
  if (handlers && ours && previous) {
    handlers.set(method, async (notification) => {
      await Promise.all([ours(notification), previous(notification)]);
    });
  }
  const installed = handlers?.get(method);

  const unregister = async (): Promise<void> => {
    if (disposed) return;
    disposed = true;
    if (handlers && handlers.get(method) === installed) {
      if (previous) handlers.set(method, previous);
      else handlers.delete(method);
    }
    for (const name of [...registered.keys()]) drop(name);
    await running?.catch(() => undefined);
    for (const name of [...registered.keys()]) drop(name);
    options.onChange?.([]);
  };

  const onclose = client.onclose;
  client.onclose = () => {
    onclose?.();
    void unregister();
  };

  try {
    await run(true);
  } catch (error) {
    await unregister();
    throw error;
  }

  return {
    available: true,
    get tools() {
      return names();
    },
    failed,
    refresh,
    unregister,
  };
}

async function listAllTools(client: Client): Promise<Tool[]> {
  const tools: Tool[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor === undefined ? {} : { cursor });
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor);
  return tools;
}

function fingerprintOf(tool: Tool): string {
  return JSON.stringify([tool.description ?? null, tool.title ?? null, tool.inputSchema, tool.annotations?.readOnlyHint ?? null]);
}

/** The result as WebMCP callers take it: the MCP `CallToolResult` (content, structured content, isError, the sandbox's error meta). */
export type WebMcpResult = Pick<CallToolResult, 'content' | 'structuredContent' | 'isError' | '_meta'>;

/**
 * One `tools/call` of the agent's session. A refusal or a tool failure is an `isError` result the
 * browser's agent can read (with the sandbox's error code in `_meta`); a protocol error throws.
 */
async function callThrough(client: Client, name: string, input: unknown): Promise<WebMcpResult> {
  // Chromium hands `execute` an object; builds that took JSON text may pass it on as is.
  const parsed: unknown = typeof input === 'string' ? JSON.parse(input) : (input ?? {});
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new TypeError(`${name}: the input must be a JSON object`);
  const args = parsed as Record<string, unknown>;
  // Labelled, so the trail tells calls of the browser's agent from the page's own (audit `details.via`).
  const result = (await client.callTool({ name, arguments: args, _meta: { 'mcp-sandbox/via': 'webmcp' } })) as CallToolResult;
  const out: WebMcpResult = { content: result.content ?? [] };
  if (result.structuredContent !== undefined) out.structuredContent = result.structuredContent;
  if (result.isError) out.isError = true;
  if (result._meta !== undefined) out._meta = result._meta;
  return out;
}
