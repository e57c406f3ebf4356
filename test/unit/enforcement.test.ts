import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { McpError } from '@modelcontextprotocol/sdk/types.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { EnvelopeClientTransport } from '../../src/transport/client-transport';
import { ERROR_META_KEY, RpcCode } from '../../src/shared/errors';
import { openEntry, verifyChain } from '../../src/store/audit';
import { writeSettings } from '../../src/server/settings';
import { startHarness, swappableEndpoint, TEST_ORIGIN, type Harness, loggedEntries } from './support/server-fixture';

const MB = 1024 * 1024;
const ECHO_ONLY = (extra: Record<string, unknown> = {}) => ({ version: 1, tools: { allowed: ['echo'] }, ...extra });
const errorOf = (r: { _meta?: Record<string, unknown> }) => r._meta?.[ERROR_META_KEY] as { code: string; message: string; details: { rule: string; limit?: unknown; observed?: unknown; retryAfterMs?: number } };
const lastEntry = async (h: Harness) => (await loggedEntries(h.ctx)).at(-1)!;

describe('who may connect', () => {
  it('refuses a wrong token, audits why, and creates no session', async () => {
    const h = await startHarness();
    await h.agent('a');
    const error = await h.connect({ agent: 'a', token: 'not-the-token' }).catch((e: unknown) => e);
    expect((error as McpError).code).toBe(RpcCode.Unauthenticated);
    expect(await lastEntry(h)).toMatchObject({ event: 'session.refused', outcome: 'denied', agentId: 'a', details: { reason: 'wrong-token', origin: TEST_ORIGIN } });
    expect(await (await h.ctx.db.get()).count('sessions')).toBe(0);
  });

  it('refuses an agent from an origin it is not registered for', async () => {
    const h = await startHarness();
    const { token } = await h.ctx.agents.register({ id: 'elsewhere', name: 'e', trustLevel: 'Trusted', origins: ['https://other.example'] });
    await expect(h.connect({ agent: 'elsewhere', token })).rejects.toMatchObject({ code: RpcCode.Unauthenticated });
    expect((await lastEntry(h)).details).toMatchObject({ reason: 'origin-not-allowed' });
  });

  it('refuses unknown and revoked agents, and a revoked agent\'s open session on its next call', async () => {
    const h = await startHarness();
    await expect(h.connect({ agent: 'ghost', token: 'x' })).rejects.toMatchObject({ code: RpcCode.Unauthenticated });
    expect((await lastEntry(h)).details).toMatchObject({ reason: 'unknown-agent' });
    const token = await h.agent('soon-revoked');
    const client = await h.connect({ agent: 'soon-revoked', token });
    await h.ctx.agents.revoke('soon-revoked');
    await expect(client.listTools()).rejects.toMatchObject({ code: RpcCode.Unauthenticated });
    await expect(h.connect({ agent: 'soon-revoked', token })).rejects.toMatchObject({ code: RpcCode.Unauthenticated });
    expect((await lastEntry(h)).details).toMatchObject({ reason: 'revoked' });
  });

  it('refuses connections without credentials by default, and lets them in as Untrusted when configured', async () => {
    const h = await startHarness();
    await expect(h.connect({ anonymous: true })).rejects.toMatchObject({ code: RpcCode.Unauthenticated });
    expect((await lastEntry(h)).details).toMatchObject({ reason: 'no-credentials' });
    await writeSettings(h.ctx.db, { unauthenticated: 'untrusted' });
    const anon = await h.connect({ anonymous: true });
    expect((await anon.listTools()).tools).toEqual([]);
    const denied = await anon.callTool({ name: 'echo', arguments: { text: 'x' } });
    expect(errorOf(denied)).toMatchObject({ code: 'policy-denied', details: { rule: 'tool.not-allowed' } });
  });

  it('never lets one agent take over another agent\'s session', async () => {
    const h = await startHarness();
    const a = await h.connect({ agent: 'a' });
    const tokenB = await h.agent('b');
    // b re-initialises a's session id with its own valid credentials: refused.
    const t = new EnvelopeClientTransport(h.link, { auth: { agent: 'b', token: tokenB } });
    (t as unknown as { session: string }).session = a.transport!.sessionId!;
    await expect(new Client({ name: 'b', version: '1' }).connect(t)).rejects.toMatchObject({ code: RpcCode.Unauthenticated });
    expect((await h.ctx.sessions.get(a.transport!.sessionId!))!.agentId).toBe('a');
    expect((await a.callTool({ name: 'echo', arguments: { text: 'still mine' } })).isError).toBeFalsy();
  });
});

