import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { loggedEntries, startHarness } from './support/server-fixture';
import { setGlobalVariable } from '../../src/server/context-admin';
import {
  activeSessionsByAgent,
  decideGlobalRead,
  GLOBAL_CONTEXT_URI,
  globalContextDocument,
  globalVisibility,
  readGlobalContext,
  type GlobalContextDocument,
  type GlobalFacts,
} from '../../src/server/global-context';
import { TEMPLATES, type EffectivePolicy } from '../../src/policy';
import type { SessionRecord } from '../../src/store/schema';

// The global context `context://global` (docs/context.md, "The global context"): who may read
// it, and that a reader sees other agents as counts unless it is FullyTrusted in a Permissive
// conversation. Each denial and each thing left out is proved here.

const Any = z.object({}).passthrough();
const sessionOf = (client: Client) => client.transport!.sessionId!;

async function readGlobal(client: Client, conversation?: string): Promise<{ doc: GlobalContextDocument; text: string }> {
  const read = await client.readResource({ uri: GLOBAL_CONTEXT_URI, ...(conversation ? { _meta: { 'mcp-sandbox/conversation': conversation } } : {}) });
  const text = (read.contents[0] as { text: string }).text;
  expect(read.contents[0]).toMatchObject({ uri: GLOBAL_CONTEXT_URI, mimeType: 'application/json' });
  return { doc: JSON.parse(text) as GlobalContextDocument, text };
}
async function failure(p: Promise<unknown>): Promise<{ code: number; message: string; data?: Record<string, unknown> }> {
  try {
    await p;
  } catch (error) {
    return error as { code: number; message: string; data?: Record<string, unknown> };
  }
  throw new Error('expected a failure');
}
const blocking = (policy: EffectivePolicy, blocked: string[]): EffectivePolicy => ({ ...policy, tools: { ...policy.tools, blocked } });

const FACTS: GlobalFacts = {
  server: { name: 'browser-mcp-sandbox', version: '9.9.9' },
  startedAt: Date.UTC(2026, 0, 1, 12, 0, 0),
  now: Date.UTC(2026, 0, 1, 12, 5, 0),
  incarnation: 'inc-1',
  tools: { callable: 12, visibleToReader: 5 },
  activeByAgent: new Map([
    ['reader', 2],
    ['other-agent-x', 3],
    ['other-agent-y', 1],
  ]),
  globals: { motd: { value: 'hello', sharing: 'Global', updatedAt: '2026-01-01T11:00:00.000Z', updatedBy: 'admin' } },
};
const reader = (trustLevel: 'Untrusted' | 'Limited' | 'Trusted' | 'FullyTrusted', level: 'Permissive' | 'Moderate' | 'Strict' = 'Permissive') => ({ agentId: 'reader', trustLevel, sessionId: 'sess-reader', conversation: 'c', securityLevel: { level } });

