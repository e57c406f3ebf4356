import { describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CHANNEL, WIRE_VERSION } from '../../src/shared/wire';
import { ERROR_META_KEY } from '../../src/shared/errors';
import { verifyChain, type AuditDraft, type AuditSideEffect } from '../../src/store/audit';
import { writeSettings } from '../../src/server/settings';
import { openCalls } from '../../src/store/open-calls';
import { manifestTool, startHarness, type Harness, loggedEntries } from './support/server-fixture';

// Issue: a call whose handling threw after admission kept its concurrency slots for ever, and
// a handful of such calls locked every agent out. These tests break the call path at each
// step and check that nothing a call took is kept, and that every agent is served next.

const errorOf = (r: { _meta?: Record<string, unknown> }) => r._meta?.[ERROR_META_KEY] as { code: string; message: string; details?: Record<string, unknown> } | undefined;

/** A harness with an `open` tool that accepts any object (so deep arguments pass validation). */
async function harness(): Promise<Harness> {
  const h = await startHarness();
  await h.ctx.registry.seed({ version: 1, tools: [manifestTool('echo'), manifestTool('writer', { permissions: ['files:write'] }), manifestTool('open', { inputSchema: { type: 'object' } })] }, { fixtures: false, now: Date.now() });
  // One running call at a time for the whole sandbox: a leaked slot blocks every agent.
  await writeSettings(h.ctx.db, { globalConcurrentCalls: 1 });
  return h;
}

/** Nothing held: no running or queued call, no agent slot, no open write-ahead record. */
async function expectNothingHeld(h: Harness, agents: string[], pending = 0): Promise<void> {
  expect(h.ctx.counters.globalLoad()).toEqual({ running: 0, queued: 0 });
  for (const a of agents) expect(h.ctx.counters.activeCalls(a)).toBe(0);
  // Write-ahead records close when their results commit, which may be after the reply.
  await h.ctx.audit.settled();
  expect((await openCalls(await h.ctx.db.get())).open).toHaveLength(pending);
  expect(h.ctx.callSlots.held).toBe(pending);
}

async function expectServed(clients: Client[]): Promise<void> {
  for (const c of clients) {
    const r = await c.callTool({ name: 'echo', arguments: { text: 'next' } });
    expect(errorOf(r)).toBeUndefined();
    expect(r.content).toEqual([{ type: 'text', text: expect.stringContaining('next') }]);
  }
}

/** Makes the `n`th audit append of `event` (0-based, counted from now) throw once. */
function failAppend(h: Harness, event: string, n = 0, error: () => Error = () => new Error(`injected failure writing ${event}`)): void {
  const real = h.ctx.audit.append.bind(h.ctx.audit);
  let seen = 0;
  h.ctx.audit.append = (draft: AuditDraft, effect?: AuditSideEffect) => {
    if (draft.event === event && seen++ === n) return Promise.reject(error());
    return real(draft, effect);
  };
}

function deepValue(depth: number): unknown {
  let v: unknown = 'bottom';
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { d: v };
  return v;
}

