import { describe, expect, it } from 'vitest';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { ERROR_META_KEY } from '../../src/shared/errors';
import { verifyChain } from '../../src/store/audit';
import { recoverInterrupted } from '../../src/server/recovery';
import { openCalls } from '../../src/store/open-calls';
import { MANIFEST, manifestTool, startHarness, swappableEndpoint, loggedEntries } from './support/server-fixture';
import { policyOf } from '../../src/server/agents';
import { GLOBAL_CONTEXT_RESOURCE } from '../../src/server/global-context';

const MB = 1024 * 1024;

describe('the MCP server handlers', () => {
  it('lists only enabled, callable tools: no resource producers, no fixtures unless seeded', async () => {
    const h = await startHarness();
    const client = await h.connect();
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['echo']);
    await h.ctx.registry.seed(MANIFEST, { fixtures: true, now: Date.now() });
    expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(['echo', 'loop_forever']);
  });

  it('runs a call with the smaller of the tool and policy limits, and audits request then result', async () => {
    const h = await startHarness();
    const client = await h.connect({ agent: 'agent-7' });
    await client.callTool({ name: 'echo', arguments: { text: 'hello' } });
    const [request] = h.executor.requests;
    expect(request).toMatchObject({ tool: 'echo', entry: 'call', args: '{"text":"hello"}', limits: { cpuMs: 2000, memoryBytes: 256 * MB } });
    const audit = await loggedEntries(h.ctx);
    const events = audit.map((e) => [e.event, e.outcome, e.tool, e.agentId]);
    expect(events).toEqual([
      ['session.open', 'info', null, 'agent-7'],
      ['call.request', 'pending', 'echo', 'agent-7'],
      ['call.result', 'ok', 'echo', 'agent-7'],
    ]);
    expect(audit[1]!.callId).toBe(request!.callId);
    expect(audit[2]).toMatchObject({ callId: request!.callId, durationMs: 1.5, memoryBytes: 65536 });
    expect((await openCalls(await h.ctx.db.get())).open).toEqual([]);
    expect(h.ctx.callSlots.held).toBe(0);
    expect((await h.ctx.sessions.get(client.transport!.sessionId!))!.callCount).toBe(1);
  });

  it('lets nothing leave the sandbox before the request entry is durable: the tool starts early, its capability use and the reply wait for the commit', async () => {
    const h = await startHarness();
    await h.ctx.registry.seed({ version: 1, tools: [manifestTool('writer', { permissions: ['files:write'] })] }, { fixtures: false, now: Date.now() });
    const client = await h.connect();
    const events: string[] = [];
    // The request entry takes 50 ms to commit.
    const real = h.ctx.audit.append.bind(h.ctx.audit);
    h.ctx.audit.append = async (draft, effect) => {
      if (draft.event === 'call.request') await new Promise((r) => setTimeout(r, 50));
      const entry = await real(draft, effect);
      if (draft.event === 'call.request') events.push('request committed');
      return entry;
    };
    h.executor.next = async (r, capabilities) => {
      events.push('tool started');
      expect(await (await h.ctx.db.get()).getAll('callSlots')).not.toContainEqual(expect.objectContaining({ callId: r.callId }));
      const reply = await capabilities!({ id: 1, fn: 'write-file', args: { path: './workspace/w.txt', contents: 'x' } });
      events.push(`capability answered ${reply.ok}`);
      return { ok: true, output: 'x', durationMs: 1, memoryBytes: 0 };
    };
    await client.callTool({ name: 'writer', arguments: { text: 'a' } });
    events.push('reply received');
    expect(events).toEqual(['tool started', 'request committed', 'capability answered true', 'reply received']);
  });

  it('stops the run and answers audit-unavailable when the request entry cannot be written; the capability is refused', async () => {
    const h = await startHarness();
    await h.ctx.registry.seed({ version: 1, tools: [manifestTool('writer', { permissions: ['files:write'] })] }, { fixtures: false, now: Date.now() });
    const client = await h.connect();
    const real = h.ctx.audit.append.bind(h.ctx.audit);
    h.ctx.audit.append = (draft, effect) => (draft.event === 'call.request' ? new Promise((_, reject) => setTimeout(() => reject(new Error('disk full')), 20)) : real(draft, effect));
    let stopped = false;
    let reply: { ok: boolean } | undefined;
    h.executor.next = async (_r, capabilities, signal) => {
      signal!.addEventListener('abort', () => (stopped = true));
      reply = await capabilities!({ id: 1, fn: 'write-file', args: { path: './workspace/never.txt', contents: 'x' } });
      return { ok: true, output: 'x', durationMs: 1, memoryBytes: 0 };
    };
    const result = await client.callTool({ name: 'writer', arguments: { text: 'a' } });
    expect((result._meta!['mcp-sandbox/error'] as { code: string }).code).toBe('audit-unavailable');
    expect(stopped).toBe(true);
    expect(reply).toMatchObject({ ok: false });
    expect(await (await h.ctx.db.get()).get('workspace', './workspace/never.txt')).toBeUndefined();
    expect((await loggedEntries(h.ctx)).map((e) => e.event)).toEqual(['session.open']);
  });

  it('rejects arguments that do not match the input schema without touching a sandbox', async () => {
    const h = await startHarness();
    const client = await h.connect();
    const result = await client.callTool({ name: 'echo', arguments: { text: 42 } });
    expect(result.isError).toBe(true);
    expect((result._meta![ERROR_META_KEY] as { code: string }).code).toBe('invalid-arguments');
    expect(h.executor.requests).toHaveLength(0);
    const last = (await loggedEntries(h.ctx)).at(-1)!;
    expect(last).toMatchObject({ event: 'call.rejected', outcome: 'denied', error: { code: 'invalid-arguments' } });
  });

  it('answers an unknown tool with a JSON-RPC invalid-params error, and audits it', async () => {
    const h = await startHarness();
    const client = await h.connect();
    const error = await client.callTool({ name: 'nope', arguments: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpError);
    expect((error as McpError).code).toBe(-32602);
    const rejected = (await loggedEntries(h.ctx)).at(-1)!;
    expect(rejected).toMatchObject({ event: 'call.rejected', tool: 'nope', error: { code: 'unknown-tool' } });
    // A refused call has a call id too: in its entry, and told to the agent.
    expect(rejected.callId).toMatch(/^[0-9a-f-]{36}$/);
    expect((error as McpError).data).toMatchObject({ code: 'unknown-tool', callId: rejected.callId });
  });

  it('gives a refused call a call id, in its entry and in the error the agent gets', async () => {
    const h = await startHarness();
    const client = await h.connect();
    const result = await client.callTool({ name: 'echo', arguments: { wrong: 1 } });
    const info = result._meta![ERROR_META_KEY] as { code: string; details: { callId: string } };
    expect(info.code).toBe('invalid-arguments');
    const rejected = (await loggedEntries(h.ctx)).at(-1)!;
    expect(rejected).toMatchObject({ event: 'call.rejected', callId: info.details.callId, error: { code: 'invalid-arguments', details: { callId: info.details.callId } } });
  });

  it('turns a sandbox failure into an isError result carrying its code', async () => {
    const h = await startHarness();
    const client = await h.connect();
    h.executor.next = () => ({ ok: false, error: { code: 'timeout', message: 'too slow', details: { limitMs: 2000 } }, durationMs: 2000, memoryBytes: 0 });
    const result = await client.callTool({ name: 'echo', arguments: { text: 'a' } });
    expect(result.isError).toBe(true);
    expect(result._meta![ERROR_META_KEY]).toEqual({ code: 'timeout', message: 'too slow', details: { limitMs: 2000 } });
    expect((await loggedEntries(h.ctx)).at(-1)).toMatchObject({ event: 'call.result', outcome: 'error', error: { code: 'timeout' } });
  });

  it('serves system://info from its wasm producer with the host facts as arguments', async () => {
    const h = await startHarness();
    const client = await h.connect();
    expect((await client.listResources()).resources).toEqual([{ uri: 'system://info', name: 'system_info', description: 'the system_info tool', mimeType: 'application/json' }, GLOBAL_CONTEXT_RESOURCE]);
    h.executor.next = (r) => ({ ok: true, output: JSON.stringify({ host: JSON.parse(r.args) }), durationMs: 1, memoryBytes: 0 });
    const read = await client.readResource({ uri: 'system://info' });
    const doc = JSON.parse((read.contents[0] as { text: string }).text);
    expect(doc.host).toMatchObject({ server: { name: 'browser-mcp-sandbox' }, tools: 1, sessions: 1 });
    await expect(client.readResource({ uri: 'system://nope' })).rejects.toMatchObject({ code: -32602 });
  });

  it('serves a session after a restart with fresh globals, from IndexedDB alone', async () => {
    const first = await startHarness();
    const endpoint = swappableEndpoint(first.link);
    const client = await first.connect({ agent: 'survivor' }, endpoint);
    await client.callTool({ name: 'echo', arguments: { text: 'before' } });
    // The next lifetime: new router, new sessions map, new audit tail cache; same database.
    const second = await startHarness(first.dbName, first.executor, false);
    endpoint.swap(second.link);
    const result = await client.callTool({ name: 'echo', arguments: { text: 'after' } });
    expect(result.content).toEqual([{ type: 'text', text: 'ran echo with {"text":"after"}' }]);
    const audit = await loggedEntries(second.ctx);
    expect(audit.filter((e) => e.event === 'call.result')).toHaveLength(2);
    expect(audit.every((e) => e.agentId === 'survivor')).toBe(true);
    expect(await verifyChain(audit)).toMatchObject({ ok: true, count: audit.length });
  });

  it('records calls cut off by a stopped service worker as interrupted on the next wake', async () => {
    const first = await startHarness();
    const client = await first.connect();
    first.executor.next = () => new Promise(() => undefined); // the worker is stopped mid-call
    void client.callTool({ name: 'echo', arguments: { text: 'lost?' } });
    await new Promise((r) => setTimeout(r, 30));
    const second = await startHarness(first.dbName, first.executor, false);
    expect(await recoverInterrupted(second.ctx)).toBe(1);
    expect(await recoverInterrupted(second.ctx)).toBe(0);
    const audit = await loggedEntries(second.ctx);
    const request = audit.find((e) => e.event === 'call.request')!;
    expect(audit.at(-1)).toMatchObject({ event: 'call.interrupted', outcome: 'interrupted', callId: request.callId, error: { code: 'interrupted' } });
    expect(await verifyChain(audit)).toMatchObject({ ok: true });
  });
});

