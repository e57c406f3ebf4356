// A tool worker that cannot deserialise its job (Firefox: a compiled WebAssembly.Module in a
// worker whose CSP forbids wasm compilation, docs/browsers.md) says so, and the pool fails the
// call at once with that cause instead of waiting for the deadline. The browser side is
// test/browser/firefox-smoke.test.ts; here a stand-in Worker plays the tool worker.
import { afterEach, describe, expect, it } from 'vitest';
import { WorkerPool } from '../../src/sandbox/host/worker-pool';
import { UNREADABLE_JOB } from '../../src/sandbox/host/worker-slot';
import { TOOL_WORKER_MESSAGEERROR } from '../../src/sandbox/worker/tool-runner';

/** Answers every job as the tool worker does when the job fails to deserialise there. */
class UnreadableJobWorker extends EventTarget {
  static started = 0;
  terminated = false;
  constructor() {
    super();
    UnreadableJobWorker.started++;
  }
  postMessage(): void {
    setTimeout(() => this.dispatchEvent(new MessageEvent('message', { data: { kind: TOOL_WORKER_MESSAGEERROR } })), 1);
  }
  terminate(): void {
    this.terminated = true;
  }
}

const realWorker = (globalThis as { Worker?: unknown }).Worker;
afterEach(() => {
  (globalThis as { Worker?: unknown }).Worker = realWorker;
});

describe('a job the tool worker cannot read', () => {
  it('fails at once as load-failed naming the cause, and the worker is replaced', async () => {
    (globalThis as { Worker?: unknown }).Worker = UnreadableJobWorker;
    UnreadableJobWorker.started = 0;
    const pool = new WorkerPool({ workerUrl: new URL('http://sandbox.test/tool-worker.js'), size: 1, maxQueue: 1, memoryBudgetBytes: 1 << 24 });
    const job = { glueUrl: '/tools/x.js', modules: {}, entry: 'call' as const, args: '{}', memoryBytes: 1 << 20 };
    const outcome = await pool.run(job, 5_000);
    expect(outcome).toMatchObject({ ok: false, error: { code: 'load-failed', message: UNREADABLE_JOB } });
    expect(outcome.durationMs).toBeLessThan(1_000);
    expect(UNREADABLE_JOB).toContain('WebAssembly.Module');
    // The slot got a fresh worker and the pool is whole again.
    expect(UnreadableJobWorker.started).toBe(2);
    expect(pool.stats).toMatchObject({ size: 1, idle: 1, queued: 0, memoryInUse: 0 });
    // The replacement reports its own failure: the next call fails at once too, on a third worker.
    const second = await pool.run(job, 5_000);
    expect(second).toMatchObject({ ok: false, error: { code: 'load-failed' } });
    expect(second.durationMs).toBeLessThan(1_000);
    expect(UnreadableJobWorker.started).toBe(3);
    pool.terminate();
  });
});
