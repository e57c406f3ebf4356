import 'fake-indexeddb/auto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CfWorkerJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/cfworker';
import { DbHandle } from '../../../src/store/db';
import { readAudit } from '../../../src/store/audit';
import type { AuditEntry } from '../../../src/store/schema';
import type { CapabilityHandler, Executor, ServerContext } from '../../../src/server/context';
import { createServerContext } from '../../../src/server/create-context';
import type { ToolManifestEntry, ToolManifest } from '../../../src/server/registry';
import type { TrustLevel } from '../../../src/policy';
import { createSessionOpener } from '../../../src/server/session-opener';
import { SessionRouter } from '../../../src/transport/session-router';
import { createInMemoryLink } from '../../../src/transport/in-memory';
import { EnvelopeClientTransport, type ClientEndpoint } from '../../../src/transport/client-transport';
import type { ExecuteRequest, ExecuteResult } from '../../../src/shared/wire';

let dbCounter = 0;
export const freshDbName = () => `test-db-${process.pid}-${++dbCounter}-${Math.random().toString(36).slice(2)}`;

export function manifestTool(name: string, extra: Partial<ToolManifestEntry['metadata']> = {}, fixture = false): ToolManifestEntry {
  return {
    name,
    dir: `tools/${name}/`,
    glue: `${name}.js`,
    coreModules: [`${name}.core.wasm`],
    component: `${name}.wasm`,
    sha256: `hash-of-${name}`,
    size: 1234,
    fixture,
    imports: [],
    async: false,
    metadata: {
      name,
      description: `the ${name} tool`,
      version: '1.0.0',
      author: 'unit test',
      tags: [],
      categories: [],
      permissions: [],
      inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'], additionalProperties: false },
      ...extra,
    },
  };
}

export const MANIFEST: ToolManifest = {
  version: 1,
  tools: [
    manifestTool('echo', { limits: { cpuMs: 2000, memoryMb: 256 } }),
    manifestTool('system_info', { inputSchema: { type: 'object' }, resource: { uri: 'system://info', mimeType: 'application/json' }, categories: ['resource'] }),
    manifestTool('loop_forever', { inputSchema: { type: 'object' } }, true),
  ],
};

/** An executor that answers from a script and remembers what it was asked. */
export class ScriptedExecutor implements Executor {
  readonly requests: ExecuteRequest[] = [];
  next: ((request: ExecuteRequest, capabilities?: CapabilityHandler, signal?: AbortSignal) => ExecuteResult | Promise<ExecuteResult>) | null = null;
  async execute(request: ExecuteRequest, capabilities?: CapabilityHandler, signal?: AbortSignal): Promise<ExecuteResult> {
    this.requests.push(request);
    if (this.next) return this.next(request, capabilities, signal);
    return { ok: true, output: `ran ${request.tool} with ${request.args}`, durationMs: 1.5, memoryBytes: 65536 };
  }
}

export interface Harness {
  ctx: ServerContext;
  executor: ScriptedExecutor;
  router: SessionRouter;
  link: ReturnType<typeof createInMemoryLink>;
  dbName: string;
  /** Registers an agent allowed from the link's origin; returns its token. */
  agent(id: string, trustLevel?: TrustLevel, policy?: unknown): Promise<string>;
  /** Connects as `agent` (registered on the fly as FullyTrusted when new), or without credentials. */
  connect(options?: { sessionId?: string; agent?: string; token?: string; anonymous?: boolean }, endpoint?: ClientEndpoint): Promise<Client>;
}

export const TEST_ORIGIN = 'http://sandbox.test';

/**
 * A server wired as the service worker wires it, over the in-memory link. Calling it again with
 * the same `dbName` is a new service-worker lifetime: fresh globals, same IndexedDB.
 */
export async function startHarness(dbName = freshDbName(), executor = new ScriptedExecutor(), seed = true, clock: () => number = Date.now): Promise<Harness> {
  const db = new DbHandle(dbName);
  const ctx: ServerContext = createServerContext({ db, executor, clock });
  if (seed) await ctx.registry.seed(MANIFEST, { fixtures: false, now: Date.now() });
  const router = new SessionRouter(createSessionOpener(ctx));
  const link = createInMemoryLink(router, { origin: TEST_ORIGIN, via: 'direct' });
  const tokens = new Map<string, string>();
  const agent = async (id: string, trustLevel: TrustLevel = 'FullyTrusted', policy?: unknown) => {
    const { token } = await ctx.agents.register({ id, name: id, trustLevel, origins: [TEST_ORIGIN], ...(policy ? { policy } : {}) });
    tokens.set(id, token);
    return token;
  };
  return {
    ctx,
    executor,
    router,
    link,
    dbName,
    agent,
    async connect(options = {}, endpoint: ClientEndpoint = link) {
      const client = new Client({ name: 'unit-agent', version: '1.0.0' }, { jsonSchemaValidator: new CfWorkerJsonSchemaValidator() });
      const id = options.agent ?? 'agent-a';
      let auth: { agent: string; token: string } | undefined;
      if (!options.anonymous && !options.sessionId) {
        if (options.token === undefined && !tokens.has(id) && !(await ctx.agents.get(id))) await agent(id);
        auth = { agent: id, token: options.token ?? tokens.get(id) ?? '' };
      }
      await client.connect(new EnvelopeClientTransport(endpoint, { ...(options.sessionId ? { sessionId: options.sessionId } : {}), ...(auth ? { auth } : {}) }));
      return client;
    }
  };
}

/**
 * The log as the product's readers see it: the admin API first lets entries held for group
 * commit (a call's result, after its reply) commit, then reads.
 */
export async function loggedEntries(ctx: ServerContext): Promise<AuditEntry[]> {
  await ctx.audit.settled();
  return readAudit(ctx.db);
}

/** An endpoint whose far side can be replaced, as a service worker is by its next lifetime. */
export function swappableEndpoint(initial: ClientEndpoint): ClientEndpoint & { swap(next: ClientEndpoint): void } {
  let current = initial;
  const subscriptions = new Map<(data: unknown) => void, () => void>();
  return {
    post: (message) => current.post(message),
    subscribe(listener) {
      subscriptions.set(listener, current.subscribe(listener));
      return () => {
        subscriptions.get(listener)?.();
        subscriptions.delete(listener);
      };
    },
    swap(next) {
      current = next;
      for (const [listener, off] of subscriptions) {
        off();
        subscriptions.set(listener, next.subscribe(listener));
      }
    },
  };
}
