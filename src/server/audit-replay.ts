import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { REDACTED, TOO_DEEP } from '../policy';
import type { CallOutcome, ReplayResult } from '../api/admin';
import { openEntry, type AuditLog, type OpenedEntry } from '../store/audit';
import { CLOSING_EVENTS, type AuditEntry, type SessionRecord } from '../store/schema';
import { ANONYMOUS, policyOf } from './agents';
import { callTool } from './call-tool';
import type { ServerContext } from './context';
import { readSettings } from './settings';

// Replay (docs/audit.md#replay): a call of the trail run again, as its agent, through the very
// path an agent's tools/call takes (callTool: bounds, tool access, schema, language, admission
// with the agent's counters and limits, the write-ahead audited run), under the policy the agent
// has NOW. Every entry the new call writes names the call it replays (`replayOf`).

/** Why a replay is refused before anything runs. */
export type ReplayErrorCode = 'invalid-params' | 'unknown-call' | 'unknown-agent' | 'agent-revoked' | 'replay-no-arguments';

export class ReplayError extends Error {
  constructor(
    readonly code: ReplayErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ReplayError';
  }
}

/** Marks the redaction leaves in a value: its arguments are not what the agent sent. */
const MARKERS = [REDACTED, TOO_DEEP, '[TOO LARGE]', '[Circular]', '[not recorded]'];

/** The `origin` of replay sessions: not a web origin, so no peer matches it. */
export const REPLAY_ORIGIN = 'audit-replay';

/** Session ids of replays: one per agent, like the stateless revision's implicit session. */
export const replaySessionId = (agentId: string) => `replay:${agentId}`;

/** Where in `value` a redaction mark stands (a JSON Pointer), or null: walked without recursion, bounded. */
function redactionIn(value: unknown): string | null {
  const stack: [string, unknown][] = [['', value]];
  for (let seen = 0; stack.length && seen < 100_000; seen++) {
    const [at, v] = stack.pop()!;
    if (typeof v === 'string') {
      if (MARKERS.some((m) => v.includes(m))) return at || '/';
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (MARKERS.some((m) => k.includes(m))) return `${at}/${k}`;
        stack.push([`${at}/${k}`, x]);
      }
    }
  }
  return null;
}

/** The first and the last entry of a call (by the `by-call` index, in seq order): two reads, whatever the call's length. */
async function callEnds(ctx: ServerContext, callId: string): Promise<[AuditEntry, AuditEntry] | null> {
  const db = await ctx.db.get();
  const tx = db.transaction('audit');
  const index = tx.store.index('by-call');
  const [first, last] = await Promise.all([index.openCursor(callId, 'next'), index.openCursor(callId, 'prev')]);
  const ends: [AuditEntry, AuditEntry] | null = first && last ? [first.value, last.value] : null;
  await tx.done;
  return ends;
}

/** A call's outcome from its first and last entries (details opened, for the output). */
async function outcomeOf(ctx: ServerContext, first: AuditEntry, last: AuditEntry): Promise<CallOutcome> {
  const opened: OpenedEntry = last.sealed?.length ? await openEntry(last, ctx.sealer) : last;
  const output = (opened.unopened ?? []).includes('details') ? null : opened.details?.['output'];
  return {
    callId: last.callId!,
    seq: last.seq,
    event: last.event,
    outcome: last.outcome,
    ts: last.ts,
    durationMs: last.durationMs,
    memoryBytes: last.memoryBytes,
    error: last.error,
    output: typeof output === 'string' ? output : null,
    firstSeq: first.seq,
  };
}

