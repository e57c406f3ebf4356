import { isEnvelope, envelope, type CallPortMessage, type CapabilityReply, type CapabilityRequest, type ExecuteRequest, type ExecuteResult, type HostHelloEnvelope, type ImportToolResult } from '../../shared/wire';
import type { AdminMethods } from '../../api/admin';
import type { ToolImporter } from '../../api/host';
import { importTool, type ImportAdmin, type ImportStage, type ToolImportError } from './tool-import';
import { FolderWatcher, type FolderAdmin } from './folder-watch';
import { capabilityChannel, relayCapabilities } from './capability-relay';
import { reachesOut } from './capability-imports';
import { HostLink, portEnd, type CallEnd } from '../../transport/host-link';
import { MemoryLimitError } from '../memory-limit';
import { ModuleCache } from './module-cache';
import { WorkerPool } from './worker-pool';
import type { CapabilityAnswer, CodeJob, CodeRuntime } from './code-runtime';
import { JavaScriptRuntime } from './javascript-runtime';
import { CODE_RUNTIME_GLUE, OUTPUT_LIMITS, parseCodeArgs, type CodeLanguage } from '../../shared/execute-code';
import csp from '../../shared/csp.json';

export interface SandboxHostOptions {
  /** Concurrent executions in this window. */
  poolSize?: number;
  maxQueue?: number;
  /** Sum of memory caps of running calls in this window. */
  memoryBudgetMb?: number;
}

/**
 * Hosts the tool workers for the service worker (which cannot start workers itself). It
 * listens for `execute` envelopes, runs each on the pool and answers on the port that came with
 * it. It announces itself on start and whenever a new service worker takes control.
 */
export class SandboxHost implements ToolImporter {
  readonly pool: WorkerPool;
  /**
   * Watched folders (FolderWatchApi): their components are kept registered as `discovered`
   * tools. Scans run on `add`/`rescan`, and on an interval once `watchFolders()` is called.
   */
  readonly folders: FolderWatcher;
  private readonly modules: ModuleCache;
  private readonly container: ServiceWorkerContainer;
  /** The interpreters of `execute_code`, by language (JavaScript built in; Python plugs in here). */
  private readonly codeRuntimes = new Map<CodeLanguage, CodeRuntime>();
  /** The host link this window last handed the service worker (host-link.ts). */
  private link: HostLink | null = null;

  constructor(options: SandboxHostOptions = {}, container: ServiceWorkerContainer = navigator.serviceWorker) {
    this.container = container;
    const root = new URL(import.meta.env.BASE_URL, location.origin);
    this.modules = new ModuleCache(root.href);
    this.pool = new WorkerPool({
      workerUrl: new URL(csp.toolWorkerPath, root),
      size: options.poolSize ?? Math.max(2, Math.min(4, navigator.hardwareConcurrency || 2)),
      maxQueue: options.maxQueue ?? 64,
      memoryBudgetBytes: (options.memoryBudgetMb ?? 1024) * 1024 * 1024,
    });
    this.registerCodeRuntime('javascript', new JavaScriptRuntime(this.modules, this.pool));
    this.folders = new FolderWatcher({
      admin: () => this.adminClient() as Promise<FolderAdmin>,
      importTool: (bytes, fileName, admin) => importTool(bytes, fileName, { admin, run: (request, sources) => this.execute(request, undefined, sources) }),
    });
    container.addEventListener('message', (event) => {
      const data: unknown = event.data;
      const port = event.ports[0];
      if (isEnvelope(data) && data.kind === 'import-tool' && port) {
        // An upload sent to the service worker (admin `tools.upload`), which cannot transpile.
        void this.importTool(data.bytes, data.fileName).then(
          (record): ImportToolResult => ({ ok: true, record }),
          (error: ToolImportError | Error): ImportToolResult => ({ ok: false, error: { code: (error as ToolImportError).code ?? 'import-failed', message: error.message, details: (error as ToolImportError).details } }),
        ).then((result) => {
          port.postMessage(result);
          port.close();
        });
        return;
      }
      // A service worker woken without our link asks for a new one (the old died with it).
      if (isEnvelope(data) && data.kind === 'host-port-request') return void this.announce();
      if (!isEnvelope(data) || data.kind !== 'execute' || !port) return;
      this.serve(data.request, portEnd(port));
    });
    container.startMessages();
    container.addEventListener('controllerchange', () => void this.announce());
  }

  /**
   * Tells the active service worker this window hosts calls, handing it a new host link (the
   * previous one, if any, is closed: the service worker asks only when it has none).
   */
  async announce(): Promise<void> {
    const registration = await this.container.ready;
    const channel = new MessageChannel();
    this.link?.close();
    this.link = new HostLink(channel.port1, (request, end) => this.serve(request, end));
    registration.active?.postMessage(envelope<HostHelloEnvelope>({ kind: 'host-hello' }), [channel.port2]);
  }

  /**
   * Runs a call the service worker sent, answering on its end. Whatever happens here, the
   * service worker gets an answer at once rather than waiting out its deadline.
   */
  private serve(request: ExecuteRequest, end: CallEnd): void {
    const cancel = new AbortController();
    void this.execute(request, relayCapabilities(end, (reason) => cancel.abort(reason)), undefined, cancel.signal)
      .catch((error: unknown): ExecuteResult => ({ ok: false, error: { code: 'internal-error', message: `the sandbox host failed: ${(error as Error)?.message ?? String(error)}` }, durationMs: 0, memoryBytes: 0 }))
      .then((result) => {
        end.post({ kind: 'result', result } satisfies CallPortMessage);
        end.close();
      });
  }

