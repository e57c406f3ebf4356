#!/usr/bin/env node
// Builds the WebAssembly tools into public/tools/ (run: npm run build:tools [-- --force]).
//
// Per tool (tools/src/<dir>/index.ts, fixtures in tools/fixtures/<dir>/index.ts):
//   asc (AssemblyScript, stub runtime) -> core module
//   -> jco embed (tools/wit, world "tool") -> jco new -> component
//   -> jco transpile --instantiation async -> glue JS + core module(s)
//      (tools that import an asynchronous host function: --async-mode jspi)
// then instantiates each result in Node, validates its `describe` metadata and writes
// public/tools/manifest.json. Unchanged tools are reused (input hash in
// node_modules/.cache); any failure exits non-zero.
//
// Examples (tools/examples/<dir>/index.ts) go through the same pipeline but are not bundled
// tools (not in the manifest): each ready component is written to tools/examples/<name>.wasm
// (committed, for people to upload without building anything) and public/examples/<name>.wasm
// (served by the app, precached like the rest of public/).
//
// Built-in tools (`builtins` in the manifest; today execute_code) are not components: their
// metadata comes from src/shared/<name>.json and their runtime files (QuickJS's wasm) are
// copied from node_modules; the sandbox host runs them itself.

import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const TOOLS_DIR = fileURLToPath(new URL(".", import.meta.url));
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const WIT_DIR = join(TOOLS_DIR, "wit");
const LIB_DIR = join(TOOLS_DIR, "lib");
/** Build output, served by the app at /tools/. */
export const OUT_DIR = join(ROOT, "public", "tools");
/** Example tools' sources (tools/examples/<dir>/index.ts) and their ready components (<name>.wasm, committed). */
export const EXAMPLES_DIR = join(TOOLS_DIR, "examples");
/** The example components as the app serves them, at /examples/<name>.wasm (build output). */
export const EXAMPLES_OUT_DIR = join(ROOT, "public", "examples");
const CACHE_FILE = join(ROOT, "node_modules", ".cache", "mcp-sandbox-tools", "inputs.json");
const LOCK_DIR = join(dirname(CACHE_FILE), "build.lock");
const WORLD = "tool";
const STAGING_SUFFIX = ".staging-";

// -O3z with the never-freeing stub runtime (the host instantiates per call).
// `--use abort=` compiles AssemblyScript's abort() to `unreachable` instead of an
// `env.abort` import: components may not import anything the WIT does not declare.
const ASC_FLAGS = ["--optimizeLevel", "3", "--shrinkLevel", "2", "--runtime", "stub", "--use", "abort=", "--noColors"];

export const TRANSPILE_OPTIONS = {
  // Exports instantiate(getCoreModule, imports): the host compiles each core module
  // once, caches the WebAssembly.Module and hands it to sandboxed workers.
  instantiation: "async",
  // Never inline core wasm as base64: workers under a strict CSP cannot compile.
  base64Cutoff: 0,
  // Tools are untrusted: keep the checks on values lifted out of the guest.
  validLiftingOptimization: false,
  // err(...) results throw a ComponentError whose `payload` is the message.
  noComponentErrorWrapping: false,
  // Browser target: no Node fetch fallback, no .d.ts (see tools/types.ts).
  nodejsCompat: false,
  emitTypescriptDeclarations: false,
  minify: true,
  quiet: true,
};

/** The interface of tools/wit/tool.wit that tools may import, as core modules name it. */
export const HOST_INTERFACE = "mcp-sandbox:tool/host@0.1.0";
/** Functions of the host interface, and the ones the host implements asynchronously. */
const HOST_FUNCTIONS = ["read-file", "write-file", "list-directory", "stat", "http-fetch", "client-request", "log", "now-ms", "random-bytes", "get-context"];
const ASYNC_HOST_FUNCTIONS = ["read-file", "write-file", "list-directory", "stat", "http-fetch", "client-request"];

// Tools that import an async host function: jco wraps those imports in
// WebAssembly.Suspending and `call` in WebAssembly.promising (JSPI), so the host can
// implement them with async functions and `call` returns a Promise. `describe` stays
// synchronous. log, now-ms and random-bytes stay synchronous imports.
const JSPI_OPTIONS = {
  asyncMode: "jspi",
  asyncImports: ASYNC_HOST_FUNCTIONS.map((f) => `${HOST_INTERFACE}#${f}`),
  asyncExports: ["call"],
};

