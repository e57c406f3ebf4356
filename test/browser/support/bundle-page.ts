import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

/**
 * Bundles a test page's module (test/browser/pages/<file>) as a classic script that defines
 * `window[globalName]`, for a page to run with `addScriptTag` (the SDKs as pages bundle them:
 * the SDK's ajv provider aliased away, the CfWorker validator passed in).
 */
export async function bundlePage(file: string, globalName: string): Promise<string> {
  const outDir = await mkdtemp(join(tmpdir(), 'test-page-'));
  const at = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
  try {
    await build({
      configFile: false,
      logLevel: 'warn',
      resolve: { alias: [{ find: /^.*\/validation\/ajv-provider\.js$/, replacement: at('../../../src/shared/no-ajv.ts') }] },
      define: { 'process.env.NODE_ENV': '"production"' },
      build: { outDir, emptyOutDir: false, target: 'es2022', minify: true, sourcemap: false, copyPublicDir: false, lib: { entry: at(`../pages/${file}`), formats: ['iife'], name: globalName, fileName: () => 'page.js' } },
    });
    return await readFile(join(outDir, 'page.js'), 'utf8');
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}
