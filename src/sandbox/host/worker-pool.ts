import { transfer } from 'comlink';
import type { SandboxErrorInfo } from '../../shared/errors';
import type { ExecuteResult } from '../../shared/wire';
import type { WorkerJob, WorkerOutcome } from '../protocol';
import { formatBytes } from '../worker/tool-runner';
import { WorkerSlot } from './worker-slot';

export interface PoolOptions {
  workerUrl: URL;
  /** Concurrent executions (and live workers). */
  size: number;
  /** Calls allowed to wait for a worker; beyond this a call is refused as `busy`. */
  maxQueue: number;
  /** Sum of the memory caps of calls running at once. */
  memoryBudgetBytes: number;
}

interface Waiter {
  job: WorkerJob;
  cpuMs: number;
  graceMs: number;
  resolve: (outcome: ExecuteResult) => void;
  signal?: AbortSignal;
}

/**
 * A fixed set of warm tool workers. Each call gets a whole worker, a CPU-time deadline and a
 * share of the memory budget; at the deadline the call is answered `timeout` and the worker
 * replaced (a terminated worker can spin for ~2 s in Blink, so its slot gets a new one).
 */
export class WorkerPool {
  private readonly idle: WorkerSlot[] = [];
  private readonly slots: WorkerSlot[] = [];
  private readonly queue: Waiter[] = [];
  private memoryInUse = 0;

  constructor(private readonly options: PoolOptions) {
    for (let i = 0; i < options.size; i++) {
      const slot = new WorkerSlot(options.workerUrl);
      this.slots.push(slot);
      this.idle.push(slot);
    }
  }

  get stats() {
    return { size: this.slots.length, idle: this.idle.length, queued: this.queue.length, memoryInUse: this.memoryInUse };
  }

  /**
   * Runs a job on a worker of its own. At `cpuMs` (+ `graceMs`, for jobs that stop themselves at
   * their deadline and only need this as a backstop) the call is answered `timeout` and the
   * worker replaced.
   */
  run(job: WorkerJob, cpuMs: number, graceMs = 0, signal?: AbortSignal): Promise<ExecuteResult> {
    if (signal?.aborted) return Promise.resolve(refuse(CANCELLED));
    if (job.memoryBytes > this.options.memoryBudgetBytes) {
      return Promise.resolve(refuse({ code: 'memory-limit', message: `the call's memory limit of ${formatBytes(job.memoryBytes)} exceeds the sandbox budget of ${formatBytes(this.options.memoryBudgetBytes)}`, details: { limitBytes: this.options.memoryBudgetBytes, requestedBytes: job.memoryBytes } }));
    }
    return new Promise((resolve) => {
      const startsNow = this.queue.length === 0 && this.idle.length > 0 && this.memoryInUse + job.memoryBytes <= this.options.memoryBudgetBytes;
      if (!startsNow && this.queue.length >= this.options.maxQueue) {
        resolve(refuse({ code: 'busy', message: `the sandbox is busy (${this.options.size} running, ${this.queue.length} waiting); retry shortly`, details: { running: this.options.size - this.idle.length, queued: this.queue.length } }));
        return;
      }
      const waiter: Waiter = { job, cpuMs, graceMs, resolve, ...(signal ? { signal } : {}) };
      // Cancelled while still queued: it leaves the queue and never starts.
      signal?.addEventListener(
        'abort',
        () => {
          const i = this.queue.indexOf(waiter);
          if (i === -1) return;
          this.queue.splice(i, 1);
          resolve(refuse(CANCELLED));
        },
        { once: true },
      );
      this.queue.push(waiter);
      this.pump();
    });
  }

  /** Starts queued calls in order while workers and memory allow. */
  private pump(): void {
    while (this.queue.length && this.idle.length) {
      const next = this.queue[0]!;
      if (this.memoryInUse + next.job.memoryBytes > this.options.memoryBudgetBytes) break;
      this.queue.shift();
      void this.execute(this.idle.pop()!, next);
    }
  }

  private async execute(slot: WorkerSlot, { job, cpuMs, graceMs, resolve, signal }: Waiter): Promise<void> {
    this.memoryInUse += job.memoryBytes;
    const started = performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    const deadline = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), cpuMs + graceMs)));
    const cancelled = new Promise<'cancelled'>((r) => {
      onAbort = () => r('cancelled');
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    let outcome: WorkerOutcome;
    try {
      // The capability port moves to the worker; nothing else of the host goes with it.
      const sent = job.capabilities ? transfer(job, [job.capabilities]) : job;
      const winner = await Promise.race([slot.api.run(sent), deadline, cancelled, slot.crashed]);
      if (winner === 'cancelled') {
        // The only way to stop a running wasm call: end its worker (replaced at once).
        slot.replace();
        outcome = { ok: false, error: CANCELLED, memoryBytes: 0 };
      } else if (winner === 'timeout') {
        slot.replace();
        outcome = { ok: false, error: { code: 'timeout', message: `the call ran past its CPU-time limit of ${cpuMs} ms and was stopped`, details: { limitMs: cpuMs } }, memoryBytes: 0 };
      } else {
        outcome = winner;
      }
    } catch (error) {
      slot.replace();
      outcome = { ok: false, error: { code: 'load-failed', message: (error as Error).message }, memoryBytes: 0 };
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
    this.memoryInUse -= job.memoryBytes;
    this.idle.push(slot);
    resolve({ ...outcome, durationMs: performance.now() - started });
    this.pump();
  }

  terminate(): void {
    for (const slot of this.slots) slot.terminate();
  }
}

const CANCELLED: SandboxErrorInfo = { code: 'cancelled', message: 'the call was cancelled; its worker was stopped' };

function refuse(error: SandboxErrorInfo): ExecuteResult {
  return { ok: false, error, memoryBytes: 0, durationMs: 0 };
}
