import { decideLayered, decideToolAccess, isRestricted, type EffectivePolicy } from '../policy';
import { percentileMs } from '../store/aggregates';
import type { ToolAggregate, ToolRecord } from '../store/schema';
import type { CallContext } from './call-context';
import type { ServerContext } from './context';

// Suggested alternatives (docs/context.md, "Suggested alternatives"): when a call fails, times
// out or is denied, the result names another tool the agent may use that does the same kind of
// thing with a better record. It is only named: nothing else runs, and nothing is swapped behind
// the agent's back. Decided on the failure path only, from the aggregates (never the audit log).

/** `_meta` key of a failed call's result (or `data` key of its JSON-RPC error) naming an alternative. */
export const SUGGESTION_META_KEY = 'mcp-sandbox/suggestion';
/** A candidate needs at least this many finished calls on record: one lucky call does not count. */
export const MIN_SUGGESTION_RESULTS = 5;
/** …and at least this success rate, besides beating the failed tool's. */
export const MIN_SUGGESTION_RATE = 0.5;
/**
 * Error codes a suggestion is made for: the tool failed, timed out or was denied. Not for a call
 * the agent cancelled or got wrong (invalid arguments), nor for a failure of the sandbox itself.
 */
export const SUGGESTED_FOR: ReadonlySet<string> = new Set(['tool-error', 'trap', 'timeout', 'memory-limit', 'load-failed', 'policy-denied', 'unknown-tool']);
/**
 * Categories and tags that say what kind of component a tool is, not what it does: sharing one
 * makes no two tools alternatives.
 */
const STRUCTURAL: ReadonlySet<string> = new Set(['fixture', 'test', 'resource', 'prompt', 'mcp-content', 'restricted']);

/** What a result offers: another tool, why, and its record. */
export interface Suggestion {
  name: string;
  why: string;
  /** Of its finished calls, the share that succeeded (0–1). */
  successRate: number;
  /** Its median duration, ms (within 1.1 %; null if none recorded). */
  p50Ms: number | null;
  /** Its finished calls on record. */
  runs: number;
  /** The categories and tags it shares with the tool that failed. */
  shared: { categories: string[]; tags: string[] };
  /** The arguments of its last successful call in this conversation, if any (never applied). */
  preferredArguments?: unknown;
}

/** A tool as the selection sees it. */
export type CandidateTool = Pick<ToolRecord, 'name' | 'categories' | 'tags'>;

export interface AlternativeQuery {
  failed: CandidateTool;
  /** Tools the agent could call if its policy allows (enabled, not resource or prompt producers). */
  candidates: readonly CandidateTool[];
  /** The aggregate snapshot, per tool. */
  aggregates: ReadonlyMap<string, ToolAggregate>;
  /** The agent's own policy and the call's effective one: a candidate must pass both. */
  agentPolicy: EffectivePolicy;
  policy: EffectivePolicy;
  minResults?: number;
}

const meaningful = (values: readonly string[]) => values.filter((v) => !STRUCTURAL.has(v));

/** Whether a tool has anything (a category or tag beyond the structural ones) another could share. */
export function hasKind(tool: CandidateTool): boolean {
  return meaningful(tool.categories).length > 0 || meaningful(tool.tags).length > 0;
}

const rateOf = (a: ToolAggregate | undefined) => (a && a.results > 0 ? a.ok / a.results : 0);
const percent = (rate: number) => `${Math.round(rate * 100)} %`;

/**
 * Pure: the best alternative to `failed`, or null. A candidate must share a category or tag with
 * it, be allowed by both layers of the agent's policy (`decideToolAccess`, restricted tools
 * included), have at least `minResults` finished calls on record, a success rate of at least
 * MIN_SUGGESTION_RATE and above the failed tool's. The highest rate wins; then the most shared,
 * then the faster median, then the name.
 */