/** The entries of the original call as far as they say what it was: tool, arguments, agent. */
async function readOriginal(ctx: ServerContext, callId: string): Promise<{ first: AuditEntry; last: AuditEntry; tool: string; agentId: string; args: Record<string, unknown> }> {
  const ends = await callEnds(ctx, callId);
  if (!ends) throw new ReplayError('unknown-call', `no call ${JSON.stringify(callId)} is in the audit log (it may have been archived)`, { callId });
  const [first, last] = ends;
  if (first.event !== 'call.request' && first.event !== 'call.rejected') {
    throw new ReplayError('replay-no-arguments', `call ${callId} has no request entry left in the browser (its first entry is #${first.seq}, ${first.event}): its arguments are unknown`, { callId, reason: 'no-request', seq: first.seq });
  }
  if (!first.tool || !first.agentId) throw new ReplayError('replay-no-arguments', `entry #${first.seq} names no tool or agent`, { callId, reason: 'no-request', seq: first.seq });
  const request = first.sealed?.length ? await openEntry(first, ctx.sealer) : (first as OpenedEntry);
  const no = (reason: string, message: string, extra: Record<string, unknown> = {}) => new ReplayError('replay-no-arguments', message, { callId, reason, seq: first.seq, ...extra });
  if ((request.unopened ?? []).includes('args')) throw no('sealed', `the arguments of call ${callId} are encrypted at rest and cannot be opened here (the key is gone or the ciphertext was changed)`);
  const args = request.args;
  if (args === null || args === undefined) throw no('not-recorded', `entry #${first.seq} recorded no arguments`);
  if (typeof args !== 'object' || Array.isArray(args)) throw no('not-recorded', `entry #${first.seq} recorded arguments that are not an object`);
  const sensitive = request.details?.['sensitiveArgs'];
  const marked = redactionIn(args);
  if (marked !== null || (Array.isArray(sensitive) && sensitive.length > 0)) {
    throw no('redacted', `the arguments of call ${callId} were redacted in the audit (sensitive data${marked ? ` at ${marked}` : ''}): replaying them would not be the same call`, { at: marked, patterns: Array.isArray(sensitive) ? sensitive : [] });
  }
  return { first, last, tool: first.tool, agentId: first.agentId, args: args as Record<string, unknown> };
}

/**
 * The agent's replay session: opened (audited `session.open`, `details.replay`) on its first
 * replay, and opened anew, counts at zero, once it has idled longer than the policy's
 * `session.timeoutMinutes`. Its calls count towards the agent's rate windows like any other.
 */
async function replaySession(ctx: ServerContext, agentId: string, timeoutMinutes: number, openedFor: string): Promise<string> {
  const id = replaySessionId(agentId);
  const existing = await ctx.sessions.get(id);
  if (existing && existing.agentId === agentId && ctx.clock() - Math.max(existing.createdAt, existing.lastActivityAt) <= timeoutMinutes * 60_000) return id;
  // Replays of one agent started together open it once.
  let opening = openingSessions.get(id);
  if (!opening) {
    opening = openReplaySession(ctx, id, agentId, existing !== undefined, openedFor).finally(() => openingSessions.delete(id));
    openingSessions.set(id, opening);
  }
  return opening;
}

/** Replay sessions being opened, by id (this service-worker lifetime). */
const openingSessions = new Map<string, Promise<string>>();

async function openReplaySession(ctx: ServerContext, id: string, agentId: string, existing: boolean, openedFor: string): Promise<string> {
  const now = ctx.clock();
  // No web origin: no page's message can ever be routed into this session (a session answers
  // only to the origin that opened it), so only replays run in it.
  const origin = REPLAY_ORIGIN;
  const session: SessionRecord = { id, agentId, origin, via: 'replay', protocolVersion: '2025-11-25', clientInfo: { name: 'audit-replay', version: '1' }, createdAt: now, lastActivityAt: now, callCount: 0 };
  await ctx.sessions.put(session);
  ctx.counters.forgetSession(id);
  await ctx.audit.append({ event: 'session.open', outcome: 'info', sessionId: id, agentId, details: { origin, via: 'replay', clientInfo: session.clientInfo, protocolVersion: session.protocolVersion, reinitialized: existing, openedFor } });
  return id;
}