describe('sessions are bound to the origin that opened them', () => {
  it('answers a message from another origin carrying a known session id as an unknown session', async () => {
    const h = await startHarness();
    const client = await h.connect({ agent: 'a' });
    const sessionId = client.transport!.sessionId!;
    const { createInMemoryLink } = await import('../../src/transport/in-memory');
    const elsewhere = createInMemoryLink(h.router, { origin: 'https://attacker.example', via: 'connector' });
    const replies: { message: { error?: { code: number } } }[] = [];
    elsewhere.subscribe((d) => replies.push(d as never));
    await elsewhere.raw({ channel: 'mcp-sandbox', v: 1, kind: 'mcp', session: sessionId, message: { jsonrpc: '2.0', id: 1, method: 'tools/list' } });
    await new Promise((r) => setTimeout(r, 5));
    expect(replies[0]!.message.error!.code).toBe(RpcCode.UnknownSession);
    // The rightful owner is unaffected.
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);
  });
});

describe('what an agent sees and may call', () => {
  it('lists only the tools its policy allows', async () => {
    const h = await startHarness();
    await h.ctx.registry.seed((await import('./support/server-fixture')).MANIFEST, { fixtures: true, now: Date.now() });
    const full = await h.connect({ agent: 'full' });
    await h.agent('narrow', 'Untrusted', ECHO_ONLY());
    const narrow = await h.connect({ agent: 'narrow' });
    await h.agent('none', 'Untrusted');
    const none = await h.connect({ agent: 'none' });
    expect((await full.listTools()).tools.map((t) => t.name).sort()).toEqual(['echo', 'loop_forever']);
    expect((await narrow.listTools()).tools.map((t) => t.name)).toEqual(['echo']);
    expect((await none.listTools()).tools).toEqual([]);
  });

  it('denies a tool outside the policy with the rule, and audits the denial', async () => {
    const h = await startHarness();
    await h.agent('u', 'Untrusted');
    const client = await h.connect({ agent: 'u' });
    const result = await client.callTool({ name: 'echo', arguments: { text: 'x' } });
    expect(result.isError).toBe(true);
    expect(errorOf(result)).toMatchObject({ code: 'policy-denied', details: { rule: 'tool.not-allowed', observed: 'echo' } });
    expect(h.executor.requests).toHaveLength(0);
    expect(await lastEntry(h)).toMatchObject({ event: 'call.rejected', outcome: 'denied', agentId: 'u', error: { code: 'policy-denied', details: { rule: 'tool.not-allowed' } } });
  });

  it('runs with the smaller of the tool\'s and the policy\'s limits', async () => {
    const h = await startHarness();
    await h.agent('u', 'Untrusted', ECHO_ONLY());
    await (await h.connect({ agent: 'u' })).callTool({ name: 'echo', arguments: { text: 'x' } });
    expect(h.executor.requests[0]!.limits).toEqual({ cpuMs: 2000, memoryBytes: 32 * MB });
    await h.agent('t', 'Untrusted', ECHO_ONLY({ limits: { cpuSeconds: 1 } }));
    await (await h.connect({ agent: 't' })).callTool({ name: 'echo', arguments: { text: 'x' } });
    expect(h.executor.requests[1]!.limits).toEqual({ cpuMs: 1000, memoryBytes: 32 * MB });
  });
});

