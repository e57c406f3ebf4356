import { describe, expect, it } from 'vitest';
import { readAudit as readCommitted, verifyChain } from '../../src/store/audit';
import { replayCall, ReplayError } from '../../src/server/audit-replay';
import { startHarness, type Harness } from './support/server-fixture';

// Replay: a call of the trail run again as its agent, under the agent's policy now, through the
// path an agent's call takes, every new entry marked `replayOf` (src/server/audit-replay.ts).

/** Every entry, once what was appended so far has committed (a result entry may commit after its reply). */
async function readAudit(handle: Harness['ctx']['db']) {
  await current?.ctx.audit.settled();
  return readCommitted(handle);
}
let current: Harness | null = null;

/** The call id of the newest entry of `event`. */
async function lastCall(h: Harness, event = 'call.result'): Promise<string> {
  return (await readAudit(h.ctx.db)).filter((e) => e.event === event).at(-1)!.callId!;
}

async function refusal(run: Promise<unknown>): Promise<ReplayError> {
  const error = await run.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(ReplayError);
  return error as ReplayError;
}

describe('audit.replay', () => {
  it('re-runs a call as its agent with the same arguments, in its replay session, every entry marked replayOf', async () => {
    const h = (current = await startHarness());
    const client = await h.connect({ agent: 'rep' });
    await client.callTool({ name: 'echo', arguments: { text: 'again' } });
    const original = await lastCall(h);
    const before = (await readAudit(h.ctx.db)).length;

    const replay = await replayCall(h.ctx, original);
    expect(replay).toMatchObject({ replayOf: original, agentId: 'rep', tool: 'echo', args: { text: 'again' }, sessionId: 'replay:rep' });
    expect(replay.original).toMatchObject({ callId: original, event: 'call.result', outcome: 'ok' });
    expect(replay.replay).toMatchObject({ event: 'call.result', outcome: 'ok', durationMs: 1.5, output: 'ran echo with {"text":"again"}' });
    expect(replay.replay.callId).not.toBe(original);
    expect(replay.reply.isError).toBeUndefined();
    // The sandbox was asked exactly what the original asked, as the same agent.
    expect(h.executor.requests.map((r) => [r.agentId, r.tool, r.args])).toEqual([
      ['rep', 'echo', '{"text":"again"}'],
      ['rep', 'echo', '{"text":"again"}'],
    ]);

    const added = (await readAudit(h.ctx.db)).slice(before);
    expect(added.map((e) => [e.event, e.sessionId, e.agentId, e.callId, e.replayOf ?? null])).toEqual([
      ['session.open', 'replay:rep', 'rep', null, null],
      ['call.request', 'replay:rep', 'rep', replay.replay.callId, original],
      ['call.result', 'replay:rep', 'rep', replay.replay.callId, original],
    ]);
    // The original's entries are untouched, and the chain holds over the new ones.
    expect((await readAudit(h.ctx.db)).filter((e) => e.callId === original).every((e) => e.replayOf === undefined)).toBe(true);
    expect(await verifyChain(await readAudit(h.ctx.db))).toMatchObject({ ok: true });

    // A second replay reuses the session (no second session.open) and counts in it.
    await replayCall(h.ctx, original);
    expect((await readAudit(h.ctx.db)).filter((e) => e.event === 'session.open' && e.sessionId === 'replay:rep')).toHaveLength(1);
    expect((await h.ctx.sessions.get('replay:rep'))!.callCount).toBe(2);
  });

  it('decides under the agent\'s policy now: granted, called, revoked, the replay is denied and recorded as a replay', async () => {
    const h = (current = await startHarness());
    await h.agent('lim', 'Limited', { version: 1, tools: { allowed: [] }, session: { quietHours: null } });
    await h.ctx.agents.change('lim', 'grant', { kind: 'tool', name: 'echo' });
    const client = await h.connect({ agent: 'lim' });
    const first = await client.callTool({ name: 'echo', arguments: { text: 'x' } });
    expect(first.isError).toBeUndefined();
    const original = await lastCall(h);
    await h.ctx.agents.change('lim', 'revoke', { kind: 'tool', name: 'echo' });

    const replay = await replayCall(h.ctx, original);
    expect(replay.original.outcome).toBe('ok');
    expect(replay.replay).toMatchObject({ event: 'call.rejected', outcome: 'denied', error: { code: 'policy-denied' } });
    expect(replay.reply.isError).toBe(true);
    // Nothing ran the second time.
    expect(h.executor.requests).toHaveLength(1);
    const rejected = (await readAudit(h.ctx.db)).at(-1)!;
    expect(rejected).toMatchObject({ event: 'call.rejected', outcome: 'denied', agentId: 'lim', tool: 'echo', replayOf: original, callId: replay.replay.callId });
    expect(await verifyChain(await readAudit(h.ctx.db))).toMatchObject({ ok: true });

    // Granted again: the replay runs.
    await h.ctx.agents.change('lim', 'grant', { kind: 'tool', name: 'echo' });
    expect((await replayCall(h.ctx, original)).replay.outcome).toBe('ok');
  });

  it('refuses, with a typed code, an unknown call, a revoked or removed agent, and arguments the audit redacted', async () => {
    const h = (current = await startHarness());
    expect((await refusal(replayCall(h.ctx, 'no-such-call'))).code).toBe('unknown-call');
    expect((await refusal(replayCall(h.ctx, 42))).code).toBe('invalid-params');

    const client = await h.connect({ agent: 'gone' });
    await client.callTool({ name: 'echo', arguments: { text: 'a' } });
    const call = await lastCall(h);
    await h.ctx.agents.revoke('gone');
    expect((await refusal(replayCall(h.ctx, call))).code).toBe('agent-revoked');
    const db = await h.ctx.db.get();
    await db.delete('agents', 'gone');
    const h2 = await startHarness(h.dbName, undefined, false);
    await h.ctx.audit.settled();
    expect((await refusal(replayCall(h2.ctx, call))).code).toBe('unknown-agent');

    // A secret in the arguments is masked in the audit: that is not the call that was made.
    await h.agent('sec', 'FullyTrusted', { version: 1, data: { sensitivePatterns: ['password'] } });
    const secretive = await h.connect({ agent: 'sec' });
    await secretive.callTool({ name: 'echo', arguments: { text: 'password=hunter2' } });
    const masked = await refusal(replayCall(h.ctx, await lastCall(h)));
    expect(masked.code).toBe('replay-no-arguments');
    expect(masked.details).toMatchObject({ reason: 'redacted' });
    // Nothing was written for any refusal.
    expect((await readAudit(h.ctx.db)).some((e) => e.replayOf !== undefined)).toBe(false);
  });

  it('replays a refused call too (its call.rejected entry holds the arguments)', async () => {
    const h = (current = await startHarness());
    const client = await h.connect({ agent: 'ref' });
    await client.callTool({ name: 'echo', arguments: { wrong: 1 } });
    const original = await lastCall(h, 'call.rejected');
    const replay = await replayCall(h.ctx, original);
    expect(replay.original).toMatchObject({ event: 'call.rejected', error: { code: 'invalid-arguments' } });
    expect(replay.replay).toMatchObject({ event: 'call.rejected', outcome: 'denied', error: { code: 'invalid-arguments' } });
    expect((await readAudit(h.ctx.db)).at(-1)!.replayOf).toBe(original);
  });

  it('opens arguments sealed at rest to replay them, and seals the replay\'s own entries alike', async () => {
    const h = (current = await startHarness());
    await h.agent('enc', 'FullyTrusted', { version: 1, data: { encryptionRequired: true } });
    const client = await h.connect({ agent: 'enc' });
    await client.callTool({ name: 'echo', arguments: { text: 'sealed' } });
    const original = await lastCall(h);
    const stored = (await readAudit(h.ctx.db)).find((e) => e.callId === original && e.event === 'call.request')!;
    expect(stored.sealed).toEqual(['args']);
    const replay = await replayCall(h.ctx, original);
    expect(replay.args).toEqual({ text: 'sealed' });
    expect(replay.replay.output).toBe('ran echo with {"text":"sealed"}');
    const request = (await readAudit(h.ctx.db)).find((e) => e.callId === replay.replay.callId && e.event === 'call.request')!;
    expect(request).toMatchObject({ sealed: ['args'], replayOf: original });
  });
});
