import { describe, expect, it } from 'vitest';
import { FairQueue, holding, type Slot } from '../../src/server/fair-queue';

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('the sandbox-wide slots and their fair queue', () => {
  it('grants at once below the limit and never above it', () => {
    const q = new FairQueue();
    const a = q.tryAcquire(2);
    const b = q.tryAcquire(2);
    expect(a && b).toBeTruthy();
    expect(q.tryAcquire(2)).toBeNull();
    a!.release();
    a!.release(); // idempotent: a second release frees nothing more
    expect(q.active).toBe(1);
    expect(q.tryAcquire(2)).not.toBeNull();
    expect(q.tryAcquire(2)).toBeNull();
  });

  it('serves waiting agents round-robin, so one agent flooding the queue cannot starve another', async () => {
    const q = new FairQueue();
    const granted: { agent: string; slot: Slot }[] = [];
    const wait = (agent: string) => void q.wait(agent, 1, 10_000).then((slot) => granted.push({ agent, slot: slot! }));
    let current = q.tryAcquire(1)!;
    for (const agent of ['flood', 'flood', 'flood', 'flood', 'quiet', 'other']) wait(agent);
    expect(q.queued).toBe(6);
    for (let i = 0; i < 6; i++) {
      current.release();
      await tick();
      expect(granted).toHaveLength(i + 1);
      expect(q.active).toBe(1);
      current = granted[i]!.slot;
    }
    expect(granted.map((g) => g.agent)).toEqual(['flood', 'quiet', 'other', 'flood', 'flood', 'flood']);
    current.release();
    expect(q.active).toBe(0);
  });

  it('tells a waiter whose wait ran out, and keeps nothing of it', async () => {
    const q = new FairQueue();
    const running = q.tryAcquire(1)!;
    expect(await q.wait('a', 1, 20)).toBeNull();
    expect(q.queued).toBe(0);
    running.release();
    expect(q.active).toBe(0);
  });

  it('lets no new arrival jump the queue', async () => {
    const q = new FairQueue();
    const running = q.tryAcquire(1)!;
    const waiting = q.wait('a', 1, 10_000);
    running.release();
    expect(q.tryAcquire(1)).toBeNull();
    (await waiting)!.release();
    expect(q.tryAcquire(1)).not.toBeNull();
  });

  it('releases the slot however the work ends', async () => {
    const q = new FairQueue();
    const slot = q.tryAcquire(1)!;
    await expect(holding(slot, async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(q.active).toBe(0);
  });
});
