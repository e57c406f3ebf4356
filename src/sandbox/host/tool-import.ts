import { liftInlineModules } from '../inline-modules';
import { checkComponentBytes, parseToolMetadata, type FieldError, type ToolUploadErrorCode } from '../../shared/tool-metadata';
import type { ExecuteRequest, ExecuteResult } from '../../shared/wire';

/** Stages of an import, in order, for a progress display. */
export type ImportStage = 'checking' | 'transpiling' | 'introspecting' | 'storing';

/** The part of the admin API an import needs (the service worker keeps the files and the record). */
export interface ImportAdmin {
  request(method: 'tools.stage', params: { hash: string; files: Record<string, Uint8Array> }): Promise<unknown>;
  request(method: 'tools.discard', params: { hash: string }): Promise<unknown>;
  request(method: 'tools.register', params: unknown): Promise<unknown>;
}

/** jco's browser transpiler (`@bytecodealliance/jco/component`), loaded on first use. */
export interface Transpiler {
  generate(component: Uint8Array, options: Record<string, unknown>): Promise<{ files: [string, Uint8Array][]; imports: string[]; exports: [string, string][] }>;
}

export interface ImportToolOptions {
  admin: ImportAdmin;
  /** Runs `describe` in a sandbox worker (SandboxHost.execute with the modules' bytes). */
  run(request: ExecuteRequest, sources: Record<string, Uint8Array>): Promise<ExecuteResult>;
  onProgress?: (stage: ImportStage) => void;
  /** Deadline of `describe` (default 1 s). */
  describeMs?: number;
  /** Memory cap of `describe` (default 64 MiB). */
  describeMemoryBytes?: number;
  transpiler?: () => Promise<Transpiler>;
}

/** An upload refused, with a stable code and, for invalid metadata, the fields at fault. */
export class ToolImportError extends Error {
  constructor(
    readonly code: ToolUploadErrorCode | 'no-sandbox-host' | 'host-gone' | string,
    message: string,
    readonly details?: { errors?: FieldError[]; [key: string]: unknown },
  ) {
    super(message);
    this.name = 'ToolImportError';
  }
}

/** The interface tools import host functions from (tools/wit/tool.wit), as core modules name it. */
const HOST_INTERFACE = 'mcp-sandbox:tool/host@0.1.0';
/** Host functions the host implements asynchronously: a tool importing one gets JSPI glue. */
const ASYNC_HOST_FUNCTIONS = ['read-file', 'write-file', 'list-directory', 'stat', 'http-fetch', 'client-request'];
/** Transpiled files are named after this; they are addressed by the component's hash anyway. */
const GLUE_NAME = 'tool';

/**
 * The options `tools/build.mjs` gives jco (TRANSPILE_OPTIONS), in the form of the browser
 * transpiler's `generate`: async instantiation with the host compiling core modules, nothing
 * inlined as base64, lifting validation on, ComponentError for `err`, no Node compatibility.
 */
function generateOptions(asyncImports: string[]): Record<string, unknown> {
  return {
    name: GLUE_NAME,
    instantiation: { tag: 'async' },
    map: [],
    base64Cutoff: 0,
    validLiftingOptimization: false,
    noComponentErrorWrapping: false,
    noNodejsCompat: true,
    noTypescript: true,
    tlaCompat: false,
    tracing: false,
    ...(asyncImports.length ? { asyncMode: { tag: 'jspi', val: { imports: asyncImports, exports: ['call'] } } } : {}),
  };
}

const loadJco = async (): Promise<Transpiler> => {
  const jco = await import('@bytecodealliance/jco/component');
  return { generate: (component, options) => jco.generate(component, options as unknown as Parameters<typeof jco.generate>[1]) as ReturnType<Transpiler['generate']> };
};

/**
 * Imports an uploaded component as a tool: checks its bytes, transpiles it as the build would,
 * runs its `describe` in a sandbox worker with no capabilities and a short deadline, validates
 * the metadata and has the service worker store files and record in one transaction. Any
 * refusal is a `ToolImportError` and leaves nothing registered.
 */