/**
 * The context the replayed call runs with: the same one, but every entry its log writes is
 * marked `replayOf` (request, capability uses, result, rejection, interruption: whatever the
 * call path writes), and kept here so the outcome can be read back.
 */
function markingContext(ctx: ServerContext, replayOf: string): { ctx: ServerContext; written: Promise<AuditEntry>[] } {
  const written: Promise<AuditEntry>[] = [];
  const log = ctx.audit;
  const append: AuditLog['append'] = (draft, effect, onWritten) => {
    const entry = log.append({ ...draft, replayOf }, effect, onWritten);
    written.push(entry);
    return entry;
  };
  const marking = new Proxy(log, {
    get(target, prop) {
      if (prop === 'append') return append;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { ctx: { ...ctx, audit: marking }, written };
}

/**
 * Re-runs call `callId` of the trail as its agent, under that agent's current policy: refused
 * (ReplayError) when the call is not in the log, its agent is gone or revoked, or its arguments
 * are not recorded as sent (redacted, sealed beyond opening, not kept). A denial under today's
 * policy is a result like any other: recorded (a `call.rejected` marked `replayOf`) and returned.
 */
export async function replayCall(ctx: ServerContext, callId: unknown): Promise<ReplayResult> {
  if (typeof callId !== 'string' || !callId || callId.length > 200) throw new ReplayError('invalid-params', 'callId: the id of a call of the trail is needed');
  // Entries appended before this request (the original's result among them) are read committed.
  await ctx.audit.settled();
  const original = await readOriginal(ctx, callId);
  const { agentId, tool, args } = original;
  let timeoutMinutes: number;
  if (agentId === ANONYMOUS.id) {
    if ((await readSettings(ctx.db)).unauthenticated !== 'untrusted') throw new ReplayError('unknown-agent', 'the call was made without credentials, and connections without credentials are refused now', { agentId });
    timeoutMinutes = policyOf(ANONYMOUS).session.timeoutMinutes;
  } else {
    const agent = await ctx.agents.get(agentId);
    if (!agent) throw new ReplayError('unknown-agent', `agent ${JSON.stringify(agentId)} is no longer registered`, { agentId });
    if (agent.revokedAt !== null) throw new ReplayError('agent-revoked', `agent ${JSON.stringify(agentId)} was revoked (${new Date(agent.revokedAt).toISOString()})`, { agentId, revokedAt: agent.revokedAt });
    timeoutMinutes = policyOf(agent).session.timeoutMinutes;
  }
  const sessionId = await replaySession(ctx, agentId, timeoutMinutes, callId);
  const marked = markingContext(ctx, callId);
  let reply: CallToolResult;
  let failure: unknown = null;
  try {
    reply = await callTool(marked.ctx, sessionId, tool, args);
  } catch (thrown) {
    // A protocol error (the tool is gone: unknown-tool) is recorded like a refusal; it is the
    // replay's result, in the shape an agent's SDK would surface it.
    failure = thrown;
    const e = thrown as { message?: string; data?: { code?: string } };
    reply = { isError: true, content: [{ type: 'text', text: `${e.data?.code ?? 'error'}: ${e.message ?? String(thrown)}` }] };
  }
  const entries = (await Promise.allSettled(marked.written)).flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const own = entries.filter((e) => e.callId !== null).sort((a, b) => a.seq - b.seq);
  // Nothing of the call was recorded: it did not happen, and the failure is the admin's answer.
  if (!own.length) throw failure ?? new Error('the replay wrote no audit entry');
  const last = own.find((e) => CLOSING_EVENTS.has(e.event)) ?? own.at(-1)!;
  return {
    replayOf: callId,
    agentId,
    tool,
    args,
    sessionId,
    original: await outcomeOf(ctx, original.first, original.last),
    replay: await outcomeOf(ctx, own[0]!, last),
    reply,
  };
}
