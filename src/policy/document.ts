// Policy documents: the versioned JSON an admin writes, stores, imports and exports. A
// document refines its trust level's template (see `resolve.ts`), so every field is
// optional. Parsing reports every problem at once, each naming the field path and why.
import type { z } from 'zod';
import { clone } from './clone';
import type { DataRules, EffectivePolicy, FileRules, Limits, NetworkRules, SessionRules, ToolRules, TrustLevel } from './types';
import { issuesToErrors, type PolicyError } from './errors';
import { FIELD_ORDER, policyDocumentSchema } from './schema';

type Refinement<T> = { readonly [K in keyof T]?: T[K] | undefined };

export interface PolicyDocument {
  readonly version: 1;
  /** The template this document refines; when absent, the agent's own level. */
  readonly trustLevel?: TrustLevel | undefined;
  readonly tools?: Refinement<ToolRules> | undefined;
  readonly limits?: Refinement<Limits> | undefined;
  readonly network?: Refinement<NetworkRules> | undefined;
  readonly files?: Refinement<FileRules> | undefined;
  readonly data?: Refinement<DataRules> | undefined;
  readonly session?: Refinement<SessionRules> | undefined;
}

export type PolicyParseResult = { ok: true; policy: PolicyDocument } | { ok: false; errors: PolicyError[] };

// The schema's output must fit the hand-written type; this fails to compile if they drift.
function asDocument(data: z.output<typeof policyDocumentSchema>): PolicyDocument {
  return data;
}

export function parsePolicyDocument(json: unknown): PolicyParseResult {
  const result = policyDocumentSchema.safeParse(json);
  if (result.success) return { ok: true, policy: asDocument(result.data) };
  return { ok: false, errors: issuesToErrors(result.error.issues) };
}

/** For imports: JSON syntax errors are reported like field errors, at `(root)`. */
export function parsePolicyDocumentText(text: string): PolicyParseResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, errors: [{ path: '(root)', reason: `is not valid JSON (${(error as Error).message})` }] };
  }
  return parsePolicyDocument(json);
}

/**
 * Stable, pretty JSON: fields in schema order whatever order they were given in, lists in
 * their own order, absent fields left out, two-space indent, trailing newline. So
 * `serialize(parse(serialize(d)))` is `serialize(d)` and diffs of stored policies are clean.
 */
export function serializePolicyDocument(policy: PolicyDocument): string {
  return `${JSON.stringify(ordered(policy, ''), null, 2)}\n`;
}

function ordered(value: unknown, path: string): unknown {
  if (Array.isArray(value)) return value.map((item: unknown) => ordered(item, path));
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  const keys = FIELD_ORDER[path] ?? Object.keys(record).sort();
  const entries = keys
    .filter((key) => record[key] !== undefined)
    .map((key) => [key, ordered(record[key], path === '' ? key : `${path}.${key}`)] as const);
  return Object.fromEntries(entries);
}

/** The whole effective policy as a document: every field set, so it resolves to itself. */
export function toPolicyDocument(policy: EffectivePolicy): PolicyDocument {
  return { version: 1, ...clone(policy) };
}
