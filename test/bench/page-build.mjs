// Builds the benchmark's page code (page/harness.js, page/peers.js and what they import) into a temporary
// folder with Vite, apart from the app's build: dist/ stays exactly what users get. The SDK is
// bundled as the app bundles it (ajv aliased away; the CfWorker validator is passed).
import { build } from 'vite';
import { copyFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const at = (p) => fileURLToPath(new URL(p, import.meta.url));

/** Returns the folder to serve at /bench/. */
export async function buildBenchPage() {
  const outDir = await mkdtemp(join(tmpdir(), 'mcp-bench-'));
  await build({
    configFile: false,
    root: at('./page/'),
    logLevel: 'warn',
    resolve: { alias: [{ find: /^.*\/validation\/ajv-provider\.js$/, replacement: at('../../src/shared/no-ajv.ts') }] },
    define: { 'process.env.NODE_ENV': '"production"' },
    build: {
      outDir,
      emptyOutDir: false,
      target: 'es2022',
      minify: true,
      sourcemap: false,
      copyPublicDir: false,
      lib: { entry: { harness: at('./page/harness.js'), peers: at('./page/peers.js') }, formats: ['es'], fileName: (_format, name) => `${name}.js` },
    },
  });
  for (const file of ['echo-worker.js', 'peers.html']) await copyFile(at(`./page/${file}`), join(outDir, file));
  return outDir;
}
