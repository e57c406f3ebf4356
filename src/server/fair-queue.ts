/**
 * The sandbox-wide pool of running-call slots, with a fair queue in front of it.
 *
 * A burst of calls over the global limit waits briefly instead of failing: waiters are served
 * round-robin by agent (one call of each waiting agent in turn, oldest first within an agent),
 * so an agent that floods the queue delays only itself. A waiter that is not served within
 * its wait is told so and leaves the queue; nothing of it is kept.
 *
 * Invariants:
 * - `running` never exceeds the limit in force when a slot was granted.
 * - A slot is granted to a new arrival only when nobody is waiting (no queue jumping).
 * - Every grant is matched by exactly one `release` (the `Slot` handle is idempotent).
 */
export interface Slot {
  /** Gives the slot back; calling it again does nothing. */
  release(): void;
}

/**
 * Runs `work` holding `slot` and gives the slot back however `work` ends (result, rejection,
 * or a throw from our own code between any two steps): the one place a call's slots are
 * released, so no path can forget it.
 */
export async function holding<T>(slot: Slot, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } finally {
    slot.release();
  }
}

interface Waiter {
  agentId: string;
  grant: (slot: Slot) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class FairQueue {
  private running = 0;
  private limit = Infinity;
  /** Waiting calls per agent, oldest first; an agent is a key only while it has waiters. */
  private readonly waiting = new Map<string, Waiter[]>();
  /** Agents with waiters, in the order they will next be served. */
  private rotation: string[] = [];

  get active(): number {
    return this.running;
  }

  get queued(): number {
    let n = 0;
    for (const list of this.waiting.values()) n += list.length;
    return n;
  }

  /** A slot now if one is free and nobody waits, else null. */
  tryAcquire(limit: number): Slot | null {
    this.limit = limit;
    this.drain();
    if (this.rotation.length > 0 || !(this.running < limit)) return null;
    return this.grant();
  }

  /** Waits up to `waitMs` for a slot in turn; resolves null when the wait ran out. */
  wait(agentId: string, limit: number, waitMs: number): Promise<Slot | null> {
    this.limit = limit;
    return new Promise((resolve) => {
      const waiter: Waiter = {
        agentId,
        grant: resolve,
        timer: setTimeout(() => {
          this.remove(waiter);
          resolve(null);
        }, waitMs),
      };
      const list = this.waiting.get(agentId);
      if (list) list.push(waiter);
      else {
        this.waiting.set(agentId, [waiter]);
        this.rotation.push(agentId);
      }
      this.drain();
    });
  }

  private grant(): Slot {
    this.running++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.running--;
        this.drain();
      },
    };
  }

  /** Serves waiters, one agent at a time in rotation, while slots are free. */
  private drain(): void {
    while (this.rotation.length > 0 && this.running < this.limit) {
      const agentId = this.rotation.shift()!;
      const list = this.waiting.get(agentId)!;
      const waiter = list.shift()!;
      if (list.length > 0) this.rotation.push(agentId);
      else this.waiting.delete(agentId);
      clearTimeout(waiter.timer);
      waiter.grant(this.grant());
    }
  }

  private remove(waiter: Waiter): void {
    const list = this.waiting.get(waiter.agentId);
    if (!list) return;
    const i = list.indexOf(waiter);
    if (i !== -1) list.splice(i, 1);
    if (list.length === 0) {
      this.waiting.delete(waiter.agentId);
      this.rotation = this.rotation.filter((a) => a !== waiter.agentId);
    }
  }
}
