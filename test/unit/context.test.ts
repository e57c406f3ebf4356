import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { loggedEntries, startHarness, type Harness } from './support/server-fixture';
import { setGlobalVariable, setContextLevel } from '../../src/server/context-admin';

const Any = z.object({}).passthrough();

async function set(client: Client, params: Record<string, unknown>) {
  return client.request({ method: 'mcp-sandbox/context/set', params } as never, Any);
}
async function clear(client: Client, params: Record<string, unknown>) {
  return client.request({ method: 'mcp-sandbox/context/clear', params } as never, Any);
}
async function level(client: Client, params: Record<string, unknown>) {
  return client.request({ method: 'mcp-sandbox/context/level', params } as never, Any);
}
async function variables(client: Client, conversation: string): Promise<Record<string, { value: unknown; sharing: string }>> {
  const read = await client.readResource({ uri: `context://conversation/${encodeURIComponent(conversation)}` });
  return (JSON.parse((read.contents[0] as { text: string }).text) as { variables: Record<string, { value: unknown; sharing: string }> }).variables;
}
const valuesOf = (vars: Record<string, { value: unknown }>) => Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, v.value]));
const sessionOf = (client: Client) => client.transport!.sessionId!;
async function failure(p: Promise<unknown>): Promise<{ code: number; message: string; data?: Record<string, unknown> }> {
  try {
    await p;
  } catch (error) {
    return error as { code: number; message: string; data?: Record<string, unknown> };
  }
  throw new Error('expected a failure');
}
const callIn = (client: Client, conversation: string | undefined, args: Record<string, unknown> = { text: 'hi' }) =>
  client.callTool({ name: 'echo', arguments: args, ...(conversation ? { _meta: { 'mcp-sandbox/conversation': conversation } } : {}) });

async function twoAgents(): Promise<{ h: Harness; a1: Client; a1b: Client; b: Client }> {
  const h = await startHarness();
  const a1 = await h.connect({ agent: 'agent-a' });
  const a1b = await h.connect({ agent: 'agent-a' }); // the same agent, another session
  const b = await h.connect({ agent: 'agent-b' });
  return { h, a1, a1b, b };
}

