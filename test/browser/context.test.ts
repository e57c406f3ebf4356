import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { admin, connectAgent, launchBrowser, openApp, registerAgent, stopServiceWorker } from './harness';

// Conversation contexts end to end (docs/context.md): two agents, two conversations, each
// sharing rule's reach and denial, a security level narrowing a call, the audit of set/clear,
// and a context surviving a service-worker stop.

let browser: Browser;
let context: BrowserContext;
let page: Page;
const sessions: Record<string, string> = {};

beforeAll(async () => {
  browser = await launchBrowser();
  ({ context, page } = await openApp(browser));
  // The same agent in two sessions.
  const token = await registerAgent(page, { id: 'ctx-a' });
  sessions['a1'] = await connectAgent(page, 'a1', { agent: 'ctx-a', token });
  sessions['a2'] = await connectAgent(page, 'a2', { agent: 'ctx-a', token });
  sessions['b'] = await connectAgent(page, 'b', { agent: 'ctx-b' });
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
});

type Outcome<T> = { ok: true; value: T } | { ok: false; code: number; message: string; data?: Record<string, unknown> };

/** Runs one of the client library's context helpers for a connected client, in the page. */
async function lib<T = Record<string, unknown>>(client: string, fn: 'setContextVariable' | 'clearContextVariable' | 'setContextLevel' | 'readConversation', ...args: unknown[]): Promise<Outcome<T>> {
  return page.evaluate(
    async ({ client, fn, args }) => {
      const w = window as unknown as { sandboxClientLib: Record<string, (...a: unknown[]) => Promise<unknown>>; agents: Record<string, unknown> };
      try {
        return { ok: true as const, value: (await w.sandboxClientLib[fn]!(w.agents[client], ...args)) as never };
      } catch (error) {
        const e = error as { code: number; message: string; data?: Record<string, unknown> };
        return { ok: false as const, code: e.code, message: e.message, ...(e.data ? { data: e.data } : {}) };
      }
    },
    { client, fn, args },
  ) as Promise<Outcome<T>>;
}

/** tools/call in a conversation (`_meta['mcp-sandbox/conversation']`). */
async function callIn(client: string, conversation: string | undefined, name: string, args: Record<string, unknown>): Promise<{ isError?: boolean; _meta?: Record<string, unknown> }> {
  return page.evaluate(
    async ({ client, conversation, name, args }) => {
      const c = (window as unknown as { agents: Record<string, { callTool(p: unknown): Promise<unknown> }> }).agents[client]!;
      return (await c.callTool({ name, arguments: args, ...(conversation ? { _meta: { 'mcp-sandbox/conversation': conversation } } : {}) })) as { isError?: boolean; _meta?: Record<string, unknown> };
    },
    { client, conversation, name, args },
  );
}

async function values(client: string, conversation: string): Promise<Record<string, unknown>> {
  const read = await lib<{ variables: Record<string, { value: unknown }> }>(client, 'readConversation', conversation);
  if (!read.ok) throw new Error(`reading ${conversation} as ${client}: ${read.message}`);
  return Object.fromEntries(Object.entries(read.value.variables).map(([k, v]) => [k, v.value]));
}

const STATS = { text: 'one two' };

describe('sharing rules across two agents and two conversations', () => {
  it('each rule reaches where it says, and no further', async () => {
    expect((await lib('a1', 'setContextVariable', 'p', 'private-1', { conversation: 'chat-1' })).ok).toBe(true);
    expect((await lib('a1', 'setContextVariable', 's', 'session-1', { conversation: 'chat-1', sharing: 'SessionOnly' })).ok).toBe(true);
    expect((await lib('a1', 'setContextVariable', 'u', { lang: 'en' }, { conversation: 'chat-1', sharing: 'UserScoped' })).ok).toBe(true);
    expect(await admin(page, 'contexts.setGlobal', { name: 'g', value: 'for-everyone' })).toEqual({ name: 'g', op: 'set' });
    // Each conversation starts with its first use.
    for (const [client, conversation] of [
      ['a1', 'chat-2'],
      ['a2', 'chat-1'],
      ['b', 'chat-1'],
    ] as const)
      expect((await callIn(client, conversation, 'text_stats', STATS)).isError).toBeFalsy();

    expect(await values('a1', 'chat-1')).toEqual({ p: 'private-1', s: 'session-1', u: { lang: 'en' }, g: 'for-everyone' });
    // Private: not in another conversation of the same session.
    expect(await values('a1', 'chat-2')).toEqual({ s: 'session-1', u: { lang: 'en' }, g: 'for-everyone' });
    // SessionOnly: not in another session of the same agent, even in the same conversation.
    expect(await values('a2', 'chat-1')).toEqual({ p: 'private-1', u: { lang: 'en' }, g: 'for-everyone' });
    // UserScoped: not for another agent, even with a conversation of the same name.
    expect(await values('b', 'chat-1')).toEqual({ g: 'for-everyone' });
  });

  it('an agent cannot read another agent\'s conversation, nor write a Global variable', async () => {
    await lib('a1', 'setContextVariable', 'mine', 'a-secret');
    expect(await values('a1', sessions['a1']!)).toMatchObject({ mine: 'a-secret' });
    const read = await lib('b', 'readConversation', sessions['a1']!);
    expect(read).toMatchObject({ ok: false, data: { code: 'unknown-resource' } });
    expect(JSON.stringify(read)).not.toContain('a-secret');

    const global = await lib('b', 'setContextVariable', 'g', 'taken over', { sharing: 'Global' });
    expect(global).toMatchObject({ ok: false, data: { code: 'policy-denied', rule: 'context.global-admin-only' } });
    expect(await values('a1', 'chat-1')).toMatchObject({ g: 'for-everyone' });
  });
});

