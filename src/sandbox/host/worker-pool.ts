import { transfer } from 'comlink';
import type { SandboxErrorInfo } from '../../shared/errors';
import type { ExecuteResult } from '../../shared/wire';
import type { PreparedNotice, WorkerJob, WorkerOutcome } from '../protocol';
import { formatBytes } from '../worker/tool-runner';
import { WorkerSlot } from './worker-slot';

export interface PoolOptions {
  workerUrl: URL;
  /** Concurrent executions (and live workers). */
  size: number;
  /** Calls allowed to wait for a worker; beyond this a call is refused as `busy`. */
  maxQueue: number;
  /** Sum of the memory caps of the calls running and of what idle workers hold: instances made ahead, execute_code's warm interpreter. */
  memoryBudgetBytes: number;
}

/**
 * Longest a worker may take to make an instance ahead (the tool's start-up: under a millisecond
 * for the bundled tools) before the pool stops waiting for it: the worker is replaced and that
 * tool's instances are not made ahead again. Until it is made the worker takes no other tool's
 * call, so this is also the longest another tool's call waits for it.
 */
export const PREPARE_MS = 250;

/** A worker making an instance ahead after its call (`ToolJob.prepareAhead`). */
interface Preparing {
  key: string;
  /** The job (`WorkerSlot.sent`) after which it is made. */
  turn: number;
  timer: ReturnType<typeof setTimeout>;
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
 *
 * After a tool's call its worker makes the next instance of that tool ahead. That runs the
 * tool's start-up outside any call, so it is supervised like one: the instance keeps the call's
 * share of the memory budget while it is held (given back, and the instance discarded, when a
 * call needs the memory), and the worker takes no other tool's call until the instance is made,
 * within PREPARE_MS or the worker is replaced. A call of the same tool may take the worker at
 * once: that start-up is its own tool's, under its own deadline, as if made for it.
 *
 * execute_code's interpreter stays warm in its worker after a script (javascript-runner.ts): the
 * pool counts the memory it holds (`heldBytes`, at most 64 MiB) in the budget the same way, and
 * the worker drops it for a job of anything else or on `discard`.
 */
export class WorkerPool {
  private readonly idle: WorkerSlot[] = [];
  private readonly slots: WorkerSlot[] = [];
  private readonly preparing = new Map<WorkerSlot, Preparing>();
  /** Tools (module keys) whose instance was not made within PREPARE_MS: not made ahead again. */
  private readonly slowToPrepare = new Set<string>();
  private readonly queue: Waiter[] = [];
  private memoryInUse = 0;

  constructor(private readonly options: PoolOptions) {
    for (let i = 0; i < options.size; i++) {
      const slot = new WorkerSlot(options.workerUrl, (slot, notice) => this.prepared(slot, notice));
      this.slots.push(slot);
      this.idle.push(slot);
    }
  }

