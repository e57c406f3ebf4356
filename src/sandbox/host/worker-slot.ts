import { wrap, type Remote } from 'comlink';
import type { ToolWorkerApi } from '../protocol';

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

  constructor(private readonly url: URL) {
    this.spawn();
  }

  private spawn(): void {
    this.worker = new Worker(this.url, { type: 'module', name: `tool-worker-${this.id}` });
    this.api = wrap<ToolWorkerApi>(this.worker);
    this.crashed = new Promise<never>((_, reject) => (this.crash = reject));
    this.crashed.catch(() => undefined);
    this.worker.addEventListener('error', (event) => this.crash(new Error(`tool worker failed: ${event.message || 'script error'}`)));
  }

  replace(): void {
    this.worker.terminate();
    this.spawn();
  }

  terminate(): void {
    this.worker.terminate();
  }
}