describe('limits that count', () => {
  it('holds calls per minute, says when to retry, and still holds after a restart', async () => {
    let now = Date.UTC(2026, 0, 5, 12, 0, 0);
    const h = await startHarness(undefined, undefined, true, () => now);
    await h.agent('r', 'Untrusted', ECHO_ONLY({ session: { callsPerMinute: 3, maxCalls: 100 } }));
    const endpoint = swappableEndpoint(h.link);
    const client = await h.connect({ agent: 'r' }, endpoint);
    for (let i = 0; i < 3; i++) {
      now += 1000;
      const r = await client.callTool({ name: 'echo', arguments: { text: `${i}` } });
      expect(r.isError, JSON.stringify(r)).toBeFalsy();
    }
    now += 1000;
    const denied = await client.callTool({ name: 'echo', arguments: { text: 'one too many' } });
    expect(errorOf(denied)).toMatchObject({ code: 'policy-denied', details: { rule: 'rate.calls-per-minute', limit: 3, retryAfterMs: 57_000 } });

    // A new service-worker lifetime rebuilds the window from the audit log.
    const restarted = await startHarness(h.dbName, h.executor, false, () => now);
    endpoint.swap(restarted.link);
    expect(errorOf(await client.callTool({ name: 'echo', arguments: { text: 'after restart' } }))).toMatchObject({ details: { rule: 'rate.calls-per-minute' } });
    now += 57_001;
    const later = await client.callTool({ name: 'echo', arguments: { text: 'later' } });
    expect(later.isError, JSON.stringify(later)).toBeFalsy();
  });

  it('holds calls per session', async () => {
    const h = await startHarness();
    await h.agent('s', 'Untrusted', ECHO_ONLY({ session: { maxCalls: 2, callsPerMinute: 100 } }));
    const client = await h.connect({ agent: 's' });
    await client.callTool({ name: 'echo', arguments: { text: '1' } });
    await client.callTool({ name: 'echo', arguments: { text: '2' } });
    expect(errorOf(await client.callTool({ name: 'echo', arguments: { text: '3' } }))).toMatchObject({ details: { rule: 'session.max-calls', limit: 2 } });
    // A new session of the same agent starts from zero.
    expect((await (await h.connect({ agent: 's' })).callTool({ name: 'echo', arguments: { text: '1' } })).isError).toBeFalsy();
  });

  it('ends an idle session after its timeout', async () => {
    let now = Date.UTC(2026, 0, 5, 12, 0, 0);
    const h = await startHarness(undefined, undefined, true, () => now);
    await h.agent('idle', 'Untrusted', ECHO_ONLY());
    const client = await h.connect({ agent: 'idle' });
    now += 9 * 60_000;
    expect((await client.callTool({ name: 'echo', arguments: { text: 'in time' } })).isError).toBeFalsy();
    now += 10 * 60_000 + 1;
    expect(errorOf(await client.callTool({ name: 'echo', arguments: { text: 'too late' } }))).toMatchObject({ details: { rule: 'session.timeout' } });
  });

  it('keeps quiet hours in the policy\'s time zone', async () => {
    let now = Date.UTC(2026, 0, 5, 23, 30, 0); // 23:30 UTC
    const h = await startHarness(undefined, undefined, true, () => now);
    await h.agent('night', 'Untrusted', ECHO_ONLY({ session: { quietHours: { start: '22:00', end: '06:00', timeZone: 'UTC' } } }));
    const client = await h.connect({ agent: 'night' });
    const denied = await client.callTool({ name: 'echo', arguments: { text: 'x' } });
    expect(errorOf(denied)).toMatchObject({ details: { rule: 'quiet-hours', retryAfterMs: 6.5 * 3600_000 } });
    now = Date.UTC(2026, 0, 6, 6, 0, 0);
    // The session idled past its timeout meanwhile; a new one is allowed in the morning.
    expect((await (await h.connect({ agent: 'night' })).callTool({ name: 'echo', arguments: { text: 'x' } })).isError).toBeFalsy();
  });

  it('holds concurrent calls per agent and across agents', async () => {
    const h = await startHarness();
    const gates: (() => void)[] = [];
    h.executor.next = (r) => new Promise((resolve) => gates.push(() => resolve({ ok: true, output: r.tool, durationMs: 1, memoryBytes: 0 })));
    await h.agent('one', 'Untrusted', ECHO_ONLY({ session: { callsPerMinute: 100, maxCalls: 100 } }));
    const one = await h.connect({ agent: 'one' });
    const first = one.callTool({ name: 'echo', arguments: { text: 'slow' } });
    await new Promise((r) => setTimeout(r, 20));
    expect(errorOf(await one.callTool({ name: 'echo', arguments: { text: 'second' } }))).toMatchObject({ details: { rule: 'concurrency.agent', limit: 1 } });

    await writeSettings(h.ctx.db, { globalConcurrentCalls: 1 });
    // An agent that may not wait is refused at once by the sandbox-wide limit.
    await h.agent('impatient', 'FullyTrusted', { version: 1, limits: { queueWaitMs: 0 } });
    const impatient = await h.connect({ agent: 'impatient' });
    expect(errorOf(await impatient.callTool({ name: 'echo', arguments: { text: 'x' } }))).toMatchObject({ code: 'policy-denied', details: { rule: 'concurrency.global', limit: 1 } });
    // One that may wait is served as soon as the running call ends.
    const other = await h.connect({ agent: 'other' });
    const waiting = other.callTool({ name: 'echo', arguments: { text: 'x' } });
    await new Promise((r) => setTimeout(r, 20));
    expect(h.ctx.counters.globalLoad()).toEqual({ running: 1, queued: 1 });
    gates.shift()!();
    await first;
    await new Promise((r) => setTimeout(r, 5));
    gates.shift()!();
    expect((await waiting).isError).toBeFalsy();
    h.executor.next = null;
    expect((await other.callTool({ name: 'echo', arguments: { text: 'x' } })).isError).toBeFalsy();
  });

  it('lets a burst wait in a fair queue, and refuses as busy with retryAfterMs only when the wait runs out', async () => {
    const h = await startHarness();
    await writeSettings(h.ctx.db, { globalConcurrentCalls: 16 });
    // Twenty simultaneous calls from five agents over a sandbox-wide limit of 16: all served.
    const gates: (() => void)[] = [];
    h.executor.next = (r) => new Promise((resolve) => gates.push(() => resolve({ ok: true, output: r.tool, durationMs: 1, memoryBytes: 0 })));
    const clients = await Promise.all(['a1', 'a2', 'a3', 'a4', 'a5'].map(async (id) => {
      await h.agent(id, 'FullyTrusted', { version: 1, limits: { queueWaitMs: 5_000 } });
      return h.connect({ agent: id });
    }));
    const calls = clients.flatMap((c) => Array.from({ length: 4 }, () => c.callTool({ name: 'echo', arguments: { text: 'burst' } })));
    await new Promise((r) => setTimeout(r, 50));
    expect(h.ctx.counters.globalLoad()).toEqual({ running: 16, queued: 4 });
    while (gates.length || h.ctx.counters.globalLoad().running) {
      gates.shift()?.();
      await new Promise((r) => setTimeout(r, 2));
    }
    const results = await Promise.all(calls);
    expect(results.filter((r) => r.isError)).toEqual([]);

    // Over the limit for longer than the agent's queueWaitMs: refused as busy, with a hint.
    await writeSettings(h.ctx.db, { globalConcurrentCalls: 1 });
    const hold = clients[0]!.callTool({ name: 'echo', arguments: { text: 'hold' } });
    await h.agent('brief', 'FullyTrusted', { version: 1, limits: { queueWaitMs: 30 } });
    const brief = await h.connect({ agent: 'brief' });
    await new Promise((r) => setTimeout(r, 20));
    const refused = await brief.callTool({ name: 'echo', arguments: { text: 'x' } });
    expect(errorOf(refused)).toMatchObject({ code: 'busy', details: { rule: 'concurrency.global', limit: 1, waitedMs: 30, retryAfterMs: expect.any(Number) } });
    expect(h.ctx.counters.globalLoad()).toEqual({ running: 1, queued: 0 });
    expect(h.ctx.counters.activeCalls('brief')).toBe(0);
    gates.shift()!();
    await hold;
  });
});

