import type { ToolPreferenceRecord } from '../store/schema';
import { argumentShape, shapeHash } from '../shared/shape';

export { argumentShape, shapeHash };

// Tool preferences per conversation (docs/context.md, "Tool preferences"): how much the
// conversation leans on each tool, how it fared there, and the arguments of its last successful
// call. Pure: the context store folds each finished call in behind the reply (contexts.ts).
// Preferred arguments are offered to the agent as a suggestion, never applied.

/** Preferred arguments longer than this (JSON text) are kept as their shape only. */
export const MAX_PREFERRED_ARGUMENT_CHARS = 2048;
/** Tools a conversation keeps preferences for; the least recently used goes first. */
export const MAX_TOOL_PREFERENCES = 64;

/** One finished call, as the preferences fold it. */
export interface ToolUse {
  tool: string;
  ok: boolean;
  /** The result's outcome: `ok`, or the error code. */
  outcome: string;
  at: number;
  /**
   * The call's arguments as its audit entry keeps them: redacted by its policy's sensitive
   * patterns and credential formats (runAudited does it once for both). Read for a success only.
   */
  args: unknown;
  /** Keep only their shape: the policy wants what it audits sealed at rest (`data.encryptionRequired`). */
  withhold?: boolean;
}

/**
 * What a successful call's (redacted) arguments leave as the preferred ones: their shape's hash,
 * and the values, or null when their JSON text is over MAX_PREFERRED_ARGUMENT_CHARS or they are
 * to be withheld (`withheld`).
 */
export function preferredArgumentsOf(args: unknown, at: number, withhold = false): NonNullable<ToolPreferenceRecord['preferred']> {
  const shape = shapeHash(argumentShape(args));
  if (withhold) return { shape, arguments: null, at, withheld: true };
  const text = JSON.stringify(args) ?? 'null';
  const kept = text.length <= MAX_PREFERRED_ARGUMENT_CHARS;
  return { shape, arguments: kept ? args : null, at, ...(kept ? {} : { truncated: true }) };
}

/**
 * Pure: the preferences after `uses` (in order). Per tool: its calls and successes in this
 * conversation, `successRate` as of its last call, `weight` (its share of the conversation's
 * calls on record), the last outcome and use, and the arguments of its last successful call.
 * At most MAX_TOOL_PREFERENCES tools are kept.
 */
export function foldToolUses(previous: Readonly<Record<string, ToolPreferenceRecord>> | undefined, uses: readonly ToolUse[]): Record<string, ToolPreferenceRecord> {
  const next: Record<string, ToolPreferenceRecord> = {};
  for (const [name, p] of Object.entries(previous ?? {})) next[name] = { ...p };
  for (const use of uses) {
    const p = next[use.tool] ?? { calls: 0, ok: 0, weight: 0, successRate: 0, lastOutcome: use.outcome, lastUsedAt: use.at };
    p.calls++;
    if (use.ok) p.ok++;
    p.successRate = p.ok / p.calls;
    p.lastOutcome = use.outcome;
    p.lastUsedAt = Math.max(p.lastUsedAt, use.at);
    if (use.ok) p.preferred = preferredArgumentsOf(use.args, use.at, use.withhold);
    next[use.tool] = p;
  }
  const names = Object.keys(next);
  if (names.length > MAX_TOOL_PREFERENCES) {
    names.sort((a, b) => next[a]!.lastUsedAt - next[b]!.lastUsedAt || (a < b ? -1 : 1));
    for (const name of names.slice(0, names.length - MAX_TOOL_PREFERENCES)) delete next[name];
  }
  const total = Object.values(next).reduce((sum, p) => sum + p.calls, 0);
  for (const p of Object.values(next)) p.weight = total ? p.calls / total : 0;
  return next;
}

/** `_meta` key of a failed call's result offering what the conversation remembers of the tool. */
export const PREFERENCES_META_KEY = 'mcp-sandbox/preferences';

/**
 * What a failed call's result offers of `tool`'s preferences in its conversation: its record
 * here and the arguments of its last success there (to retry with, if the agent wants). Null
 * when the conversation has none for it.
 */
export function preferencesOffer(preferences: Readonly<Record<string, ToolPreferenceRecord>> | undefined, tool: string): Record<string, unknown> | null {
  const p = preferences?.[tool];
  if (!p) return null;
  return {
    tool,
    calls: p.calls,
    successRate: p.successRate,
    weight: p.weight,
    ...(p.preferred ? { preferredArguments: p.preferred.arguments, preferredShape: p.preferred.shape, preferredAt: new Date(p.preferred.at).toISOString(), ...(p.preferred.truncated ? { truncated: true } : {}), ...(p.preferred.withheld ? { withheld: true } : {}) } : {}),
  };
}
