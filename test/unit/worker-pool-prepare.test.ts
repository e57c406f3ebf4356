// How the pool supervises the instance a tool worker makes ahead after a call (worker-pool.ts):
// which calls may take that worker meanwhile, which notices it heeds, what the budget counts.
// A stand-in Worker speaks Comlink over a MessageChannel and posts its notices as the tool worker
// does (outside Comlink); the real worker and a real slow start-up are in
// test/browser/sandbox-limits.test.ts.
import { expose } from 'comlink';
import { afterEach, describe, expect, it } from 'vitest';
import { PREPARE_MS, WorkerPool } from '../../src/sandbox/host/worker-pool';
import type { PreparedNotice, ScriptJob, ToolJob, ToolWorkerApi, WorkerJob } from '../../src/sandbox/protocol';
import { createToolRunner, TOOL_WORKER_PREPARED } from '../../src/sandbox/worker/tool-runner';

interface Script {
  /** How long each call runs, by tool (module key). */
  runMs: Record<string, number>;
  /** When (after the call of `turn` answered) a worker posts its notice, and with which `ok`; null: never. */
  notice: (key: string, turn: number) => { afterMs: number; ok: boolean } | null;
  /** What a script's worker says it holds after it (execute_code's warm interpreter). */
  heldBytes?: number;
}

/** Plays a tool worker: answers `run` after the script's time and posts the script's notices. */
class ScriptedWorker extends EventTarget {
  static script: Script;
  static started = 0;
  /** Every job each worker received, in order. */
  static jobs: ToolJob[] = [];
  /** Which worker (1, 2, … in start order) ran each job. */
  static ranOn: number[] = [];
  /** Which workers were told to discard what they hold, in order. */
  static discarded: number[] = [];
  private readonly port: MessagePort;

  constructor() {
    super();
    const id = ++ScriptedWorker.started;
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    port1.addEventListener('message', (event) => this.dispatchEvent(new MessageEvent('message', { data: event.data })));
    port1.start();
    let turn = 0;
    const api: ToolWorkerApi = {
      run: async (job: WorkerJob) => {
        const own = ++turn;
        const tool = job as ToolJob;
        ScriptedWorker.jobs.push(tool);
        ScriptedWorker.ranOn.push(id);
        await sleep(ScriptedWorker.script.runMs[tool.moduleKey ?? ''] ?? 0);
        const notice = ScriptedWorker.script.notice(tool.moduleKey ?? '', own);
        if (tool.prepareAhead && notice) setTimeout(() => this.notify({ kind: TOOL_WORKER_PREPARED, turn: own, ok: notice.ok }), notice.afterMs);
        const held = job.kind === 'javascript' && ScriptedWorker.script.heldBytes !== undefined ? { heldBytes: ScriptedWorker.script.heldBytes } : {};
        return { ok: true, output: `${tool.moduleKey} ${own}`, memoryBytes: 0, ...held };
      },
      discard: () => void ScriptedWorker.discarded.push(id),
    };
    expose(api, port2);
  }

  notify(notice: PreparedNotice): void {
    this.dispatchEvent(new MessageEvent('message', { data: notice }));
  }

  postMessage(message: unknown, transfer?: Transferable[]): void {
    this.port.postMessage(message, transfer ?? []);
  }

