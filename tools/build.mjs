#!/usr/bin/env node
// Builds the WebAssembly tools into public/tools/ (run: npm run build:tools [-- --force]).
//
// Per tool (tools/src/<dir>/index.ts, fixtures in tools/fixtures/<dir>/index.ts):
//   asc (AssemblyScript, stub runtime) -> core module
//   -> jco embed (tools/wit, world "tool") -> jco new -> component
//   -> jco transpile --instantiation async -> glue JS + core module(s)
// then instantiates each result in Node, validates its `describe` metadata and writes
// public/tools/manifest.json. Unchanged tools are reused (input hash in
// node_modules/.cache); any failure exits non-zero.

import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const TOOLS_DIR = fileURLToPath(new URL(".", import.meta.url));
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const WIT_DIR = join(TOOLS_DIR, "wit");
const LIB_DIR = join(TOOLS_DIR, "lib");
/** Build output, served by the app at /tools/. */
export const OUT_DIR = join(ROOT, "public", "tools");
const CACHE_FILE = join(ROOT, "node_modules", ".cache", "mcp-sandbox-tools", "inputs.json");
const WORLD = "tool";
const STAGING_SUFFIX = ".staging-";

// -O3z with the never-freeing stub runtime (the host instantiates per call).
// `--use abort=` compiles AssemblyScript's abort() to `unreachable` instead of an
// `env.abort` import: components may not import anything the WIT does not declare.
const ASC_FLAGS = ["--optimizeLevel", "3", "--shrinkLevel", "2", "--runtime", "stub", "--use", "abort=", "--noColors"];