export function selectAlternative(q: AlternativeQuery): Suggestion | null {
  const minResults = q.minResults ?? MIN_SUGGESTION_RESULTS;
  const categories = new Set(meaningful(q.failed.categories));
  const tags = new Set(meaningful(q.failed.tags));
  if (categories.size === 0 && tags.size === 0) return null;
  const failedRate = rateOf(q.aggregates.get(q.failed.name));
  let best: { tool: CandidateTool; rate: number; shared: number; p50: number | null; runs: number; sharedCategories: string[]; sharedTags: string[] } | null = null;
  for (const tool of q.candidates) {
    if (tool.name === q.failed.name) continue;
    const sharedCategories = tool.categories.filter((c) => categories.has(c));
    const sharedTags = tool.tags.filter((t) => tags.has(t));
    if (sharedCategories.length === 0 && sharedTags.length === 0) continue;
    const record = q.aggregates.get(tool.name);
    if (!record || record.results < minResults) continue;
    const rate = rateOf(record);
    if (rate < MIN_SUGGESTION_RATE || rate <= failedRate) continue;
    // Never a tool the agent may not use, under its own policy or the conversation's level.
    if (!decideLayered(q.agentPolicy, q.policy, (p) => decideToolAccess(p, tool.name, isRestricted(tool))).allow) continue;
    const shared = sharedCategories.length + sharedTags.length;
    const p50 = percentileMs(record.durations, 0.5);
    const better =
      !best ||
      rate > best.rate ||
      (rate === best.rate && (shared > best.shared || (shared === best.shared && ((p50 ?? Infinity) < (best.p50 ?? Infinity) || ((p50 ?? Infinity) === (best.p50 ?? Infinity) && tool.name < best.tool.name)))));
    if (better) best = { tool, rate, shared, p50, runs: record.results, sharedCategories, sharedTags };
  }
  if (!best) return null;
  const what = [...best.sharedCategories.map((c) => `category '${c}'`), ...best.sharedTags.map((t) => `tag '${t}'`)].join(', ');
  const failedRecord = q.aggregates.get(q.failed.name);
  const failedSaid = failedRecord && failedRecord.results > 0 ? `${percent(failedRate)} of ${failedRecord.results} for ${q.failed.name}` : `no record for ${q.failed.name}`;
  return {
    name: best.tool.name,
    why: `${best.tool.name} shares ${what} with ${q.failed.name}; ${percent(best.rate)} of its ${best.runs} finished calls succeeded (${failedSaid}). Only suggested: call it yourself if it fits.`,
    successRate: best.rate,
    p50Ms: best.p50,
    runs: best.runs,
    shared: { categories: best.sharedCategories, tags: best.sharedTags },
  };
}

/** The per-tool aggregates now: the audit log's in-memory fold, else the stored records (never the log). */
async function toolAggregatesNow(ctx: ServerContext): Promise<ReadonlyMap<string, ToolAggregate>> {
  const held = ctx.audit.heldAggregates();
  if (held) return held.tools;
  const db = await ctx.db.get();
  const records = await db.getAll('aggregates', IDBKeyRange.bound(['tool'], ['tool', []]));
  return new Map(records.filter((r): r is ToolAggregate => r.kind === 'tool').map((r) => [r.name, r]));
}

/**
 * The alternative to offer for a call of `failed` that ended with `code`, or null. Costs nothing
 * for a code not in SUGGESTED_FOR or a tool with no kind to share; otherwise one read of the
 * tool list and the aggregates. Never throws: a suggestion must not cost the agent its answer.
 */
export async function suggestAlternative(ctx: ServerContext, call: CallContext, failed: CandidateTool, code: string): Promise<Suggestion | null> {
  if (!SUGGESTED_FOR.has(code) || !hasKind(failed)) return null;
  try {
    const [candidates, aggregates] = await Promise.all([ctx.registry.callable(), toolAggregatesNow(ctx)]);
    const suggestion = selectAlternative({ failed, candidates, aggregates, agentPolicy: call.agentPolicy, policy: call.policy });
    if (!suggestion) return null;
    const preferred = call.conversation.preferences?.[suggestion.name]?.preferred;
    return preferred && preferred.arguments !== null ? { ...suggestion, preferredArguments: preferred.arguments } : suggestion;
  } catch {
    return null;
  }
}

/** A suggestion as the audit keeps it: the tool and its record, not the conversation's arguments. */
export function auditedSuggestion(s: Suggestion): Omit<Suggestion, 'preferredArguments'> {
  const { preferredArguments: _arguments, ...kept } = s;
  return kept;
}