describe('the write-ahead records of calls', () => {
  it('reuse the same slots for calls one after another: a call writes its record with its request and deletes nothing', async () => {
    const h = await startHarness();
    const client = await h.connect();
    const deletes: string[] = [];
    const realDelete = IDBObjectStore.prototype.delete;
    IDBObjectStore.prototype.delete = function (this: IDBObjectStore, query: IDBValidKey | IDBKeyRange) {
      deletes.push(this.name);
      return realDelete.call(this, query);
    };
    try {
      for (let i = 0; i < 12; i++) await client.callTool({ name: 'echo', arguments: { text: `n${i}` } });
      await h.ctx.audit.settled();
    } finally {
      IDBObjectStore.prototype.delete = realDelete;
    }
    expect(deletes).toEqual([]);
    const db = await h.ctx.db.get();
    const last = (await loggedEntries(h.ctx)).filter((e) => e.event === 'call.request').at(-1)!;
    // Two slots: a result entry waits a moment for the next call's request to commit with it
    // (audit.ts, RELAXED_HOLD_MS), so the next call takes the other slot meanwhile.
    const records = await db.getAll('callSlots');
    expect(records.map((r) => r.slot).sort()).toEqual([0, 1]);
    expect(records).toContainEqual(expect.objectContaining({ callId: last.callId, incarnation: h.ctx.incarnation }));
    expect((await openCalls(db)).open).toEqual([]);
    expect(h.ctx.callSlots.held).toBe(0);
  });

  it('never give an open call’s slot to another: calls served beside one that never ends leave it to be recovered', async () => {
    const first = await startHarness();
    const client = await first.connect();
    first.executor.next = () => new Promise(() => undefined);
    void client.callTool({ name: 'echo', arguments: { text: 'stuck' } });
    await new Promise((r) => setTimeout(r, 30));
    first.executor.next = null;
    for (let i = 0; i < 6; i++) await client.callTool({ name: 'echo', arguments: { text: `beside ${i}` } });
    await Promise.all([client.callTool({ name: 'echo', arguments: { text: 'x' } }), client.callTool({ name: 'echo', arguments: { text: 'y' } })]);
    await first.ctx.audit.settled();
    expect(first.ctx.callSlots.held).toBe(1);
    const stuck = (await loggedEntries(first.ctx)).find((e) => e.event === 'call.request')!;
    expect((await openCalls(await first.ctx.db.get())).open.map((c) => [c.record.callId, c.firstSeq])).toEqual([[stuck.callId, stuck.seq]]);
    // The next lifetime closes exactly that call and clears the last lifetime's records.
    const second = await startHarness(first.dbName, first.executor, false);
    expect(await recoverInterrupted(second.ctx)).toBe(1);
    const audit = await loggedEntries(second.ctx);
    expect(audit.filter((e) => e.event === 'call.interrupted').map((e) => e.callId)).toEqual([stuck.callId]);
    expect(await (await second.ctx.db.get()).count('callSlots')).toBe(0);
    expect(await verifyChain(audit)).toMatchObject({ ok: true });
  });
});

