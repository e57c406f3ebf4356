import { wrap, type Remote } from 'comlink';
import type { PreparedNotice, ToolWorkerApi } from '../protocol';
import { TOOL_WORKER_MESSAGEERROR, TOOL_WORKER_PREPARED } from '../worker/tool-runner';

/**
 * One tool worker, replaceable. A worker that ran past its deadline is terminated and a fresh
 * one started at once, so the next call does not pay the start-up.
 */
export class WorkerSlot {
  private worker!: Worker;
  api!: Remote<ToolWorkerApi>;
  /** Rejects when the worker dies on its own (script error), so a call does not wait forever. */
  crashed!: Promise<never>;
  private crash!: (error: Error) => void;
  private static counter = 0;
  readonly id = ++WorkerSlot.counter;
  /** Jobs sent to the current worker (its notices' `turn` counts the same way). */
  sent = 0;
  /** `moduleKey` of the current worker's last job: what it has warm (a tool's glue, QuickJS for that cap). */
  lastKey: string | undefined;
  /** The instance the worker made ahead and still holds: its modules' key and their memory cap (kept by the pool). */
  held: { key: string; bytes: number } | null = null;

  constructor(
    private readonly url: URL,
    /** Told of each of the current worker's `PreparedNotice`s. */
    private readonly onPrepared: (slot: WorkerSlot, notice: PreparedNotice) => void = () => undefined,
  ) {
    this.spawn();
  }

  private spawn(): void {
    this.sent = 0;
    this.lastKey = undefined;
    const worker = (this.worker = new Worker(this.url, { type: 'module', name: `tool-worker-${this.id}` }));
    this.api = wrap<ToolWorkerApi>(this.worker);
    this.crashed = new Promise<never>((_, reject) => (this.crash = reject));
    this.crashed.catch(() => undefined);
    this.worker.addEventListener('error', (event) => this.crash(new Error(`tool worker failed: ${event.message || 'script error'}`)));
    // The worker could not read a job (see TOOL_WORKER_MESSAGEERROR): the call fails now, with the cause.
    this.worker.addEventListener('message', (event: MessageEvent<{ kind?: unknown } | null>) => {
      if (event.data?.kind === TOOL_WORKER_MESSAGEERROR) this.crash(new Error(UNREADABLE_JOB));
      if (event.data?.kind === TOOL_WORKER_PREPARED && worker === this.worker) this.onPrepared(this, event.data as PreparedNotice);
    });
  }

  replace(): void {
    this.worker.terminate();
    this.spawn();
  }

  terminate(): void {
    this.worker.terminate();
  }
}

/** Why a call fails where the tool worker cannot receive compiled modules (Firefox: docs/browsers.md). */
export const UNREADABLE_JOB =
  'the tool worker could not receive this call: this browser does not pass a compiled WebAssembly.Module into a worker whose CSP forbids wasm compilation (Firefox refuses it; tools run in Chromium-based browsers, see docs/browsers.md)';
