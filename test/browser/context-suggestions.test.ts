import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { admin, connectAgent, launchBrowser, openApp, registerAgent } from './harness';

// Context-aware execution end to end (docs/context.md): a tool that declares it wants the
// context reads it through its own host import (get-context) in a real tool worker; one that
// does not gets nothing and fails; that failure names the other as an alternative from the
// aggregates, recorded in the audit, and the conversation keeps both tools' preferences.

let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  browser = await launchBrowser();
  ({ context, page } = await openApp(browser));
  await admin(page, 'tools.seed', { fixtures: true });
  const both = { version: 1, tools: { allowed: ['context_probe', 'context_blind'] } };
  await connectAgent(page, 'aware', { agent: 'ctx-aware', token: await registerAgent(page, { id: 'ctx-aware', trustLevel: 'Trusted', policy: both }) });
  // May call the failing tool, not the alternative: it must never be offered it.
  const blindOnly = { version: 1, tools: { allowed: ['context_blind'] } };
  await connectAgent(page, 'blind', { agent: 'ctx-blind', token: await registerAgent(page, { id: 'ctx-blind', trustLevel: 'Trusted', policy: blindOnly }) });
  const writer = { version: 1, tools: { allowed: ['context_writer'] } };
  await connectAgent(page, 'writer', { agent: 'ctx-writer', token: await registerAgent(page, { id: 'ctx-writer', trustLevel: 'Trusted', policy: writer }) });
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
});

interface Result {
  isError?: boolean;
  content: { type: string; text: string }[];
  _meta?: Record<string, unknown>;
}

async function callIn(client: string, conversation: string, name: string): Promise<Result> {
  return page.evaluate(
    async ({ client, conversation, name }) => {
      const c = (window as unknown as { agents: Record<string, { callTool(p: unknown): Promise<unknown> }> }).agents[client]!;
      return (await c.callTool({ name, arguments: {}, _meta: { 'mcp-sandbox/conversation': conversation } })) as Result;
    },
    { client, conversation, name },
  );
}

async function lib(client: string, fn: 'setContextVariable' | 'readConversation', ...args: unknown[]): Promise<Record<string, unknown>> {
  return page.evaluate(
    async ({ client, fn, args }) => {
      const w = window as unknown as { sandboxClientLib: Record<string, (...a: unknown[]) => Promise<unknown>>; agents: Record<string, unknown> };
      return (await w.sandboxClientLib[fn]!(w.agents[client], ...args)) as Record<string, unknown>;
    },
    { client, fn, args },
  );
}

