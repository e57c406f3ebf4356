import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { argumentShape, foldToolUses, MAX_PREFERRED_ARGUMENT_CHARS, MAX_TOOL_PREFERENCES, PREFERENCES_META_KEY, preferredArgumentsOf, shapeHash, type ToolUse } from '../../src/server/preferences';
import { validateToolMetadata } from '../../src/shared/tool-metadata';
import { hostImports, NO_CONTEXT } from '../../src/sandbox/worker/host-imports';
import { reachesOut } from '../../src/sandbox/host/capability-imports';
import { setGlobalVariable } from '../../src/server/context-admin';
import { manifestTool, startHarness, type Harness } from './support/server-fixture';

const Any = z.object({}).passthrough();
const use = (tool: string, ok: boolean, at: number, args: unknown = {}): ToolUse => ({ tool, ok, outcome: ok ? 'ok' : 'tool-error', at, args });

describe('tool preferences (pure)', () => {
  it('a shape names keys and types, not values; its hash is stable and tells shapes apart', () => {
    expect(argumentShape({ b: 1, a: ['x', 'y', 2] })).toBe('{"a":[number|string],"b":number}');
    expect(argumentShape({ a: ['other'], b: 99 })).toBe(argumentShape({ b: 1, a: ['x'] }).replace('[string]', '[string]'));
    expect(shapeHash(argumentShape({ a: 1 }))).toBe(shapeHash(argumentShape({ a: 2 })));
    expect(shapeHash(argumentShape({ a: 1 }))).not.toBe(shapeHash(argumentShape({ a: '1' })));
    expect(shapeHash('x')).toMatch(/^[0-9a-f]{14}$/);
  });

  it('preferred arguments are capped in size, and withheld (shape only) when the policy seals what it audits', () => {
    expect(preferredArgumentsOf({ q: 'a' }, 5)).toEqual({ shape: shapeHash(argumentShape({ q: '' })), arguments: { q: 'a' }, at: 5 });
    const big = preferredArgumentsOf({ text: 'x'.repeat(MAX_PREFERRED_ARGUMENT_CHARS) }, 5);
    expect(big).toMatchObject({ arguments: null, truncated: true });
    expect(big.shape).toBe(shapeHash(argumentShape({ text: '' })));
    expect(preferredArgumentsOf({ q: 'a' }, 5, true)).toEqual({ shape: shapeHash(argumentShape({ q: '' })), arguments: null, at: 5, withheld: true });
  });

  it('per tool: calls, success rate as of the last call, weight as its share, last success\'s arguments', () => {
    const prefs = foldToolUses(undefined, [use('a', true, 1, { n: 1 }), use('a', false, 2, { n: 2 }), use('b', true, 3), use('a', true, 4, { n: 3 })]);
    expect(prefs['a']).toMatchObject({ calls: 3, ok: 2, successRate: 2 / 3, weight: 0.75, lastOutcome: 'ok', lastUsedAt: 4, preferred: { arguments: { n: 3 }, at: 4 } });
    expect(prefs['b']).toMatchObject({ calls: 1, weight: 0.25, successRate: 1 });
    // A failure keeps the last success's arguments.
    const after = foldToolUses(prefs, [use('a', false, 5, { n: 4 })]);
    expect(after['a']).toMatchObject({ calls: 4, lastOutcome: 'tool-error', preferred: { arguments: { n: 3 } } });
    expect(prefs['a']!.calls).toBe(3); // the previous fold is not changed
  });

  it(`keeps at most ${MAX_TOOL_PREFERENCES} tools, dropping the least recently used`, () => {
    const uses = Array.from({ length: MAX_TOOL_PREFERENCES + 3 }, (_, i) => use(`t${i}`, true, i));
    const prefs = foldToolUses(undefined, uses);
    expect(Object.keys(prefs)).toHaveLength(MAX_TOOL_PREFERENCES);
    expect(prefs['t0']).toBeUndefined();
    expect(prefs[`t${MAX_TOOL_PREFERENCES + 2}`]).toBeDefined();
  });
});