describe('conversation context over MCP: each sharing rule reaches where it says and no further', () => {
  it('Private stays in its conversation; SessionOnly in its session; UserScoped with its agent; Global everywhere', async () => {
    const { h, a1, a1b, b } = await twoAgents();
    await set(a1, { conversation: 'chat-1', name: 'p', value: 'private-1' });
    await set(a1, { conversation: 'chat-1', name: 's', value: 'session-1', sharing: 'SessionOnly' });
    await set(a1, { conversation: 'chat-1', name: 'u', value: { lang: 'en' }, sharing: 'UserScoped' });
    await setGlobalVariable(h.ctx, { name: 'g', value: 42 });

    expect(valuesOf(await variables(a1, 'chat-1'))).toEqual({ p: 'private-1', s: 'session-1', u: { lang: 'en' }, g: 42 });
    // A conversation starts with its first use (a call naming it).
    for (const [client, conversation] of [[a1, 'chat-2'], [b, 'chat-1']] as const) expect((await callIn(client, conversation)).isError).toBeFalsy();
    // Same agent and session, another conversation: no Private.
    expect(valuesOf(await variables(a1, 'chat-2'))).toEqual({ s: 'session-1', u: { lang: 'en' }, g: 42 });
    // Same agent, same conversation, another session: no SessionOnly.
    expect(valuesOf(await variables(a1b, 'chat-1'))).toEqual({ p: 'private-1', u: { lang: 'en' }, g: 42 });
    // Another agent with a conversation of the same name: Global only.
    expect(valuesOf(await variables(b, 'chat-1'))).toEqual({ g: 42 });
  });

  it('the most specific variable of a name wins, and clearing it shows the next', async () => {
    const { a1 } = await twoAgents();
    await set(a1, { conversation: 'c', name: 'x', value: 'user', sharing: 'UserScoped' });
    await set(a1, { conversation: 'c', name: 'x', value: 'mine' });
    expect(await variables(a1, 'c')).toMatchObject({ x: { value: 'mine', sharing: 'Private' } });
    await clear(a1, { conversation: 'c', name: 'x' });
    expect(await variables(a1, 'c')).toMatchObject({ x: { value: 'user', sharing: 'UserScoped' } });
  });

  it('an agent reads only its own conversations: another agent\'s session or named one is not found', async () => {
    const { a1, b } = await twoAgents();
    await set(a1, { name: 'secret', value: 'a-only' }); // the session's own conversation
    expect(valuesOf(await variables(a1, sessionOf(a1)))).toEqual({ secret: 'a-only' });
    const denied = await failure(b.readResource({ uri: `context://conversation/${sessionOf(a1)}` }));
    expect(denied.data).toMatchObject({ code: 'unknown-resource' });
    expect(denied.message).not.toContain('a-only');
    // A named conversation of A: B reading that name gets its own (empty), never A's variables.
    await set(a1, { conversation: 'shared-name', name: 'k', value: 'a-value' });
    const mine = await failure(b.readResource({ uri: 'context://conversation/never-used-by-b' }));
    expect(mine.data).toMatchObject({ code: 'unknown-resource' });
  });

  it('refuses a Global write by an agent, audits the refusal, and stores nothing', async () => {
    const { h, a1, b } = await twoAgents();
    const denied = await failure(set(a1, { name: 'g', value: 'mine now', sharing: 'Global' }));
    expect(denied.data).toMatchObject({ code: 'policy-denied', rule: 'context.global-admin-only', layer: 'context' });
    expect(valuesOf(await variables(b, sessionOf(b)))).toEqual({});
    const entries = (await loggedEntries(h.ctx)).filter((e) => e.event === 'context.change');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ outcome: 'denied', agentId: 'agent-a', error: { details: { rule: 'context.global-admin-only' } }, details: { op: 'refused', name: 'g', sharing: 'Global' } });
  });

  it('refuses an invalid conversation id, a value over the cap and a bad name', async () => {
    const { a1 } = await twoAgents();
    expect((await failure(set(a1, { conversation: 'x'.repeat(129), name: 'n', value: 1 }))).data).toMatchObject({ rule: 'context.conversation-invalid' });
    expect((await failure(set(a1, { name: 'n', value: 'x'.repeat(16 * 1024) }))).data).toMatchObject({ rule: 'context.value-too-large' });
    expect((await failure(set(a1, { name: 'no spaces', value: 1 }))).data).toMatchObject({ rule: 'context.name-invalid' });
    const call = await failure(callIn(a1, 'bad id!'));
    expect(call.data).toMatchObject({ rule: 'context.conversation-invalid' });
  });
});

describe('audit of context changes', () => {
  it('records set and clear with before and after, values redacted by the policy', async () => {
    const { h, a1 } = await twoAgents();
    await set(a1, { conversation: 'c', name: 'topic', value: 'cats' });
    await set(a1, { conversation: 'c', name: 'topic', value: 'dogs' });
    await clear(a1, { conversation: 'c', name: 'topic' });
    const changes = (await loggedEntries(h.ctx)).filter((e) => e.event === 'context.change').map((e) => e.details);
    expect(changes).toEqual([
      { conversation: 'c', actor: 'agent', name: 'topic', sharing: 'Private', op: 'set', before: null, after: { value: 'cats', sharing: 'Private', updatedBy: 'agent' } },
      { conversation: 'c', actor: 'agent', name: 'topic', sharing: 'Private', op: 'set', before: { value: 'cats', sharing: 'Private', updatedBy: 'agent' }, after: { value: 'dogs', sharing: 'Private', updatedBy: 'agent' } },
      { conversation: 'c', actor: 'agent', name: 'topic', sharing: 'Private', op: 'clear', before: { value: 'dogs', sharing: 'Private', updatedBy: 'agent' }, after: null },
    ]);
  });

  it('redacts a secret value in what the audit keeps (the context keeps it for the agent)', async () => {
    const h = await startHarness();
    await h.agent('agent-r', 'Trusted');
    const c = await h.connect({ agent: 'agent-r' });
    await set(c, { name: 'creds', value: { password: 'hunter2-Secret' } });
    const [entry] = (await loggedEntries(h.ctx)).filter((e) => e.event === 'context.change');
    expect(JSON.stringify(entry!.details)).not.toContain('hunter2-Secret');
    expect(valuesOf(await variables(c, sessionOf(c)))).toEqual({ creds: { password: 'hunter2-Secret' } });
  });
});

