import { build } from 'vite';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** seed-audit.ts bundled as a script that defines `window.seedAudit` (run in the page with `page.evaluate`). */
export async function seedBundle(): Promise<string> {
  const outDir = await mkdtemp(join(tmpdir(), 'seed-audit-'));
  try {
    await build({
      configFile: false,
      logLevel: 'silent',
      build: { outDir, minify: false, target: 'es2022', lib: { entry: fileURLToPath(new URL('./seed-audit.ts', import.meta.url)), formats: ['iife'], name: 'seedAudit', fileName: () => 'seed.js' } },
    });
    return await readFile(join(outDir, 'seed.js'), 'utf8');
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}
