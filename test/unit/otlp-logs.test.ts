import 'fake-indexeddb/auto';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { AuditLog, readAudit, toJsonLines, verifyChain } from '../../src/store/audit';
import { DbHandle } from '../../src/store/db';
import { encodeLogs, logRecordOf, partialSuccessOf, severityOf, unixNanos, type KeyValue } from '../../src/server/otlp-logs';
import { freshDbName } from './support/server-fixture';

// The audit log as OTLP/HTTP JSON (ExportLogsServiceRequest): one log record per entry, the
// entry's stored text as its body, the chain and what a fleet searches by as attributes.

/** The OTLP protobuf definitions as OpenTelemetry JS generates them (protobufjs), to check the encoding against. */
interface ProtoType {
  fromObject(o: unknown): unknown;
  encode(m: unknown): { finish(): Uint8Array };
  decode(b: Uint8Array): unknown;
  toObject(m: unknown, o: { longs: StringConstructor; arrays: boolean }): unknown;
}
const proto = createRequire(import.meta.url)('@opentelemetry/otlp-transformer/build/src/generated/root.js') as { opentelemetry: { proto: { collector: { logs: { v1: { ExportLogsServiceRequest: ProtoType } } } } } };
const ExportLogsServiceRequest = proto.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;
/** Through the real proto: JSON object → message → protobuf bytes → message → JSON object (fields the proto lacks are lost). */
const viaProto = (o: unknown) => withoutEmptyLists(ExportLogsServiceRequest.toObject(ExportLogsServiceRequest.decode(ExportLogsServiceRequest.encode(ExportLogsServiceRequest.fromObject(o)).finish()), { longs: String, arrays: true }));
/** `arrays: true` writes every repeated field the message has, empty ones too (`entityRefs: []`): those are not ours. */
const withoutEmptyLists = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(withoutEmptyLists) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).filter(([, x]) => !(Array.isArray(x) && x.length === 0)).map(([k, x]) => [k, withoutEmptyLists(x)])) : v;

const RESOURCE = { serviceName: 'browser-mcp-sandbox', serviceVersion: '0.1.0', instanceId: 'inst-1', name: 'alice-laptop', origin: 'http://127.0.0.1:4173' };
const attrs = (list: KeyValue[]) => Object.fromEntries(list.map((a) => [a.key, a.value]));

async function someEntries() {
  const db = new DbHandle(freshDbName());
  const log = new AuditLog(db, () => 1_700_000_000_123);
  await log.append({ event: 'session.open', outcome: 'info', sessionId: 's1', agentId: 'a1' });
  await log.append({ event: 'call.request', outcome: 'pending', sessionId: 's1', agentId: 'a1', callId: 'c1', tool: 'text_stats', args: { text: 'plain secret words' }, seal: ['args'] });
  await log.append({ event: 'call.result', outcome: 'error', sessionId: 's1', agentId: 'a1', callId: 'c1', tool: 'text_stats', durationMs: 1.25, error: { code: 'timeout', message: 'too slow' } });
  await log.append({ event: 'call.rejected', outcome: 'denied', agentId: 'a1', callId: 'c2', tool: 'fetch_url', ts: 1_700_000_000_123.456 });
  return readAudit(db);
}

