import { defineConfig, type Plugin } from 'vite';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { FRAME_SCRIPT, frameDocument } from './src/sandbox/host/python/frame-document';

const root = fileURLToPath(new URL('.', import.meta.url));
const at = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** Entries whose URLs other code knows, so they keep fixed names (no hash). */
/** Replaced in sw.js by the hash of everything it precaches (src/server/offline.ts). */
const PRECACHE_VERSION = '__MCP_SANDBOX_PRECACHE_VERSION__';

const FIXED_NAMES = new Set(['sw', 'tool-worker', 'client', 'admin', 'python-runtime']);
/** Chunks of the tool worker that import others dynamically (src/sandbox/worker/). */
const WORKER_CHUNKS = /(?:^|\/)(?:tool-runner|javascript-runner)[-.]/;

/**
 * Writes precache.json: every file of the build (bundles and public/, tools included), so the
 * service worker can keep the app working offline. The list's hash is written into sw.js as
 * its cache version, so a new build gets a new cache and the old one is dropped.
 */
function precacheList(): Plugin {
  return {
    name: 'mcp-sandbox:precache',
    apply: 'build',
    // After Vite's HTML plugin has emitted the pages: they are precached like everything else
    // (without this, index.html, agent.html and connector.html were missing from the list).
    enforce: 'post',
    generateBundle(_options, bundle) {
      const files = new Set(Object.keys(bundle).filter((f) => f !== 'sw.js' && !f.endsWith('.map')));
      const pub = at('./public/');
      const walk = (dir: string) => {
        for (const name of readdirSync(dir)) {
          const full = join(dir, name);
          if (statSync(full).isDirectory()) walk(full);
          else files.add(relative(pub, full).split('\\').join('/'));
        }
      };
      walk(pub);
      files.add('');
      const sorted = [...files].sort();
      const hash = createHash('sha256');
      for (const name of sorted) {
        const item = bundle[name];
        hash.update(name);
        if (item) hash.update(item.type === 'chunk' ? item.code : item.source);
        else if (name) hash.update(readFileSync(join(pub, name)));
      }
      const version = hash.digest('hex').slice(0, 16);
      const sw = bundle['sw.js'];
      if (sw?.type !== 'chunk' || !sw.code.includes(PRECACHE_VERSION)) this.error('sw.js must reference the precache version placeholder');
      sw.code = sw.code.replaceAll(PRECACHE_VERSION, version);
      this.emitFile({ type: 'asset', fileName: 'precache.json', source: JSON.stringify({ version, files: sorted }, null, 2) });
    },
  };
}

/**
 * QuickJS's emscripten loader names its wasm with `new URL('emscripten-module.wasm',
 * import.meta.url)`, which would make Vite emit a second copy of it. That line only runs when
 * no `instantiateWasm` is given, and the tool worker always gives one (it may not fetch or
 * compile: the host posts the compiled module, from tools/execute_code/quickjs.wasm). So the
 * expression becomes a plain string here, and the worker's bundle refers to no wasm file.
 */
function quickjsWithoutWasmUrl(): Plugin {
  const pattern = /\(new URL\("emscripten-module\.wasm",import\.meta\.url\)\)\.href/g;
  return {
    name: 'mcp-sandbox:quickjs-without-wasm-url',
    enforce: 'pre',
    transform(code, id) {
      if (!id.includes('quickjs-wasmfile-release-sync') || !id.includes('emscripten-module')) return null;
      const replaced = code.replace(pattern, '"emscripten-module.wasm"');
      if (replaced === code) this.error('the QuickJS loader no longer names its wasm as expected: check vite.config.ts');
      return { code: replaced, map: null };
    },
  };
}

/**
 * Emits the Python frame's document (src/sandbox/host/python/frame-document.ts) as
 * python-frame.html, before the precache list is written (so it is precached). Its only script is
 * inline and allowed by hash: the build fails when csp.json's `pythonFrame` policy does not carry
 * that hash.
 */
function pythonFrame(): Plugin {
  return {
    name: 'mcp-sandbox:python-frame',
    apply: 'build',
    generateBundle() {
      const csp = JSON.parse(readFileSync(at('./src/shared/csp.json'), 'utf8')) as { pythonFramePath: string; pythonFrame: string };
      const hash = `'sha256-${createHash('sha256').update(FRAME_SCRIPT).digest('base64')}'`;
      if (!csp.pythonFrame.includes(hash)) this.error(`csp.json pythonFrame must allow the frame's script: ${hash}`);
      this.emitFile({ type: 'asset', fileName: csp.pythonFramePath, source: frameDocument() });
    },
  };
}

export default defineConfig({
  root,
  base: '/',
  resolve: {
    alias: [{ find: /^.*\/validation\/ajv-provider\.js$/, replacement: at('./src/shared/no-ajv.ts') }],
  },
  build: {
    target: 'es2022',
    sourcemap: true,
    emptyOutDir: true,
    modulePreload: {
      // Every browser the app supports (ES2022, module workers, service workers) has
      // <link rel=modulepreload>: the polyfill would be one more request on a cold open's path.
      polyfill: false,
      // Code that runs in tool workers has no document to add <link rel=modulepreload> to (Vite's
      // preload helper would throw there): its dynamic imports load their own dependencies.
      resolveDependencies: (_file, deps, { hostId, hostType }) => (hostType === 'js' && WORKER_CHUNKS.test(hostId) ? [] : deps),
    },
    rollupOptions: {
      input: {
        main: at('./index.html'),
        agent: at('./agent.html'),
        connector: at('./connector.html'),
        sw: at('./src/entries/sw.ts'),
        'tool-worker': at('./src/entries/tool-worker.ts'),
        client: at('./src/client/index.ts'),
        admin: at('./src/client/admin.ts'),
        'python-runtime': at('./src/entries/python-runtime.ts'),
      },
      preserveEntrySignatures: 'exports-only',
      output: {
        entryFileNames: (chunk) => (FIXED_NAMES.has(chunk.name) ? '[name].js' : 'assets/[name]-[hash].js'),
      },
    },
  },
  plugins: [quickjsWithoutWasmUrl(), pythonFrame(), precacheList()],
});