describe('sensitive data', () => {
  it('masks a secret from the arguments wherever the tool echoes it: output, logs, errors, capability requests', async () => {
    const h = await startHarness();
    // Limited's template keeps quiet hours at night (UTC): this test is about data, at any hour.
    await h.agent('u', 'Limited', ECHO_ONLY({ data: { encryptionRequired: false }, session: { quietHours: null } }));
    const secret = 'Tr0ub4dor&3-horse';
    h.executor.next = async (_r, capabilities) => {
      await capabilities?.({ id: 1, fn: 'log', args: { level: 'info', message: `saw ${secret}` } });
      await capabilities?.({ id: 2, fn: 'read-file', args: { path: `./workspace/${secret}` } });
      return { ok: true, output: `the value was ${secret}; card 4111 1111 1111 1111; key AKIAIOSFODNN7EXAMPLE`, durationMs: 1, memoryBytes: 0 };
    };
    const u = await h.connect({ agent: 'u' });
    const result = await u.callTool({ name: 'echo', arguments: { text: `my password is ${secret}` } });
    const text = (result.content as { text: string }[])[0]!.text;
    for (const leaked of [secret, '4111 1111 1111 1111', 'AKIAIOSFODNN7EXAMPLE']) expect(text).not.toContain(leaked);
    const stored = JSON.stringify(await loggedEntries(h.ctx));
    for (const leaked of [secret, '4111 1111 1111 1111', 'AKIAIOSFODNN7EXAMPLE']) expect(stored).not.toContain(leaked);
    expect(result._meta!['mcp-sandbox/sensitive']).toMatchObject({ matchedPatterns: expect.arrayContaining(['password', 'card-number', 'credential:aws-access-key']) });

    h.executor.next = () => ({ ok: false, error: { code: 'tool-error', message: `could not use ${secret}` }, durationMs: 1, memoryBytes: 0 });
    await u.callTool({ name: 'echo', arguments: { text: `password: ${secret}` } });
    expect(JSON.stringify(await loggedEntries(h.ctx))).not.toContain(secret);
  });

  it('redacts matches in the audit log and flags the call; redacts for the agent where the level requires it', async () => {
    const h = await startHarness();
    await h.agent('u', 'Untrusted', ECHO_ONLY());
    const u = await h.connect({ agent: 'u' });
    const result = await u.callTool({ name: 'echo', arguments: { text: 'password=hunter2' } });
    expect(result.content).toEqual([{ type: 'text', text: expect.not.stringContaining('hunter2') }]);
    expect(result._meta!['mcp-sandbox/sensitive']).toMatchObject({ matchedPatterns: ['password'], redactedForAgent: true });
    const audit = await loggedEntries(h.ctx);
    expect(JSON.stringify(audit)).not.toContain('hunter2');
    // Untrusted requires encryption at rest: the result's details are sealed, and open to the admin.
    expect(audit.at(-1)!.sealed).toEqual(['details']);
    expect((await openEntry(audit.at(-1)!, h.ctx.sealer)).details).toMatchObject({ sensitive: { matchedPatterns: ['password'] } });

    // Trusted agents get their own data back unredacted; the audit log still hides it.
    await h.agent('t', 'Trusted', { version: 1, tools: { allowed: ['echo'] } });
    const t = await h.connect({ agent: 't' });
    const plain = await t.callTool({ name: 'echo', arguments: { text: 'password=hunter2' } });
    expect((plain.content as { text: string }[])[0]!.text).toContain('hunter2');
    expect(JSON.stringify(await loggedEntries(h.ctx))).not.toContain('hunter2');
    expect(await verifyChain(await loggedEntries(h.ctx))).toMatchObject({ ok: true });
  });
});