describe('a failed call keeps nothing it took', () => {
  it('refuses arguments nested 100,000 deep as invalid-arguments naming the bound, and serves every agent next', async () => {
    const h = await harness();
    const a = await h.connect({ agent: 'a' });
    const b = await h.connect({ agent: 'b' });
    const session = (a as unknown as { transport: { sessionId: string } }).transport.sessionId;
    // As JSON text: structured clone of such a value would overflow the sender's stack first.
    const text = `{"jsonrpc":"2.0","id":99,"method":"tools/call","params":{"name":"open","arguments":{"x":${'['.repeat(100_000)}1${']'.repeat(100_000)}}}}`;
    const replies: { message: { id?: unknown; result?: { _meta?: Record<string, unknown>; isError?: boolean }; error?: unknown } }[] = [];
    const off = h.link.subscribe((d) => (d as { session?: string }).session === session && replies.push(d as (typeof replies)[number]));
    for (let i = 0; i < 5; i++) await h.link.raw({ channel: CHANNEL, v: WIRE_VERSION, kind: 'mcp', session, message: text });
    await new Promise((r) => setTimeout(r, 10));
    off();
    expect(replies).toHaveLength(5);
    for (const r of replies) {
      expect(r.message.error).toBeUndefined();
      expect(r.message.result?.isError).toBe(true);
      expect(errorOf(r.message.result!)).toMatchObject({ code: 'invalid-arguments', details: { limit: 'maxDepth', max: 32 } });
    }
    const refused = (await loggedEntries(h.ctx)).filter((e) => e.event === 'call.rejected');
    expect(refused).toHaveLength(5);
    expect(refused[0]!.error).toMatchObject({ code: 'invalid-arguments' });
    await expectNothingHeld(h, ['a', 'b']);
    await expectServed([a, b]);
    expect((await verifyChain(await loggedEntries(h.ctx))).ok).toBe(true);
  });

  it('refuses arguments with too many members, too many characters, or values JSON cannot carry', async () => {
    const h = await harness();
    const a = await h.connect({ agent: 'a' });
    const wide = Object.fromEntries(Array.from({ length: 20_001 }, (_, i) => [`k${i}`, i]));
    expect(errorOf(await a.callTool({ name: 'open', arguments: wide }))).toMatchObject({ code: 'invalid-arguments', details: { limit: 'maxNodes', max: 20_000 } });
    expect(errorOf(await a.callTool({ name: 'open', arguments: { s: 'x'.repeat(2 * 1024 * 1024 + 1) } }))).toMatchObject({ code: 'invalid-arguments', details: { limit: 'maxChars' } });
    // 32 levels are fine; the 33rd is named.
    expect(errorOf(await a.callTool({ name: 'open', arguments: { v: deepValue(30) as object } }))).toBeUndefined();
    expect(errorOf(await a.callTool({ name: 'open', arguments: { v: deepValue(32) as object } }))).toMatchObject({ details: { limit: 'maxDepth', observed: 33 } });
    await expectNothingHeld(h, ['a']);
  });

  const steps: { step: string; inject: (h: Harness) => void; code: string | null; pending?: number }[] = [
    { step: 'the request entry cannot be written', inject: (h) => failAppend(h, 'call.request'), code: 'audit-unavailable' },
    {
      step: 'the executor throws',
      inject: (h) => {
        h.executor.next = () => {
          h.executor.next = null;
          throw new Error('injected executor failure');
        };
      },
      code: 'internal-error',
    },
    {
      step: 'the tool answers something that is not text',
      inject: (h) => {
        h.executor.next = () => {
          h.executor.next = null;
          return { ok: true, output: { toString: () => { throw new Error('hostile output'); } } as unknown as string, durationMs: 1, memoryBytes: 0 };
        };
      },
      code: 'internal-error',
    },
    {
      step: 'a capability use cannot be recorded',
      inject: (h) => {
        failAppend(h, 'call.capability');
        h.executor.next = async (_req, capabilities) => {
          h.executor.next = null;
          const reply = await capabilities!({ id: 1, fn: 'write-file', args: { path: './workspace/a.txt', contents: 'x' } });
          return reply.ok ? { ok: true, output: 'wrote', durationMs: 1, memoryBytes: 0 } : { ok: false, error: { code: 'tool-error', message: reply.error }, durationMs: 1, memoryBytes: 0 };
        };
      },
      code: 'tool-error',
    },
    // The reply does not wait for the result entry: the agent has its result, and the log closes
    // the call as an outcome not recorded (call.interrupted), which closes its write-ahead record.
    { step: 'the result entry cannot be written', inject: (h) => failAppend(h, 'call.result'), code: 'ok' },
    { step: 'the agent counters cannot be loaded', inject: (h) => (h.ctx.counters.load = () => Promise.reject(new Error('injected load failure'))), code: null },
  ];

  it('says the storage is full when the request entry fails on the quota, and nothing of the call runs', async () => {
    const h = await harness();
    const a = await h.connect({ agent: 'a' });
    // What Chromium's IndexedDB rejects a commit with at the origin's quota.
    failAppend(h, 'call.request', 0, () => new DOMException('The quota has been exceeded.', 'QuotaExceededError'));
    const refused = errorOf(await a.callTool({ name: 'writer', arguments: { text: 'full' } }));
    expect(refused).toMatchObject({ code: 'audit-unavailable', details: { cause: 'quota' } });
    expect(refused?.message).toMatch(/storage is full.*archive older audit entries/);
    await expectNothingHeld(h, ['a'], 0);
    expect((await loggedEntries(h.ctx)).filter((e) => e.event === 'call.result')).toEqual([]);
  });

  for (const { step, inject, code, pending } of steps) {
    it(`releases everything when ${step}`, async () => {
      const h = await harness();
      const a = await h.connect({ agent: 'a' });
      const b = await h.connect({ agent: 'b' });
      const realLoad = h.ctx.counters.load.bind(h.ctx.counters);
      inject(h);
      const outcome = await a.callTool({ name: 'writer', arguments: { text: 'first' } }).then(
        (r) => ({ code: errorOf(r)?.code ?? 'ok' }),
        (e: { code?: number }) => ({ rpc: e.code }),
      );
      if (code === null) expect(outcome).toHaveProperty('rpc');
      else expect(outcome).toEqual({ code });
      h.ctx.counters.load = realLoad;
      await expectNothingHeld(h, ['a', 'b'], pending ?? 0);
      await expectServed([a, b, a]);
      expect((await verifyChain(await loggedEntries(h.ctx))).ok).toBe(true);
    });
  }

  it('answers once the result entry is in its transaction, and records a commit that then fails as an outcome not recorded', async () => {
    const h = await harness();
    const a = await h.connect({ agent: 'a' });
    const real = h.ctx.audit.append.bind(h.ctx.audit);
    h.ctx.audit.append = (draft: AuditDraft, effect?: AuditSideEffect, onWritten?: () => void) => {
      if (draft.event !== 'call.result') return real(draft, effect, onWritten);
      // In its transaction, then the commit fails (a quota error, a crash of the backend).
      onWritten?.();
      return Promise.reject(new Error('injected commit failure'));
    };
    const r = await a.callTool({ name: 'echo', arguments: { text: 'seen' } });
    expect(errorOf(r)).toBeUndefined();
    expect(r.content).toEqual([{ type: 'text', text: expect.stringContaining('seen') }]);
    await h.ctx.audit.settled();
    const entries = await loggedEntries(h.ctx);
    const request = entries.find((e) => e.event === 'call.request')!;
    expect(entries.filter((e) => e.event === 'call.result')).toEqual([]);
    expect(entries.at(-1)).toMatchObject({ event: 'call.interrupted', callId: request.callId, error: { code: 'interrupted', message: expect.stringContaining('injected commit failure') }, details: { outcomeRecorded: false } });
    h.ctx.audit.append = real;
    await expectNothingHeld(h, ['a']);
    expect((await verifyChain(await loggedEntries(h.ctx))).ok).toBe(true);
  });

  it('replies without waiting for the result entry, which a reader of the log then sees', async () => {
    const h = await harness();
    const a = await h.connect({ agent: 'a' });
    const real = h.ctx.audit.append.bind(h.ctx.audit);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    h.ctx.audit.append = (draft: AuditDraft, effect?: AuditSideEffect, onWritten?: () => void) => {
      const p = real(draft, effect, onWritten);
      // The result's commit is reported only once released: the reply must not wait for it.
      return draft.event === 'call.result' ? held.then(() => p) : p;
    };
    const r = await a.callTool({ name: 'echo', arguments: { text: 'read me' } });
    expect(errorOf(r)).toBeUndefined();
    expect((await loggedEntries(h.ctx)).find((e) => e.event === 'call.result')).toMatchObject({ outcome: 'ok' });
    release();
    await h.ctx.audit.settled();
    h.ctx.audit.append = real;
    await expectNothingHeld(h, ['a']);
  });

  it('records a failure of its own after the request as the call\'s result, never leaving it pending', async () => {
    const h = await harness();
    const a = await h.connect({ agent: 'a' });
    h.executor.next = () => {
      throw new Error('injected');
    };
    await a.callTool({ name: 'echo', arguments: { text: 'x' } });
    const [request, result] = (await loggedEntries(h.ctx)).filter((e) => e.event === 'call.request' || e.event === 'call.result');
    expect(result).toMatchObject({ event: 'call.result', outcome: 'error', callId: request!.callId, error: { code: 'internal-error' } });
  });
});

