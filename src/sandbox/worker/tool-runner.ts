import type { SandboxErrorInfo } from '../../shared/errors';
import type { PreparedNotice, ToolJob, ToolWorkerApi, WorkerJob, WorkerOutcome } from '../protocol';
import { hostImports, type HostImports } from './host-imports';
import { INLINE_MODULE_GLOBAL } from '../inline-modules';
import type { dropEngine, runJavaScript } from './javascript-runner';

/** What `jco transpile --instantiation async` glue exports. */
interface ToolGlue {
  instantiate(
    getCoreModule: (name: string) => WebAssembly.Module,
    imports: Record<string, unknown>,
    instantiateCore?: (module: WebAssembly.Module, imports: WebAssembly.Imports) => Promise<WebAssembly.Instance>,
  ): Promise<{ call(args: string): string | Promise<string>; describe(): string | Promise<string> }>;
}

type ToolExports = Awaited<ReturnType<ToolGlue['instantiate']>>;

/** A fresh instance of a tool's modules, with the host imports it was made with. */
interface Instance {
  /** `ToolJob.moduleKey` of the modules it was made from. */
  key: string | undefined;
  glueUrl: string;
  exports: Promise<ToolExports>;
  memories: WebAssembly.Memory[];
  host: HostImports;
}

/**
 * The tool worker's one service: run a job. `notify` posts to the host outside Comlink (the
 * worker's `postMessage`): it says when an instance made ahead is ready (`PreparedNotice`).
 */
export function createToolRunner(notify: (notice: PreparedNotice) => void): ToolWorkerApi {
  /**
   * The instance made ahead for the next call: after a call whose job asks for it
   * (`prepareAhead`), the worker instantiates the same modules again while it waits (an instance
   * is never used twice), so a next call of the same tool starts at once. Like every instance,
   * it gets its call's port and context only when that call takes it (`HostImports.bind`). Its
   * start-up runs the tool's code outside any call: the pool gives no other tool's call to this
   * worker until the notice says it is made, and stops waiting at a deadline of its own.
   */
  let prepared: Instance | null = null;
  /** Jobs received by this worker (the notice's `turn`): an instance is made ahead only if none came since its call. */
  let started = 0;
  /** execute_code's interpreter module, once a script has loaded it (it keeps one QuickJS instance warm). */
  let interpreter: { runJavaScript: typeof runJavaScript; dropEngine: typeof dropEngine } | null = null;

  /**
   * Drops what the worker holds between jobs: the pool counts a job's cap in place of it, so a
   * job that does not take it must not leave it held beside its own memory.
   */
  function dropHeld(keep: 'prepared' | 'interpreter' | null): void {
    if (keep !== 'prepared') {
      prepared?.host.close();
      prepared = null;
    }
    if (keep !== 'interpreter') interpreter?.dropEngine();
  }

  function prepareAhead(glue: ToolGlue, job: ToolJob, turn: number): void {
    if (turn !== started || prepared || job.moduleKey === undefined) {
      notify({ kind: TOOL_WORKER_PREPARED, turn, ok: false });
      return;
    }
    const next = instantiate(glue, { glueUrl: job.glueUrl, modules: job.modules, moduleKey: job.moduleKey }, hostImports());
    prepared = next;
    next.exports.then(
      () => notify({ kind: TOOL_WORKER_PREPARED, turn, ok: prepared === next }),
      () => {
        // A start-up that fails made ahead fails again when made for the call, which reports it.
        if (prepared === next) prepared = null;
        notify({ kind: TOOL_WORKER_PREPARED, turn, ok: false });
      },
    );
  }

  return {
    /**
     * Runs one call: a fresh instance per call (tools cannot keep state between calls or
     * agents), from modules the host compiled and capped, with host capabilities reached only
     * through the job's capability port. Every failure becomes a typed outcome.
     */
    async run(job: WorkerJob): Promise<WorkerOutcome> {
      const turn = ++started;
      if (job.kind === 'javascript') {
        dropHeld('interpreter');
        // Loaded on first use: workers that only run components never load the interpreter.
        interpreter ??= await import('./javascript-runner');
        return interpreter.runJavaScript(job);
      }
      dropHeld('prepared');
      let glue: ToolGlue;
      try {
        glue = await glueOf(job.glueUrl, job.modules);
      } catch (error) {
        // Nothing to make ahead; said after the reply, as below, or the pool would not yet be waiting for it.
        if (job.prepareAhead) setTimeout(() => notify({ kind: TOOL_WORKER_PREPARED, turn, ok: false }), 0);
        return { ok: false, error: { code: 'load-failed', message: `tool code could not be loaded: ${(error as Error).message}` }, memoryBytes: 0 };
      }
      // The instance made ahead, if it is of this job's modules; else one made now.
      const ready = prepared;
      prepared = null;
      const instance = ready && job.moduleKey !== undefined && ready.key === job.moduleKey && ready.glueUrl === job.glueUrl ? ready : instantiate(glue, job, hostImports());
      if (ready && ready !== instance) ready.host.close();
      if (instance === ready) useModules(job.modules);
      const used = () => instance.memories.reduce((max, m) => Math.max(max, m.buffer.byteLength), 0);
      try {
        const exports = await instance.exports;
        // The call's port and context reach the imports once the instance is made, whether made
        // now or ahead: a component's start-up gets no capability and no context either way.
        instance.host.bind(job.capabilities, job.context);
        // Under JSPI `call` is async (it may suspend on host capabilities); some glue makes every
        // export async. Awaiting a plain value is harmless.
        const output = await (job.entry === 'describe' ? exports.describe() : exports.call(job.args));
        if (typeof output !== 'string') throw new TypeError(`the tool's ${job.entry} returned ${typeof output}, not a string`);
        return { ok: true, output, memoryBytes: used() };
      } catch (error) {
        return { ok: false, error: classify(error, used(), job.memoryBytes), memoryBytes: used() };
      } finally {
        instance.host.close();
        // After the reply has gone (Comlink posts it before a new task runs).
        if (job.prepareAhead) setTimeout(() => prepareAhead(glue, job, turn), 0);
      }
    },

    discard(): void {
      dropHeld(null);
    },
  };
}