describe('grants and revokes at run time', () => {
  it('open exactly what they name, from the next call on', async () => {
    const h = await startHarness();
    await h.ctx.registry.seed((await import('./support/server-fixture')).MANIFEST, { fixtures: true, now: Date.now() });
    await h.agent('g', 'Untrusted');
    const client = await h.connect({ agent: 'g' });
    expect(errorOf(await client.callTool({ name: 'echo', arguments: { text: 'x' } }))).toMatchObject({ details: { rule: 'tool.not-allowed' } });
    await h.ctx.agents.change('g', 'grant', { kind: 'tool', name: 'echo' });
    expect((await client.callTool({ name: 'echo', arguments: { text: 'x' } })).isError).toBeFalsy();
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['echo']);
    expect(errorOf(await client.callTool({ name: 'loop_forever', arguments: {} }))).toMatchObject({ details: { rule: 'tool.not-allowed' } });
    await h.ctx.agents.change('g', 'revoke', { kind: 'tool', name: 'echo' });
    expect(errorOf(await client.callTool({ name: 'echo', arguments: { text: 'x' } }))).toMatchObject({ details: { rule: 'tool.blocked' } });
  });
});

describe('the seed\'s custom methods', () => {
  it('answers health and get_metrics for the calling agent, and refuses register_agent', async () => {
    const h = await startHarness();
    const client = await h.connect({ agent: 'm' });
    await client.callTool({ name: 'echo', arguments: { text: 'x' } });
    const health = await client.request({ method: 'health' } as never, z.object({ status: z.string(), agent: z.string() }).passthrough());
    expect(health).toMatchObject({ status: 'ok', agent: 'm' });
    const metrics = await client.request({ method: 'get_metrics' } as never, z.object({ metrics: z.object({ agentId: z.string(), calls: z.number(), ok: z.number() }).passthrough() }));
    expect(metrics.metrics).toMatchObject({ agentId: 'm', calls: 1, ok: 1, denied: 0 });
    await expect(client.request({ method: 'register_agent', params: { name: 'evil' } } as never, z.object({}))).rejects.toMatchObject({ code: RpcCode.Forbidden });
    expect(await h.ctx.agents.list()).toHaveLength(1);
  });
});

