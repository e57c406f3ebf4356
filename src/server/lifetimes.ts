/**
 * Which service-worker lifetimes are still running, told by Web Locks: each lifetime holds a
 * lock named after its incarnation for as long as it lives, and the browser releases it when the
 * lifetime ends (stopped, crashed or made redundant). Recovery (recovery.ts) closes only the
 * calls of lifetimes whose lock is free: during an update the new service worker activates
 * (skipWaiting) while the old one may still be running calls, and those calls are not cut off.
 * Waiting for the old lifetime's lock is how the new one learns that it has ended.
 */
export interface Lifetimes {
  /** Holds this lifetime's lock; resolves once it is held. */
  hold(incarnation: string): Promise<void>;
  /** The incarnations among `incarnations` whose lifetime still runs. */
  alive(incarnations: readonly string[]): Promise<Set<string>>;
  /** Resolves when that lifetime has ended (at once if it has). */
  ended(incarnation: string): Promise<void>;
}

const PREFIX = 'mcp-sandbox/lifetime/';

export function lockName(incarnation: string): string {
  return PREFIX + incarnation;
}

/** Lifetimes told by this context's `navigator.locks` (service worker, and the pages of its origin). */
export class LockedLifetimes implements Lifetimes {
  constructor(private readonly locks: LockManager) {}

  hold(incarnation: string): Promise<void> {
    return new Promise<void>((granted, refused) => {
      // The callback's promise never settles: the lock is released only when this lifetime ends.
      // (A page may steal it, as a test does to stand in for a live lifetime; nothing here depends
      // on keeping it after that.)
      this.locks.request(lockName(incarnation), () => {
        granted();
        return new Promise<never>(() => undefined);
      }).catch(refused);
    });
  }

  async alive(incarnations: readonly string[]): Promise<Set<string>> {
    if (incarnations.length === 0) return new Set();
    const { held = [] } = await this.locks.query();
    const names = new Set(held.map((lock) => lock.name));
    return new Set(incarnations.filter((i) => names.has(lockName(i))));
  }

  async ended(incarnation: string): Promise<void> {
    // Granted only once the holder is gone; released again at once.
    await this.locks.request(lockName(incarnation), () => undefined);
  }
}

/**
 * Where the platform has no Web Locks (Node, in the unit tests): every other lifetime counts as
 * ended, which is what a service-worker wake after a stop finds.
 */
export class EndedLifetimes implements Lifetimes {
  async hold(): Promise<void> {}
  async alive(): Promise<Set<string>> {
    return new Set();
  }
  async ended(): Promise<void> {}
}

export function platformLifetimes(): Lifetimes {
  const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
  return locks ? new LockedLifetimes(locks) : new EndedLifetimes();
}
