import { describe, expect, it } from 'vitest';
import type { CapabilityHandler } from '../../src/server/context';
import { HttpEndpoint } from '../../src/server/http-endpoint';
import { INPUT_KEY_META } from '../../src/server/input-required';
import type { ExecuteRequest, ExecuteResult } from '../../src/shared/wire';
import { MANIFEST, manifestTool, startHarness, TEST_ORIGIN } from './support/server-fixture';

// SEP-2322 on the 2026-07-28 revision: what a tool asks the client comes back as an
// InputRequiredResult, and the retry with the answers runs the tool again (docs/interop.md).

const CLIENT_CAPS = { elicitation: {}, sampling: {}, roots: {} };
const envelope = (caps: Record<string, unknown> = CLIENT_CAPS) => ({ 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': caps });
const ASKER = manifestTool('asker', { permissions: ['client'], inputSchema: { type: 'object' } });
const NO_CLIENT = manifestTool('no_client', { inputSchema: { type: 'object' } });
const NAME_SCHEMA = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] };

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function setup(policy?: unknown) {
  const h = await startHarness(undefined, undefined, false);
  await h.ctx.registry.seed({ version: 1, tools: [...MANIFEST.tools, ASKER, NO_CLIENT] }, { fixtures: false, now: Date.now() });
  const token = await h.agent('asking-agent', 'FullyTrusted', policy);
  const endpoint = new HttpEndpoint(h.ctx, TEST_ORIGIN);
  let id = 0;
  const send = async (params: Json, caps?: Record<string, unknown>, accept = 'application/json') => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: ++id, method: 'tools/call', params: { name: 'asker', arguments: {}, ...params, _meta: envelope(caps) } });
    const response = await endpoint.handle(new Request(`${TEST_ORIGIN}/mcp`, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: accept, Authorization: `Bearer ${token}` }, body }));
    const text = await response.text();
    return { status: response.status, type: response.headers.get('content-type'), body: (text.startsWith('{') ? JSON.parse(text) : text) as Json };
  };
  return { h, send };
}

/** A tool that asks the client each request in turn (the JSON of its answers is its output). */
function asking(h: Awaited<ReturnType<typeof setup>>['h'], asks: { method: string; params: Json }[], untilFirstFailure = false) {
  const runs: string[][] = [];
  h.executor.next = async (_request: ExecuteRequest, capabilities?: CapabilityHandler): Promise<ExecuteResult> => {
    const seen: string[] = [];
    runs.push(seen);
    const answers: unknown[] = [];
    for (const [i, ask] of asks.entries()) {
      const reply = await capabilities!({ id: i + 1, fn: 'client-request', args: { method: ask.method, params: JSON.stringify(ask.params) } });
      seen.push(reply.ok ? 'answered' : String(reply.error));
      if (!reply.ok && untilFirstFailure) return { ok: false, error: { code: 'tool-error', message: reply.error }, durationMs: 1, memoryBytes: 0 };
      answers.push(reply.ok ? JSON.parse(String(reply.value)) : null);
    }
    if (answers.includes(null)) return { ok: false, error: { code: 'tool-error', message: 'a request failed' }, durationMs: 1, memoryBytes: 0 };
    return { ok: true, output: JSON.stringify(answers), durationMs: 1, memoryBytes: 0 };
  };
  return runs;
}

const elicit = (key?: string) => ({ method: 'elicitation/create', params: { message: 'Your name?', requestedSchema: NAME_SCHEMA, ...(key ? { _meta: { [INPUT_KEY_META]: key } } : {}) } });
const accept = (content: Json) => ({ action: 'accept', content });