describe('security level', () => {
  it('narrows a call in one conversation (denied, layer context) and leaves the others alone', async () => {
    const args = { language: 'javascript', code: '1 + 1' };
    expect((await callIn('a1', 'careful', 'execute_code', args)).isError).toBeFalsy();
    expect(await lib('a1', 'setContextLevel', 'Strict', { conversation: 'careful' })).toMatchObject({ ok: true, value: { securityLevel: { level: 'Strict' } } });
    const denied = await callIn('a1', 'careful', 'execute_code', args);
    expect(denied.isError).toBe(true);
    expect(denied._meta?.['mcp-sandbox/error']).toMatchObject({ code: 'policy-denied', details: { rule: 'tool.not-allowed', layer: 'context' } });
    // What Strict still allows runs; the session's own conversation is not narrowed.
    expect((await callIn('a1', 'careful', 'text_stats', STATS)).isError).toBeFalsy();
    expect((await callIn('a1', undefined, 'execute_code', args)).isError).toBeFalsy();
    // The agent cannot widen it back.
    expect(await lib('a1', 'setContextLevel', 'Permissive', { conversation: 'careful' })).toMatchObject({ ok: false, data: { rule: 'context.level-widen' } });
  });
});

describe('audit', () => {
  it('records a set and a clear with before and after', async () => {
    expect((await lib('a2', 'setContextVariable', 'topic', 'cats', { conversation: 'audited' })).ok).toBe(true);
    expect((await lib('a2', 'setContextVariable', 'topic', 'dogs', { conversation: 'audited' })).ok).toBe(true);
    expect((await lib('a2', 'clearContextVariable', 'topic', { conversation: 'audited' })).ok).toBe(true);
    expect(await values('a2', 'audited')).not.toHaveProperty('topic');
    const entries = await admin<{ event: string; agentId: string; sessionId: string; outcome: string; details: Record<string, unknown> }[]>(page, 'audit.list', { agentId: 'ctx-a' });
    const changes = entries.filter((e) => e.event === 'context.change' && e.details['conversation'] === 'audited');
    expect(changes.map((e) => [e.outcome, e.sessionId, e.details['op'], e.details['before'], e.details['after']])).toEqual([
      ['info', sessions['a2'], 'set', null, { value: 'cats', sharing: 'Private', updatedBy: 'agent' }],
      ['info', sessions['a2'], 'set', { value: 'cats', sharing: 'Private', updatedBy: 'agent' }, { value: 'dogs', sharing: 'Private', updatedBy: 'agent' }],
      ['info', sessions['a2'], 'clear', { value: 'dogs', sharing: 'Private', updatedBy: 'agent' }, null],
    ]);
    // The refused Global write of the other agent is in the trail too.
    const refused = (await admin<{ event: string; outcome: string; error: { details: { rule: string } } }[]>(page, 'audit.list', { agentId: 'ctx-b' })).filter((e) => e.event === 'context.change');
    expect(refused).toMatchObject([{ outcome: 'denied', error: { details: { rule: 'context.global-admin-only' } } }]);
    expect(await admin(page, 'audit.verify')).toMatchObject({ ok: true });
  });
});

describe('a service-worker stop', () => {
  it('loses no context: variables and security level are read from IndexedDB by the next lifetime', async () => {
    await lib('a1', 'setContextVariable', 'kept', [1, 2, 3], { conversation: 'long' });
    await lib('a1', 'setContextLevel', 'Strict', { conversation: 'long' });
    const before = await admin<{ incarnation: string }>(page, 'server.info');

    await stopServiceWorker(context, page);

    const read = await lib<{ startedAt: string; securityLevel: unknown; variables: Record<string, { value: unknown }> }>('a1', 'readConversation', 'long');
    if (!read.ok) throw new Error(`the conversation could not be read after the wake: ${read.message}`);
    expect(read.value.variables['kept']?.value).toEqual([1, 2, 3]);
    expect(read.value.variables['u']?.value).toEqual({ lang: 'en' });
    expect(read.value.securityLevel).toEqual({ level: 'Strict' });
    expect((await admin<{ incarnation: string }>(page, 'server.info')).incarnation).not.toBe(before.incarnation);
    // The level still narrows calls in that conversation after the wake.
    const denied = await callIn('a1', 'long', 'execute_code', { language: 'javascript', code: '2' });
    expect(denied._meta?.['mcp-sandbox/error']).toMatchObject({ details: { rule: 'tool.not-allowed', layer: 'context' } });
  });
});
