import { CHANGES_CHANNEL, CHANNEL, WIRE_VERSION, type ChangeNotice } from '../shared/wire';

type Listener = (notice: ChangeNotice) => void;
const listeners = new Set<Listener>();
let channel: BroadcastChannel | null = null;

/** Calls `listener` whenever the service worker says the audit log grew (at most four times a second, whatever the load). */
export function onAuditAppended(listener: (notice: Extract<ChangeNotice, { kind: 'audit-appended' }>) => void): () => void {
  return onNotice((n) => n.kind === 'audit-appended' && listener(n));
}

/** Calls `listener` when an audit entry could not be written because the storage quota is reached. */
export function onStorageFull(listener: (notice: Extract<ChangeNotice, { kind: 'storage-full' }>) => void): () => void {
  return onNotice((n) => n.kind === 'storage-full' && listener(n));
}

/**
 * What the service worker announces (src/server/change-feed.ts). One channel per page, opened
 * with the first listener and closed with the last. Returns the unsubscribe.
 */
function onNotice(listener: Listener): () => void {
  listeners.add(listener);
  if (!channel && typeof BroadcastChannel !== 'undefined') {
    channel = new BroadcastChannel(CHANGES_CHANNEL);
    channel.onmessage = (event: MessageEvent) => {
      const data = event.data as Partial<ChangeNotice> | null;
      if (data?.channel !== CHANNEL || data.v !== WIRE_VERSION || (data.kind !== 'audit-appended' && data.kind !== 'storage-full')) return;
      for (const l of listeners) l(data as ChangeNotice);
    };
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) {
      channel?.close();
      channel = null;
    }
  };
}

/** How often a view loads again when nothing is announced (a missed notice, a clock-driven figure). */
export const FALLBACK_MS = 30_000;

/**
 * Runs `run` soon after each announced change, and every `fallbackMs` besides: never two at
 * once, no sooner than `gapMs` (and ten times its own last duration) after the last one ended,
 * not at all while the page is hidden (once when it is shown again). Returns the stop.
 */
export function followChanges(run: () => Promise<void>, fallbackMs = FALLBACK_MS, gapMs = 1_000): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = false;
  let again = false;
  let lastEnd = -Infinity;
  let took = 0;
  const go = async () => {
    timer = undefined;
    if (document.hidden) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    const started = performance.now();
    try {
      await run();
    } catch {
      // `run` shows its own failures
    } finally {
      running = false;
      lastEnd = performance.now();
      took = lastEnd - started;
    }
    if (again) {
      again = false;
      soon();
    }
  };
  const soon = () => {
    timer ??= setTimeout(() => void go(), Math.max(0, lastEnd + Math.max(gapMs, 10 * took) - performance.now()));
  };
  const onVisibility = () => !document.hidden && soon();
  const unsubscribe = onAuditAppended(soon);
  const fallback = setInterval(soon, fallbackMs);
  document.addEventListener('visibilitychange', onVisibility);
  return () => {
    unsubscribe();
    clearInterval(fallback);
    clearTimeout(timer);
    document.removeEventListener('visibilitychange', onVisibility);
  };
}
