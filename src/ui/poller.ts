import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { describeError } from './admin';

/** A view that shows what a poll last loaded, or why it failed. */
export interface PolledView extends ReactiveControllerHost {
  failure: string;
  loaded: boolean;
}

/**
 * Loads a view's data when it connects and then on an interval while it stays connected,
 * skipping ticks while the page is hidden. Records the outcome on the view (`failure`,
 * `loaded`), so each view only says what to load.
 */
export class Poller implements ReactiveController {
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly view: PolledView,
    private readonly load: () => Promise<void>,
    private readonly everyMs: number,
  ) {
    view.addController(this);
  }

  hostConnected(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.everyMs);
  }

  hostDisconnected(): void {
    clearInterval(this.timer);
  }

  /** Loads now (also after an action that changed the data). */
  async refresh(): Promise<void> {
    if (document.hidden) return;
    try {
      await this.load();
      this.view.failure = '';
    } catch (error) {
      this.view.failure = describeError(error);
    } finally {
      this.view.loaded = true;
    }
  }
}
