import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { admin, callTool, connectAgent, errorCode, launchBrowser, openApp } from './harness';

const MB = 1024 * 1024;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let tools: { name: string; limits: { cpuMs?: number; memoryMb?: number } }[];

beforeAll(async () => {
  browser = await launchBrowser();
  ({ context, page } = await openApp(browser));
  await admin(page, 'tools.seed', { fixtures: true });
  tools = await admin(page, 'tools.list');
  await connectAgent(page, 'a', { agent: 'limits-agent' });
  await installPoolLab(page);
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
});

/** The FullyTrusted template's per-call limits (src/policy/templates.ts). */
const POLICY_LIMITS = { cpuMs: 3600_000, memoryMb: 2048 };
const limitOf = (name: string) => {
  const t = tools.find((x) => x.name === name)!;
  return { cpuMs: Math.min(t.limits.cpuMs ?? Infinity, POLICY_LIMITS.cpuMs), memoryBytes: Math.min(t.limits.memoryMb ?? Infinity, POLICY_LIMITS.memoryMb) * MB };
};

type PoolResult = { ok: boolean; output?: string; error?: { code: string } };
type LabPool = { run(job: unknown, cpuMs: number): Promise<PoolResult>; terminate(): void; stats: { idle: number; preparing: number; queued: number; memoryInUse: number } };
/** What `installPoolLab` puts on the app page's window. */
type PoolLab = {
  /** A pool of its own (`PoolOptions` but the worker URL), so the app's pool is untouched. */
  pool(options: { size: number; maxQueue: number; memoryBudgetBytes: number }): LabPool;
  /** A call of a bundled tool as the host makes it: modules compiled with the cap written in, `moduleKey`. */
  job(name: string, memoryBytes: number, args?: string): Promise<{ memoryBytes: number } & Record<string, unknown>>;
  /** Runs `code` as execute_code's JavaScript runtime does, on `pool` (QuickJS compiled with the cap written in). */
  script(pool: LabPool, memoryBytes: number, code: string): Promise<PoolResult>;
  /** The output of a result, or its error code. */
  show(result: PoolResult): string;
};

async function installPoolLab(page: Page): Promise<void> {
  await page.evaluate(async () => {
    type Runtime = { run(job: unknown): Promise<PoolResult> };
    type Host = {
      pool: { constructor: new (o: unknown) => LabPool };
      modules: { constructor: { keyOf(code: unknown, bytes: number): string }; get(code: unknown, bytes: number): Promise<unknown> };
      codeRuntimes: Map<string, { constructor: new (modules: unknown, pool: LabPool) => Runtime }>;
    };
    const w = window as unknown as { sandboxHost: Host; sandboxAdminLib: { createAdminClient(): Promise<{ request(m: string): Promise<{ name: string; code: { glueUrl: string } }[]> }> }; poolLab: PoolLab };
    const host = w.sandboxHost;
    const listed = await (await w.sandboxAdminLib.createAdminClient()).request('tools.list');
    w.poolLab = {
      pool: (options) => new host.pool.constructor({ workerUrl: new URL('/tool-worker.js', location.origin), ...options }),
      job: async (name, memoryBytes, args = '{}') => {
        const code = listed.find((t) => t.name === name)!.code;
        return { glueUrl: code.glueUrl, modules: await host.modules.get(code, memoryBytes), moduleKey: host.modules.constructor.keyOf(code, memoryBytes), entry: 'call', args, memoryBytes };
      },
      script: (pool, memoryBytes, code) => {
        const runtime = new (host.codeRuntimes.get('javascript')!.constructor)(host.modules, pool);
        const runtimeCode = listed.find((t) => t.name === 'execute_code')!.code;
        return runtime.run({ callId: crypto.randomUUID(), language: 'javascript', code, inputJson: 'null', timeoutMs: 2_000, memoryBytes, runtimeCode, outputLimits: { stdoutChars: 1_000, stderrChars: 1_000, resultChars: 1_000 } });
      },
      show: (result) => result.output ?? result.error!.code,
    };
  });
}

