import type { AuditEntry } from '../store/schema';
import { toJsonLines } from '../store/audit';

/**
 * The audit log as OpenTelemetry logs, in the OTLP/HTTP JSON encoding (an
 * `ExportLogsServiceRequest`, opentelemetry-proto `collector/logs/v1`), written by hand: a few
 * plain objects, no SDK in the service worker. Field names are the proto's in lowerCamelCase;
 * 64-bit integers (times, `audit.seq`) are decimal strings, as the OTLP JSON mapping writes them.
 *
 * One log record per audit entry:
 * - `body` is the entry's exact stored text as the JSONL export writes it (canonical JSON, keys
 *   sorted, `hash` included; sealed fields sealed), so a store can check the chain on its own;
 * - `attributes` carry what a fleet searches by: the chain (`audit.seq`, `audit.hash`,
 *   `audit.prev_hash`), `audit.event`, `audit.outcome`, the agent, tool, call and session;
 * - `timeUnixNano` is the entry's `ts`, `observedTimeUnixNano` the time it was sent;
 * - severity follows the outcome (error and interrupted ERROR, denied WARN, the rest INFO).
 */

export type AnyValue = { stringValue: string } | { intValue: string } | { doubleValue: number } | { boolValue: boolean } | { arrayValue: { values: AnyValue[] } };
export interface KeyValue {
  key: string;
  value: AnyValue;
}

export interface OtlpLogRecord {
  timeUnixNano: string;
  observedTimeUnixNano: string;
  severityNumber: number;
  severityText: string;
  body: AnyValue;
  attributes: KeyValue[];
}

export interface ExportLogsServiceRequest {
  resourceLogs: {
    resource: { attributes: KeyValue[] };
    scopeLogs: { scope: { name: string; version: string }; logRecords: OtlpLogRecord[] }[];
  }[];
}

/** Who sends: the resource every record of a request belongs to. */
export interface SandboxResource {
  serviceName: string;
  serviceVersion: string;
  /** Random id of this sandbox (kept with the export's configuration). */
  instanceId: string;
  /** The name the person gave this sandbox in the fleet; '' for none. */
  name: string;
  /** The sandbox's origin (`http://127.0.0.1:4173`). */
  origin: string;
}

/** The instrumentation scope of every record. */
export const AUDIT_SCOPE = { name: 'browser-mcp-sandbox/audit', version: '1' } as const;

/** OpenTelemetry SeverityNumber values used here. */
export const SEVERITY = { INFO: 9, WARN: 13, ERROR: 17 } as const;

const str = (key: string, value: string): KeyValue => ({ key, value: { stringValue: value } });

/** Milliseconds since the epoch as nanoseconds (a decimal string, to the microsecond); '0' for what is not a time. */
export function unixNanos(ms: unknown): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return '0';
  // A double near 1.7e12 ms holds about a quarter of a microsecond: what is below 1 µs is noise.
  const whole = Math.trunc(ms);
  return (BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1e3)) * 1_000n).toString();
}

export function severityOf(outcome: unknown): { severityNumber: number; severityText: string } {
  if (outcome === 'error' || outcome === 'interrupted') return { severityNumber: SEVERITY.ERROR, severityText: 'ERROR' };
  if (outcome === 'denied') return { severityNumber: SEVERITY.WARN, severityText: 'WARN' };
  return { severityNumber: SEVERITY.INFO, severityText: 'INFO' };
}

/**
 * One audit record as a log record. Records come from storage anyone with the origin can write,
 * so they are taken as they are: a field that is not what an entry holds is left out of the
 * attributes, and the body says exactly what is stored (`toJsonLines`). Never throws.
 */
export function logRecordOf(record: unknown, observedMs: number): OtlpLogRecord {
  const e = (typeof record === 'object' && record !== null ? record : {}) as Partial<Record<keyof AuditEntry, unknown>>;
  const attributes: KeyValue[] = [];
  if (typeof e.seq === 'number' && Number.isSafeInteger(e.seq)) attributes.push({ key: 'audit.seq', value: { intValue: String(e.seq) } });
  const text = (key: string, v: unknown) => typeof v === 'string' && attributes.push(str(key, v));
  text('audit.hash', e.hash);
  text('audit.prev_hash', e.prevHash);
  text('audit.event', e.event);
  text('audit.outcome', e.outcome);
  text('gen_ai.agent.id', e.agentId);
  text('gen_ai.tool.name', e.tool);
  text('gen_ai.tool.call.id', e.callId);
  text('mcp.session.id', e.sessionId);
  text('audit.replay_of', e.replayOf);
  if (typeof e.durationMs === 'number' && Number.isFinite(e.durationMs)) attributes.push({ key: 'audit.duration_ms', value: { doubleValue: e.durationMs } });
  const code = (e.error as { code?: unknown } | null | undefined)?.code;
  text('error.type', code);
  if (Array.isArray(e.sealed) && e.sealed.every((f) => typeof f === 'string')) attributes.push({ key: 'audit.sealed', value: { arrayValue: { values: (e.sealed as string[]).map((f) => ({ stringValue: f })) } } });
  return {
    timeUnixNano: unixNanos(e.ts),
    observedTimeUnixNano: unixNanos(observedMs),
    ...severityOf(e.outcome),
    body: { stringValue: toJsonLines([record]).replace(/\n$/, '') },
    attributes,
  };
}

export function resourceAttributes(resource: SandboxResource): KeyValue[] {
  return [
    str('service.name', resource.serviceName),
    str('service.version', resource.serviceVersion),
    str('service.instance.id', resource.instanceId),
    ...(resource.name ? [str('mcp_sandbox.name', resource.name)] : []),
    str('mcp_sandbox.origin', resource.origin),
  ];
}

/** An ExportLogsServiceRequest of log records (made with `logRecordOf`), in the order given. */
export function exportRequest(records: OtlpLogRecord[], resource: SandboxResource): ExportLogsServiceRequest {
  return { resourceLogs: [{ resource: { attributes: resourceAttributes(resource) }, scopeLogs: [{ scope: { ...AUDIT_SCOPE }, logRecords: records }] }] };
}

/** Audit records as one request (every record, in order). */
export function encodeLogs(records: readonly unknown[], resource: SandboxResource, observedMs: number): ExportLogsServiceRequest {
  return exportRequest(
    records.map((r) => logRecordOf(r, observedMs)),
    resource,
  );
}

/**
 * What an ExportLogsServiceResponse body says of records the endpoint took but rejected (OTLP
 * partial success); null when it rejected none or the body is not such a response.
 */
export function partialSuccessOf(body: string): { rejected: number; message: string } | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  const p = (parsed as { partialSuccess?: { rejectedLogRecords?: unknown; errorMessage?: unknown } } | null)?.partialSuccess;
  const rejected = Number(p?.rejectedLogRecords ?? 0);
  if (!Number.isSafeInteger(rejected) || rejected <= 0) return null;
  return { rejected, message: typeof p?.errorMessage === 'string' ? p.errorMessage : '' };
}