describe('recovery beside a lifetime that still runs', () => {
  /** Lifetimes as a test says: `end` ends one (what the browser's lock release does). */
  function lifetimes(alive: Set<string>) {
    const waiting = new Map<string, () => void>();
    return {
      lifetimes: {
        hold: async () => undefined,
        alive: async (of: readonly string[]) => new Set(of.filter((i) => alive.has(i))),
        ended: (i: string) => (alive.has(i) ? new Promise<void>((r) => waiting.set(i, r)) : Promise.resolve()),
      },
      end(i: string) {
        alive.delete(i);
        waiting.get(i)?.();
      },
    };
  }

  /** A lifetime with one call that never ends, and the next lifetime on the same database. */
  async function callLeftOpen() {
    const first = await startHarness();
    const client = await first.connect();
    first.executor.next = () => new Promise(() => undefined);
    void client.callTool({ name: 'echo', arguments: { text: 'left open' } });
    await new Promise((r) => setTimeout(r, 30));
    return { first, second: await startHarness(first.dbName, first.executor, false) };
  }

  it('closes a call once when two recoveries run at once (a wake and an ended lifetime)', async () => {
    const { second } = await callLeftOpen();
    expect(await Promise.all([recoverInterrupted(second.ctx), recoverInterrupted(second.ctx)])).toEqual([1, 0]);
    expect((await loggedEntries(second.ctx)).filter((e) => e.event === 'call.interrupted')).toHaveLength(1);
  });

  it('leaves its open calls and records alone, and closes them once when it ends', async () => {
    const { first, second } = await callLeftOpen();
    const told = lifetimes(new Set([first.ctx.incarnation]));
    second.ctx.lifetimes = told.lifetimes;
    // Two recoveries at once (a wake's and a watch's) close nothing twice.
    expect(await Promise.all([recoverInterrupted(second.ctx), recoverInterrupted(second.ctx)])).toEqual([0, 0]);
    const db = await second.ctx.db.get();
    expect(await db.count('callSlots')).toBe(1);
    expect((await loggedEntries(second.ctx)).filter((e) => e.event === 'call.interrupted')).toEqual([]);

    told.end(first.ctx.incarnation);
    await expect.poll(async () => (await loggedEntries(second.ctx)).filter((e) => e.event === 'call.interrupted').length).toBe(1);
    await expect.poll(() => db.count('callSlots')).toBe(0);
    expect(await recoverInterrupted(second.ctx)).toBe(0);
    const audit = await loggedEntries(second.ctx);
    const request = audit.find((e) => e.event === 'call.request')!;
    expect(audit.filter((e) => e.event === 'call.interrupted').map((e) => e.callId)).toEqual([request.callId]);
    expect(await verifyChain(audit)).toMatchObject({ ok: true });
  });
});

describe('undoing one grant or revoke', () => {
  it('removes exactly that change: the effective policy is as if it had never been made; an unknown one changes nothing', async () => {
    const h = await startHarness();
    await h.agent('u', 'Untrusted');
    const before = policyOf((await h.ctx.agents.get('u'))!);
    await h.ctx.agents.change('u', 'grant', { kind: 'tool', name: 'echo' });
    const granted = await h.ctx.agents.change('u', 'revoke', { kind: 'domain', pattern: 'example.com' });
    const grant = granted.changes[0]!;
    const after = await h.ctx.agents.undoChange('u', 'grant', grant.change, grant.at);
    expect(after.changes.map((c) => c.op)).toEqual(['revoke']);
    // Its tools are the original policy's again (the grant is gone); the revoke still stands.
    expect(policyOf(granted).tools).not.toEqual(before.tools);
    expect(policyOf(after).tools).toEqual(before.tools);
    expect(policyOf(after).network.blockedDomains).toContain('example.com');
    await expect(h.ctx.agents.undoChange('u', 'grant', grant.change, grant.at)).rejects.toMatchObject({ code: 'unknown-change' });
    expect((await h.ctx.agents.get('u'))!.changes).toHaveLength(1);
  });
});
