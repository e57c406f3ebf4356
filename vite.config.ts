import { defineConfig, type Plugin } from 'vite';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = fileURLToPath(new URL('.', import.meta.url));
const at = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** Entries whose URLs other code knows, so they keep fixed names (no hash). */
/** Replaced in sw.js by the hash of everything it precaches (src/server/offline.ts). */
const PRECACHE_VERSION = '__MCP_SANDBOX_PRECACHE_VERSION__';

const FIXED_NAMES = new Set(['sw', 'tool-worker', 'client', 'admin']);

/**
 * Writes precache.json: every file of the build (bundles and public/, tools included), so the
 * service worker can keep the app working offline. The list's hash is written into sw.js as
 * its cache version, so a new build gets a new cache and the old one is dropped.
 */
function precacheList(): Plugin {
  return {
    name: 'mcp-sandbox:precache',
    apply: 'build',
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
    rollupOptions: {
      input: {
        main: at('./index.html'),
        agent: at('./agent.html'),
        connector: at('./connector.html'),
        sw: at('./src/entries/sw.ts'),
        'tool-worker': at('./src/entries/tool-worker.ts'),
        client: at('./src/client/index.ts'),
        admin: at('./src/client/admin.ts'),
      },
      preserveEntrySignatures: 'exports-only',
      output: {
        entryFileNames: (chunk) => (FIXED_NAMES.has(chunk.name) ? '[name].js' : 'assets/[name]-[hash].js'),
      },
    },
  },
  plugins: [precacheList()],
});