describe('execute_code under policy', () => {
  async function withExecuteCode() {
    const h = await startHarness();
    const { EXECUTE_CODE_METADATA } = await import('../../src/shared/execute-code');
    await h.ctx.registry.seed({ version: 1, tools: [], builtins: [{ name: 'execute_code', dir: 'tools/execute_code/', coreModules: ['quickjs.wasm'], sha256: 'e'.repeat(64), size: 1, metadata: EXECUTE_CODE_METADATA as never }] }, { fixtures: false, now: Date.now() });
    return h;
  }

  it('refuses a language outside tools.codeLanguages before anything runs, and runs an allowed one', async () => {
    const h = await withExecuteCode();
    await h.agent('js-only', 'Limited', { version: 1, session: { quietHours: null } });
    const client = await h.connect({ agent: 'js-only' });
    const denied = await client.callTool({ name: 'execute_code', arguments: { language: 'python', code: 'print(1)' } });
    expect(errorOf(denied)).toMatchObject({ code: 'policy-denied', details: { rule: 'code.language-not-allowed', limit: ['javascript'], observed: 'python' } });
    expect(h.executor.requests).toHaveLength(0);
    h.executor.next = () => ({ ok: true, output: JSON.stringify({ result: 2, stdout: '', stderr: '', durationMs: 1, memoryBytes: 1 }), durationMs: 1, memoryBytes: 1 });
    const ran = await client.callTool({ name: 'execute_code', arguments: { language: 'javascript', code: '1 + 1' } });
    expect(ran.isError).toBeFalsy();
  });

  it('declares its outputSchema in tools/list and answers with structuredContent the SDK Client validates', async () => {
    const h = await withExecuteCode();
    const client = await h.connect({ agent: 'full' });
    const listed = (await client.listTools()).tools.find((t) => t.name === 'execute_code')!;
    expect(listed.outputSchema).toMatchObject({ type: 'object' });
    h.executor.next = () => ({ ok: true, output: JSON.stringify({ result: { sum: 3 }, stdout: 'hi\n', stderr: '', durationMs: 1, memoryBytes: 1 }), durationMs: 1, memoryBytes: 1 });
    const ran = await client.callTool({ name: 'execute_code', arguments: { language: 'javascript', code: '({sum: 1 + 2})' } });
    expect(ran.structuredContent).toMatchObject({ result: { sum: 3 }, stdout: 'hi\n' });
    expect(JSON.parse((ran.content as { text: string }[])[0]!.text)).toEqual(ran.structuredContent);
  });
});