  terminate(): void {
    this.port.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MB = 1 << 20;
const script = (memoryBytes = 16 * MB): ScriptJob => ({ kind: 'javascript', modules: {}, moduleKey: 'quickjs', memoryBytes, source: '1', inputJson: 'null', timeoutMs: 1_000, outputLimits: { stdoutChars: 1, stderrChars: 1, resultChars: 1 } });
const jobOf = (key: string): ToolJob => ({ glueUrl: `/tools/${key}.js`, modules: {}, moduleKey: key, entry: 'call', args: '{}', memoryBytes: 16 * MB });

const realWorker = (globalThis as { Worker?: unknown }).Worker;
let pool: WorkerPool | undefined;
afterEach(() => {
  pool?.terminate();
  (globalThis as { Worker?: unknown }).Worker = realWorker;
});

function poolOf(script: Script, size = 1, budgetMb = 1024, maxQueue = 8): WorkerPool {
  (globalThis as { Worker?: unknown }).Worker = ScriptedWorker;
  ScriptedWorker.script = script;
  ScriptedWorker.started = 0;
  ScriptedWorker.jobs = [];
  ScriptedWorker.ranOn = [];
  ScriptedWorker.discarded = [];
  pool = new WorkerPool({ workerUrl: new URL('http://sandbox.test/tool-worker.js'), size, maxQueue, memoryBudgetBytes: budgetMb * MB });
  return pool;
}

describe('the instance a worker makes ahead, supervised by the pool', () => {
  it("lets a call of the same tool take the worker at once, and keeps another tool's call off it until the notice", async () => {
    const pool = poolOf({ runMs: { a: 50 }, notice: () => ({ afterMs: 60, ok: true }) });
    expect(await pool.run(jobOf('a'), 1_000)).toMatchObject({ ok: true, output: 'a 1' });
    // Making a's next instance: a's next call takes the worker without waiting for the notice.
    const again = pool.run(jobOf('a'), 1_000);
    await sleep(10);
    expect(pool.stats).toMatchObject({ idle: 0, preparing: 0, queued: 0 });
    expect(await again).toMatchObject({ ok: true, output: 'a 2' });
    // Making it again: b's call waits for the notice (60 ms), then runs on the same worker.
    const other = pool.run(jobOf('b'), 1_000);
    await sleep(10);
    expect(pool.stats).toMatchObject({ preparing: 1, queued: 1 });
    expect(await other).toMatchObject({ ok: true, output: 'b 3' });
    expect(ScriptedWorker.started).toBe(1);
    // Every call of a tool asked for the next instance; none was a describe.
    expect(ScriptedWorker.jobs.map((j) => j.prepareAhead)).toEqual([true, true, true]);
  });

  it('replaces a worker whose instance is not made within PREPARE_MS, and stops making that tool ahead', async () => {
    const pool = poolOf({ runMs: {}, notice: (key) => (key === 'slow' ? null : { afterMs: 5, ok: true }) });
    await pool.run(jobOf('slow'), 1_000);
    const t0 = performance.now();
    expect(await pool.run(jobOf('b'), 1_000)).toMatchObject({ ok: true, output: 'b 1' });
    expect(performance.now() - t0).toBeGreaterThanOrEqual(PREPARE_MS - 5);
    // b ran on a fresh worker: the one making slow's instance was replaced.
    expect(ScriptedWorker.started).toBe(2);
    await sleep(PREPARE_MS + 50);
    // slow's calls no longer ask for an instance ahead; b's still do.
    expect(ScriptedWorker.started).toBe(2);
    await pool.run(jobOf('slow'), 1_000);
    expect(ScriptedWorker.jobs.map((j) => [j.moduleKey, j.prepareAhead ?? false])).toEqual([
      ['slow', true],
      ['b', true],
      ['slow', false],
    ]);
    expect(pool.stats).toMatchObject({ idle: 1, preparing: 0 });
  });

  it('heeds only the notice of the latest turn: one from before a call that took the worker frees nothing', async () => {
    // a's next call takes the worker before the first notice; the first notice (50 ms) then
    // arrives while the worker makes the instance after that second call, whose notice never
    // comes: b must wait for PREPARE_MS and a fresh worker, not run on the strength of the old notice.
    const pool = poolOf({ runMs: {}, notice: (_key, turn) => (turn === 1 ? { afterMs: 50, ok: true } : null) });
    await pool.run(jobOf('a'), 1_000);
    expect(await pool.run(jobOf('a'), 1_000)).toMatchObject({ output: 'a 2' });
    const other = pool.run(jobOf('b'), 1_000);
    await sleep(150);
    expect(pool.stats).toMatchObject({ preparing: 1, queued: 1 });
    expect(await other).toMatchObject({ ok: true, output: 'b 1' });
    expect(ScriptedWorker.started).toBe(2);
  });

  it('never gives a worker running a call to another: a notice arriving during the call is ignored', async () => {
    const pool = poolOf({ runMs: { a: 150 }, notice: (_key, turn) => (turn === 1 ? { afterMs: 60, ok: true } : { afterMs: 5, ok: true }) });
    await pool.run(jobOf('a'), 1_000);
    const second = pool.run(jobOf('a'), 1_000);
    await sleep(5);
    const other = pool.run(jobOf('b'), 1_000);
    await sleep(100);
    expect(pool.stats).toMatchObject({ idle: 0, queued: 1 });
    expect(await second).toMatchObject({ output: 'a 2' });
    expect(await other).toMatchObject({ output: 'b 3' });
  });

  it('counts the instance held in the memory budget, and gives it back when it could not be made', async () => {
    const held = poolOf({ runMs: {}, notice: () => ({ afterMs: 5, ok: true }) });
    await held.run(jobOf('a'), 1_000);
    await sleep(30);
    expect(held.stats).toMatchObject({ idle: 1, preparing: 0, memoryInUse: 16 * MB });
    held.terminate();
    const failed = poolOf({ runMs: {}, notice: () => ({ afterMs: 5, ok: false }) });
    await failed.run(jobOf('a'), 1_000);
    expect(failed.stats.memoryInUse).toBe(16 * MB);
    await sleep(30);
    expect(failed.stats).toMatchObject({ idle: 1, preparing: 0, memoryInUse: 0 });
  });

  it('discards instances held by idle workers when a call needs their memory', async () => {
    // Two workers, a budget of one call: a's instance held in one leaves no room for b in the other.
    const pool = poolOf({ runMs: {}, notice: () => ({ afterMs: 5, ok: true }) }, 2, 16);
    await pool.run(jobOf('a'), 1_000);
    await sleep(30);
    expect(pool.stats.memoryInUse).toBe(16 * MB);
    expect(await Promise.race([pool.run(jobOf('b'), 1_000), sleep(1_000).then(() => 'never started')])).toMatchObject({ ok: true });
    await sleep(30);
    // b's own instance made ahead holds the budget now; a's was discarded.
    expect(pool.stats).toMatchObject({ idle: 2, memoryInUse: 16 * MB });
  });

  it("sends a job to the idle worker whose last job had its modules (execute_code's warm interpreter)", async () => {
    const pool = poolOf({ runMs: {}, notice: () => null }, 2);
    for (let i = 0; i < 3; i++) await pool.run(script(), 1_000);
    expect(ScriptedWorker.ranOn).toEqual([1, 1, 1]);
    // Nothing is made ahead for a script, and a worker that said it holds nothing holds nothing in the budget.
    expect(ScriptedWorker.jobs.every((j) => j.prepareAhead === undefined)).toBe(true);
    expect(pool.stats).toMatchObject({ idle: 2, preparing: 0, memoryInUse: 0 });
  });

  it("counts execute_code's warm interpreter in the budget, and has its worker drop it for a call that needs the memory", async () => {
    // Two workers, a budget of 32 MB: a script (cap 32 MB) leaves 20 MB held in worker 1.
    const pool = poolOf({ runMs: {}, notice: () => ({ afterMs: 5, ok: true }), heldBytes: 20 * MB }, 2, 32);
    const answer = await pool.run(script(32 * MB), 1_000);
    expect(answer).toMatchObject({ ok: true });
    // What the worker holds is the pool's business: the answer does not carry it.
    expect(answer).not.toHaveProperty('heldBytes');
    expect(pool.stats).toMatchObject({ idle: 2, memoryInUse: 20 * MB });
    // The next script takes the warm worker and its share: no discard, the same 20 MB after.
    await pool.run(script(32 * MB), 1_000);
    expect(ScriptedWorker.ranOn).toEqual([1, 1]);
    expect(pool.stats.memoryInUse).toBe(20 * MB);
    // A tool's call of 16 MB fits only once the interpreter is dropped: worker 1 is told to.
    expect(await Promise.race([pool.run(jobOf('a'), 1_000), sleep(1_000).then(() => 'never started')])).toMatchObject({ ok: true });
    expect(ScriptedWorker.discarded).toEqual([1]);
    await sleep(30);
    // a's instance made ahead holds its cap now; the interpreter nothing.
    expect(pool.stats).toMatchObject({ idle: 2, memoryInUse: 16 * MB });
  });

  it("never counts more for a warm interpreter than the script's cap, nor what the worker cannot say", async () => {
    const over = poolOf({ runMs: {}, notice: () => null, heldBytes: 1024 * MB }, 1);
    await over.run(script(16 * MB), 1_000);
    expect(over.stats.memoryInUse).toBe(16 * MB);
    over.terminate();
    const garbled = poolOf({ runMs: {}, notice: () => null, heldBytes: Number.NaN }, 1);
    await garbled.run(script(16 * MB), 1_000);
    expect(garbled.stats.memoryInUse).toBe(0);
  });

  it('gives back what a script held where its worker is replaced at the deadline', async () => {
    const pool = poolOf({ runMs: { quickjs: 300 }, notice: () => null, heldBytes: 20 * MB }, 1);
    expect(await pool.run(script(32 * MB), 50)).toMatchObject({ ok: false, error: { code: 'timeout' } });
    expect(pool.stats).toMatchObject({ idle: 1, memoryInUse: 0 });
  });

  it('refuses a call as busy where no worker is free, counting a worker that makes an instance ahead as running no call', async () => {
    // No waiting place: a call no worker can take at once is refused.
    const pool = poolOf({ runMs: {}, notice: () => ({ afterMs: 200, ok: true }) }, 1, 1024, 0);
    await pool.run(jobOf('a'), 1_000);
    expect(await pool.run(jobOf('b'), 1_000)).toMatchObject({ ok: false, error: { code: 'busy', details: { running: 0, queued: 0 } } });
  });

  it("the tool worker posts its notice after the call's answer, also where the tool's code could not be loaded", async () => {
    // The pool waits for a notice only once it has the answer: one posted before it is lost, and
    // the worker would be replaced at PREPARE_MS. (Here the glue cannot load: no worker scope.)
    const events: string[] = [];
    const runner = createToolRunner((notice) => events.push(`notice ${notice.turn} ${notice.ok}`));
    const outcome = await runner.run({ ...jobOf('a'), prepareAhead: true });
    events.push(`answered ${outcome.ok ? 'ok' : outcome.error.code}`);
    await sleep(20);
    expect(events).toEqual(['answered load-failed', 'notice 1 false']);
  });
});