describe('cancellation', () => {
  it('stops a cancelled call where it runs, refuses its capabilities, audits it as cancelled and frees its slot', async () => {
    const h = await harness();
    const a = await h.connect({ agent: 'a' });
    let seenSignal: AbortSignal | undefined;
    let late: Promise<unknown> | undefined;
    h.executor.next = (_r, capabilities, signal) =>
      new Promise((resolve) => {
        seenSignal = signal;
        signal!.addEventListener('abort', () => {
          // The tool asks for a file after the cancel: refused, nothing done.
          late = capabilities!({ id: 1, fn: 'write-file', args: { path: './workspace/late.txt', contents: 'x' } });
          resolve({ ok: false, error: { code: 'cancelled', message: 'stopped' }, durationMs: 1, memoryBytes: 0 });
        });
      });
    const controller = new AbortController();
    const call = a.callTool({ name: 'writer', arguments: { text: 'loop' } }, undefined, { signal: controller.signal });
    await new Promise((r) => setTimeout(r, 20));
    expect(h.ctx.counters.globalLoad().running).toBe(1);
    controller.abort('changed my mind');
    await expect(call).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 20));
    expect(seenSignal?.aborted).toBe(true);
    expect(await late).toMatchObject({ ok: false, error: expect.stringContaining('cancelled') });
    await expectNothingHeld(h, ['a']);
    expect(await (await h.ctx.db.get()).get('workspace', './workspace/late.txt')).toBeUndefined();
    const result = (await loggedEntries(h.ctx)).filter((e) => e.event === 'call.result').at(-1);
    expect(result).toMatchObject({ outcome: 'cancelled', error: { code: 'cancelled' } });
    h.executor.next = null;
    await expectServed([a]);
  });
});