describe('context_updates out of a tool result', () => {
  it('applies them as the agent (never Global), audits each, reports them in _meta', async () => {
    const { h, a1, b } = await twoAgents();
    h.executor.next = async () => ({
      ok: true,
      output: JSON.stringify({ answer: 1, context_updates: { topic: { value: 'cats' }, lang: { value: 'en', sharing: 'UserScoped' }, all: { value: 'x', sharing: 'Global' } } }),
      durationMs: 1,
      memoryBytes: 0,
    });
    const result = await callIn(a1, 'chat-9');
    expect(result.isError).toBeFalsy();
    expect(result._meta!['mcp-sandbox/context']).toEqual({
      conversation: 'chat-9',
      applied: [
        { name: 'topic', sharing: 'Private', op: 'set' },
        { name: 'lang', sharing: 'UserScoped', op: 'set' },
      ],
      refused: [{ name: 'all', rule: 'context.global-admin-only', reason: expect.any(String) }],
    });
    expect(valuesOf(await variables(a1, 'chat-9'))).toEqual({ topic: 'cats', lang: 'en' });
    // Another agent's conversation of the same name is its own.
    h.executor.next = null;
    await callIn(b, 'chat-9');
    expect(valuesOf(await variables(b, 'chat-9'))).toEqual({});
    const changes = (await loggedEntries(h.ctx)).filter((e) => e.event === 'context.change');
    expect(changes.map((e) => [e.outcome, e.tool, (e.details as { actor: string }).actor, (e.details as { name: string }).name])).toEqual([
      ['denied', 'echo', 'tool', 'all'],
      ['info', 'echo', 'tool', 'topic'],
      ['info', 'echo', 'tool', 'lang'],
    ]);

    // A clear out of a tool.
    h.executor.next = async () => ({ ok: true, output: JSON.stringify({ context_updates: { topic: null } }), durationMs: 1, memoryBytes: 0 });
    await callIn(a1, 'chat-9');
    expect(valuesOf(await variables(a1, 'chat-9'))).toEqual({ lang: 'en' });
  });

  it('leaves a result without context_updates alone (no _meta key)', async () => {
    const { a1 } = await twoAgents();
    const result = await callIn(a1, 'chat-9');
    expect(result._meta!['mcp-sandbox/context']).toBeUndefined();
  });
});