describe('InputRequiredResult (SEP-2322) on the stateless revision', () => {
  it('asks, then runs again with the answer; the key is the tool\'s, taken out of the request shown', async () => {
    const { h, send } = await setup();
    const runs = asking(h, [elicit('user_name')]);
    const first = await send({});
    expect(first.status).toBe(200);
    expect(first.body['result']).toMatchObject({ resultType: 'input_required', inputRequests: { user_name: { method: 'elicitation/create', params: { message: 'Your name?', requestedSchema: NAME_SCHEMA } } } });
    expect(first.body['result'].inputRequests.user_name.params._meta).toBeUndefined();
    expect(first.body['result'].content).toBeUndefined();
    expect(typeof first.body['result'].requestState).toBe('string');
    expect(runs[0]![0]).toMatch(/^client-request failed: input-required: /);

    const second = await send({ inputResponses: { user_name: accept({ name: 'Alice' }) }, requestState: first.body['result'].requestState });
    expect(second.body['result']).toMatchObject({ resultType: 'complete', content: [{ type: 'text', text: JSON.stringify([accept({ name: 'Alice' })]) }] });
    expect(runs).toHaveLength(2);
    // Each round is a call like any other: requested, then recorded.
    await h.ctx.audit.settled();
    const entries = (await (await h.ctx.db.get()).getAll('audit')).filter((e) => e.tool === 'asker');
    expect(entries.filter((e) => e.event === 'call.request')).toHaveLength(2);
    expect(entries.filter((e) => e.event === 'call.result').map((e) => e.outcome)).toEqual(['error', 'ok']);
  });

  it('lists every unanswered request of the run at once, with keys by kind and order where the tool names none', async () => {
    const { h, send } = await setup();
    asking(h, [elicit(), { method: 'sampling/createMessage', params: { messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }], maxTokens: 5 } }, { method: 'roots/list', params: {} }]);
    const first = await send({});
    expect(Object.entries(first.body['result'].inputRequests).map(([k, v]) => [k, (v as Json)['method']])).toEqual([
      ['elicitation-1', 'elicitation/create'],
      ['sampling-2', 'sampling/createMessage'],
      ['roots-3', 'roots/list'],
    ]);
    const answers = { 'elicitation-1': accept({ name: 'Bo' }), 'sampling-2': { role: 'assistant', content: { type: 'text', text: 'hello' }, model: 'm' }, 'roots-3': { roots: [{ uri: 'file:///r' }] } };
    const done = await send({ inputResponses: answers, requestState: first.body['result'].requestState });
    expect(done.body['result'].resultType).toBe('complete');
    expect(JSON.parse(done.body['result'].content[0].text)).toMatchObject([{ content: { name: 'Bo' } }, { content: { text: 'hello' } }, { roots: [{ uri: 'file:///r' }] }]);
  });

  it('carries earlier answers in the state from round to round; each state is new', async () => {
    const { h, send } = await setup();
    const runs = asking(h, [elicit('step1'), elicit('step2')], true);
    const r1 = await send({});
    expect(Object.keys(r1.body['result'].inputRequests)).toEqual(['step1']);
    const r2 = await send({ inputResponses: { step1: accept({ name: 'A' }) }, requestState: r1.body['result'].requestState });
    expect(Object.keys(r2.body['result'].inputRequests)).toEqual(['step2']);
    expect(r2.body['result'].requestState).not.toBe(r1.body['result'].requestState);
    // Only the new answer is sent: the first comes from the state.
    const r3 = await send({ inputResponses: { step2: accept({ name: 'B' }) }, requestState: r2.body['result'].requestState });
    expect(r3.body['result'].resultType).toBe('complete');
    expect(runs.map((r) => r.length)).toEqual([1, 2, 2]);
  });

  it('refuses a state that was changed, or issued for another agent or other arguments, before anything runs (-32602)', async () => {
    const { h, send } = await setup();
    const runs = asking(h, [elicit('user_name')]);
    const first = await send({});
    const state: string = first.body['result'].requestState;
    const answers = { user_name: accept({ name: 'A' }) };
    const flipped = state.slice(0, 40) + (state[40] === 'A' ? 'B' : 'A') + state.slice(41);
    for (const bad of [state + '-TAMPERED', flipped, 'not-a-state', 42]) {
      const refused = await send({ inputResponses: answers, requestState: bad });
      expect(refused.status, String(bad)).toBe(400);
      expect(refused.body['error']).toMatchObject({ code: -32602, data: { code: 'invalid-request-state' } });
    }
    const otherArgs = await send({ arguments: { x: 1 }, inputResponses: answers, requestState: state });
    expect(otherArgs.body['error']).toMatchObject({ code: -32602, message: expect.stringMatching(/other arguments/) });
    expect(runs).toHaveLength(1);

    // Another agent's state does not open for this one.
    const other = await h.agent('other-agent');
    const endpoint = new HttpEndpoint(h.ctx, TEST_ORIGIN);
    const body = JSON.stringify({ jsonrpc: '2.0', id: 99, method: 'tools/call', params: { name: 'asker', arguments: {}, inputResponses: answers, requestState: state, _meta: envelope() } });
    const response = await endpoint.handle(new Request(`${TEST_ORIGIN}/mcp`, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: `Bearer ${other}` }, body }));
    expect(response.status).toBe(400);
    expect(((await response.json()) as Json)['error'].message).toMatch(/does not verify/);
  });

  it('ignores answers it did not ask for, and asks again for one that is missing', async () => {
    const { h, send } = await setup();
    asking(h, [elicit('user_name')]);
    const extra = await send({ inputResponses: { user_name: accept({ name: 'A' }), unknown_key: accept({ x: 1 }) } });
    expect(extra.body['result'].resultType).toBe('complete');
    const wrong = await send({ inputResponses: { wrong_key: accept({ name: 'A' }) } });
    expect(wrong.body['result']).toMatchObject({ resultType: 'input_required', inputRequests: { user_name: {} } });
  });

  it('refuses answers that are not results (-32602): not an object before anything runs, the wrong shape once asked', async () => {
    const { h, send } = await setup();
    const runs = asking(h, [elicit('user_name')]);
    for (const inputResponses of [{ user_name: 12345 }, { user_name: null }, { user_name: [] }, null, 'answers']) {
      const refused = await send({ inputResponses });
      expect(refused.status, JSON.stringify(inputResponses)).toBe(400);
      expect(refused.body['error']).toMatchObject({ code: -32602, data: { code: 'invalid-input-response' } });
    }
    expect(runs).toHaveLength(0);
    // An object that is no ElicitResult is never handed to the tool as if valid.
    const malformed = await send({ inputResponses: { user_name: { action: 'maybe' } } });
    expect(malformed.body['error']).toMatchObject({ code: -32602, message: expect.stringMatching(/^inputResponses\["user_name"\] is not a valid result of elicitation\/create/), data: { code: 'invalid-input-response', keys: ['user_name'] } });
    expect(runs[0]![0]).toMatch(/not a valid result/);
  });

  it('asks only for what the client declared; a run that fails for want of a capability is -32021 with HTTP 400', async () => {
    const { h, send } = await setup();
    const sampling = { method: 'sampling/createMessage', params: { messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }], maxTokens: 5 } };
    asking(h, [elicit('user_name'), sampling]);
    const onlySampling = await send({}, { sampling: {} });
    expect(Object.values(onlySampling.body['result'].inputRequests).map((r) => (r as Json)['method'])).toEqual(['sampling/createMessage']);

    asking(h, [sampling]);
    for (const accept of ['application/json', 'application/json, text/event-stream']) {
      const missing = await send({}, {}, accept);
      expect(missing.status, accept).toBe(400);
      expect(missing.type).toMatch(/application\/json/);
      expect(missing.body['error']).toMatchObject({ code: -32021, data: { requiredCapabilities: { sampling: {} } } });
    }
  });

  it('a tool without the permission "client" is refused whatever the request carries', async () => {
    const { h, send } = await setup();
    const runs = asking(h, [elicit('user_name')]);
    const result = await send({ name: 'no_client', inputResponses: { user_name: accept({ name: 'A' }) } });
    expect(result.body['result']).toMatchObject({ resultType: 'complete', isError: true });
    expect(runs[0]![0]).toMatch(/permission|client/);
    expect(runs[0]![0]).not.toMatch(/input-required/);
  });
});