  /**
   * Imports an uploaded component as a tool (see tool-import.ts): transpiled here, `describe`d
   * in one of this window's workers with no capabilities, stored by the service worker, which
   * then tells every live session. Rejects with a `ToolImportError` (`not-wasm`,
   * `not-a-component`, `too-large`, `describe-failed`, `invalid-metadata`, `name-clash`, `pinned`).
   */
  async importTool(bytes: ArrayBuffer | Uint8Array, fileName: string, options: { onProgress?: (stage: ImportStage) => void } = {}): Promise<AdminMethods['tools.register']['result']> {
    const admin = (await this.adminClient()) as ImportAdmin;
    return importTool(bytes, fileName, { admin, run: (request, sources) => this.execute(request, undefined, sources), ...options }) as Promise<AdminMethods['tools.register']['result']>;
  }

  /**
   * Starts watching: every watched folder (kept in IndexedDB across reloads) is rescanned now
   * and then every `intervalMs` (default 5 s) while this window is open; never two scans at
   * once. Calling it again restarts the timer; `folders.stop()` stops it.
   */
  watchFolders(options: { intervalMs?: number } = {}): void {
    this.folders.start(options);
  }

  private admin: Promise<unknown> | null = null;

  private adminClient(): Promise<unknown> {
    this.admin ??= import('../../client/admin').then(({ createAdminClient }) => createAdminClient(120_000));
    return this.admin;
  }

  /**
   * Makes `runtime` run `execute_code` programs in `language` (replacing any before it). Until
   * a language has one, its calls answer `load-failed` with `details.reason: 'unsupported-language'`.
   */
  registerCodeRuntime(language: CodeLanguage, runtime: CodeRuntime): void {
    this.codeRuntimes.set(language, runtime);
  }

  /** The languages `execute_code` can run in this window. */
  get codeLanguages(): CodeLanguage[] {
    return [...this.codeRuntimes.keys()];
  }

  /**
   * Runs one call. `capabilities`, when given, answers the tool's host-capability requests
   * (in the app: relayed to the service worker, which decides and audits each).
   */
  async execute(request: ExecuteRequest, capabilities?: (request: CapabilityRequest) => Promise<CapabilityReply>, sources?: Record<string, Uint8Array>, signal?: AbortSignal): Promise<ExecuteResult> {
    if (request.code.glueUrl === CODE_RUNTIME_GLUE) return this.executeCode(request, capabilities, signal);
    const started = performance.now();
    let modules: Record<string, WebAssembly.Module>;
    try {
      modules = await this.modules.get(request.code, request.limits.memoryBytes, sources);
    } catch (error) {
      const durationMs = performance.now() - started;
      if (error instanceof MemoryLimitError) {
        return { ok: false, error: { code: 'memory-limit', message: error.message, details: { limitBytes: error.limitBytes, requestedBytes: error.initialBytes } }, durationMs, memoryBytes: 0 };
      }
      return { ok: false, error: { code: 'load-failed', message: `tool ${request.tool} could not be compiled: ${(error as Error).message}` }, durationMs, memoryBytes: 0 };
    }
    // A port for capability requests only if the tool can make one: a component imports only the
    // host functions its code calls, and one that imports none that reach out needs none.
    const channel = capabilities && reachesOut(modules) ? capabilityChannel(capabilities) : null;
    try {
      return await this.pool.run(
        { glueUrl: request.code.glueUrl, modules, moduleKey: ModuleCache.keyOf(request.code, request.limits.memoryBytes), entry: request.entry, args: request.args, memoryBytes: request.limits.memoryBytes, ...(channel ? { capabilities: channel.workerPort } : {}), ...(request.context !== undefined ? { context: request.context } : {}) },
        request.limits.cpuMs,
        0,
        signal,
      );
    } finally {
      channel?.close();
    }
  }

  /** The built-in `execute_code`: handed to the runtime of the requested language. */
  private async executeCode(request: ExecuteRequest, capabilities?: CapabilityAnswer, signal?: AbortSignal): Promise<ExecuteResult> {
    const started = performance.now();
    const fail = (code: 'load-failed' | 'invalid-arguments' | 'internal-error', message: string, details?: Record<string, unknown>): ExecuteResult => ({
      ok: false,
      error: { code, message, ...(details ? { details } : {}) },
      durationMs: performance.now() - started,
      memoryBytes: 0,
    });
    if (request.entry !== 'call') return fail('load-failed', `${request.tool} is built in: it has no ${request.entry}`);
    const parsed = parseCodeArgs(request.args);
    if (!parsed.ok) return fail('invalid-arguments', `the arguments of ${request.tool}: ${parsed.message}`);
    const { language, code, input, timeoutMs } = parsed.args;
    const runtime = this.codeRuntimes.get(language);
    if (!runtime) {
      return fail('load-failed', `this sandbox cannot run ${JSON.stringify(language)} code (it runs ${this.codeLanguages.join(', ') || 'none'})`, { reason: 'unsupported-language', language, available: this.codeLanguages });
    }
    const job: CodeJob = {
      callId: request.callId,
      ...(request.agentId ? { isolationKey: request.agentId } : {}),
      language,
      code,
      inputJson: JSON.stringify(input ?? null),
      timeoutMs: Math.max(1, Math.min(timeoutMs ?? Infinity, request.limits.cpuMs)),
      memoryBytes: request.limits.memoryBytes,
      runtimeCode: request.code,
      outputLimits: OUTPUT_LIMITS,
    };
    try {
      return await runtime.run(job, capabilities, signal);
    } catch (error) {
      return fail('internal-error', `the ${language} runtime failed: ${(error as Error)?.message ?? String(error)}`);
    }
  }
}