describe('the global context, pure rules', () => {
  it('shows which agents have sessions only to a FullyTrusted reader in a Permissive conversation', () => {
    expect(globalVisibility(reader('FullyTrusted'))).toBe('agents');
    for (const level of ['Untrusted', 'Limited', 'Trusted'] as const) expect(globalVisibility(reader(level))).toBe('counts');
    // A narrowed conversation narrows this too, even for a FullyTrusted agent.
    for (const level of ['Moderate', 'Strict'] as const) expect(globalVisibility(reader('FullyTrusted', level))).toBe('counts');
    expect(globalVisibility({ trustLevel: 'FullyTrusted', securityLevel: { level: 'Custom', policy: { version: 1 } } })).toBe('counts');
  });

  it('a counts-only reader gets totals and its own count, never another agent\'s id', () => {
    for (const level of ['Untrusted', 'Limited', 'Trusted'] as const) {
      const doc = globalContextDocument(FACTS, reader(level));
      expect(doc.sessions).toEqual({ active: 6, agentsWithActiveSessions: 3, yours: { active: 2, readFrom: 'sess-reader' } });
      expect(doc.sessions).not.toHaveProperty('byAgent');
      expect(doc.reader.visibility).toBe('counts');
      const text = JSON.stringify(doc);
      expect(text).not.toContain('other-agent-x');
      expect(text).not.toContain('other-agent-y');
    }
  });

  it('a FullyTrusted reader also gets the agents with active sessions, busiest first', () => {
    const doc = globalContextDocument(FACTS, reader('FullyTrusted'));
    expect(doc.sessions.byAgent).toEqual([
      { agentId: 'other-agent-x', active: 3 },
      { agentId: 'reader', active: 2 },
      { agentId: 'other-agent-y', active: 1 },
    ]);
    expect(doc.reader.visibility).toBe('agents');
  });

  it('everyone gets the version, the service worker\'s uptime, tool counts and the Global variables', () => {
    const doc = globalContextDocument(FACTS, reader('Untrusted'));
    expect(doc).toMatchObject({
      uri: GLOBAL_CONTEXT_URI,
      server: { name: 'browser-mcp-sandbox', version: '9.9.9' },
      serviceWorker: { startedAt: '2026-01-01T12:00:00.000Z', uptimeMs: 300_000, incarnation: 'inc-1' },
      tools: { callable: 12, visibleToYou: 5 },
      shared: { variables: { motd: { value: 'hello', sharing: 'Global' } } },
      now: '2026-01-01T12:05:00.000Z',
    });
    // A clock behind the start never gives a negative uptime.
    expect(globalContextDocument({ ...FACTS, now: FACTS.startedAt - 5 }, reader('Untrusted')).serviceWorker.uptimeMs).toBe(0);
  });

  it('counts a session active while its agent is registered, not revoked, and it is idle less than the agent\'s timeout', () => {
    const now = 10_000_000;
    const s = (id: string, agentId: string, idleMs: number) => ({ id, agentId, lastActivityAt: now - idleMs }) as SessionRecord;
    const agents = new Map([
      ['a', { revoked: false, timeoutMinutes: 10 }],
      ['b', { revoked: true, timeoutMinutes: 10 }],
      ['c', { revoked: false, timeoutMinutes: 1 }],
    ]);
    const active = activeSessionsByAgent([s('1', 'a', 0), s('2', 'a', 599_999), s('3', 'a', 600_000), s('4', 'b', 0), s('5', 'c', 59_999), s('6', 'c', 60_000), s('7', 'unknown', 0)], agents, now);
    expect(Object.fromEntries(active)).toEqual({ a: 2, c: 1 });
  });

  it('is refused where tools.blocked names it (or "*"), naming the layer that refused', () => {
    const p = TEMPLATES.FullyTrusted;
    expect(decideGlobalRead(p, p)).toEqual({ allow: true });
    expect(decideGlobalRead(blocking(p, [GLOBAL_CONTEXT_URI]), p)).toMatchObject({ allow: false, rule: 'tool.blocked', layer: 'agent' });
    expect(decideGlobalRead(blocking(p, ['*']), p)).toMatchObject({ allow: false, layer: 'agent' });
    expect(decideGlobalRead(p, blocking(p, [GLOBAL_CONTEXT_URI]))).toMatchObject({ allow: false, rule: 'tool.blocked', layer: 'context' });
    // Blocking another name does not block it.
    expect(decideGlobalRead(blocking(p, ['context://conversation/x', 'echo']), p)).toEqual({ allow: true });
    // No template blocks it: every agent may read it unless its policy says otherwise.
    for (const t of Object.values(TEMPLATES)) expect(decideGlobalRead(t, t)).toEqual({ allow: true });
  });
});