  /** `idle` counts the workers running no call (making an instance ahead included; `preparing` says how many are). */
  get stats() {
    return { size: this.slots.length, idle: this.idle.length + this.preparing.size, preparing: this.preparing.size, queued: this.queue.length, memoryInUse: this.memoryInUse };
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
      const startsNow = this.queue.length === 0 && this.pick(job) !== null && this.memoryInUse - this.heldIdle() + job.memoryBytes <= this.options.memoryBudgetBytes;
      if (!startsNow && this.queue.length >= this.options.maxQueue) {
        resolve(refuse({ code: 'busy', message: `the sandbox is busy (${this.options.size} running, ${this.queue.length} waiting); retry shortly`, details: { running: this.options.size - this.stats.idle, queued: this.queue.length } }));
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
    while (this.queue.length) {
      const next = this.queue[0]!;
      const slot = this.pick(next.job);
      if (!slot) break;
      // Instances made ahead give their memory back before a call waits for it.
      for (const other of this.idle) {
        if (this.fits(slot, next.job)) break;
        if (other !== slot && other.held) this.discard(other);
      }
      if (!this.fits(slot, next.job)) break;
      this.queue.shift();
      this.take(slot);
      void this.execute(slot, next);
    }
  }

  /**
   * The worker for a job: one holding an instance of its modules (made, or being made), else an
   * idle one whose last job had the same modules (its glue or interpreter is warm), else an idle
   * one holding nothing, else any idle one (which drops what it holds).
   */
  private pick(job: WorkerJob): WorkerSlot | null {
    const key = job.moduleKey;
    if (key !== undefined) {
      const ready = this.idle.find((slot) => slot.held?.key === key);
      if (ready) return ready;
      for (const [slot, preparing] of this.preparing) if (preparing.key === key) return slot;
      const warm = this.idle.findLast((slot) => slot.lastKey === key && !slot.held);
      if (warm) return warm;
    }
    return this.idle.find((slot) => !slot.held) ?? this.idle.at(-1) ?? null;
  }

  /** Whether the job fits the budget on `slot`, whose held instance it takes over or drops. */
  private fits(slot: WorkerSlot, job: WorkerJob): boolean {
    return this.memoryInUse - (slot.held?.bytes ?? 0) + job.memoryBytes <= this.options.memoryBudgetBytes;
  }

  /** Memory held by idle workers (what `discard` can give back). */
  private heldIdle(): number {
    return this.idle.reduce((sum, slot) => sum + (slot.held?.bytes ?? 0), 0);
  }

  private take(slot: WorkerSlot): void {
    const preparing = this.preparing.get(slot);
    if (preparing) {
      clearTimeout(preparing.timer);
      this.preparing.delete(slot);
    } else {
      this.idle.splice(this.idle.indexOf(slot), 1);
    }
  }

  /** An idle worker drops what it holds; its share of the budget is free at once. */
  private discard(slot: WorkerSlot): void {
    this.release(slot);
    void slot.api.discard();
  }

  private release(slot: WorkerSlot): void {
    this.memoryInUse -= slot.held?.bytes ?? 0;
    slot.held = null;
  }

  /** A worker's instance made ahead is ready (or could not be made): it takes calls again. */
  private prepared(slot: WorkerSlot, notice: PreparedNotice): void {
    const preparing = this.preparing.get(slot);
    // Not waited for: a call of the same tool took the worker meanwhile.
    if (!preparing || preparing.turn !== notice.turn) return;
    clearTimeout(preparing.timer);
    this.preparing.delete(slot);
    if (!notice.ok) this.release(slot);
    this.idle.push(slot);
    this.pump();
  }

  /** A start-up past PREPARE_MS: the worker is replaced and the tool's instances are made for their calls from now on. */
  private tooSlow(slot: WorkerSlot, turn: number): void {
    const preparing = this.preparing.get(slot);
    if (!preparing || preparing.turn !== turn) return;
    this.preparing.delete(slot);
    this.slowToPrepare.add(preparing.key);
    this.release(slot);
    slot.replace();
    this.idle.push(slot);
    this.pump();
  }

  private async execute(slot: WorkerSlot, waiter: Waiter): Promise<void> {
    const { cpuMs, graceMs, resolve, signal } = waiter;
    // The call takes over the instance its worker made ahead (same modules, same cap) or the
    // worker drops it: either way that share of the budget becomes the call's.
    this.memoryInUse += waiter.job.memoryBytes - (slot.held?.bytes ?? 0);
    slot.held = null;
    // Only a tool's calls make the next instance ahead (an import's `describe` is a one-off).
    const asked = waiter.job;
    const ahead = asked.kind !== 'javascript' && asked.entry === 'call' && asked.moduleKey !== undefined && !this.slowToPrepare.has(asked.moduleKey) ? asked.moduleKey : undefined;
    const job: WorkerJob = ahead !== undefined && asked.kind !== 'javascript' ? { ...asked, prepareAhead: true } : asked;
    const turn = ++slot.sent;
    slot.lastKey = job.moduleKey;
    let replaced = false;
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
        replaced = true;
        slot.replace();
        outcome = { ok: false, error: CANCELLED, memoryBytes: 0 };
      } else if (winner === 'timeout') {
        replaced = true;
        slot.replace();
        outcome = { ok: false, error: { code: 'timeout', message: `the call ran past its CPU-time limit of ${cpuMs} ms and was stopped`, details: { limitMs: cpuMs } }, memoryBytes: 0 };
      } else {
        outcome = winner;
      }
    } catch (error) {
      replaced = true;
      slot.replace();
      outcome = { ok: false, error: { code: 'load-failed', message: (error as Error).message }, memoryBytes: 0 };
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
    if (ahead !== undefined && !replaced) {
      // The instance being made ahead keeps the call's share of the budget while it is held.
      slot.held = { key: ahead, bytes: job.memoryBytes };
      this.preparing.set(slot, { key: ahead, turn, timer: setTimeout(() => this.tooSlow(slot, turn), PREPARE_MS) });
    } else {
      // A script's worker keeps its interpreter warm, within the cap the script ran under.
      let kept = 0;
      if (!replaced && job.kind === 'javascript') {
        kept = Math.min(Math.max(Number(outcome.heldBytes) || 0, 0), job.memoryBytes);
        if (kept > 0) slot.held = { key: job.moduleKey, bytes: kept };
      }
      this.memoryInUse -= job.memoryBytes - kept;
      this.idle.push(slot);
    }
    const { heldBytes: _held, ...answer } = outcome;
    resolve({ ...answer, durationMs: performance.now() - started });
    this.pump();
  }

  terminate(): void {
    for (const { timer } of this.preparing.values()) clearTimeout(timer);
    this.preparing.clear();
    for (const slot of this.slots) slot.terminate();
  }
}

const CANCELLED: SandboxErrorInfo = { code: 'cancelled', message: 'the call was cancelled; its worker was stopped' };

function refuse(error: SandboxErrorInfo): ExecuteResult {
  return { ok: false, error, memoryBytes: 0, durationMs: 0 };
}
