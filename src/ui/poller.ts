import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { describeError } from './admin';
import { onAuditAppended } from './changes';

/** A view that shows what a poll last loaded, or why it failed. */
export interface PolledView extends ReactiveControllerHost {
  failure: string;
  loaded: boolean;
}

/** A poll never comes sooner than this many times its own last duration after it. */
const SLOWDOWN = 10;
/** Longest wait between polls after failures (doubling from `everyMs`). */
const MAX_BACKOFF_MS = 60_000;
/** A change the service worker announces is loaded no sooner than this after the last load. */
const PUSHED_GAP_MS = 1_000;

/**
 * Loads a view's data when it connects, again when the service worker announces that the audit
 * log grew (every change writes an entry: src/server/change-feed.ts), and every `everyMs` as a
 * fallback. Bounded, so an open admin tab costs the sandbox little whatever the data's size:
 * - an idle sandbox is not asked anything but the fallback;
 * - never two loads at once: the next is scheduled when the last has finished;
 * - announced changes are loaded at most once a second (and `SLOWDOWN` × the last load's time);
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
  /** When the last load ended, and how long it took. */
  private lastEnd = 0;
  private lastTook = 0;
  private unsubscribe: (() => void) | null = null;
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
    this.unsubscribe = onAuditAppended(() => this.nudge());
    this.schedule(0);
  }

  hostDisconnected(): void {
    this.connected = false;
    clearTimeout(this.timer);
    document.removeEventListener('visibilitychange', this.onVisibility);
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  /**
   * Loads now (also after an action that changed the data, or a choice that changes what to
   * load). A load already running may have read before that change, so one more follows it,
   * shared by every refresh asked for meanwhile.
   */
  refresh(): Promise<void> {
    if (!this.inflight) return this.start();
    this.queued ??= this.inflight.then(() => {
      this.queued = null;
      return this.refresh();
    });
    return this.queued;
  }
  private queued: Promise<void> | null = null;

  private start(): Promise<void> {
    this.inflight = this.run().finally(() => (this.inflight = null));
    return this.inflight;
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.due = performance.now() + ms;
    this.timer = setTimeout(() => void this.tick(), ms);
  }
  private due = 0;

  /** Something changed: load soon, unless a load is already due sooner (or one is running, whose end schedules the next). */
  private nudge(): void {
    if (!this.connected || this.failures > 0) return;
    const at = Math.max(performance.now(), this.lastEnd + Math.max(PUSHED_GAP_MS, SLOWDOWN * this.lastTook));
    if (this.inflight) {
      this.pushedWhileLoading = true;
      return;
    }
    if (at < this.due) this.schedule(at - performance.now());
  }
  private pushedWhileLoading = false;

  private async tick(): Promise<void> {
    if (!this.connected || document.hidden) return; // resumed by visibilitychange
    // A timed poll joins a load already running: it asks for nothing newer than that.
    await (this.inflight ?? this.start());
    if (!this.connected) return;
    const backoff = this.failures ? Math.min(MAX_BACKOFF_MS, this.everyMs * 2 ** this.failures) : this.everyMs;
    this.schedule(Math.max(backoff, SLOWDOWN * this.lastTook));
    if (this.pushedWhileLoading) this.nudge();
  }

  private async run(): Promise<void> {
    if (document.hidden) return;
    const started = performance.now();
    this.pushedWhileLoading = false;
    try {
      await this.load();
      this.view.failure = '';
      this.failures = 0;
    } catch (error) {
      this.view.failure = describeError(error);
      this.failures++;
    } finally {
      this.view.loaded = true;
      this.lastEnd = performance.now();
      this.lastTook = this.lastEnd - started;
    }
  }
}