describe('per-call limits in the sandbox', () => {
  it('answers a tool that loops forever as a timeout at its deadline, then serves the next call', async () => {
    const { cpuMs } = limitOf('loop_forever');
    const timed = await page.evaluate(async () => {
      const c = (window as unknown as { agents: Record<string, { callTool(p: unknown): Promise<{ _meta?: Record<string, { code: string; details: { limitMs: number } }> }> }> }).agents['a']!;
      const t0 = performance.now();
      const result = await c.callTool({ name: 'loop_forever', arguments: {} });
      return { elapsed: performance.now() - t0, error: result._meta?.['mcp-sandbox/error'] };
    });
    expect(timed.error).toMatchObject({ code: 'timeout', details: { limitMs: cpuMs } });
    expect(timed.elapsed).toBeGreaterThanOrEqual(cpuMs);
    expect(timed.elapsed).toBeLessThanOrEqual(cpuMs + 250);
    const next = await callTool(page, 'a', 'text_stats', { text: 'still alive' });
    expect(next.isError).toBeFalsy();
    expect(JSON.parse(next.content[0]!.text).words).toBe(2);
    // The looping worker was replaced, not lost: the pool is back to full strength.
    const stats = await page.evaluate(() => (window as unknown as { sandboxHost: { pool: { stats: { size: number; idle: number } } } }).sandboxHost.pool.stats);
    expect(stats.idle).toBe(stats.size);
  });

  it('stops a tool that grows memory without bound with an error naming the memory limit', async () => {
    const { memoryBytes } = limitOf('memory_hog');
    const result = await callTool(page, 'a', 'memory_hog', {});
    expect(result.isError).toBe(true);
    expect(errorCode(result)).toBe('memory-limit');
    const info = result._meta!['mcp-sandbox/error'] as { message: string; details: { limitBytes: number; usedBytes: number } };
    expect(info.details.limitBytes).toBe(memoryBytes);
    expect(info.details.usedBytes).toBeLessThanOrEqual(memoryBytes);
    expect(info.message).toContain(`${memoryBytes / MB} MiB`);
  });

  it('reports a trapping tool as a trap, and the sandbox keeps serving', async () => {
    const result = await callTool(page, 'a', 'trap', {});
    expect(errorCode(result)).toBe('trap');
    expect((await callTool(page, 'a', 'json_query', { json: '[1,2]', path: '[1]' })).isError).toBeFalsy();
  });

  it('caps executions: a full queue is refused as busy, and a call over the memory budget is refused', async () => {
    const { memoryBytes } = limitOf('loop_forever');
    const outcomes = await page.evaluate(
      async ({ memoryBytes }) => {
        const lab = (window as unknown as { poolLab: PoolLab }).poolLab;
        // One worker, one waiting place.
        const pool = lab.pool({ size: 1, maxQueue: 1, memoryBudgetBytes: 2 * memoryBytes });
        const job = await lab.job('loop_forever', memoryBytes);
        const results = await Promise.all([pool.run(job, 300), pool.run(job, 300), pool.run(job, 300), pool.run({ ...job, memoryBytes: 4 * memoryBytes }, 300)]);
        pool.terminate();
        return results.map((r) => r.error?.code ?? 'ok');
      },
      { memoryBytes },
    );
    // Running, waiting (then running), refused as busy, refused as over the memory budget.
    expect(outcomes).toEqual(['timeout', 'timeout', 'busy', 'memory-limit']);
  });

  it('gives every call a fresh instance, also where its worker made one ahead for it', async () => {
    // Through the app: calls of one tool in turn, then at once.
    for (let i = 0; i < 3; i++) expect(JSON.parse((await callTool(page, 'a', 'call_count', {})).content[0]!.text)).toEqual({ calls: 1 });
    const together = await Promise.all([1, 2, 3].map(() => callTool(page, 'a', 'call_count', {})));
    expect(together.map((r) => JSON.parse(r.content[0]!.text))).toEqual([{ calls: 1 }, { calls: 1 }, { calls: 1 }]);
    // One worker, so each call after the first takes the instance made after the one before it.
    const { memoryBytes } = limitOf('call_count');
    const counts = await page.evaluate(
      async ({ memoryBytes }) => {
        const lab = (window as unknown as { poolLab: PoolLab }).poolLab;
        const pool = lab.pool({ size: 1, maxQueue: 4, memoryBudgetBytes: memoryBytes });
        const job = await lab.job('call_count', memoryBytes);
        const outputs: string[] = [];
        for (let i = 0; i < 4; i++) {
          outputs.push(lab.show(await pool.run(job, 1000)));
          // Time for the worker to make the next instance before the next call comes.
          await new Promise((r) => setTimeout(r, 50));
        }
        pool.terminate();
        return outputs;
      },
      { memoryBytes },
    );
    expect(counts).toEqual(['{"calls":1}', '{"calls":1}', '{"calls":1}', '{"calls":1}']);
  });

  it("supervises a tool's start-up made ahead: another tool's call never waits past PREPARE_MS for it, nor times out", async () => {
    const slow = limitOf('slow_start');
    const fast = limitOf('call_count');
    const outcome = await page.evaluate(
      async ({ tools }: { tools: Record<string, number> }) => {
        const lab = (window as unknown as { poolLab: PoolLab }).poolLab;
        const [slowJob, fastJob] = [await lab.job('slow_start', tools['slow_start']!), await lab.job('call_count', tools['call_count']!)];
        // One worker: after slow_start's call it starts making slow_start's next instance.
        const pool = lab.pool({ size: 1, maxQueue: 4, memoryBudgetBytes: 1 << 30 });
        let t0 = performance.now();
        const first = await pool.run(slowJob, 20_000);
        const firstMs = performance.now() - t0;
        const whileMaking = { ...pool.stats };
        // At once, another tool's call with a deadline far shorter than that start-up (~2 s) but
        // long enough for a fresh worker.
        t0 = performance.now();
        const other = await pool.run(fastJob, 500);
        const otherWaitedMs = performance.now() - t0;
        // slow_start is no longer made ahead: its next call makes its own instance, and then
        // another tool's call finds the worker free at once.
        const again = await pool.run(slowJob, 20_000);
        const afterAgain = { ...pool.stats };
        const last = await pool.run(fastJob, 500);
        pool.terminate();
        const show = lab.show;
        return { first: show(first), firstMs, whileMaking, other: show(other), otherWaitedMs, again: show(again), afterAgain, last: show(last) };
      },
      { tools: { slow_start: slow.memoryBytes, call_count: fast.memoryBytes } },
    );
    expect(outcome.first).toMatch(/^\{"spun":\d+\}$/);
    // The worker was making slow_start's next instance: it ran no call, and took none.
    expect(outcome.whileMaking).toMatchObject({ idle: 1, preparing: 1 });
    // Before, call_count's job waited in the worker behind that start-up and timed out.
    expect(outcome.other).toBe('{"calls":1}');
    // It waited for PREPARE_MS (250 ms) and a fresh worker, not for the start-up (which the first call's time holds).
    expect(outcome.otherWaitedMs).toBeLessThan(outcome.firstMs);
    expect(outcome.again).toBe(outcome.first);
    expect(outcome.afterAgain).toMatchObject({ idle: 1, preparing: 0 });
    expect(outcome.last).toBe('{"calls":1}');
  });

  it('counts an instance made ahead in the memory budget, and gives its memory back to a call that needs it', async () => {
    const a = limitOf('call_count');
    const b = limitOf('text_stats');
    const outcome = await page.evaluate(
      async ({ tools }: { tools: Record<string, number> }) => {
        const lab = (window as unknown as { poolLab: PoolLab }).poolLab;
        const countJob = await lab.job('call_count', tools['call_count']!);
        const statsJob = await lab.job('text_stats', tools['text_stats']!, '{"text":"two words"}');
        // Two workers, and a budget for one call of the larger tool at a time.
        const pool = lab.pool({ size: 2, maxQueue: 4, memoryBudgetBytes: Math.max(countJob.memoryBytes, statsJob.memoryBytes) });
        const settle = () => new Promise((r) => setTimeout(r, 100));
        const within = (run: Promise<PoolResult>) => Promise.race([run, new Promise<PoolResult>((r) => setTimeout(() => r({ ok: false, error: { code: 'never started' } }), 5_000))]);
        const show = lab.show;
        const first = show(await pool.run(countJob, 1_000));
        await settle();
        const holding = { ...pool.stats };
        // The other worker is free, but the budget is held by call_count's instance made ahead.
        const other = show(await within(pool.run(statsJob, 1_000)));
        await settle();
        const afterOther = { ...pool.stats };
        const back = show(await within(pool.run(countJob, 1_000)));
        pool.terminate();
        return { first, holding, other, afterOther, back };
      },
      { tools: { call_count: a.memoryBytes, text_stats: b.memoryBytes } },
    );
    expect(outcome.first).toBe('{"calls":1}');
    // Idle, but its instance made ahead holds call_count's share of the budget.
    expect(outcome.holding).toMatchObject({ idle: 2, preparing: 0, memoryInUse: a.memoryBytes });
    expect(outcome.other).toMatch(/"words":2\b/);
    // call_count's instance was discarded for it; text_stats' own made-ahead instance holds its share now.
    expect(outcome.afterOther).toMatchObject({ idle: 2, memoryInUse: b.memoryBytes });
    expect(outcome.back).toBe('{"calls":1}');
  });

  it("counts execute_code's warm interpreter in the memory budget, and its worker drops it for a call that needs the memory", async () => {
    const { memoryBytes } = limitOf('execute_code');
    const outcome = await page.evaluate(
      async ({ memoryBytes }) => {
        const lab = (window as unknown as { poolLab: PoolLab }).poolLab;
        // Two workers, and a budget of one execute_code call.
        const pool = lab.pool({ size: 2, maxQueue: 4, memoryBudgetBytes: memoryBytes });
        const within = (run: Promise<PoolResult>) => Promise.race([run, new Promise<PoolResult>((r) => setTimeout(() => r({ ok: false, error: { code: 'never started' } }), 5_000))]);
        const first = lab.show(await lab.script(pool, memoryBytes, "'x'.repeat(1 << 20).length"));
        const holding = { ...pool.stats };
        // A call of a tool with the whole budget as its cap: it starts only once the interpreter is dropped.
        const tool = lab.show(await within(pool.run(await lab.job('text_stats', memoryBytes, '{"text":"two words"}'), 2_000)));
        await new Promise((r) => setTimeout(r, 100));
        const afterTool = { ...pool.stats };
        // The budget is text_stats' instance made ahead now; a script drops it in turn, and runs.
        const again = lab.show(await within(lab.script(pool, memoryBytes, '6 * 7')));
        const afterAgain = { ...pool.stats };
        pool.terminate();
        return { first, holding, tool, afterTool, again, afterAgain };
      },
      { memoryBytes },
    );
    expect(JSON.parse(outcome.first)).toMatchObject({ result: MB });
    // Idle, but its worker holds the interpreter: at least its starting 16 MiB, at most the 64 MiB it keeps.
    expect(outcome.holding.idle).toBe(2);
    expect(outcome.holding.memoryInUse).toBeGreaterThanOrEqual(16 * MB);
    expect(outcome.holding.memoryInUse).toBeLessThanOrEqual(Math.min(64 * MB, memoryBytes));
    expect(outcome.tool).toMatch(/"words":2\b/);
    expect(outcome.afterTool).toMatchObject({ idle: 2, memoryInUse: memoryBytes });
    expect(JSON.parse(outcome.again)).toMatchObject({ result: 42 });
    expect(outcome.afterAgain.memoryInUse).toBeGreaterThanOrEqual(16 * MB);
    expect(outcome.afterAgain.memoryInUse).toBeLessThanOrEqual(64 * MB);
  });

  it('records every failed call with its error in the audit chain', async () => {
    const entries = await admin<{ event: string; tool: string; outcome: string; error: { code: string } | null }[]>(page, 'audit.list');
    const failures = entries.filter((e) => e.event === 'call.result' && e.outcome === 'error').map((e) => [e.tool, e.error!.code]);
    expect(failures).toEqual([
      ['loop_forever', 'timeout'],
      ['memory_hog', 'memory-limit'],
      ['trap', 'trap'],
    ]);
    expect(await admin(page, 'audit.verify')).toMatchObject({ ok: true });
  });
});

