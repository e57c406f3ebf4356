import { describe, expect, it } from 'vitest';
import { csvField, csvHeader, csvRows } from '../../src/ui/trail-export';
import type { AuditEntry } from '../../src/store/schema';

describe('trail export as CSV', () => {
  it('quotes what CSV needs quoted, and defuses formulas a spreadsheet would run', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('=HYPERLINK("http://evil")')).toBe('"\'=HYPERLINK(""http://evil"")"');
    expect(csvField('@SUM(A1)')).toBe('"\'@SUM(A1)"');
    expect(csvField(-3)).toBe('"\'-3"');
    expect(csvField(null)).toBe('');
  });

  it('writes one row per entry under the header, with the denial rule, both hashes and the call a replay replays', () => {
    const e = { seq: 7, ts: 0, event: 'call.rejected', outcome: 'denied', agentId: 'a,b', tool: 'fetch_url', callId: 'c', sessionId: 's', durationMs: null, memoryBytes: null, error: { code: 'policy-denied', message: 'm', details: { rule: 'network.blocked' } }, hash: 'h', prevHash: 'p' } as unknown as AuditEntry;
    expect(csvHeader()).toBe('seq,time,event,outcome,agent,tool,callId,sessionId,durationMs,memoryBytes,error,rule,hash,prevHash,replayOf\r\n');
    expect(csvRows([e, { ...e, seq: 8, replayOf: 'c0' }])).toBe('7,1970-01-01T00:00:00.000Z,call.rejected,denied,"a,b",fetch_url,c,s,,,policy-denied,network.blocked,h,p,\r\n8,1970-01-01T00:00:00.000Z,call.rejected,denied,"a,b",fetch_url,c,s,,,policy-denied,network.blocked,h,p,c0\r\n');
  });
});
