import { RATE_WINDOW_MS } from '../policy';
import type { DbHandle } from '../store/db';

/**
 * The numbers the policy decides on: each agent's granted calls in the last minute, each
 * session's call count, calls running now. They live in memory for one service-worker
 * lifetime and are rebuilt from IndexedDB on wake — recent calls from the audit's
 * (agent, time) index, session counts from the session record — so a restart forgets nothing
 * that matters. Calls running at the moment of a stop died with it, so those start at zero.
 *
 * `admit` checks and counts in one synchronous step: two concurrent calls can never both
 * take the last slot.
 */
export class CallCounters {
  private readonly recent = new Map<string, number[]>();
  /** Each agent's granted HTTP requests (by its tools) in the last minute. */
  private readonly requests = new Map<string, number[]>();
  private readonly loading = new Map<string, Promise<void>>();
  private readonly sessionCalls = new Map<string, number>();
  private readonly active = new Map<string, number>();
  private globalActive = 0;

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
        this.recent.set(agentId, entries.filter((e) => e.event === 'call.request').map((e) => e.ts));
        this.requests.set(agentId, entries.filter((e) => e.event === 'call.capability' && e.outcome === 'ok' && e.details?.['fn'] === 'http-fetch').map((e) => e.ts));
      })().finally(() => this.loading.delete(agentId));
      this.loading.set(agentId, p);
    }
    await p;
  }

  snapshot(agentId: string, sessionId: string, storedSessionCalls: number, now: number) {
    const times = (this.recent.get(agentId) ?? []).filter((t) => t > now - RATE_WINDOW_MS);
    this.recent.set(agentId, times);
    return {
      recentCallTimes: times,
      sessionCallCount: Math.max(this.sessionCalls.get(sessionId) ?? 0, storedSessionCalls),
      agentActiveCalls: this.active.get(agentId) ?? 0,
      globalActiveCalls: this.globalActive,
    };
  }

  /** Counts a granted call. Call synchronously after the decision that allowed it. */
  begin(agentId: string, sessionId: string, storedSessionCalls: number, now: number): void {
    const times = this.recent.get(agentId);
    if (times) times.push(now);
    else this.recent.set(agentId, [now]);
    this.sessionCalls.set(sessionId, Math.max(this.sessionCalls.get(sessionId) ?? 0, storedSessionCalls) + 1);
    this.active.set(agentId, (this.active.get(agentId) ?? 0) + 1);
    this.globalActive++;
  }

  end(agentId: string): void {
    this.active.set(agentId, Math.max(0, (this.active.get(agentId) ?? 0) - 1));
    this.globalActive = Math.max(0, this.globalActive - 1);
  }

  /** This agent's granted HTTP requests in the last minute (call `load` first). */
  requestTimes(agentId: string, now: number): number[] {
    const times = (this.requests.get(agentId) ?? []).filter((t) => t > now - RATE_WINDOW_MS);
    this.requests.set(agentId, times);
    return times;
  }

  /** Counts a granted HTTP request; synchronously after the decision that allowed it. */
  countRequest(agentId: string, now: number): void {
    const times = this.requests.get(agentId);
    if (times) times.push(now);
    else this.requests.set(agentId, [now]);
  }

  /** The session's call count: what this lifetime counted, or what was stored, whichever is ahead. */
  sessionCount(sessionId: string, stored: number): number {
    return Math.max(this.sessionCalls.get(sessionId) ?? 0, stored);
  }

  activeCalls(agentId: string): number {
    return this.active.get(agentId) ?? 0;
  }

  lastMinute(agentId: string, now: number): number {
    return (this.recent.get(agentId) ?? []).filter((t) => t > now - RATE_WINDOW_MS).length;
  }
}