const TRANSPILE_OPTIONS = {
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

/** Exports each core module must have (the canonical ABI of tools/wit/tool.wit). */
const REQUIRED_CORE_EXPORTS = ["memory:memory", "cabi_realloc:function", "describe:function", "call:function"];

const METADATA_KEYS = new Set([
  "name", "description", "version", "author", "tags", "categories",
  "inputSchema", "permissions", "limits", "resource",
]);

class BuildError extends Error {}

/**
 * Builds all tools and writes public/tools/manifest.json.
 * @param {{ force?: boolean, log?: (line: string) => void }} [options]
 */
export async function buildTools(options = {}) {
  const { force = false, log = (line) => console.log(line) } = options;
  const tools = await discoverTools();
  const versions = await toolchainVersions();
  const sharedInputs = await hashInputs([fileURLToPath(import.meta.url), WIT_DIR, LIB_DIR]);
  const cache = force ? {} : await readJson(CACHE_FILE, {});
  const nextCache = {};

  await mkdir(OUT_DIR, { recursive: true });
  await removeStaleOutputs(tools);

  const entries = [];
  for (const tool of tools) {
    const inputHash = sha256(
      JSON.stringify({ versions, ASC_FLAGS, TRANSPILE_OPTIONS, WORLD, sharedInputs, own: await hashInputs([tool.srcDir]) }),
    );
    const outDir = join(OUT_DIR, tool.name);
    const previous = cache[tool.name];
    let files;
    let state;
    if (previous?.inputHash === inputHash && (await outputsIntact(outDir, previous.files))) {
      files = previous.files;
      state = "up to date";
    } else {
      files = await buildTool(tool, outDir);
      state = "built";
    }
    nextCache[tool.name] = { inputHash, files };

    const component = await readFile(join(outDir, files.component));
    const sha = sha256(component);
    const metadata = await describeTool(outDir, files, sha);
    const problems = validateMetadata(metadata, tool.name);
    if (problems.length > 0) {
      throw new BuildError(`${tool.name}: invalid describe() metadata:\n  - ${problems.join("\n  - ")}`);
    }
    if (tool.fixture !== metadata.categories.includes("fixture")) {
      throw new BuildError(`${tool.name}: fixtures (and only fixtures) must have the category "fixture"`);
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
      metadata,
    });
    const coreBytes = await sizeOf(outDir, files.coreModules);
    const glueBytes = await sizeOf(outDir, [files.glue]);
    log(
      `${tool.name.padEnd(14)} component ${kib(component.byteLength)}  core ${kib(coreBytes)}  glue ${kib(glueBytes)}` +
        `${tool.fixture ? "  (fixture)" : ""}  ${state}`,
    );
  }

  const manifest = { version: 1, tools: entries };
  await writeFileAtomic(join(OUT_DIR, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  await mkdir(dirname(CACHE_FILE), { recursive: true });
  await writeFileAtomic(CACHE_FILE, `${JSON.stringify(nextCache, null, 2)}\n`);
  log(`manifest: ${relative(ROOT, join(OUT_DIR, "manifest.json"))} (${entries.length} tools)`);
  return manifest;
}

/** Finds tools/src/<dir>/index.ts and tools/fixtures/<dir>/index.ts; name = dir with '-' -> '_'. */
async function discoverTools() {
  const tools = [];
  for (const [group, fixture] of [["src", false], ["fixtures", true]]) {
    const groupDir = join(TOOLS_DIR, group);
    const dirs = (await readdir(groupDir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
    for (const dirName of dirs.sort()) {
      const srcDir = join(groupDir, dirName);
      const entry = join(srcDir, "index.ts");
      if (!existsSync(entry)) throw new BuildError(`${relative(ROOT, srcDir)}: missing index.ts`);
      const name = dirName.replaceAll("-", "_");
      if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new BuildError(`${relative(ROOT, srcDir)}: invalid tool directory name`);
      tools.push({ name, srcDir, entry, fixture });
    }
  }
  const names = tools.map((t) => t.name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) throw new BuildError(`duplicate tool name ${duplicate}`);
  if (tools.length === 0) throw new BuildError("no tools found");
  return tools;
}

/** Compiles, componentizes and transpiles one tool into outDir. Returns its file names. */
async function buildTool(tool, outDir) {
  const core = await compileAssemblyScript(tool);
  await checkCoreModule(tool.name, core);

  const { componentEmbed, componentNew, transpile } = await import("@bytecodealliance/jco");
  let component;
  try {
    const embedded = await componentEmbed({ binary: core, witPath: WIT_DIR, world: WORLD, stringEncoding: "utf8" });
    component = await componentNew(embedded);
  } catch (error) {
    throw new BuildError(`${tool.name}: creating the component failed: ${errorText(error)}`);
  }
  let transpiled;
  try {
    transpiled = await transpile(component, { ...TRANSPILE_OPTIONS, name: tool.name });
  } catch (error) {
    throw new BuildError(`${tool.name}: jco transpile failed: ${errorText(error)}`);
  }
  if (transpiled.imports.length > 0) {
    throw new BuildError(`${tool.name}: component imports ${transpiled.imports.join(", ")}; tools may not import anything yet`);
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
  return { glue, coreModules, component: componentFile };
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

async function checkCoreModule(name, core) {
  const module = await WebAssembly.compile(core);
  const imports = WebAssembly.Module.imports(module);
  if (imports.length > 0) {
    const list = imports.map((i) => `${i.module}.${i.name}`).join(", ");
    // env.abort / env.seed / env.trace come from AssemblyScript's std (abort, Math.random, trace).
    throw new BuildError(`${name}: core module imports ${list}; tools may not import anything yet`);
  }
  const exported = new Set(WebAssembly.Module.exports(module).map((e) => `${e.name}:${e.kind}`));
  const missing = REQUIRED_CORE_EXPORTS.filter((e) => !exported.has(e));
  if (missing.length > 0) throw new BuildError(`${name}: core module lacks exports ${missing.join(", ")}`);
}

/** Instantiates the transpiled component the way the host does and returns describe()'s JSON. */
async function describeTool(outDir, files, sha) {
  // The query keeps Node's ESM cache from returning an older glue after a rebuild.
  const glueUrl = `${pathToFileURL(join(outDir, files.glue)).href}?sha256=${sha}`;
  let text;
  try {
    const { instantiate } = await import(glueUrl);
    const instance = await instantiate(async (file) => {
      if (!files.coreModules.includes(file)) throw new Error(`glue requested unknown core module ${file}`);
      return WebAssembly.compile(await readFile(join(outDir, file)));
    }, {});
    text = instance.describe();
  } catch (error) {
    throw new BuildError(`${relative(ROOT, outDir)}: instantiating or describing failed: ${errorText(error)}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BuildError(`${relative(ROOT, outDir)}: describe() did not return JSON: ${errorText(error)}\n${text}`);
  }
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