describe('security level: narrows, never widens, and a denial names its layer', () => {
  it('Strict in one conversation denies a call the agent may make elsewhere, with layer context', async () => {
    const { h, a1 } = await twoAgents();
    expect((await callIn(a1, 'careful')).isError).toBeFalsy();
    await level(a1, { conversation: 'careful', level: 'Strict' });
    const denied = await callIn(a1, 'careful');
    expect(denied.isError).toBe(true);
    expect(denied._meta!['mcp-sandbox/error']).toMatchObject({ code: 'policy-denied', details: { rule: 'tool.not-allowed', layer: 'context' } });
    // Another conversation of the same session is not narrowed.
    expect((await callIn(a1, 'other')).isError).toBeFalsy();
    expect((await callIn(a1, undefined)).isError).toBeFalsy();
    // The agent cannot widen it back; an admin can.
    expect((await failure(level(a1, { conversation: 'careful', level: 'Permissive' }))).data).toMatchObject({ rule: 'context.level-widen' });
    await setContextLevel(h.ctx, { agentId: 'agent-a', conversation: 'careful', level: 'Permissive' });
    expect((await callIn(a1, 'careful')).isError).toBeFalsy();
    const levels = (await loggedEntries(h.ctx)).filter((e) => e.event === 'context.change').map((e) => [e.outcome, (e.details as { op: string }).op]);
    expect(levels).toEqual([
      ['info', 'level'],
      ['denied', 'refused'],
      ['info', 'level'],
    ]);
  });

  it('narrows tools/list of a session whose own conversation is Strict', async () => {
    const { a1, a1b } = await twoAgents();
    expect((await a1.listTools()).tools.map((t) => t.name)).toEqual(['echo']);
    await level(a1, { level: 'Strict' });
    expect((await a1.listTools()).tools.map((t) => t.name)).toEqual([]);
    expect((await callIn(a1, undefined))._meta!['mcp-sandbox/error']).toMatchObject({ details: { rule: 'tool.not-allowed', layer: 'context' } });
    // The agent's other session is its own conversation, not narrowed.
    expect((await a1b.listTools()).tools.map((t) => t.name)).toEqual(['echo']);
  });

  it('a denial of the agent policy itself names the agent layer', async () => {
    const h = await startHarness();
    await h.agent('narrow', 'Trusted', { version: 1, tools: { allowed: ['text_stats'] } });
    const c = await h.connect({ agent: 'narrow' });
    await level(c, { conversation: 'x', level: 'Strict' });
    const denied = await callIn(c, 'x');
    expect(denied._meta!['mcp-sandbox/error']).toMatchObject({ details: { rule: 'tool.not-allowed', layer: 'agent' } });
  });

  it('a Custom level that tries to widen (a FullyTrusted document) leaves the call under the agent policy', async () => {
    const h = await startHarness();
    await h.agent('limited-one', 'Trusted', { version: 1, tools: { allowed: ['text_stats'] } });
    const c = await h.connect({ agent: 'limited-one' });
    await level(c, { conversation: 'w', level: { level: 'Custom', policy: { version: 1, trustLevel: 'FullyTrusted', tools: { allowed: ['*'] } } } });
    const denied = await callIn(c, 'w');
    expect(denied._meta!['mcp-sandbox/error']).toMatchObject({ details: { rule: 'tool.not-allowed', layer: 'agent' } });
  });

  it('a narrowed context lowers the limits a call runs with', async () => {
    const { h, a1 } = await twoAgents();
    await level(a1, { conversation: 'small', level: { level: 'Custom', policy: { version: 1, limits: { memoryMb: 16 } } } });
    await callIn(a1, 'small');
    expect(h.executor.requests.at(-1)!.limits.memoryBytes).toBe(16 * 1024 * 1024);
  });
});

describe('a context survives a service-worker stop', () => {
  it('is read from IndexedDB by the next lifetime: variables, level and start', async () => {
    const first = await startHarness();
    const a = await first.connect({ agent: 'agent-a' });
    await set(a, { conversation: 'long', name: 'kept', value: [1, 2, 3] });
    await set(a, { conversation: 'long', name: 'kept-user', value: 'u', sharing: 'UserScoped' });
    await level(a, { conversation: 'long', level: 'Strict' });
    const before = JSON.parse(((await a.readResource({ uri: 'context://conversation/long' })).contents[0] as { text: string }).text) as { startedAt: string };
    await first.ctx.audit.settled();

    // A new lifetime: a fresh server context over the same database, nothing in memory.
    const second = await startHarness(first.dbName, undefined, false);
    const again = await second.connect({ sessionId: sessionOf(a) });
    const after = JSON.parse(((await again.readResource({ uri: 'context://conversation/long' })).contents[0] as { text: string }).text) as { startedAt: string; securityLevel: unknown; variables: Record<string, { value: unknown }> };
    expect(valuesOf(after.variables)).toEqual({ kept: [1, 2, 3], 'kept-user': 'u' });
    expect(after.securityLevel).toEqual({ level: 'Strict' });
    expect(after.startedAt).toBe(before.startedAt);
    expect((await callIn(again, 'long'))._meta!['mcp-sandbox/error']).toMatchObject({ details: { layer: 'context' } });
  });
});

describe('resources', () => {
  it('lists the conversation template, and announces a subscribed conversation as updated when it changes', async () => {
    const { a1 } = await twoAgents();
    const templates = await a1.listResourceTemplates();
    expect(templates.resourceTemplates.map((t) => t.uriTemplate)).toContain('context://conversation/{id}');
    const updated: string[] = [];
    const { ResourceUpdatedNotificationSchema } = await import('@modelcontextprotocol/sdk/types.js');
    a1.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updated.push(n.params.uri));
    await a1.subscribeResource({ uri: 'context://conversation/watched' });
    await set(a1, { conversation: 'watched', name: 'n', value: 1 });
    await new Promise((r) => setTimeout(r, 20));
    expect(updated).toContain('context://conversation/watched');
  });
});
