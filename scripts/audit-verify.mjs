#!/usr/bin/env node
// `npm run audit:verify -- FILE.jsonl [FILE.jsonl …]`: checks exported or archived audit files
// (or a verifiable segment of the trail's filtered view) on their own, in the order given (each continues where the one before ends): every entry's
// hash and link, and an archive's signed checkpoint (docs/audit.md, "Retention"). Prints one line
// per file and exits 1 at the first that does not verify. The check is the app's own
// (src/store/audit-file.ts), bundled for Node on the fly with Vite.
import { build } from 'vite';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

const files = process.argv.slice(2);
if (files.length === 0 || files.includes('--help')) {
  console.error('usage: npm run audit:verify -- FILE.jsonl [FILE.jsonl …]   (oldest first)');
  process.exit(files.length === 0 ? 2 : 0);
}
const outDir = await mkdtemp(join(tmpdir(), 'audit-verify-'));
try {
  await build({
    configFile: false,
    logLevel: 'silent',
    build: { outDir, ssr: fileURLToPath(new URL('../src/store/audit-file.ts', import.meta.url)), target: 'node20', minify: false, rollupOptions: { output: { entryFileNames: 'audit-file.mjs' } } },
    ssr: { noExternal: true },
  });
  const { verifyAuditFile } = await import(pathToFileURL(join(outDir, 'audit-file.mjs')).href);
  let from;
  for (const file of files) {
    const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
    const v = await verifyAuditFile(lines, from);
    const range = v.entries || v.links ? `#${v.from.seq + 1}–#${v.head.seq}` : 'no entries';
    if (!v.ok) {
      console.log(`${file}: BROKEN — ${v.problem} (${v.entries} entries intact before it)`);
      process.exitCode = 1;
      break;
    }
    const start = v.from.seq === 0 ? 'from the genesis' : `from #${v.from.seq}${v.from.signed ? ' (signed archive checkpoint)' : v.links !== undefined ? ' (a segment: compare the head with the log\'s entry of that seq)' : ' (the previous file)'}`;
    const links = v.links !== undefined ? ` in full and ${v.links} between them as links` : '';
    console.log(`${file}: intact — ${v.entries} entries${links} ${range}, ${start}, head ${v.head.hash.slice(0, 16)}…${v.archive ? `; archive checkpoint signed, file SHA-256 matches` : ''}`);
    from = v.head;
  }
} finally {
  await rm(outDir, { recursive: true, force: true });
}