describe('a tool worker and the network', () => {
  let sink: Server;
  const hits: string[] = [];
  let sinkUrl: string;

  beforeAll(async () => {
    sink = createServer((req, res) => {
      hits.push(req.url ?? '');
      res.writeHead(200, { 'Access-Control-Allow-Origin': '*', 'Content-Type': 'text/javascript' });
      res.end('export default 1;');
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => sink.close(() => r())));

  it('is blocked from every way out, and nothing reaches a loopback server', async () => {
    // The sink works: a request from outside the browser arrives.
    await fetch(`${sinkUrl}/from-node`);
    expect(hits).toEqual(['/from-node']);
    hits.length = 0;

    const worker = page.workers().find((w) => w.url().endsWith('/tool-worker.js'));
    expect(worker, 'a tool worker is running').toBeDefined();
    // A string, so that the test runner's transform leaves the worker's own `import()` alone.
    const attempts = (await worker!.evaluate(`(async (base) => {
      const outcome = {};
      const attempt = async (name, run) => {
        try { await run(); outcome[name] = 'allowed'; } catch { outcome[name] = 'blocked'; }
      };
      await attempt('fetch', () => fetch(base + '/fetch'));
      await attempt('fetch-no-cors', () => fetch(base + '/no-cors', { mode: 'no-cors' }));
      await attempt('import', () => import(base + '/import.js'));
      await attempt('xhr', () => new Promise((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        xhr.open('GET', base + '/xhr');
        xhr.onload = resolve;
        xhr.onerror = reject;
        xhr.send();
      }));
      await attempt('websocket', () => new Promise((resolve, reject) => {
        const ws = new WebSocket(base.replace('http', 'ws') + '/ws');
        ws.onopen = resolve;
        ws.onerror = reject;
      }));
      await attempt('eventsource', () => new Promise((resolve, reject) => {
        const es = new EventSource(base + '/sse');
        es.onopen = resolve;
        es.onerror = () => { es.close(); reject(new Error('blocked')); };
      }));
      // Compiling wasm is forbidden too: only modules compiled by the host can run here.
      await attempt('wasm-compile', () => WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0])));
      return outcome;
    })(${JSON.stringify(sinkUrl)})`)) as Record<string, string>;
    expect(attempts).toEqual({ fetch: 'blocked', 'fetch-no-cors': 'blocked', import: 'blocked', xhr: 'blocked', websocket: 'blocked', eventsource: 'blocked', 'wasm-compile': 'blocked' });
    await new Promise((r) => setTimeout(r, 300));
    expect(hits).toEqual([]);
  });
});
