/** The effective policy's fields as the UI lists, formats and compares them. */
import { applyGrant, applyRevoke, resolvePolicy, type EffectivePolicy, type PolicyDocument, type QuietHours, type TrustLevel } from '../policy';
import { list } from './format';

export interface Field {
  /** Dotted path in an effective policy (and in a document). */
  path: string;
  label: string;
  unit?: string;
}

export const SECTIONS: readonly { id: string; title: string; fields: readonly Field[] }[] = [
  {
    id: 'tools',
    title: 'Tools',
    fields: [
      { path: 'tools.allowed', label: 'allowed tools' },
      { path: 'tools.blocked', label: 'blocked tools' },
      { path: 'tools.codeLanguages', label: 'execute_code languages' },
    ],
  },
  {
    id: 'limits',
    title: 'Limits per call',
    fields: [
      { path: 'limits.memoryMb', label: 'memory', unit: 'MB' },
      { path: 'limits.cpuSeconds', label: 'CPU time', unit: 's' },
      { path: 'limits.concurrentCalls', label: 'concurrent calls' },
      { path: 'limits.queueWaitMs', label: 'queue wait', unit: 'ms' },
    ],
  },
  {
    id: 'network',
    title: 'Network',
    fields: [
      { path: 'network.allowedDomains', label: 'allowed domains' },
      { path: 'network.blockedDomains', label: 'blocked domains' },
      { path: 'network.blockPrivateNetworks', label: 'block private networks' },
      { path: 'network.allowedPorts', label: 'allowed ports' },
      { path: 'network.httpsOnly', label: 'HTTPS only' },
      { path: 'network.maxRequestKb', label: 'largest request', unit: 'KiB' },
      { path: 'network.requestsPerMinute', label: 'requests per minute' },
    ],
  },
  {
    id: 'files',
    title: 'Files',
    fields: [
      { path: 'files.allowedPatterns', label: 'allowed paths' },
      { path: 'files.blockedPatterns', label: 'blocked paths' },
      { path: 'files.maxSizeMb', label: 'largest file', unit: 'MiB' },
    ],
  },
  {
    id: 'data',
    title: 'Data',
    fields: [
      { path: 'data.sensitivePatterns', label: 'sensitive patterns' },
      { path: 'data.redactForAgent', label: 'redact for agent' },
      { path: 'data.encryptionRequired', label: 'encryption required' },
      { path: 'data.auditAllAccess', label: 'audit all access' },
    ],
  },
  {
    id: 'session',
    title: 'Session',
    fields: [
      { path: 'session.timeoutMinutes', label: 'idle timeout', unit: 'min' },
      { path: 'session.maxCalls', label: 'calls per session' },
      { path: 'session.callsPerMinute', label: 'calls per minute' },
      { path: 'session.quietHours', label: 'quiet hours' },
    ],
  },
];

export const FIELDS: readonly Field[] = SECTIONS.flatMap((s) => s.fields);

export function valueAt(value: unknown, path: string): unknown {
  let v = value;
  for (const key of path.split('.')) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
  return v;
}

export function formatValue(value: unknown, field?: Field): string {
  if (value === undefined) return '–';
  if (value === null) return field?.path === 'session.quietHours' ? 'none' : 'null';
  if (Array.isArray(value)) return list(value);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (field?.path === 'session.quietHours') {
    const q = value as QuietHours;
    return `${q.start}–${q.end} (${q.timeZone})`;
  }
  if (typeof value === 'number') return field?.unit ? `${value} ${field.unit}` : String(value);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** What the server computes: template + document + run-time changes, in order. */
export function effectiveOf(level: TrustLevel, policy: PolicyDocument | null, changes: readonly { op: 'grant' | 'revoke'; change: Parameters<typeof applyGrant>[1] }[]): EffectivePolicy {
  return changes.reduce((p, c) => (c.op === 'grant' ? applyGrant(p, c.change) : applyRevoke(p, c.change)), resolvePolicy(level, policy ?? undefined));
}

/** Fields (and the trust level) whose values differ between two effective policies. */
export function differences(before: EffectivePolicy, after: EffectivePolicy): { path: string; label: string; before: string; after: string }[] {
  const out: { path: string; label: string; before: string; after: string }[] = [];
  if (before.trustLevel !== after.trustLevel) out.push({ path: 'trustLevel', label: 'template', before: before.trustLevel, after: after.trustLevel });
  for (const f of FIELDS) {
    const a = valueAt(before, f.path);
    const b = valueAt(after, f.path);
    if (!same(a, b)) out.push({ path: f.path, label: f.label, before: formatValue(a, f), after: formatValue(b, f) });
  }
  return out;
}
