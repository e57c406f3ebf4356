// `npm run bench`: end-to-end figures in headless Chromium, each beside the floor measured in
// the same run, because this machine is shared and noisy: ratios travel, milliseconds do not.
import { chromium } from 'playwright-core';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../scripts/serve.mjs';

const ARGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const N = Number(process.env.BENCH_N ?? 1000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
/** Uploads measured for "first call of a just-registered tool" (each a new version). */
const UPLOADS = Number(process.env.BENCH_UPLOADS ?? 20);

/**
 * A minimal tool component (tools/README.md ABI) built from WAT, as test/browser/upload.test.ts
 * does: each version returns its own output, so each upload is a new component (new hash).
 */
async function benchComponent(version) {
  const { parse, componentEmbed, componentNew } = await import('@bytecodealliance/jco');
  const hex = (text) => [...new TextEncoder().encode(text)].map((b) => `\\${b.toString(16).padStart(2, '0')}`).join('');
  const meta = JSON.stringify({ name: 'bench_uploaded', description: 'Benchmark: a tool uploaded while the sandbox runs.', version, author: 'bench', inputSchema: { type: 'object' }, permissions: [], limits: { memoryMb: 16, cpuMs: 1000 } });
  const output = JSON.stringify({ version });
  const len = (text) => new TextEncoder().encode(text).length;
  const wat = `(module
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 8192))
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
      global.get $heap local.set $p global.get $heap local.get 3 i32.add global.set $heap local.get $p)
    (data (i32.const 1024) "${hex(meta)}")
    (data (i32.const 4096) "${hex(output)}")
    (func (export "describe") (result i32)
      i32.const 0 i32.const 1024 i32.store i32.const 4 i32.const ${len(meta)} i32.store i32.const 0)
    (func (export "call") (param i32 i32) (result i32)
      i32.const 8 i32.const 0 i32.store8 i32.const 12 i32.const 4096 i32.store i32.const 16 i32.const ${len(output)} i32.store i32.const 8))`;
  const embedded = await componentEmbed({ binary: await parse(wat), witPath: fileURLToPath(new URL('../../tools/wit', import.meta.url)), world: 'tool', stringEncoding: 'utf8' });
  return [...(await componentNew(embedded))];
}
const uploads = [];
for (let i = 0; i < UPLOADS; i++) uploads.push(await benchComponent(`1.0.${i}`));

const { server, url } = await startServer({ root: fileURLToPath(new URL('../../dist/', import.meta.url)), port: 0 });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ARGS });
try {
  const page = await (await browser.newContext()).newPage();
  await page.goto(url);
  await page.waitForFunction(() => 'sandboxHost' in window);
  await page.evaluate(`Promise.all([import('/client.js'), import('/admin.js')]).then(([c, a]) => { window.lib = { ...c, ...a }; })`);

  const results = await page.evaluate(
    async ({ N, CONCURRENCY, uploads }) => {
      const stats = (samples) => {
        const s = [...samples].sort((a, b) => a - b);
        const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
        return { n: s.length, p50: at(0.5), p99: at(0.99), mean: s.reduce((a, b) => a + b, 0) / s.length };
      };
      const time = async (n, fn) => {
        for (let i = 0; i < Math.min(50, n); i++) await fn(i); // warm-up
        const samples = [];
        for (let i = 0; i < n; i++) {
          const t0 = performance.now();
          await fn(i);
          samples.push(performance.now() - t0);
        }
        return stats(samples);
      };

      // Floor 1: page ⇄ tool worker, one Comlink message (a property read of the exposed API).
      const worker = new Worker('/tool-worker.js', { type: 'module' });
      let nextId = 0;
      const workerHop = () =>
        new Promise((resolve) => {
          const id = `bench-${nextId++}`;
          const onMessage = (e) => {
            if (e.data?.id !== id) return;
            worker.removeEventListener('message', onMessage);
            resolve(e.data);
          };
          worker.addEventListener('message', onMessage);
          worker.postMessage({ id, type: 'GET', path: ['run', 'length'] });
        });
      const floorWorker = await time(N, workerHop);
      worker.terminate();

      // Floor 2: page → service worker → page, answered without storage.
      const admin = await window.lib.createAdminClient();
      const floorSw = await time(N, () => admin.request('ping'));

      // The sandbox alone: host → module cache → worker → wasm, no service worker or audit.
      const tool = (await admin.request('tools.list')).find((t) => t.name === 'text_stats');
      const text = 'The quick brown fox jumps over the lazy dog. '.repeat(4);
      const request = (i) => ({ callId: `b${i}`, tool: 'text_stats', code: tool.code, entry: 'call', args: JSON.stringify({ text }), limits: { cpuMs: 5000, memoryBytes: 64 * 1024 * 1024 } });
      const sandboxOnly = await time(N, (i) => window.sandboxHost.execute(request(i)));

      // The whole path: SDK Client → postMessage → SW (session, validation, write-ahead audit)
      // → sandbox host → worker → wasm → SW (result audit) → Client.
      // A FullyTrusted agent whose rate limits the run cannot reach: the policy is evaluated on
      // every call, and allows all of them.
      const policy = { version: 1, session: { callsPerMinute: 100000, maxCalls: 10000000 } };
      const { token } = await admin.request('agents.register', { id: 'bench', name: 'bench', trustLevel: 'FullyTrusted', origins: [location.origin], policy });
      const client = await window.lib.connect({ agent: 'bench', token });
      const call = () => client.callTool({ name: 'text_stats', arguments: { text } });
      const endToEnd = await time(N, call);

      // execute_code with JavaScript (QuickJS in the tool worker: a fresh runtime and context per
      // call in a warm instance), the same agent and the same words counted as text_stats counts.
      const codeArgs = { language: 'javascript', code: 'input.text.split(/\\s+/).filter(Boolean).length', input: { text } };
      const codeCall = async () => {
        const r = await client.callTool({ name: 'execute_code', arguments: codeArgs });
        if (r.isError || JSON.parse(r.content[0].text).result !== 36) throw new Error(JSON.stringify(r));
      };
      const executeCodeJs = await time(N, codeCall);
      const codeTool = (await admin.request('tools.list')).find((t) => t.name === 'execute_code');
      const codeRequest = (i) => ({ callId: `c${i}`, tool: 'execute_code', code: codeTool.code, entry: 'call', args: JSON.stringify(codeArgs), limits: { cpuMs: 5000, memoryBytes: 64 * 1024 * 1024 } });
      const sandboxOnlyJs = await time(N, (i) => window.sandboxHost.execute(codeRequest(i)));

      // Throughput: CONCURRENCY calls in flight at all times.
      const total = N;
      let started = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (started < total) {
            started++;
            const r = await call();
            if (r.isError) throw new Error(JSON.stringify(r));
          }
        }),
      );
      const seconds = (performance.now() - t0) / 1000;

      // One host capability call: host_probe with one read-file vs. with none, same agent. The
      // difference is what one use costs (tool → host → SW policy + audit + IndexedDB → back).
      await admin.request('tools.seed', { fixtures: true });
      const probe = (calls) => client.callTool({ name: 'host_probe', arguments: { calls } });
      const written = await probe([{ fn: 'write-file', path: './workspace/bench.txt', contents: 'benchmark' }]);
      if (written.isError) throw new Error(JSON.stringify(written));
      const probeNone = await time(N, () => probe([]));
      const probeOneRead = await time(N, async () => {
        const r = await probe([{ fn: 'read-file', path: './workspace/bench.txt' }]);
        if (r.isError || !r.content[0].text.includes('benchmark')) throw new Error(JSON.stringify(r));
      });

      // First call of a just-registered tool: upload (check, transpile, describe, store) and
      // then the call, which pays fetching and compiling its modules and importing its glue.
      const uploadMs = [];
      const firstCallMs = [];
      let coldUploadMs = null;
      for (const [i, bytes] of uploads.entries()) {
        const t1 = performance.now();
        await window.sandboxHost.importTool(new Uint8Array(bytes), `bench-${i}.wasm`);
        const t2 = performance.now();
        const r = await client.callTool({ name: 'bench_uploaded', arguments: {} });
        const t3 = performance.now();
        if (r.isError || !r.content[0].text.includes(`1.0.${i}`)) throw new Error(JSON.stringify(r));
        if (i === 0) coldUploadMs = t2 - t1; // loads the transpiler
        else uploadMs.push(t2 - t1);
        firstCallMs.push(t3 - t2);
      }
      const warmCall = await time(Math.min(N, 200), () => client.callTool({ name: 'bench_uploaded', arguments: {} }));

      const verdict = await admin.request('audit.verify');
      return {
        floorWorker, floorSw, sandboxOnly, endToEnd, executeCodeJs, sandboxOnlyJs,
        throughput: { calls: total, concurrency: CONCURRENCY, seconds, callsPerSecond: total / seconds },
        probeNone, probeOneRead,
        upload: { coldMs: coldUploadMs, warm: uploadMs.length ? stats(uploadMs) : null, firstCall: stats(firstCallMs), warmCall },
        auditEntries: verdict.count, chainOk: verdict.ok,
      };
    },
    { N, CONCURRENCY, uploads },
  );

  const r2 = (x) => Math.round(x * 1000) / 1000;
  const floorRoundTrip = results.floorWorker.p50 + results.floorSw.p50;
  const report = {
    date: new Date().toISOString(),
    chromium: browser.version(),
    samples: N,
    floor: {
      pageWorkerRoundTripMs: { p50: r2(results.floorWorker.p50), p99: r2(results.floorWorker.p99) },
      pageSwPageRoundTripMs: { p50: r2(results.floorSw.p50), p99: r2(results.floorSw.p99) },
    },
    sandboxOnlyMs: { p50: r2(results.sandboxOnly.p50), p99: r2(results.sandboxOnly.p99) },
    toolsCallMs: { p50: r2(results.endToEnd.p50), p99: r2(results.endToEnd.p99) },
    executeCodeJs: {
      // tools/call of execute_code (JavaScript) vs tools/call of text_stats (a tiny wasm tool), same run.
      toolsCallMs: { p50: r2(results.executeCodeJs.p50), p99: r2(results.executeCodeJs.p99) },
      sandboxOnlyMs: { p50: r2(results.sandboxOnlyJs.p50), p99: r2(results.sandboxOnlyJs.p99) },
      toolsCallP50OverTextStatsP50: r2(results.executeCodeJs.p50 / results.endToEnd.p50),
      sandboxOnlyP50OverTextStatsSandboxOnlyP50: r2(results.sandboxOnlyJs.p50 / results.sandboxOnly.p50),
    },
    throughput: { ...results.throughput, seconds: r2(results.throughput.seconds), callsPerSecond: Math.round(results.throughput.callsPerSecond) },
    ratios: {
      // tools/call p50 over the two hops it cannot avoid (page→SW→page plus page→worker→page).
      toolsCallP50OverFloor: r2(results.endToEnd.p50 / floorRoundTrip),
      toolsCallP99OverFloorP99: r2(results.endToEnd.p99 / (results.floorWorker.p99 + results.floorSw.p99)),
      sandboxOnlyP50OverWorkerFloor: r2(results.sandboxOnly.p50 / results.floorWorker.p50),
    },
    hostCapability: {
      // host_probe with zero capability calls, and with one read-file, same agent.
      probeNoCallsMs: { p50: r2(results.probeNone.p50), p99: r2(results.probeNone.p99) },
      probeOneReadFileMs: { p50: r2(results.probeOneRead.p50), p99: r2(results.probeOneRead.p99) },
      oneCapabilityCallP50Ms: r2(results.probeOneRead.p50 - results.probeNone.p50),
      // One capability use over the page→SW→page floor (it crosses worker→host→SW→host→worker).
      oneCapabilityCallP50OverSwFloor: r2((results.probeOneRead.p50 - results.probeNone.p50) / results.floorSw.p50),
    },
    justRegistered: {
      uploads: UPLOADS,
      // The first upload also loads jco's transpiler (3.5 MB of wasm).
      coldUploadMs: r2(results.upload.coldMs),
      uploadMs: results.upload.warm && { p50: r2(results.upload.warm.p50), p99: r2(results.upload.warm.p99) },
      firstCallMs: { p50: r2(results.upload.firstCall.p50), p99: r2(results.upload.firstCall.p99) },
      warmCallMs: { p50: r2(results.upload.warmCall.p50), p99: r2(results.upload.warmCall.p99) },
      // What being new costs a call: its first call over later calls of the same tool.
      firstCallP50OverWarmCallP50: r2(results.upload.firstCall.p50 / results.upload.warmCall.p50),
    },
    audit: { entries: results.auditEntries, chainVerified: results.chainOk },
  };
  const out = JSON.stringify(report, null, 2);
  console.log(out);
  await writeFile(fileURLToPath(new URL('../../bench-results.json', import.meta.url)), out + '\n');
} finally {
  await browser.close();
  server.close();
}