/**
 * Instantiates a tool's modules afresh with `host` as its imports, unbound until its call
 * (`hostImports`). Takes the modules alone: an instance made ahead keeps nothing of the call before.
 */
function instantiate(glue: ToolGlue, job: Pick<ToolJob, 'glueUrl' | 'modules' | 'moduleKey'>, host: HostImports): Instance {
  const memories: WebAssembly.Memory[] = [];
  useModules(job.modules);
  const exports = glue.instantiate(
    (name) => {
      const module = job.modules[name];
      if (!module) throw new Error(`no compiled module ${name}`);
      return module;
    },
    host.imports,
    async (module, imports) => {
      const instance = await WebAssembly.instantiate(module, imports);
      for (const value of Object.values(instance.exports)) if (value instanceof WebAssembly.Memory) memories.push(value);
      return instance;
    },
  );
  // A failure made ahead is the next call's to report (it is awaited there), or no one's.
  exports.catch(() => undefined);
  return { key: job.moduleKey, glueUrl: job.glueUrl, exports, memories, host };
}

/** Glue whose helper modules were lifted out (inline-modules.ts) asks for them here. */
function useModules(modules: Record<string, WebAssembly.Module>): void {
  (globalThis as Record<string, unknown>)[INLINE_MODULE_GLOBAL] = (name: string) => {
    const module = modules[name];
    if (!module) throw new Error(`no compiled module ${name}`);
    return module;
  };
}

/**
 * The glue module of a tool, imported once per worker. The module holds no state of a call (each
 * call instantiates afresh from it); caching the promise skips the module map's lookup, a URL
 * parse and a few turns of the event loop per call.
 */
const glues = new Map<string, Promise<ToolGlue>>();
function glueOf(glueUrl: string, modules: Record<string, WebAssembly.Module>): Promise<ToolGlue> {
  let glue = glues.get(glueUrl);
  if (!glue) {
    // Glue may ask for its lifted helper modules as it loads.
    useModules(modules);
    glue = import(/* @vite-ignore */ new URL(glueUrl, self.location.origin).href) as Promise<ToolGlue>;
    // A failed import is not kept: the next call tries again (the module map would answer the
    // same failure, but a transient network error in the service worker need not stick).
    glue.catch(() => glues.delete(glueUrl));
    glues.set(glueUrl, glue);
  }
  return glue;
}

function classify(error: unknown, usedBytes: number, limitBytes: number): SandboxErrorInfo {
  if (error && typeof error === 'object' && 'payload' in error) {
    // jco turns the tool's `err(message)` into a ComponentError carrying the payload.
    return { code: 'tool-error', message: String((error as { payload: unknown }).payload) };
  }
  const message = error instanceof Error ? error.message : String(error);
  const trapped = error instanceof WebAssembly.RuntimeError || error instanceof RangeError;
  if (trapped && nearLimit(usedBytes, limitBytes)) {
    return { code: 'memory-limit', message: `the tool ran out of memory: it reached its memory limit of ${formatBytes(limitBytes)}`, details: { limitBytes, usedBytes, trap: message } };
  }
  if (trapped) return { code: 'trap', message: `the tool trapped: ${message}`, details: { trap: message } };
  if (error instanceof WebAssembly.LinkError || error instanceof WebAssembly.CompileError) return { code: 'load-failed', message: `the tool could not be instantiated: ${message}` };
  return { code: 'trap', message: `the tool failed: ${message}` };
}

/** A trap with memory within one large grow step of the cap is the cap's doing. */
function nearLimit(usedBytes: number, limitBytes: number): boolean {
  return usedBytes > 0 && limitBytes - usedBytes < Math.max(2 * 65536, limitBytes / 16);
}

/**
 * Posted by a tool worker (outside Comlink, which ignores it) when a job could not be
 * deserialised there: Firefox does this for a compiled `WebAssembly.Module` sent to a worker
 * whose CSP forbids wasm compilation (docs/browsers.md). Defined here, not in protocol.ts, so the
 * worker's shared chunk keeps its name (vite.config.ts WORKER_CHUNKS).
 */
export const TOOL_WORKER_MESSAGEERROR = 'mcp-sandbox/tool-worker-messageerror';

/** `PreparedNotice.kind` (here, not in protocol.ts, for the reason above). */
export const TOOL_WORKER_PREPARED: PreparedNotice['kind'] = 'mcp-sandbox/tool-worker-prepared';

export function formatBytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}