async function conversationDoc(client: Client, id: string): Promise<{ toolPreferences: Record<string, Record<string, unknown>>; variables: Record<string, unknown> }> {
  const read = await client.readResource({ uri: `context://conversation/${encodeURIComponent(id)}` });
  return JSON.parse((read.contents[0] as { text: string }).text) as never;
}
const inConversation = (client: Client, conversation: string, name: string, args: Record<string, unknown>) => client.callTool({ name, arguments: args, _meta: { 'mcp-sandbox/conversation': conversation } });

describe('tool preferences per conversation, through the server', () => {
  it('are kept in the conversation, readable in its resource, per conversation, redacted', async () => {
    const h = await startHarness();
    await h.agent('p', 'FullyTrusted', { version: 1, data: { sensitivePatterns: ['password'] } });
    // Redacted as the audit keeps them: the policy's pattern and credential formats.
    const client = await h.connect({ agent: 'p' });
    await inConversation(client, 'chat', 'echo', { text: 'hello' });
    h.executor.next = () => ({ ok: false, error: { code: 'tool-error', message: 'no' }, durationMs: 1, memoryBytes: 0 });
    await inConversation(client, 'chat', 'echo', { text: 'fails' });
    h.executor.next = null;
    await inConversation(client, 'chat', 'echo', { text: 'password=hunter2 AKIAIOSFODNN7EXAMPLE' });
    await inConversation(client, 'other', 'echo', { text: 'elsewhere' });
    const doc = await conversationDoc(client, 'chat');
    expect(doc.toolPreferences['echo']).toMatchObject({ calls: 3, ok: 2, weight: 1, lastOutcome: 'ok', preferred: { shape: shapeHash(argumentShape({ text: '' })) } });
    expect(doc.toolPreferences['echo']!['successRate']).toBeCloseTo(2 / 3);
    expect(JSON.stringify(doc.toolPreferences)).not.toContain('hunter2');
    expect(JSON.stringify(doc.toolPreferences)).not.toContain('AKIAIOSFODNN7EXAMPLE');
    expect(JSON.stringify(doc.toolPreferences['echo']!['preferred'])).toContain('[REDACTED]');
    expect((await conversationDoc(client, 'other')).toolPreferences['echo']).toMatchObject({ calls: 1, preferred: { arguments: { text: 'elsewhere' } } });
    // Written behind: the stored record (a new service-worker lifetime) has them too.
    const h2 = await startHarness(h.dbName);
    const stored = await h2.ctx.contexts.stored('p', 'chat');
    expect(stored?.preferences?.['echo']).toMatchObject({ calls: 3 });
  });

  it('are offered on a failure, never applied: the next call runs with the arguments the agent sent', async () => {
    const h = await startHarness();
    const client = await h.connect({ agent: 'q' });
    await inConversation(client, 'c', 'echo', { text: 'good' });
    await h.ctx.contexts.usesSettled();
    h.executor.next = () => ({ ok: false, error: { code: 'tool-error', message: 'no' }, durationMs: 1, memoryBytes: 0 });
    const failed = await inConversation(client, 'c', 'echo', { text: 'bad' });
    expect(failed._meta?.[PREFERENCES_META_KEY]).toMatchObject({ tool: 'echo', calls: 1, preferredArguments: { text: 'good' } });
    expect(h.executor.requests.at(-1)!.args).toBe('{"text":"bad"}');
    // A schema refusal offers them too (the shape that worked).
    const refused = await inConversation(client, 'c', 'echo', { nope: 1 });
    expect(refused._meta?.[PREFERENCES_META_KEY]).toMatchObject({ preferredArguments: { text: 'good' } });
    // A success offers nothing.
    h.executor.next = null;
    expect((await inConversation(client, 'c', 'echo', { text: 'x' }))._meta?.[PREFERENCES_META_KEY]).toBeUndefined();
  });

  it('an agent whose policy seals what it audits keeps only the shape of its arguments', async () => {
    const h = await startHarness();
    await h.agent('sealed', 'FullyTrusted', { version: 1, data: { encryptionRequired: true } });
    const client = await h.connect({ agent: 'sealed' });
    await inConversation(client, 'c', 'echo', { text: 'private matter' });
    const doc = await conversationDoc(client, 'c');
    expect(doc.toolPreferences['echo']!['preferred']).toMatchObject({ arguments: null, withheld: true, shape: shapeHash(argumentShape({ text: '' })) });
    expect(JSON.stringify(doc)).not.toContain('private matter');
  });

  it('a session that names no conversation keeps none until its conversation is stored', async () => {
    const h = await startHarness();
    const client = await h.connect({ agent: 's' });
    const session = client.transport!.sessionId!;
    await client.callTool({ name: 'echo', arguments: { text: 'a' } });
    await h.ctx.contexts.usesSettled();
    expect((await h.ctx.contexts.stored('s', session))?.preferences).toBeUndefined();
    expect(await (await h.ctx.db.get()).get('contexts', `conversation|s|${session}`)).toBeUndefined();
    await client.request({ method: 'mcp-sandbox/context/set', params: { name: 'x', value: 1 } } as never, Any);
    await client.callTool({ name: 'echo', arguments: { text: 'b' } });
    expect((await conversationDoc(client, session)).toolPreferences['echo']).toMatchObject({ calls: 1, preferred: { arguments: { text: 'b' } } });
  });
});