describe('OTLP logs encoding', () => {
  it('writes an ExportLogsServiceRequest: one resource with the sandbox, one scope, a record per entry in order', async () => {
    const entries = await someEntries();
    const request = encodeLogs(entries, RESOURCE, 1_700_000_001_000);
    expect(request.resourceLogs).toHaveLength(1);
    const [rl] = request.resourceLogs;
    expect(attrs(rl!.resource.attributes)).toEqual({
      'service.name': { stringValue: 'browser-mcp-sandbox' },
      'service.version': { stringValue: '0.1.0' },
      'service.instance.id': { stringValue: 'inst-1' },
      'mcp_sandbox.name': { stringValue: 'alice-laptop' },
      'mcp_sandbox.origin': { stringValue: 'http://127.0.0.1:4173' },
    });
    expect(rl!.scopeLogs).toHaveLength(1);
    expect(rl!.scopeLogs[0]!.scope).toEqual({ name: 'browser-mcp-sandbox/audit', version: '1' });
    const records = rl!.scopeLogs[0]!.logRecords;
    expect(records.map((r) => attrs(r.attributes)['audit.seq'])).toEqual([{ intValue: '1' }, { intValue: '2' }, { intValue: '3' }, { intValue: '4' }]);
    // Round-trips through JSON (what is POSTed) unchanged.
    expect(JSON.parse(JSON.stringify(request))).toEqual(request);
    // A sandbox without a name has no name attribute.
    expect(attrs(encodeLogs(entries, { ...RESOURCE, name: '' }, 0).resourceLogs[0]!.resource.attributes)['mcp_sandbox.name']).toBeUndefined();
  });

  it('is an ExportLogsServiceRequest to the letter: every field survives the OTLP protobuf definitions', async () => {
    const entries = await someEntries();
    const request = encodeLogs(entries, RESOURCE, 1_700_000_001_000);
    expect(viaProto(request)).toEqual(request);
    // The check tells: a misspelt field or a number where the proto has a string does not survive.
    const misspelt = { resourceLogs: [{ resource: { attributes: [{ key: 'k', value: { stringValue: 'v' } }] }, scopeLogs: [{ scope: { name: 'x', version: '1' }, logRecords: [{ timeUnixNanos: '1', body: { stringValue: 'b' } }] }] }] };
    expect(viaProto(misspelt)).not.toEqual(misspelt);
  });

  it('carries the chain and the searchable fields as attributes, the exact stored text as body', async () => {
    const entries = await someEntries();
    const [open, request, result, rejected] = entries.map((e) => logRecordOf(e, 1_700_000_001_000));
    expect(attrs(result!.attributes)).toEqual({
      'audit.seq': { intValue: '3' },
      'audit.hash': { stringValue: entries[2]!.hash },
      'audit.prev_hash': { stringValue: entries[1]!.hash },
      'audit.event': { stringValue: 'call.result' },
      'audit.outcome': { stringValue: 'error' },
      'gen_ai.agent.id': { stringValue: 'a1' },
      'gen_ai.tool.name': { stringValue: 'text_stats' },
      'gen_ai.tool.call.id': { stringValue: 'c1' },
      'mcp.session.id': { stringValue: 's1' },
      'audit.duration_ms': { doubleValue: 1.25 },
      'error.type': { stringValue: 'timeout' },
    });
    // Null fields are left out, not sent as empty strings.
    expect(Object.keys(attrs(open!.attributes))).not.toContain('gen_ai.tool.name');
    expect(Object.keys(attrs(rejected!.attributes))).not.toContain('mcp.session.id');
    // The body is the entry's line of the JSONL export: the chain verifies from the bodies alone.
    expect(result!.body).toEqual({ stringValue: toJsonLines([entries[2]]).trim() });
    const parsed = [open, request, result, rejected].map((r) => JSON.parse((r!.body as { stringValue: string }).stringValue) as unknown);
    expect(parsed).toEqual(entries);
    expect(await verifyChain(parsed)).toMatchObject({ ok: true, count: 4, head: entries[3]!.hash });
  });

  it('sends sealed fields sealed: the body holds the ciphertext, never the plaintext', async () => {
    const entries = await someEntries();
    const record = logRecordOf(entries[1], 0);
    const body = (record.body as { stringValue: string }).stringValue;
    expect(body).not.toContain('plain secret words');
    expect(JSON.parse(body).args).toMatchObject({ alg: 'AES-GCM-256' });
    expect(attrs(record.attributes)['audit.sealed']).toEqual({ arrayValue: { values: [{ stringValue: 'args' }] } });
  });

  it('writes times as exact nanosecond strings and severity by outcome', async () => {
    const entries = await someEntries();
    expect(logRecordOf(entries[0], 1_700_000_001_000).timeUnixNano).toBe('1700000000123000000');
    expect(logRecordOf(entries[0], 1_700_000_001_000).observedTimeUnixNano).toBe('1700000001000000000');
    expect(logRecordOf(entries[3], 0).timeUnixNano).toBe('1700000000123456000');
    expect(unixNanos(Number.NaN)).toBe('0');
    expect(unixNanos(-1)).toBe('0');
    expect(severityOf('error')).toEqual({ severityNumber: 17, severityText: 'ERROR' });
    expect(severityOf('interrupted')).toEqual({ severityNumber: 17, severityText: 'ERROR' });
    expect(severityOf('denied')).toEqual({ severityNumber: 13, severityText: 'WARN' });
    expect(severityOf('ok')).toEqual({ severityNumber: 9, severityText: 'INFO' });
    expect(logRecordOf(entries[3], 0).severityText).toBe('WARN');
  });

  it('never throws on a record that is not an entry, and says what is stored', () => {
    const odd = logRecordOf({ seq: 7, hash: 42, event: 'call.result', n: 10n }, 0);
    expect(attrs(odd.attributes)).toEqual({ 'audit.seq': { intValue: '7' }, 'audit.event': { stringValue: 'call.result' } });
    expect(JSON.parse((odd.body as { stringValue: string }).stringValue)).toMatchObject({ seq: 7, problem: expect.stringContaining('BigInt') });
    const notObject = logRecordOf('garbage', 0);
    expect(notObject.attributes).toEqual([]);
    expect(notObject.timeUnixNano).toBe('0');
  });

  it('reads partial success from the endpoint answer', () => {
    expect(partialSuccessOf('{"partialSuccess":{"rejectedLogRecords":"3","errorMessage":"too old"}}')).toEqual({ rejected: 3, message: 'too old' });
    expect(partialSuccessOf('{"partialSuccess":{}}')).toBeNull();
    expect(partialSuccessOf('{}')).toBeNull();
    expect(partialSuccessOf('')).toBeNull();
  });
});
