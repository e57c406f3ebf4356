// The policy document's schema (zod). Every field is optional, because a document
// refines a template; every object is strict, because a misspelt field that is silently
// ignored is a permission nobody meant to give or take. Every check carries the reason
// shown to the person editing the document.
import { z } from 'zod';
import { domainPatternProblem } from './domains';
import { filePatternProblem } from './glob';
import { parseHhMm } from './quiet-hours';
import { ANY, CODE_LANGUAGE_NAMES, TRUST_LEVELS } from './types';
import { isValidTimeZone } from './wall-clock';
import { sensitivePatternProblem } from './words';

/** A fixed reason, or "is required" when the value is missing altogether. */
function because(reason: string): { error: (issue: { input?: unknown }) => string } {
  return { error: (issue) => (issue.input === undefined ? 'is required' : reason) };
}

function integer(min: number, max: number, reasonText = min === 1 ? `must be a positive integer ≤ ${max}` : `must be an integer from ${min} to ${max}`) {
  const reason = because(reasonText);
  return z.number(reason).int(reason).min(min, reason).max(max, reason);
}

const flag = z.boolean(because('must be true or false'));

/** A string checked by a `…Problem` function that explains what is wrong with it. */
function checkedString(what: string, problem: (value: string) => string | null) {
  return z.string(because(`must be ${what}`)).superRefine((value, ctx) => {
    const reason = problem(value);
    if (reason !== null) ctx.addIssue({ code: 'custom', message: reason });
  });
}

function list<T extends z.ZodType>(item: T) {
  return z.array(item, because('must be a list (write ["*"] for any, [] for none)')).max(1000, because('must have at most 1000 entries'));
}

const toolName = checkedString('a tool name', (name) =>
  name === ANY || /^[^\s\p{Cc}]{1,128}$/u.test(name) ? null : 'must be a tool name (1–128 characters, no spaces) or "*"',
);
const domainPattern = checkedString('a host pattern', domainPatternProblem);
const filePattern = checkedString('a path pattern', filePatternProblem);
const sensitivePattern = checkedString('a word or key name', sensitivePatternProblem);
const PORT_REASON = 'must be a port number from 1 to 65535 or "*"';
const port = z.union([z.literal(ANY), integer(1, 65535, PORT_REASON)], because(PORT_REASON));
const clockTime = checkedString('a time "HH:MM"', (text) => (parseHhMm(text) === null ? 'must be a 24-hour time "HH:MM", e.g. "22:00"' : null));
const timeZone = checkedString('a time zone', (zone) =>
  isValidTimeZone(zone) ? null : 'must be an IANA time zone such as "UTC" or "America/New_York"',
);

// Shapes are kept as plain objects so their key lists also define the serialised order
// and name the known fields in "unknown field" errors.
const quietHoursShape = { start: clockTime, end: clockTime, timeZone };
const codeLanguage = checkedString('a language', (name) => (name === ANY || (CODE_LANGUAGE_NAMES as readonly string[]).includes(name) ? null : `must be one of ${CODE_LANGUAGE_NAMES.join(', ')} or "*"`));
const toolsShape = { allowed: list(toolName), blocked: list(toolName), codeLanguages: list(codeLanguage) };
const limitsShape = {
  memoryMb: integer(1, 4096), // wasm32 memories stop at 4 GiB
  cpuSeconds: integer(1, 86_400),
  concurrentCalls: integer(1, 1000),
  queueWaitMs: integer(0, 60_000),
};
const networkShape = {
  allowedDomains: list(domainPattern),
  blockedDomains: list(domainPattern),
  // Optional like every field: a document written before it existed still parses, and the
  // agent gets its template's value (see `resolve.ts`).
  blockPrivateNetworks: flag,
  allowedPorts: list(port),
  httpsOnly: flag,
  maxRequestKb: integer(0, 1_048_576),
  requestsPerMinute: integer(0, 100_000),
};
const filesShape = {
  allowedPatterns: list(filePattern),
  blockedPatterns: list(filePattern),
  maxSizeMb: integer(0, 4096),
};
const dataShape = {
  sensitivePatterns: list(sensitivePattern),
  redactForAgent: flag,
  encryptionRequired: flag,
  auditAllAccess: flag,
};
const quietHours = z
  .strictObject(quietHoursShape, because('must be null or an object {"start", "end", "timeZone"}'))
  .refine((q) => q.start !== q.end, { path: ['end'], error: 'must differ from start (use null for no quiet hours)' })
  .nullable();
const sessionShape = {
  timeoutMinutes: integer(1, 10_080),
  maxCalls: integer(1, 10_000_000),
  callsPerMinute: integer(0, 100_000),
  quietHours,
};

function section<S extends z.ZodRawShape>(shape: S) {
  return z.strictObject(shape, because('must be an object')).partial().optional();
}

const documentShape = {
  version: z.literal(1, {
    error: (issue) =>
      issue.input === undefined
        ? 'is required and must be 1'
        : `must be 1: this sandbox reads policy documents of version 1 only (got ${JSON.stringify(issue.input)})`,
  }),
  trustLevel: z.enum(TRUST_LEVELS, because(`must be one of ${TRUST_LEVELS.join(', ')}`)).optional(),
  tools: section(toolsShape),
  limits: section(limitsShape),
  network: section(networkShape),
  files: section(filesShape),
  data: section(dataShape),
  session: section(sessionShape),
};

export const policyDocumentSchema = z.strictObject(documentShape, because('must be a JSON object'));

/** Field names in document order, by dotted path of their parent ('' = the document). */
export const FIELD_ORDER: Readonly<Record<string, readonly string[]>> = {
  '': Object.keys(documentShape),
  tools: Object.keys(toolsShape),
  limits: Object.keys(limitsShape),
  network: Object.keys(networkShape),
  files: Object.keys(filesShape),
  data: Object.keys(dataShape),
  session: Object.keys(sessionShape),
  'session.quietHours': Object.keys(quietHoursShape),
};

/** A run-time grant or revoke, as an admin action carries it. */
export const grantSchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('tool'), name: toolName }),
    z.strictObject({ kind: z.literal('domain'), pattern: domainPattern }),
    z.strictObject({ kind: z.literal('path'), pattern: filePattern }),
  ],
  because('must be {"kind": "tool", "name"} or {"kind": "domain" | "path", "pattern"}'),
);