describe('context out of a tool: context_updates', () => {
  it('a wasm tool\'s result sets a variable of the calling conversation, told in _meta, audited as the tool; a Global one is refused', async () => {
    const write = (args: Record<string, string>) =>
      page.evaluate(
        async (args) => {
          const c = (window as unknown as { agents: Record<string, { callTool(p: unknown): Promise<unknown> }> }).agents['writer']!;
          return (await c.callTool({ name: 'context_writer', arguments: args, _meta: { 'mcp-sandbox/conversation': 'updates' } })) as Result;
        },
        args,
      );
    const set = await write({ name: 'topic', value: 'cats' });
    expect(set.isError).toBeFalsy();
    // The tool's output reaches the agent unchanged; what was applied is in _meta.
    expect(JSON.parse(set.content[0]!.text)).toEqual({ wrote: 'topic', context_updates: { topic: { value: 'cats' } } });
    expect(set._meta?.['mcp-sandbox/context']).toEqual({ conversation: 'updates', applied: [{ name: 'topic', sharing: 'Private', op: 'set' }], refused: [] });
    const global = await write({ name: 'everyone', value: 'x', sharing: 'Global' });
    expect(global._meta?.['mcp-sandbox/context']).toMatchObject({ applied: [], refused: [{ name: 'everyone', rule: 'context.global-admin-only' }] });

    const read = (await lib('writer', 'readConversation', 'updates')) as { variables: Record<string, { value: unknown; sharing: string }> };
    expect(read.variables['topic']).toMatchObject({ value: 'cats', sharing: 'Private' });
    expect(read.variables['everyone']).toBeUndefined();
    const entries = await admin<{ event: string; outcome: string; tool: string | null; callId: string | null; details: Record<string, unknown> }[]>(page, 'audit.list', { agentId: 'ctx-writer' });
    const changes = entries.filter((e) => e.event === 'context.change');
    // Each names the tool and the call that made it: the call's own entries carry the same id.
    const calls = entries.filter((e) => e.event === 'call.request').map((e) => e.callId);
    expect(changes.map((e) => [e.tool, e.callId])).toEqual([
      ['context_writer', calls[0]],
      ['context_writer', calls[1]],
    ]);
    expect(calls.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(changes.map((e) => [e.outcome, e.details['actor'], e.details['name'], e.details['after']])).toEqual([
      ['info', 'tool', 'topic', { value: 'cats', sharing: 'Private', updatedBy: 'tool' }],
      ['denied', 'tool', 'everyone', undefined],
    ]);
  });
});

describe('context into a tool, and an alternative suggested after a failure', () => {
  it('a declaring tool receives the conversation context through get-context; a tool that did not declare it gets nothing', async () => {
    await lib('aware', 'setContextVariable', 'topic', 'invoices', { conversation: 'chat-1' });
    await lib('aware', 'setContextVariable', 'language', 'en', { conversation: 'chat-1', sharing: 'UserScoped' });
    await lib('aware', 'setContextVariable', 'hidden', 'other conversation', { conversation: 'chat-2' });

    const probed = await callIn('aware', 'chat-1', 'context_probe');
    expect(probed.isError).toBeFalsy();
    const { context: given } = JSON.parse(probed.content[0]!.text) as { context: Record<string, unknown> };
    expect(given).toMatchObject({ conversation: 'chat-1', agentId: 'ctx-aware', securityLevel: 'Permissive', variables: { topic: { value: 'invoices', sharing: 'Private' }, language: { value: 'en', sharing: 'UserScoped' } } });
    expect(Object.keys(given['variables'] as object).sort()).toEqual(['language', 'topic']);
    expect(Number.isNaN(Date.parse(given['sessionStartedAt'] as string))).toBe(false);

    const blind = await callIn('aware', 'chat-1', 'context_blind');
    expect(blind.isError).toBe(true);
    expect(blind._meta?.['mcp-sandbox/error']).toMatchObject({ code: 'tool-error' });
    expect(blind.content[0]!.text).toContain('did not declare "context": true');
    expect(blind.content[0]!.text).not.toContain('invoices');
  });

  it('once the alternative has a record, the failure suggests it (name, why, success rate, p50), audited, and runs nothing else', async () => {
    for (let i = 0; i < 5; i++) expect((await callIn('aware', 'chat-1', 'context_probe')).isError).toBeFalsy();
    // Admin readers let held result entries commit first: the aggregates include every call above.
    const stats = await admin<{ name: string; invocations: number }[]>(page, 'tools.stats', { name: 'context_probe' });
    expect(stats[0]!.invocations).toBeGreaterThanOrEqual(6);

    const failed = await callIn('aware', 'chat-1', 'context_blind');
    expect(failed.isError).toBe(true);
    const suggestion = failed._meta?.['mcp-sandbox/suggestion'] as Record<string, unknown>;
    expect(suggestion).toMatchObject({ name: 'context_probe', successRate: 1, shared: { tags: ['context'] } });
    expect(suggestion['p50Ms']).toEqual(expect.any(Number));
    expect(suggestion['why']).toContain("tag 'context'");

    const entries = await admin<{ event: string; tool: string; callId: string; details: Record<string, unknown> }[]>(page, 'audit.list', { agentId: 'ctx-aware' });
    const result = entries.filter((e) => e.event === 'call.result' && e.tool === 'context_blind').at(-1)!;
    expect(result.details['suggestion']).toMatchObject({ name: 'context_probe', successRate: 1 });
    // The suggestion was only named: the last request entry is the failed call's own.
    expect(entries.filter((e) => e.event === 'call.request').at(-1)).toMatchObject({ tool: 'context_blind', callId: result.callId });
  });

  it('never suggests a tool the agent may not use', async () => {
    const failed = await callIn('blind', 'chat-1', 'context_blind');
    expect(failed.isError).toBe(true);
    expect(failed._meta?.['mcp-sandbox/suggestion']).toBeUndefined();
  });

  it('the conversation keeps each tool\'s preferences, readable in its resource', async () => {
    const doc = (await lib('aware', 'readConversation', 'chat-1')) as { toolPreferences: Record<string, Record<string, unknown>> };
    expect(doc.toolPreferences['context_probe']).toMatchObject({ calls: 6, ok: 6, successRate: 1, lastOutcome: 'ok', preferred: { arguments: {} } });
    expect(doc.toolPreferences['context_blind']).toMatchObject({ calls: 2, ok: 0, successRate: 0, lastOutcome: 'tool-error' });
    expect(doc.toolPreferences['context_probe']!['weight']).toBeCloseTo(6 / 8);
    // Another conversation of the same agent has none of them.
    const other = (await lib('aware', 'readConversation', 'chat-2')) as { toolPreferences: Record<string, unknown> };
    expect(other.toolPreferences).toEqual({});
  });
});
