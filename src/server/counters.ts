import { RATE_WINDOW_MS, RateWindow, type Decision, type Denial } from '../policy';
import type { DbHandle } from '../store/db';
import { FairQueue, type Slot } from './fair-queue';

/** What the counters know at the moment a call is decided. */
export interface CounterState {
  recentCallTimes: RateWindow;
  sessionCallCount: number;
  /** This agent's calls running or waiting for a global slot. */
  agentActiveCalls: number;
  /** Calls running, plus calls already waiting ahead of this one. */
  globalActiveCalls: number;
}

export interface AdmitRequest {
  agentId: string;
  sessionId: string;
  storedSessionCalls: number;
  now: number;
  globalLimit: number;
  /** How long a call over the global limit may wait for a slot (0: refuse at once). */
  waitMs: number;
  /** The policy's decision on these counts; called once, synchronously. */
  decide(state: CounterState): Decision;
}

export type Admission =
  | { ok: true; slot: Slot }
  /** `waitedMs` is set when the call waited in the queue and no slot freed in time. */
  | { ok: false; denial: Denial; waitedMs?: number; retryAfterMs?: number };

/**
 * The numbers the policy decides on: each agent's granted calls in the last minute, each
 * session's call count, calls running now. They live in memory for one service-worker
 * lifetime and are rebuilt from IndexedDB on wake — recent calls from the audit's
 * (agent, time) index, session counts from the session record — so a restart forgets nothing
 * that matters. Calls running at the moment of a stop died with it, so those start at zero.
 *
 * `admit` checks and counts in one synchronous step: two concurrent calls can never both
 * take the last slot. What it counts for a call is handed back as one `Slot`: releasing it
 * gives back the agent's and the sandbox's running-call slots together, once, whatever path
 * the call ended on (see `holding`).
 */
export class CallCounters {
  private readonly recent = new Map<string, RateWindow>();
  /** Each agent's granted HTTP requests (by its tools) in the last minute. */
  private readonly requests = new Map<string, RateWindow>();
  private readonly loading = new Map<string, Promise<void>>();
  private readonly sessionCalls = new Map<string, number>();
  private readonly active = new Map<string, number>();
  private readonly global = new FairQueue();
  /** Recent run time of a call (moving average), to tell a refused waiter when to retry. */
  private typicalRunMs = 100;

  constructor(private readonly handle: DbHandle) {}

  /** Makes sure this agent's recent calls are in memory. */
  async load(agentId: string, now: number): Promise<void> {
    if (this.recent.has(agentId)) return;
    let p = this.loading.get(agentId);
    if (!p) {
      p = (async () => {
        const db = await this.handle.get();
        const range = IDBKeyRange.bound([agentId, now - RATE_WINDOW_MS], [agentId, Infinity]);
        const entries = await db.getAllFromIndex('audit', 'by-agent-ts', range);
        if (this.recent.has(agentId)) return;
        this.recent.set(agentId, new RateWindow(entries.filter((e) => e.event === 'call.request').map((e) => e.ts)));
        this.requests.set(agentId, new RateWindow(entries.filter((e) => e.event === 'call.capability' && e.outcome === 'ok' && e.details?.['fn'] === 'http-fetch').map((e) => e.ts)));
      })().finally(() => this.loading.delete(agentId));
      this.loading.set(agentId, p);
    }
    await p;
  }

  /**
   * Decides and counts a call. A call the policy refuses only for the global concurrency limit
   * waits in the fair queue for up to `waitMs`; the agent's own limits stay strict (a queued
   * call counts as running for its agent). Call `load` first.
   */
  async admit(request: AdmitRequest): Promise<Admission> {
    const { agentId, sessionId, storedSessionCalls, now, globalLimit } = request;
    const times = this.window(this.recent, agentId);
    const decision = request.decide({
      recentCallTimes: times,
      sessionCallCount: this.sessionCount(sessionId, storedSessionCalls),
      agentActiveCalls: this.active.get(agentId) ?? 0,
      globalActiveCalls: this.global.active + this.global.queued,
    });
    const mayWait = !decision.allow && decision.rule === 'concurrency.global' && request.waitMs > 0;
    if (!decision.allow && !mayWait) return { ok: false, denial: decision };
    // Counted now, in the same synchronous step as the decision; undone if the wait runs out.
    times.push(now);
    const previousSessionCount = this.sessionCalls.get(sessionId);
    this.sessionCalls.set(sessionId, this.sessionCount(sessionId, storedSessionCalls) + 1);
    this.active.set(agentId, (this.active.get(agentId) ?? 0) + 1);
    const slot = this.global.tryAcquire(globalLimit) ?? (await this.global.wait(agentId, globalLimit, request.waitMs));
    if (slot === null) {
      times.remove(now);
      if (previousSessionCount === undefined) this.sessionCalls.delete(sessionId);
      else this.sessionCalls.set(sessionId, previousSessionCount);
      this.active.set(agentId, Math.max(0, (this.active.get(agentId) ?? 1) - 1));
      return { ok: false, denial: decision as Denial, waitedMs: request.waitMs, retryAfterMs: Math.max(10, Math.round(this.typicalRunMs)) };
    }
    const started = performance.now();
    let released = false;
    return {
      ok: true,
      slot: {
        release: () => {
          if (released) return;
          released = true;
          this.typicalRunMs = 0.8 * this.typicalRunMs + 0.2 * (performance.now() - started);
          this.active.set(agentId, Math.max(0, (this.active.get(agentId) ?? 1) - 1));
          slot.release();
        },
      },
    };
  }

  /** Calls running now, sandbox-wide, and calls waiting for a slot. */
  globalLoad(): { running: number; queued: number } {
    return { running: this.global.active, queued: this.global.queued };
  }

  /** This agent's granted HTTP requests in the last minute (call `load` first). */
  requestTimes(agentId: string): RateWindow {
    return this.window(this.requests, agentId);
  }

  private window(map: Map<string, RateWindow>, agentId: string): RateWindow {
    let times = map.get(agentId);
    if (!times) map.set(agentId, (times = new RateWindow()));
    return times;
  }

  /** Counts a granted HTTP request; synchronously after the decision that allowed it. */
  countRequest(agentId: string, now: number): void {
    this.window(this.requests, agentId).push(now);
  }

  /** Forgets what this lifetime counted for a session (a stateless agent's implicit session starting anew). */
  forgetSession(sessionId: string): void {
    this.sessionCalls.delete(sessionId);
  }

  /** The session's call count: what this lifetime counted, or what was stored, whichever is ahead. */
  sessionCount(sessionId: string, stored: number): number {
    return Math.max(this.sessionCalls.get(sessionId) ?? 0, stored);
  }

  activeCalls(agentId: string): number {
    return this.active.get(agentId) ?? 0;
  }

  lastMinute(agentId: string, now: number): number {
    return this.recent.get(agentId)?.count(now) ?? 0;
  }
}
