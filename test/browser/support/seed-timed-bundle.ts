import { build } from 'vite';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** seed-timed.ts bundled as a script that defines `window.seedTimed` (run in the page with `page.evaluate`). */
export async function seedTimedBundle(): Promise<string> {
  const outDir = await mkdtemp(join(tmpdir(), 'seed-timed-'));
  try {
    await build({
      configFile: false,
      logLevel: 'silent',
      build: { outDir, minify: false, target: 'es2022', lib: { entry: fileURLToPath(new URL('./seed-timed.ts', import.meta.url)), formats: ['iife'], name: 'seedTimed', fileName: () => 'seed.js' } },
    });
    return await readFile(join(outDir, 'seed.js'), 'utf8');
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}