/** Exports each core module must have (the canonical ABI of tools/wit/tool.wit). */
const REQUIRED_CORE_EXPORTS = ["memory:memory", "cabi_realloc:function", "describe:function", "call:function"];

const METADATA_KEYS = new Set([
  "name", "description", "version", "author", "tags", "categories",
  "inputSchema", "permissions", "limits", "resource", "context",
]);
/** Built-in tools: their metadata file (beside the code that reads it) and the runtime files copied from packages. */
const BUILTINS = [{ name: "execute_code", spec: join(ROOT, "src", "shared", "execute-code.json") }];
/** Built-ins may also declare what their structured output looks like. */
const BUILTIN_METADATA_KEYS = new Set([...METADATA_KEYS, "outputSchema"]);

class BuildError extends Error {}

/**
 * Builds all tools and writes public/tools/manifest.json.
 * @param {{ force?: boolean, log?: (line: string) => void }} [options]
 */
export async function buildTools(options = {}) {
  // Test files build in parallel processes: one builds, the others then find it up to date.
  const release = await acquireLock();
  try {
    return await buildAll(options);
  } finally {
    await release();
  }
}

async function buildAll(options) {
  const { force = false, log = (line) => console.log(line) } = options;
  const tools = await discoverTools();
  const versions = await toolchainVersions();
  const sharedInputs = await hashInputs([fileURLToPath(import.meta.url), WIT_DIR, LIB_DIR]);
  const cache = force ? {} : await readJson(CACHE_FILE, {});
  const nextCache = {};

  await mkdir(OUT_DIR, { recursive: true });
  await removeStaleOutputs([...tools, ...BUILTINS]);

  const entries = [];
  for (const tool of tools) {
    const inputHash = sha256(
      JSON.stringify({ versions, ASC_FLAGS, TRANSPILE_OPTIONS, JSPI_OPTIONS, WORLD, sharedInputs, own: await hashInputs([tool.srcDir]) }),
    );
    const outDir = join(OUT_DIR, tool.name);
    const previous = cache[tool.name];
    let built;
    let state;
    if (previous?.inputHash === inputHash && Array.isArray(previous.imports) && (await outputsIntact(outDir, previous.files))) {
      built = previous;
      state = "up to date";
    } else {
      built = await buildTool(tool, outDir);
      state = "built";
    }
    const { files, imports } = built;
    const isAsync = imports.some((i) => ASYNC_HOST_FUNCTIONS.includes(i.slice(HOST_INTERFACE.length + 1)));
    nextCache[tool.name] = { inputHash, files, imports };

    const component = await readFile(join(outDir, files.component));
    const sha = sha256(component);
    const metadata = await describeTool(outDir, files, sha, isAsync);
    const problems = validateMetadata(metadata, tool.name);
    if (problems.length > 0) {
      throw new BuildError(`${tool.name}: invalid describe() metadata:\n  - ${problems.join("\n  - ")}`);
    }
    if (tool.fixture !== metadata.categories.includes("fixture")) {
      throw new BuildError(`${tool.name}: fixtures (and only fixtures) must have the category "fixture"`);
    }
    if (tool.bundle && !metadata.categories.includes("restricted")) {
      throw new BuildError(`${tool.name}: tools of the ${tool.bundle} bundle must have the category "restricted" (only agents whose policy names them may reach them)`);
    }
    entries.push({
      name: tool.name,
      dir: `tools/${tool.name}/`,
      glue: files.glue,
      coreModules: files.coreModules,
      component: files.component,
      sha256: sha,
      size: component.byteLength,
      fixture: tool.fixture,
      ...(tool.bundle ? { bundle: tool.bundle } : {}),
      imports,
      async: isAsync,
      metadata,
    });
    const coreBytes = await sizeOf(outDir, files.coreModules);
    const glueBytes = await sizeOf(outDir, [files.glue]);
    log(
      `${tool.name.padEnd(16)} component ${kib(component.byteLength)}  core ${kib(coreBytes)}  glue ${kib(glueBytes)}` +
        `${tool.fixture ? "  (fixture)" : ""}${isAsync ? "  (jspi)" : ""}  ${state}`,
    );
  }

  const builtins = [];
  for (const builtin of BUILTINS) {
    const entry = await buildBuiltin(builtin);
    builtins.push(entry);
    log(`${entry.name.padEnd(16)} built-in  ${entry.coreModules.map((f) => `${f} ${kib(entry.size)}`).join(", ")}`);
  }

  // Examples: built like tools, kept out of the manifest.
  const examples = await discoverExamples();
  await mkdir(EXAMPLES_OUT_DIR, { recursive: true });
  const exampleFiles = new Set(examples.map((e) => `${e.name}.wasm`));
  for (const entry of await readdir(EXAMPLES_OUT_DIR)) {
    if (!exampleFiles.has(entry)) await rm(join(EXAMPLES_OUT_DIR, entry), { recursive: true, force: true });
  }
  for (const example of examples) {
    // An upload can never take a bundled tool's name.
    if (tools.some((t) => t.name === example.name)) throw new BuildError(`example ${example.name}: a bundled tool has that name; an upload of it would be refused`);
    const inputHash = sha256(
      JSON.stringify({ versions, ASC_FLAGS, TRANSPILE_OPTIONS, JSPI_OPTIONS, WORLD, sharedInputs, own: await hashInputs([example.srcDir]) }),
    );
    const committed = join(EXAMPLES_DIR, `${example.name}.wasm`);
    const served = join(EXAMPLES_OUT_DIR, `${example.name}.wasm`);
    const previous = cache[`example:${example.name}`];
    const shaOf = async (file) => (existsSync(file) ? sha256(await readFile(file)) : null);
    let state;
    let sha;
    let size;
    if (previous?.inputHash === inputHash && (await shaOf(committed)) === previous.sha256 && (await shaOf(served)) === previous.sha256) {
      ({ sha256: sha, size } = previous);
      state = "up to date";
    } else {
      const { component } = await buildExample(example);
      sha = sha256(component);
      size = component.byteLength;
      state = "built, unchanged";
      if ((await shaOf(committed)) !== sha) {
        await writeFileAtomic(committed, component);
        state = `UPDATED ${relative(ROOT, committed)}: commit it`;
      }
      if ((await shaOf(served)) !== sha) await writeFileAtomic(served, component);
    }
    nextCache[`example:${example.name}`] = { inputHash, sha256: sha, size };
    log(`${example.name.padEnd(16)} component ${kib(size)}  (example: ${relative(ROOT, committed)}, /examples/${example.name}.wasm)  ${state}`);
  }

  const manifest = { version: 1, tools: entries, builtins };
  await writeFileAtomic(join(OUT_DIR, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  await mkdir(dirname(CACHE_FILE), { recursive: true });
  await writeFileAtomic(CACHE_FILE, `${JSON.stringify(nextCache, null, 2)}\n`);
  log(`manifest: ${relative(ROOT, join(OUT_DIR, "manifest.json"))} (${entries.length} tools)`);
  return manifest;
}

/**
 * A built-in tool's manifest entry: its metadata (validated like a component's, plus an
 * `outputSchema`) and its runtime files copied into public/tools/<name>/. The hash covers the
 * metadata and every runtime file, so a change of either is a new version.
 */
async function buildBuiltin(builtin) {
  const spec = await readJson(builtin.spec, null);
  if (!spec?.metadata) throw new BuildError(`${relative(ROOT, builtin.spec)}: no "metadata"`);
  const { outputSchema, ...metadata } = spec.metadata;
  const problems = [...validateMetadata(metadata, builtin.name)];
  for (const key of Object.keys(spec.metadata)) if (!BUILTIN_METADATA_KEYS.has(key)) problems.push(`unknown field "${key}"`);
  if (outputSchema !== undefined && (typeof outputSchema !== "object" || outputSchema === null || outputSchema.type !== "object")) problems.push('"outputSchema" must be a JSON Schema with type "object"');
  if (problems.length > 0) throw new BuildError(`${builtin.name}: invalid metadata:\n  - ${problems.join("\n  - ")}`);
  const require = createRequire(import.meta.url);
  const outDir = join(OUT_DIR, builtin.name);
  await mkdir(outDir, { recursive: true });
  const hash = createHash("sha256").update(JSON.stringify(spec.metadata));
  const coreModules = [];
  let size = 0;
  for (const [language, runtime] of Object.entries(spec.runtimes ?? {})) {
    const source = join(dirname(require.resolve(`${runtime.package}/package.json`)), runtime.wasm);
    const bytes = await readFile(source);
    const target = join(outDir, runtime.file);
    if (!existsSync(target) || sha256(await readFile(target)) !== sha256(bytes)) await writeFileAtomic(target, bytes);
    hash.update(`\0${language}\0${runtime.file}\0`).update(bytes);
    coreModules.push(runtime.file);
    size += bytes.byteLength;
  }
  return { name: builtin.name, dir: `tools/${builtin.name}/`, coreModules, sha256: hash.digest("hex"), size, metadata: spec.metadata };
}

/** Finds tools/src/<dir>/index.ts and tools/fixtures/<dir>/index.ts; name = dir with '-' -> '_'. */
async function discoverTools() {
  const tools = [];
  // tools/conformance/: the fixtures the MCP conformance suite calls, one bundle, restricted.
  for (const [group, fixture, bundle] of [["src", false], ["fixtures", true], ["conformance", true, "conformance"]]) {
    const groupDir = join(TOOLS_DIR, group);
    const dirs = (await readdir(groupDir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
    for (const dirName of dirs.sort()) {
      const srcDir = join(groupDir, dirName);
      const entry = join(srcDir, "index.ts");
      if (!existsSync(entry)) throw new BuildError(`${relative(ROOT, srcDir)}: missing index.ts`);
      const name = dirName.replaceAll("-", "_");
      if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new BuildError(`${relative(ROOT, srcDir)}: invalid tool directory name`);
      tools.push({ name, srcDir, entry, fixture, ...(bundle ? { bundle } : {}) });
    }
  }
  const names = tools.map((t) => t.name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) throw new BuildError(`duplicate tool name ${duplicate}`);
  if (tools.length === 0) throw new BuildError("no tools found");
  return tools;
}

/** Finds tools/examples/<dir>/index.ts (directories without one, e.g. the JavaScript example, are not built here). */
async function discoverExamples() {
  const examples = [];
  const dirs = (await readdir(EXAMPLES_DIR, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  for (const dirName of dirs.sort()) {
    const srcDir = join(EXAMPLES_DIR, dirName);
    const entry = join(srcDir, "index.ts");
    if (!existsSync(entry)) continue;
    const name = dirName.replaceAll("-", "_");
    if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new BuildError(`${relative(ROOT, srcDir)}: invalid example directory name`);
    examples.push({ name, srcDir, entry, fixture: false });
  }
  return examples;
}

/**
 * Builds the example tools/examples/<dirName>/index.ts through the whole pipeline of a bundled
 * tool (compile, component, transpile, describe in Node, metadata checks) in a temporary
 * directory, and returns its component's bytes and metadata. Writes nothing else.
 * @param {string | { name: string, srcDir: string, entry: string, fixture: boolean }} example
 */
export async function buildExample(example) {
  if (typeof example === "string") {
    const found = (await discoverExamples()).find((e) => relative(EXAMPLES_DIR, e.srcDir) === example);
    if (!found) throw new BuildError(`no example tools/examples/${example}/index.ts`);
    example = found;
  }
  const temp = await mkdtemp(join(tmpdir(), "mcp-sandbox-example-"));
  try {
    const outDir = join(temp, example.name);
    const { files, imports } = await buildTool(example, outDir);
    const component = await readFile(join(outDir, files.component));
    const isAsync = imports.some((i) => ASYNC_HOST_FUNCTIONS.includes(i.slice(HOST_INTERFACE.length + 1)));
    const metadata = await describeTool(outDir, files, sha256(component), isAsync);
    const problems = validateMetadata(metadata, example.name);
    if (metadata?.categories?.includes?.("fixture")) problems.push('examples are not fixtures: no category "fixture"');
    if (problems.length > 0) throw new BuildError(`${example.name}: invalid describe() metadata:\n  - ${problems.join("\n  - ")}`);
    return { name: example.name, component: new Uint8Array(component), metadata, imports };
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/**
 * Compiles, componentizes and transpiles one tool into outDir. Returns its file names and
 * the host functions it imports ("mcp-sandbox:tool/host@0.1.0#read-file", ...).
 */
async function buildTool(tool, outDir) {
  const core = await compileAssemblyScript(tool);
  const coreImports = await checkCoreModule(tool.name, core);

  const { componentEmbed, componentNew, print, transpile } = await import("@bytecodealliance/jco");
  let component;
  let imports;
  try {
    const embedded = await componentEmbed({ binary: core, witPath: WIT_DIR, world: WORLD, stringEncoding: "utf8" });
    component = await componentNew(embedded);
    imports = componentImports(await print(component));
  } catch (error) {
    throw new BuildError(`${tool.name}: creating the component failed: ${errorText(error)}`);
  }
  if (imports.join() !== coreImports.join()) {
    throw new BuildError(`${tool.name}: component imports [${imports.join(", ")}] but its core module imports [${coreImports.join(", ")}]`);
  }
  const isAsync = imports.some((i) => ASYNC_HOST_FUNCTIONS.includes(i.slice(HOST_INTERFACE.length + 1)));
  let transpiled;
  try {
    transpiled = await transpile(component, { ...TRANSPILE_OPTIONS, ...(isAsync ? JSPI_OPTIONS : {}), name: tool.name });
  } catch (error) {
    throw new BuildError(`${tool.name}: jco transpile failed: ${errorText(error)}`);
  }
  // jco keys the import object by interface name without the version.
  const expectedImports = imports.length > 0 ? [HOST_INTERFACE.replace(/@.*$/, "")] : [];
  if (transpiled.imports.join() !== expectedImports.join()) {
    throw new BuildError(`${tool.name}: unexpected glue imports ${transpiled.imports.join(", ")}`);
  }
  const exported = transpiled.exports.map(([name, kind]) => `${name}:${kind}`).sort().join(", ");
  if (exported !== "call:function, describe:function") {
    throw new BuildError(`${tool.name}: unexpected component exports: ${exported}`);
  }

  const fileNames = Object.keys(transpiled.files);
  const glue = `${tool.name}.js`;
  const coreModules = fileNames.filter((f) => f.endsWith(".wasm")).sort(byCoreIndex);
  const unexpected = fileNames.filter((f) => f !== glue && !f.endsWith(".core.wasm") && !/\.core\d+\.wasm$/.test(f));
  if (!fileNames.includes(glue) || coreModules.length === 0 || unexpected.length > 0) {
    throw new BuildError(`${tool.name}: unexpected jco output files: ${fileNames.join(", ")}`);
  }
  const componentFile = `${tool.name}.component.wasm`;

  // Write aside, then swap: a server or test reading outDir never sees a partial tool.
  const staging = `${outDir}${STAGING_SUFFIX}${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  for (const [file, bytes] of Object.entries(transpiled.files)) await writeFile(join(staging, file), bytes);
  await writeFile(join(staging, componentFile), component);
  await rm(outDir, { recursive: true, force: true });
  await rename(staging, outDir);
  return { files: { glue, coreModules, component: componentFile }, imports };
}

/**
 * Host functions a component imports, from its text form (jco `print`): the exports of
 * the instance type of each top-level `(import "<interface>" (instance ...))`. Returns
 * sorted "<interface>#<function>" names; throws on any import other than host functions.
 */
export function componentImports(wat) {
  const lines = wat.split("\n");
  const typeExports = new Map(); // component-level type name -> exported function names
  const imports = [];
  for (let i = 0; i < lines.length; i++) {
    const type = /^ {2}\(type (\$\S+)(?: \(;\d+;\))?$/.exec(lines[i]); // a multi-line type block
    if (type) {
      const names = [];
      for (i++; i < lines.length && lines[i] !== "  )"; i++) {
        const fn = /^ {6}\(export \(;\d+;\) "([^"]+)" \(func /.exec(lines[i]);
        if (fn) names.push(fn[1]);
      }
      typeExports.set(type[1], names);
      continue;
    }
    const imported = /^ {2}\(import "([^"]+)" (.*)$/.exec(lines[i]);
    if (!imported) continue;
    const instanceType = /^\(instance \S+ (?:\(;\d+;\) )?\(type (\$\S+)\)\)\)$/.exec(imported[2]);
    if (imported[1] !== HOST_INTERFACE || !instanceType || !typeExports.has(instanceType[1])) {
      throw new Error(`unsupported component import: ${lines[i].trim()}`);
    }
    for (const name of typeExports.get(instanceType[1])) imports.push(`${HOST_INTERFACE}#${name}`);
  }
  return imports.sort();
}

async function compileAssemblyScript(tool) {
  const { default: asc } = await import("assemblyscript/asc");
  const outputs = new Map();
  const stdout = asc.createMemoryStream();
  const stderr = asc.createMemoryStream();
  // Paths relative to the repository root keep diagnostics short and machine-independent.
  const entry = relative(ROOT, tool.entry).split(sep).join("/");
  const result = await asc.main([entry, "--baseDir", ROOT, "--outFile", "module.wasm", ...ASC_FLAGS], {
    stdout,
    stderr,
    writeFile: (name, contents) => {
      outputs.set(name, contents);
    },
  });
  const diagnostics = stderr.toString().trim();
  if (result.error) {
    throw new BuildError(`${tool.name}: AssemblyScript compilation failed: ${result.error.message}\n${diagnostics}`);
  }
  if (diagnostics) console.warn(`${tool.name}: AssemblyScript warnings:\n${diagnostics}`);
  const core = outputs.get("module.wasm");
  if (!(core instanceof Uint8Array)) throw new BuildError(`${tool.name}: asc produced no module`);
  return core;
}

/** Checks the tool's core module; returns its host imports as "<interface>#<function>", sorted. */
async function checkCoreModule(name, core) {
  const module = await WebAssembly.compile(core);
  const imports = WebAssembly.Module.imports(module);
  const foreign = imports.filter((i) => i.module !== HOST_INTERFACE || i.kind !== "function" || !HOST_FUNCTIONS.includes(i.name));
  if (foreign.length > 0) {
    const list = foreign.map((i) => `${i.module}.${i.name}`).join(", ");
    // env.abort / env.seed / env.trace come from AssemblyScript's std (abort, Math.random, trace).
    throw new BuildError(`${name}: core module imports ${list}; tools may import only ${HOST_INTERFACE} functions`);
  }
  const exported = new Set(WebAssembly.Module.exports(module).map((e) => `${e.name}:${e.kind}`));
  const missing = REQUIRED_CORE_EXPORTS.filter((e) => !exported.has(e));
  if (missing.length > 0) throw new BuildError(`${name}: core module lacks exports ${missing.join(", ")}`);
  return imports.map((i) => `${i.module}#${i.name}`).sort();
}

/**
 * Instantiates the transpiled component the way the host does and returns describe()'s
 * JSON. JSPI glue needs WebAssembly.Suspending (absent in Node 20): there, describe()
 * is called on the tool's own core module directly, with host imports that throw.
 */
async function describeTool(outDir, files, sha, isAsync) {
  // The query keeps Node's ESM cache from returning an older glue after a rebuild.
  const glueUrl = `${pathToFileURL(join(outDir, files.glue)).href}?sha256=${sha}`;
  let text;
  try {
    const { instantiate } = await import(glueUrl);
    if (typeof instantiate !== "function") throw new Error("the glue does not export instantiate");
    if (isAsync && typeof WebAssembly.Suspending !== "function") {
      text = await describeCore(outDir, files);
    } else {
      const instance = await instantiate(async (file) => {
        if (!files.coreModules.includes(file)) throw new Error(`glue requested unknown core module ${file}`);
        return WebAssembly.compile(await readFile(join(outDir, file)));
      }, { [HOST_INTERFACE.replace(/@.*$/, "")]: throwingHost() });
      text = instance.describe();
    }
  } catch (error) {
    throw new BuildError(`${relative(ROOT, outDir)}: instantiating or describing failed: ${errorText(error)}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BuildError(`${relative(ROOT, outDir)}: describe() did not return JSON: ${errorText(error)}\n${text}`);
  }
}

/** Host functions for build-time instantiation: describe() must not call any. */
function throwingHost() {
  const host = {};
  for (const f of HOST_FUNCTIONS) {
    host[f.replace(/-(\w)/g, (_, c) => c.toUpperCase())] = () => {
      throw new Error(`describe() called the host function ${f}`);
    };
  }
  return host;
}

/** describe() through the canonical ABI on the tool's own core module (the one exporting it). */
async function describeCore(outDir, files) {
  for (const file of files.coreModules) {
    const module = await WebAssembly.compile(await readFile(join(outDir, file)));
    if (!WebAssembly.Module.exports(module).some((e) => e.name === "describe")) continue;
    const imports = {};
    for (const i of WebAssembly.Module.imports(module)) {
      imports[i.module] ??= {};
      imports[i.module][i.name] = () => {
        throw new Error(`describe() called the host function ${i.name}`);
      };
    }
    const { exports } = await WebAssembly.instantiate(module, imports);
    const ret = exports.describe();
    const view = new DataView(exports.memory.buffer);
    const bytes = new Uint8Array(exports.memory.buffer, view.getUint32(ret, true), view.getUint32(ret + 4, true));
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  }
  throw new Error("no core module exports describe");
}

/**
 * Checks describe() metadata against the contract in tools/wit/tool.wit.
 * @param {unknown} meta
 * @param {string} [expectedName]
 * @returns {string[]} problems; empty when valid
 */
export function validateMetadata(meta, expectedName) {
  const problems = [];
  const isObject = (v) => typeof v === "object" && v !== null && !Array.isArray(v);
  const isStringArray = (v) => Array.isArray(v) && v.every((s) => typeof s === "string");
  const isPositive = (v) => typeof v === "number" && Number.isFinite(v) && v > 0;
  if (!isObject(meta)) return ["metadata must be a JSON object"];
  for (const key of Object.keys(meta)) if (!METADATA_KEYS.has(key)) problems.push(`unknown field "${key}"`);
  if (typeof meta.name !== "string" || !/^[a-z][a-z0-9_]{0,63}$/.test(meta.name)) {
    problems.push('"name" must match ^[a-z][a-z0-9_]{0,63}$');
  } else if (expectedName !== undefined && meta.name !== expectedName) {
    problems.push(`"name" is "${meta.name}" but the tool directory says "${expectedName}"`);
  }
  if (typeof meta.description !== "string" || meta.description.trim() === "") problems.push('"description" must be a non-empty string');
  if (typeof meta.version !== "string" || !/^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$/.test(meta.version)) {
    problems.push('"version" must be a semantic version');
  }
  if (typeof meta.author !== "string") problems.push('"author" must be a string');
  if (!isStringArray(meta.tags)) problems.push('"tags" must be an array of strings');
  if (!isStringArray(meta.categories)) problems.push('"categories" must be an array of strings');
  if (!isObject(meta.inputSchema) || meta.inputSchema.type !== "object") problems.push('"inputSchema" must be a JSON Schema with type "object"');
  if (!isStringArray(meta.permissions)) problems.push('"permissions" must be an array of strings');
  if (meta.limits !== undefined) {
    if (!isObject(meta.limits)) problems.push('"limits" must be an object');
    else {
      for (const key of Object.keys(meta.limits)) {
        if (key !== "memoryMb" && key !== "cpuMs") problems.push(`unknown field "limits.${key}"`);
        else if (!isPositive(meta.limits[key])) problems.push(`"limits.${key}" must be a positive number`);
      }
    }
  }
  if (meta.context !== undefined && typeof meta.context !== "boolean") problems.push('"context" must be true or false');
  const isResource = isStringArray(meta.categories) && meta.categories.includes("resource");
  if (meta.resource !== undefined || isResource) {
    const r = meta.resource;
    if (!isObject(r) || typeof r.uri !== "string" || !/^[a-z][a-z0-9+.-]*:\/\/\S+$/.test(r.uri) || typeof r.mimeType !== "string") {
      problems.push('"resource" must be {"uri": "<scheme>://...", "mimeType": string} (required for category "resource")');
    }
  }
  return problems;
}

// ---- helpers ------------------------------------------------------------------------

/**
 * Cross-process build lock: a directory holding the owner's pid. A lock whose owner is
 * gone is taken over. Returns the release function.
 */
async function acquireLock() {
  const pidFile = join(LOCK_DIR, "pid");
  const deadline = Date.now() + 600_000;
  await mkdir(dirname(LOCK_DIR), { recursive: true });
  for (;;) {
    try {
      await mkdir(LOCK_DIR);
      await writeFile(pidFile, String(process.pid));
      return () => rm(LOCK_DIR, { recursive: true, force: true });
    } catch (error) {
      if (error?.code !== "EEXIST") throw error;
    }
    const owner = Number(await readFile(pidFile, "utf8").catch(() => ""));
    // No pid yet: being taken right now, or its owner died in between (then it is old).
    const ownerless = !(owner > 0) && Date.now() - ((await stat(LOCK_DIR).catch(() => null))?.mtimeMs ?? Date.now()) > 30_000;
    if (ownerless || (owner > 0 && !isAlive(owner))) {
      await rm(LOCK_DIR, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new BuildError(`timed out waiting for the build lock ${relative(ROOT, LOCK_DIR)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error?.code === "EPERM";
  }
}

async function toolchainVersions() {
  const require = createRequire(import.meta.url);
  const asc = JSON.parse(await readFile(require.resolve("assemblyscript/package.json"), "utf8")).version;
  // jco's exports map hides package.json: find it from the resolved entry point.
  let dir = dirname(require.resolve("@bytecodealliance/jco"));
  for (;;) {
    const file = join(dir, "package.json");
    if (existsSync(file)) {
      const pkg = JSON.parse(await readFile(file, "utf8"));
      if (pkg.name === "@bytecodealliance/jco") return { asc, jco: pkg.version };
    }
    const parent = dirname(dir);
    if (parent === dir) throw new BuildError("cannot find @bytecodealliance/jco's package.json");
    dir = parent;
  }
}

/** Hash of the contents of files and (recursively) directories, keyed by relative path. */
async function hashInputs(paths) {
  const hash = createHash("sha256");
  const visit = async (path) => {
    const entries = await readdir(path, { withFileTypes: true }).catch(() => null);
    if (entries === null) {
      hash.update(`${relative(ROOT, path)}\0`).update(await readFile(path)).update("\0");
      return;
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) await visit(join(path, entry.name));
  };
  for (const path of paths) await visit(path);
  return hash.digest("hex");
}

async function outputsIntact(outDir, files) {
  if (!files) return false;
  return [files.glue, files.component, ...files.coreModules].every((f) => existsSync(join(outDir, f)));
}

/** Removes output directories of tools that no longer exist. */
async function removeStaleOutputs(tools) {
  const names = new Set(tools.map((t) => t.name));
  for (const entry of await readdir(OUT_DIR, { withFileTypes: true })) {
    // Staging directories may belong to a concurrent build.
    if (entry.isDirectory() && !names.has(entry.name) && !entry.name.includes(STAGING_SUFFIX)) await rm(join(OUT_DIR, entry.name), { recursive: true, force: true });
  }
}

// "x.core.wasm" before "x.core2.wasm" before "x.core10.wasm" (the order jco numbers them).
function byCoreIndex(a, b) {
  const index = (f) => Number(/\.core(\d*)\.wasm$/.exec(f)?.[1] || 1);
  return index(a) - index(b);
}

async function sizeOf(dir, files) {
  let total = 0;
  for (const f of files) total += (await readFile(join(dir, f))).byteLength;
  return total;
}

async function readJson(file, fallback) {
  try {
    return JSON.parse(await readFile(file, "utf8"));
  } catch {
    return fallback;
  }
}

// Readers (the dev server, a concurrent test) never see a half-written file.
async function writeFileAtomic(file, data) {
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, data);
  await rename(temp, file);
}

function sha256(data) {
  return createHash("sha256").update(data).digest("hex");
}

function kib(bytes) {
  return `${(bytes / 1024).toFixed(1).padStart(5)} KiB`;
}

function errorText(error) {
  return error instanceof Error ? error.message : String(error);
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== "--force");
  if (unknown.length > 0) {
    console.error(`build:tools: unknown arguments ${unknown.join(" ")} (usage: node tools/build.mjs [--force])`);
    process.exit(2);
  }
  buildTools({ force: args.includes("--force") }).catch((error) => {
    console.error(`build:tools failed: ${error instanceof BuildError ? error.message : (error?.stack ?? error)}`);
    process.exitCode = 1;
  });
}
