import { describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { narrowedPolicy, TEMPLATES, type EffectivePolicy } from '../../src/policy';
import { addDuration, emptyHistogram } from '../../src/store/aggregates';
import type { ToolAggregate } from '../../src/store/schema';
import { MIN_SUGGESTION_RESULTS, selectAlternative, SUGGESTION_META_KEY, type CandidateTool } from '../../src/server/suggestions';
import { loggedEntries, manifestTool, startHarness, type Harness } from './support/server-fixture';

// Suggested alternatives (docs/context.md): the selection is pure and decided from the aggregates;
// a suggestion is only named in the failed call's result and its audit entry, never run.

const FULL: EffectivePolicy = TEMPLATES.FullyTrusted;
const withTools = (tools: Partial<EffectivePolicy['tools']>): EffectivePolicy => ({ ...FULL, tools: { ...FULL.tools, ...tools } });

function record(name: string, ok: number, failed: number, durations: number[] = [10]): ToolAggregate {
  const d = emptyHistogram();
  for (const ms of durations) addDuration(d, ms);
  return { key: ['tool', name], kind: 'tool', name, firstSeq: 1, seq: 1, invocations: ok + failed, results: ok + failed, ok, errors: failed, denied: 0, cancelled: 0, interrupted: 0, durations: d, peakMemoryBytes: null, lastUsedAt: null };
}
const tool = (name: string, tags: string[], categories: string[] = []): CandidateTool => ({ name, tags, categories });
const snapshot = (...records: ToolAggregate[]) => new Map(records.map((r) => [r.name, r]));

const failed = tool('slow_csv', ['csv', 'parse'], ['data']);
const query = (over: Partial<Parameters<typeof selectAlternative>[0]> = {}) =>
  selectAlternative({ failed, candidates: [failed, tool('fast_csv', ['csv']), tool('other', ['images'])], aggregates: snapshot(record('slow_csv', 1, 9), record('fast_csv', 9, 1, [4, 5, 6]), record('other', 10, 0)), agentPolicy: FULL, policy: FULL, ...over });

describe('selectAlternative (pure)', () => {
  it('names a tool sharing a tag, with a better record: why, success rate and p50', () => {
    const s = query();
    expect(s).toMatchObject({ name: 'fast_csv', successRate: 0.9, runs: 10, shared: { categories: [], tags: ['csv'] } });
    expect(s!.p50Ms).toBeGreaterThan(4.9);
    expect(s!.p50Ms).toBeLessThan(5.1);
    expect(s!.why).toContain("tag 'csv'");
    expect(s!.why).toContain('90 %');
    expect(s!.why).toContain('10 % of 10 for slow_csv');
  });

  it('a category is shared as well as a tag', () => {
    const s = query({ candidates: [tool('table_tool', ['tables'], ['data'])], aggregates: snapshot(record('table_tool', 6, 0)) });
    expect(s).toMatchObject({ name: 'table_tool', shared: { categories: ['data'], tags: [] } });
  });

  it('nothing without a shared category or tag, or when only structural ones are shared (fixture, test, resource …)', () => {
    expect(query({ candidates: [tool('other', ['images'])] })).toBeNull();
    const fixtureA = tool('fx_a', ['fixture', 'test'], ['fixture']);
    expect(selectAlternative({ failed: fixtureA, candidates: [tool('fx_b', ['fixture', 'test'], ['fixture'])], aggregates: snapshot(record('fx_b', 10, 0)), agentPolicy: FULL, policy: FULL })).toBeNull();
  });

  it(`one lucky call does not count: a candidate needs ${MIN_SUGGESTION_RESULTS} finished calls`, () => {
    expect(query({ aggregates: snapshot(record('slow_csv', 0, 3), record('fast_csv', MIN_SUGGESTION_RESULTS - 1, 0)) })).toBeNull();
    expect(query({ aggregates: snapshot(record('slow_csv', 0, 3), record('fast_csv', MIN_SUGGESTION_RESULTS, 0)) })).toMatchObject({ name: 'fast_csv' });
    // No record at all is no record.
    expect(query({ aggregates: snapshot(record('slow_csv', 0, 3)) })).toBeNull();
  });

  it('only a better record: not equal to the failed tool, not below half', () => {
    expect(query({ aggregates: snapshot(record('slow_csv', 9, 1), record('fast_csv', 9, 1)) })).toBeNull();
    expect(query({ aggregates: snapshot(record('slow_csv', 0, 10), record('fast_csv', 4, 6)) })).toBeNull();
    // The failed tool without a record counts as 0 %.
    expect(query({ aggregates: snapshot(record('fast_csv', 5, 5)) })).toMatchObject({ name: 'fast_csv', successRate: 0.5 });
  });

  it('never a tool the agent may not use: blocked, not allowed, restricted and not named, or refused by the conversation level', () => {
    expect(query({ agentPolicy: withTools({ blocked: ['fast_csv'] }), policy: withTools({ blocked: ['fast_csv'] }) })).toBeNull();
    expect(query({ agentPolicy: withTools({ allowed: ['slow_csv'] }), policy: withTools({ allowed: ['slow_csv'] }) })).toBeNull();
    const restricted = { ...tool('fast_csv', ['csv']), categories: ['restricted'] };
    expect(query({ candidates: [restricted] })).toBeNull();
    expect(query({ candidates: [restricted], agentPolicy: withTools({ allowed: ['*', 'fast_csv'] }), policy: withTools({ allowed: ['*', 'fast_csv'] }) })).toMatchObject({ name: 'fast_csv' });
    // The agent may, the conversation's Strict level may not: the layered decision refuses it.
    const strict = narrowedPolicy(FULL, { level: 'Strict' });
    expect(query({ policy: strict })).toBeNull();
    // …and the same level that allows the tool lets it be suggested.
    const allowsIt = narrowedPolicy(FULL, { level: 'Custom', policy: { version: 1, tools: { allowed: ['fast_csv'] } } });
    expect(query({ policy: allowsIt })).toMatchObject({ name: 'fast_csv' });
  });

  it('ranks by success rate, then how much is shared, then the faster median, then the name', () => {
    const candidates = [tool('b_tool', ['csv']), tool('a_tool', ['csv']), tool('c_tool', ['csv', 'parse'])];
    expect(query({ candidates, aggregates: snapshot(record('b_tool', 10, 0), record('a_tool', 9, 1), record('c_tool', 9, 1)) })!.name).toBe('b_tool');
    expect(query({ candidates, aggregates: snapshot(record('b_tool', 9, 1), record('a_tool', 9, 1), record('c_tool', 9, 1)) })!.name).toBe('c_tool');
    expect(query({ candidates: candidates.slice(0, 2), aggregates: snapshot(record('b_tool', 9, 1, [3]), record('a_tool', 9, 1, [30])) })!.name).toBe('b_tool');
    expect(query({ candidates: candidates.slice(0, 2), aggregates: snapshot(record('b_tool', 9, 1, [3]), record('a_tool', 9, 1, [3])) })!.name).toBe('a_tool');
  });
});

// Through the server: two tools of one kind, the executor scripted to fail one.
const KIND = { tags: ['csv'], categories: ['data'] };
async function harness(policy?: unknown): Promise<{ h: Harness; client: Client }> {
  const h = await startHarness(undefined, undefined, false);
  await h.ctx.registry.seed({ version: 1, tools: [manifestTool('slow_csv', KIND), manifestTool('fast_csv', KIND), manifestTool('images', { tags: ['png'] })] }, { fixtures: false, now: Date.now() });
  await h.agent('agent-s', 'FullyTrusted', policy);
  h.executor.next = (request) => (request.tool === 'slow_csv' ? { ok: false, error: { code: 'tool-error', message: 'could not parse' }, durationMs: 2, memoryBytes: 0 } : { ok: true, output: 'ok', durationMs: 3, memoryBytes: 0 });
  return { h, client: await h.connect({ agent: 'agent-s' }) };
}
const call = (client: Client, name: string) => client.callTool({ name, arguments: { text: 'a,b' } });
/** Gives fast_csv a record; its result entries commit just after the replies, so wait for them. */
async function warmUp(h: Harness, client: Client, times = MIN_SUGGESTION_RESULTS) {
  for (let i = 0; i < times; i++) expect((await call(client, 'fast_csv')).isError).toBeFalsy();
  await h.ctx.audit.settled();
}

describe('suggestions on the failure path of tools/call', () => {
  it('a failed call names the alternative in _meta and in its audit entry; the alternative is not run', async () => {
    const { h, client } = await harness();
    await warmUp(h, client);
    const ran = h.executor.requests.length;
    const result = await call(client, 'slow_csv');
    expect(result.isError).toBe(true);
    const suggestion = result._meta?.[SUGGESTION_META_KEY] as Record<string, unknown>;
    expect(suggestion).toMatchObject({ name: 'fast_csv', successRate: 1, runs: MIN_SUGGESTION_RESULTS });
    expect(typeof suggestion['p50Ms']).toBe('number');
    expect(typeof suggestion['why']).toBe('string');
    // Only the failed tool ran.
    expect(h.executor.requests.slice(ran).map((r) => r.tool)).toEqual(['slow_csv']);
    const entry = (await loggedEntries(h.ctx)).filter((e) => e.event === 'call.result' && e.tool === 'slow_csv').at(-1)!;
    expect(entry.details).toMatchObject({ suggestion: { name: 'fast_csv', successRate: 1, why: suggestion['why'] } });
  });

  it('a successful call carries no suggestion, and a failure before enough history carries none', async () => {
    const { h, client } = await harness();
    await warmUp(h, client, MIN_SUGGESTION_RESULTS - 1);
    expect((await call(client, 'slow_csv'))._meta?.[SUGGESTION_META_KEY]).toBeUndefined();
    const ok = await call(client, 'fast_csv');
    expect(ok._meta?.[SUGGESTION_META_KEY]).toBeUndefined();
  });

  it('a policy denial of the tool suggests one the agent may use, recorded on the rejected entry', async () => {
    const { h, client } = await harness({ version: 1, tools: { blocked: ['slow_csv'] } });
    await warmUp(h, client);
    const result = await call(client, 'slow_csv');
    expect(result._meta?.['mcp-sandbox/error']).toMatchObject({ code: 'policy-denied', details: { rule: 'tool.blocked' } });
    expect(result._meta?.[SUGGESTION_META_KEY]).toMatchObject({ name: 'fast_csv' });
    const rejected = (await loggedEntries(h.ctx)).filter((e) => e.event === 'call.rejected').at(-1)!;
    expect(rejected.details).toMatchObject({ suggestion: { name: 'fast_csv' } });
  });

  it('never suggests a tool the agent may not use (its record is good, the agent is blocked from it)', async () => {
    const { h, client } = await harness({ version: 1, tools: { blocked: ['fast_csv'] } });
    // Another agent gives fast_csv its record.
    const other = await h.connect({ agent: 'agent-other' });
    await warmUp(h, other);
    const result = await call(client, 'slow_csv');
    expect(result.isError).toBe(true);
    expect(result._meta?.[SUGGESTION_META_KEY]).toBeUndefined();
    // The same failure for the agent that may use it does name it.
    expect((await call(other, 'slow_csv'))._meta?.[SUGGESTION_META_KEY]).toMatchObject({ name: 'fast_csv' });
  });

  it('never suggests a tool the conversation level refuses', async () => {
    const { h, client } = await harness();
    await warmUp(h, client);
    await client.request({ method: 'mcp-sandbox/context/level', params: { conversation: 'narrow', level: { level: 'Custom', policy: { version: 1, tools: { allowed: ['slow_csv'] } } } } } as never, (await import('zod')).z.object({}).passthrough());
    const result = await client.callTool({ name: 'slow_csv', arguments: { text: 'x' }, _meta: { 'mcp-sandbox/conversation': 'narrow' } });
    expect(result.isError).toBe(true);
    expect(result._meta?.[SUGGESTION_META_KEY]).toBeUndefined();
  });

  it('a disabled tool: the JSON-RPC error carries the suggestion in its data', async () => {
    const { h, client } = await harness();
    await warmUp(h, client);
    await h.ctx.registry.seed({ version: 1, tools: [] }, { fixtures: false, now: Date.now() });
    const { ToolUploads } = await import('../../src/server/registry');
    await new ToolUploads(h.ctx.db).setEnabled('slow_csv', false);
    const error = await call(client, 'slow_csv').then(
      () => null,
      (e: { data?: Record<string, unknown> }) => e,
    );
    expect(error?.data).toMatchObject({ code: 'unknown-tool', [SUGGESTION_META_KEY]: { name: 'fast_csv' } });
  });

  it('no suggestion for invalid arguments (the agent\'s mistake, not the tool\'s)', async () => {
    const { h, client } = await harness();
    await warmUp(h, client);
    const result = await client.callTool({ name: 'slow_csv', arguments: { wrong: 1 } });
    expect(result._meta?.['mcp-sandbox/error']).toMatchObject({ code: 'invalid-arguments' });
    expect(result._meta?.[SUGGESTION_META_KEY]).toBeUndefined();
  });
});
