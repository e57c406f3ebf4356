// Zod issues → errors a person can act on: the field path and the reason, nothing else.
import type { z } from 'zod';
import { FIELD_ORDER } from './schema';

export interface PolicyError {
  /** Dotted field path with list indices, e.g. `limits.memoryMb` or `tools.allowed[2]`; `(root)` for the whole value. */
  readonly path: string;
  readonly reason: string;
}

export function issuesToErrors(issues: readonly z.core.$ZodIssue[]): PolicyError[] {
  return issues.flatMap(toErrors);
}

function toErrors(issue: z.core.$ZodIssue): PolicyError[] {
  if (issue.code === 'unrecognized_keys') {
    const parent = issue.path.filter((key) => typeof key === 'string').join('.');
    const known = FIELD_ORDER[parent] ?? [];
    return issue.keys.map((key) => ({
      path: formatPath([...issue.path, key]),
      reason: `is not a known field${known.length > 0 ? ` (known here: ${known.join(', ')})` : ''}`,
    }));
  }
  return [{ path: formatPath(issue.path), reason: issue.message }];
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}
