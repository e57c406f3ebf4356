import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { describeError } from './admin';

/** A view that shows what a poll last loaded, or why it failed. */
export interface PolledView extends ReactiveControllerHost {
  failure: string;
  loaded: boolean;
}

/** A poll never comes sooner than this many times its own last duration after it. */
const SLOWDOWN = 10;
/** Longest wait between polls after failures (doubling from `everyMs`). */
const MAX_BACKOFF_MS = 60_000;

/**
 * Loads a view's data when it connects and then again while it stays connected. Bounded, so an
 * open admin tab costs the sandbox little whatever the data's size:
 * - never two loads at once: the next is scheduled when the last has finished;
 * - paused while the page is hidden, resumed (with a load) when it is shown again;
 * - slower when loads are slow (the wait is at least `SLOWDOWN` × the last load's time) and
 *   backing off (doubling, up to a minute) while they fail.
 * Records the outcome on the view (`failure`, `loaded`), so each view only says what to load.
 */
export class Poller implements ReactiveController {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inflight: Promise<void> | null = null;
  private connected = false;
  private failures = 0;
  private readonly onVisibility = () => {
    if (!document.hidden && this.connected) this.schedule(0);
  };

  constructor(
    private readonly view: PolledView,
    private readonly load: () => Promise<void>,
    private readonly everyMs: number,
  ) {
    view.addController(this);
  }

  hostConnected(): void {
    this.connected = true;
    document.addEventListener('visibilitychange', this.onVisibility);
    this.schedule(0);
  }

  hostDisconnected(): void {
    this.connected = false;
    clearTimeout(this.timer);
    document.removeEventListener('visibilitychange', this.onVisibility);
  }

  /** Loads now (also after an action that changed the data); joins a load already running. */
  refresh(): Promise<void> {
    this.inflight ??= this.run().finally(() => (this.inflight = null));
    return this.inflight;
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    if (!this.connected || document.hidden) return; // resumed by visibilitychange
    const started = performance.now();
    await this.refresh();
    if (!this.connected) return;
    const took = performance.now() - started;
    const backoff = this.failures ? Math.min(MAX_BACKOFF_MS, this.everyMs * 2 ** this.failures) : this.everyMs;
    this.schedule(Math.max(backoff, SLOWDOWN * took));
  }

  private async run(): Promise<void> {
    if (document.hidden) return;
    try {
      await this.load();
      this.view.failure = '';
      this.failures = 0;
    } catch (error) {
      this.view.failure = describeError(error);
      this.failures++;
    } finally {
      this.view.loaded = true;
    }
  }
}