describe('the global context over MCP', () => {
  it('is listed in resources/list and read by every agent, with the Global variables', async () => {
    const h = await startHarness();
    await h.agent('low', 'Untrusted');
    const low = await h.connect({ agent: 'low' });
    expect((await low.listResources()).resources.map((r) => r.uri)).toContain(GLOBAL_CONTEXT_URI);
    await setGlobalVariable(h.ctx, { name: 'motd', value: 'be kind' });
    const { doc } = await readGlobal(low);
    expect(doc.server).toEqual(h.ctx.config.serverInfo);
    expect(doc.shared.variables).toMatchObject({ motd: { value: 'be kind', sharing: 'Global', updatedBy: 'admin' } });
    // Callable tools in all (echo; the resource producer and the fixture are not callable tools here), and those this agent sees.
    expect(doc.tools.callable).toBe((await h.ctx.registry.callable()).length);
    expect(doc.tools.visibleToYou).toBe((await low.listTools()).tools.length);
    expect(doc.serviceWorker.uptimeMs).toBeGreaterThanOrEqual(0);
    expect(Date.parse(doc.serviceWorker.startedAt)).toBeLessThanOrEqual(Date.parse(doc.now));
    expect(doc.serviceWorker.incarnation).toBe(h.ctx.incarnation);
  });

  it('gives the uptime of this service-worker lifetime from its start', async () => {
    let now = 1_000_000;
    const h = await startHarness(undefined, undefined, true, () => now);
    const client = await h.connect({ agent: 'a' });
    now += 42_000;
    const read = await readGlobalContext(h.ctx, sessionOf(client), undefined, 1_000_000);
    expect(JSON.parse(read.contents[0]!.text)).toMatchObject({ serviceWorker: { startedAt: new Date(1_000_000).toISOString(), uptimeMs: 42_000 } });
  });

  it('shows an untrusted agent counts only: no other agent\'s id, name, session or variables', async () => {
    const h = await startHarness();
    await h.agent('secret-agent-name', 'FullyTrusted');
    await h.agent('low', 'Untrusted');
    const other1 = await h.connect({ agent: 'secret-agent-name' });
    const other2 = await h.connect({ agent: 'secret-agent-name' });
    const low = await h.connect({ agent: 'low' });
    // The other agent's own variables, of each rule an agent can write.
    const set = (c: Client, params: Record<string, unknown>) => c.request({ method: 'mcp-sandbox/context/set', params } as never, Any);
    await set(other1, { name: 'p', value: 'private-of-other' });
    await set(other1, { name: 's', value: 'session-of-other', sharing: 'SessionOnly' });
    await set(other1, { name: 'u', value: 'user-of-other', sharing: 'UserScoped' });

    const { doc, text } = await readGlobal(low);
    expect(doc.sessions).toEqual({ active: 3, agentsWithActiveSessions: 2, yours: { active: 1, readFrom: sessionOf(low) } });
    expect(doc.reader).toMatchObject({ agentId: 'low', trustLevel: 'Untrusted', visibility: 'counts' });
    for (const hidden of ['secret-agent-name', sessionOf(other1), sessionOf(other2), 'private-of-other', 'session-of-other', 'user-of-other']) expect(text).not.toContain(hidden);
    expect(doc.shared.variables).toEqual({});
  });

  it('a Trusted agent sees counts only too; a FullyTrusted one sees which agents, never their session ids', async () => {
    const h = await startHarness();
    await h.agent('mid', 'Trusted');
    await h.agent('top', 'FullyTrusted');
    const mid = await h.connect({ agent: 'mid' });
    const midAgain = await h.connect({ agent: 'mid' });
    const top = await h.connect({ agent: 'top' });
    const seenByMid = await readGlobal(mid);
    expect(seenByMid.doc.sessions).not.toHaveProperty('byAgent');
    expect(seenByMid.text).not.toContain('"top"');
    expect(seenByMid.text).not.toContain(sessionOf(top));
    // Its own other session is not named either (a session id resumes a session).
    expect(seenByMid.text).not.toContain(sessionOf(midAgain));
    expect(seenByMid.doc.sessions.yours).toEqual({ active: 2, readFrom: sessionOf(mid) });

    const seenByTop = await readGlobal(top);
    expect(seenByTop.doc.sessions.byAgent).toEqual([
      { agentId: 'mid', active: 2 },
      { agentId: 'top', active: 1 },
    ]);
    for (const id of [sessionOf(mid), sessionOf(midAgain)]) expect(seenByTop.text).not.toContain(id);
  });

  it('a FullyTrusted agent in a Strict conversation sees counts only', async () => {
    const h = await startHarness();
    const top = await h.connect({ agent: 'top' });
    await h.connect({ agent: 'someone-else' });
    await top.request({ method: 'mcp-sandbox/context/level', params: { conversation: 'careful', level: 'Strict' } } as never, Any);
    const strict = await readGlobal(top, 'careful');
    expect(strict.doc.reader).toMatchObject({ conversation: 'careful', securityLevel: { level: 'Strict' }, visibility: 'counts' });
    expect(strict.text).not.toContain('someone-else');
    // Its session's own conversation is not narrowed.
    expect((await readGlobal(top)).doc.sessions.byAgent?.map((a) => a.agentId).sort()).toEqual(['someone-else', 'top']);
  });

  it('is neither listed nor readable where the agent\'s policy blocks it; the refusal names the layer and is audited', async () => {
    const h = await startHarness();
    await h.agent('blocked', 'Trusted', { version: 1, tools: { blocked: [GLOBAL_CONTEXT_URI] } });
    const c = await h.connect({ agent: 'blocked' });
    expect((await c.listResources()).resources.map((r) => r.uri)).not.toContain(GLOBAL_CONTEXT_URI);
    const denied = await failure(c.readResource({ uri: GLOBAL_CONTEXT_URI }));
    expect(denied.code).toBe(-32602);
    expect(denied.data).toEqual({ code: 'policy-denied', rule: 'tool.blocked', layer: 'agent' });
    const entry = (await loggedEntries(h.ctx)).filter((e) => e.event === 'resource.read').at(-1);
    expect(entry).toMatchObject({ outcome: 'denied', agentId: 'blocked', sessionId: sessionOf(c), details: { uri: GLOBAL_CONTEXT_URI }, error: { code: 'policy-denied', details: { rule: 'tool.blocked', layer: 'agent' } } });
  });

  it('a Custom level that blocks it refuses it in that conversation only (layer context)', async () => {
    const h = await startHarness();
    const c = await h.connect({ agent: 'a' });
    await c.request({ method: 'mcp-sandbox/context/level', params: { conversation: 'quiet', level: { level: 'Custom', policy: { version: 1, tools: { blocked: [GLOBAL_CONTEXT_URI] } } } } } as never, Any);
    const denied = await failure(c.readResource({ uri: GLOBAL_CONTEXT_URI, _meta: { 'mcp-sandbox/conversation': 'quiet' } }));
    expect(denied.data).toEqual({ code: 'policy-denied', rule: 'tool.blocked', layer: 'context' });
    expect((await readGlobal(c)).doc.reader.conversation).toBe(sessionOf(c));
  });

  it('redacts a Global value for an agent whose policy redacts what it receives', async () => {
    const h = await startHarness();
    await h.agent('careful', 'Trusted', { version: 1, data: { redactForAgent: true, sensitivePatterns: ['password'] } });
    const c = await h.connect({ agent: 'careful' });
    await setGlobalVariable(h.ctx, { name: 'password', value: 'hunter2' });
    await setGlobalVariable(h.ctx, { name: 'motd', value: 'hello' });
    const { doc, text } = await readGlobal(c);
    expect(text).not.toContain('hunter2');
    expect(doc.shared.variables['motd']!.value).toBe('hello');
    expect(doc.shared.variables['password']!.sharing).toBe('Global');
  });

  it('redacts the Global values in a conversation resource too, where the same agent reads them there', async () => {
    const h = await startHarness();
    await h.agent('careful-conv', 'Trusted', { version: 1, data: { redactForAgent: true, sensitivePatterns: ['password'] } });
    const c = await h.connect({ agent: 'careful-conv' });
    await setGlobalVariable(h.ctx, { name: 'password', value: 'hunter2' });
    // The agent's own Private variable holding a credential, set by the agent itself.
    await c.request({ method: 'mcp-sandbox/context/set', params: { name: 'note', value: 'my password is swordfish-42' } }, Any);
    const read = await c.readResource({ uri: `context://conversation/${encodeURIComponent(sessionOf(c))}` });
    const text = (read.contents[0] as { text: string }).text;
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('swordfish-42');
    const doc = JSON.parse(text) as { variables: Record<string, unknown> };
    // A variable named by a pattern is masked whole (its name stays).
    expect(doc.variables['password']).toBe('[REDACTED]');
    expect((doc.variables['note'] as { value: unknown }).value).toBe('my password is [REDACTED]');
    // An agent whose policy does not redact reads its values as they are.
    const plain = await h.connect({ agent: 'plain-conv' });
    const open = await plain.readResource({ uri: `context://conversation/${encodeURIComponent(sessionOf(plain))}` });
    expect((open.contents[0] as { text: string }).text).toContain('hunter2');
  });

  it('announces a subscribed context://global as updated when a Global variable changes', async () => {
    const h = await startHarness();
    const c = await h.connect({ agent: 'a' });
    const updated: string[] = [];
    c.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updated.push(n.params.uri));
    await c.subscribeResource({ uri: GLOBAL_CONTEXT_URI });
    await setGlobalVariable(h.ctx, { name: 'motd', value: 'news' });
    await expect.poll(() => updated).toContain(GLOBAL_CONTEXT_URI);
    expect((await readGlobal(c)).doc.shared.variables['motd']!.value).toBe('news');
  });
});