export async function importTool(input: ArrayBuffer | Uint8Array, fileName: string, options: ImportToolOptions): Promise<unknown> {
  const progress = options.onProgress ?? (() => undefined);
  progress('checking');
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  const problem = checkComponentBytes(bytes);
  if (problem) throw new ToolImportError(problem.code, `${fileName}: ${problem.message}`);
  const hash = hex(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));

  progress('transpiling');
  let transpiler: Transpiler;
  try {
    transpiler = await (options.transpiler ?? loadJco)();
  } catch (error) {
    throw new ToolImportError('transpile-failed', `the transpiler could not be loaded: ${(error as Error).message}`);
  }
  const transpile = async (asyncImports: string[]) => {
    try {
      return await transpiler.generate(bytes, generateOptions(asyncImports));
    } catch (error) {
      throw new ToolImportError('not-a-component', `${fileName} is not a valid component: ${errorText(error)}`);
    }
  };
  let out = await transpile([]);
  // describe and call are required; other exports (e.g. `init` of QuickJS-built components) are never called.
  const exported = out.exports.map(([name, kind]) => `${name}:${kind}`).sort();
  if (!exported.includes('call:function') || !exported.includes('describe:function')) throw new ToolImportError('not-a-component', `${fileName} is not a tool: it must export describe and call (world mcp-sandbox:tool/tool), it exports ${exported.join(', ') || 'nothing'}`);
  if (out.imports.some((i) => i !== HOST_INTERFACE.replace(/@.*$/, ''))) throw new ToolImportError('not-a-component', `${fileName} imports ${out.imports.join(', ')}; tools may import only ${HOST_INTERFACE}`);
  // Which host functions does it import? Read from its core modules, as the build does.
  const asyncImports = new Set<string>();
  for (const [file, data] of out.files) {
    if (!file.endsWith('.wasm')) continue;
    const module = await WebAssembly.compile(data as Uint8Array<ArrayBuffer>);
    for (const i of WebAssembly.Module.imports(module)) if (i.module === HOST_INTERFACE && ASYNC_HOST_FUNCTIONS.includes(i.name)) asyncImports.add(`${HOST_INTERFACE}#${i.name}`);
  }
  if (asyncImports.size) out = await transpile([...asyncImports].sort());
  const files = Object.fromEntries(out.files);
  const glue = `${GLUE_NAME}.js`;
  if (files[glue]) {
    // Helper modules the glue would compile itself become core modules the host compiles.
    const lifted = liftInlineModules(new TextDecoder().decode(files[glue]), GLUE_NAME);
    files[glue] = new TextEncoder().encode(lifted.glue);
    Object.assign(files, lifted.modules);
  }
  const coreModules = Object.keys(files).filter((f) => f.endsWith('.wasm')).sort(byCoreIndex);
  if (!files[glue] || coreModules.length === 0) throw new ToolImportError('not-a-component', `unexpected transpiler output: ${Object.keys(files).join(', ')}`);

  progress('introspecting');
  let staged = false;
  const discard = async () => {
    if (staged) await options.admin.request('tools.discard', { hash }).catch(() => undefined);
  };
  try {
    const { urls } = (await options.admin.request('tools.stage', { hash, files })) as { urls: Record<string, string> };
    staged = true;
    const sources = Object.fromEntries(coreModules.map((f) => [f, files[f]!]));
    const result = await options.run(
      {
        callId: `describe-${hash.slice(0, 16)}`,
        tool: fileName,
        code: { hash, glueUrl: urls[glue]!, coreModules: Object.fromEntries(coreModules.map((f) => [f, urls[f]!])) },
        entry: 'describe',
        args: '',
        limits: { cpuMs: options.describeMs ?? 1000, memoryBytes: options.describeMemoryBytes ?? 64 * 1024 * 1024 },
      },
      sources,
    );
    if (!result.ok) throw new ToolImportError('describe-failed', `describe() failed: ${result.error.code}: ${result.error.message}`, { sandboxError: result.error });
    const parsed = parseToolMetadata(result.output);
    if (!parsed.ok) throw new ToolImportError(parsed.code, parsed.message, parsed.errors ? { errors: parsed.errors } : undefined);

    progress('storing');
    return await options.admin
      .request('tools.register', { metadata: parsed.metadata, files, glue, coreModules, component: { sha256: hash, size: bytes.byteLength }, source: 'uploaded' })
      .catch((error: { code?: string; message?: string; details?: ToolImportError['details'] }) => {
        throw new ToolImportError(error.code ?? 'register-failed', error.message ?? String(error), error.details);
      });
  } catch (error) {
    await discard();
    throw error;
  }
}

function hex(buffer: ArrayBuffer): string {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

// "x.core.wasm" before "x.core2.wasm" before "x.core10.wasm" (the order jco numbers them).
function byCoreIndex(a: string, b: string): number {
  const index = (f: string) => Number(/\.core(\d*)\.wasm$/.exec(f)?.[1] || 1);
  return index(a) - index(b);
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (error && typeof error === 'object' && 'payload' in error) return String((error as { payload: unknown }).payload);
  return String(error);
}