describe('context into tools', () => {
  async function harness(): Promise<Harness> {
    const h = await startHarness(undefined, undefined, false);
    await h.ctx.registry.seed({ version: 1, tools: [manifestTool('echo'), manifestTool('aware', { context: true })] }, { fixtures: false, now: Date.now() });
    return h;
  }

  it('metadata: `context` must be a boolean; true is kept, anything else refused', () => {
    const base = { name: 'x', description: 'd', version: '1.0.0', inputSchema: { type: 'object' } };
    expect(validateToolMetadata({ ...base, context: true })).toMatchObject({ ok: true, metadata: { context: true } });
    const without = validateToolMetadata(base);
    expect(without.ok && without.metadata.context).toBeFalsy();
    expect(validateToolMetadata({ ...base, context: 'yes' })).toMatchObject({ ok: false, errors: [{ field: 'context' }] });
  });

  it('a declaring tool gets conversation, agent, session start and only the variables visible to the call; its arguments are untouched', async () => {
    const h = await harness();
    const a = await h.connect({ agent: 'agent-a' });
    const a2 = await h.connect({ agent: 'agent-a' });
    const b = await h.connect({ agent: 'agent-b' });
    const set = (c: Client, params: Record<string, unknown>) => c.request({ method: 'mcp-sandbox/context/set', params } as never, Any);
    await set(a, { conversation: 'chat', name: 'mine', value: 'private-here' });
    await set(a, { conversation: 'elsewhere', name: 'hidden', value: 'other conversation' });
    await set(a, { conversation: 'chat', name: 'lang', value: 'en', sharing: 'UserScoped' });
    await set(a2, { conversation: 'chat', name: 'theirs', value: 'other session', sharing: 'SessionOnly' });
    await set(b, { conversation: 'chat', name: 'mine', value: 'agent b' });
    await setGlobalVariable(h.ctx, { name: 'g', value: 1 });
    const result = await inConversation(a, 'chat', 'aware', { text: 'hi' });
    expect(result.isError).toBeFalsy();
    const request = h.executor.requests.at(-1)!;
    expect(request.args).toBe('{"text":"hi"}');
    const context = JSON.parse(request.context!) as Record<string, unknown>;
    const session = (await h.ctx.sessions.get(a.transport!.sessionId!))!;
    expect(context).toEqual({
      conversation: 'chat',
      agentId: 'agent-a',
      sessionId: session.id,
      sessionStartedAt: new Date(session.createdAt).toISOString(),
      conversationStartedAt: expect.any(String),
      securityLevel: 'Permissive',
      variables: { mine: { value: 'private-here', sharing: 'Private' }, lang: { value: 'en', sharing: 'UserScoped' }, g: { value: 1, sharing: 'Global' } },
    });
  });

  it('a tool that did not declare it gets nothing, in the request or from get-context', async () => {
    const h = await harness();
    const a = await h.connect({ agent: 'agent-a' });
    await a.request({ method: 'mcp-sandbox/context/set', params: { conversation: 'chat', name: 'secret', value: 's' } } as never, Any);
    await inConversation(a, 'chat', 'echo', { text: 'hi' });
    const request = h.executor.requests.at(-1)!;
    expect(request.context).toBeUndefined();
    expect(JSON.stringify(request)).not.toContain('secret');
    // The worker's import refuses without a context, answers with one.
    const host = (hostImports(undefined).imports['mcp-sandbox:tool/host'] as { getContext(): unknown }).getContext();
    expect(host).toEqual({ tag: 'err', val: NO_CONTEXT });
    expect((hostImports(undefined, '{"a":1}').imports['mcp-sandbox:tool/host'] as { getContext(): unknown }).getContext()).toEqual({ tag: 'ok', val: '{"a":1}' });
  });

  it('imports made ahead of their call answer nothing of a call until bound, then only that call, once', async () => {
    const ahead = hostImports();
    const host = ahead.imports['mcp-sandbox:tool/host'] as { getContext(): unknown; readFile(path: string): Promise<unknown> };
    expect(host.getContext()).toEqual({ tag: 'err', val: NO_CONTEXT });
    expect(await host.readFile('a.txt')).toEqual({ tag: 'err', val: 'read-file is not available in this sandbox' });
    const { port1, port2 } = new MessageChannel();
    port2.onmessage = (event: MessageEvent<{ id: number }>) => port2.postMessage({ id: event.data.id, ok: true, value: 'contents' });
    ahead.bind(port1, '{"b":2}');
    expect(host.getContext()).toEqual({ tag: 'ok', val: '{"b":2}' });
    expect(await host.readFile('a.txt')).toEqual({ tag: 'ok', val: 'contents' });
    // An instance serves one call: its imports cannot be handed to another.
    expect(() => ahead.bind(undefined, '{"c":3}')).toThrow('already serve a call');
    expect(host.getContext()).toEqual({ tag: 'ok', val: '{"b":2}' });
    ahead.close();
    port2.close();
  });

  it('get-context needs no capability port: it is answered in the worker', () => {
    const bytes = (s: string) => [...new TextEncoder().encode(s)];
    const m = 'mcp-sandbox:tool/host@0.1.0';
    const entry = [bytes(m).length, ...bytes(m), bytes('get-context').length, ...bytes('get-context'), 0x00, 0x00];
    const section = [1, ...entry];
    const module = new WebAssembly.Module(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0, 0, 0, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x02, section.length, ...section]));
    expect(reachesOut({ 'a.core.wasm': module })).toBe(false);
  });

  it('the audit names the variables a tool was given (names only)', async () => {
    const h = await harness();
    const a = await h.connect({ agent: 'agent-a' });
    await a.request({ method: 'mcp-sandbox/context/set', params: { conversation: 'chat', name: 'topic', value: 'cats' } } as never, Any);
    await inConversation(a, 'chat', 'aware', { text: 'hi' });
    await h.ctx.audit.settled();
    const { readAudit } = await import('../../src/store/audit');
    const request = (await readAudit(h.ctx.db)).filter((e) => e.event === 'call.request').at(-1)!;
    expect(request.details).toMatchObject({ contextVariables: ['topic'] });
    expect(JSON.stringify(request)).not.toContain('cats');
  });
});
