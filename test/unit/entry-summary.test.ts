import { describe, expect, it } from 'vitest';
import { entrySummary } from '../../src/ui/format';

// The one-line summary of an audit row (src/ui/format.ts): what a person reads in the trail.
describe('an audit row\'s summary', () => {
  it('shows a tool\'s JSON output as JSON, not as a string escaped again inside the details', () => {
    const text = entrySummary({ error: null, args: null, details: { output: '{"words": 4, "lines": 1}', logs: [] } });
    expect(text).toBe('output: {"words":4,"lines":1} {"logs":[]}');
    expect(text).not.toContain('\\"');
  });

  it('keeps output that is not JSON (or was cut) as the text it is', () => {
    expect(entrySummary({ error: null, args: null, details: { output: 'plain words "quoted"' } })).toBe('output: plain words "quoted"');
    expect(entrySummary({ error: null, args: null, details: { output: '{"cut": "aft…' } })).toBe('output: {"cut": "aft…');
  });

  it('gives an error with its rule first, then arguments, then other details', () => {
    expect(entrySummary({ error: { code: 'policy-denied', message: 'no', details: { rule: 'tool.blocked' } }, args: { a: 1 }, details: null })).toBe('policy-denied (tool.blocked): no');
    expect(entrySummary({ error: null, args: { text: 'hi' }, details: { kind: 'call' } })).toBe('{"text":"hi"}');
    expect(entrySummary({ error: null, args: null, details: { kind: 'call' } })).toBe('{"kind":"call"}');
    expect(entrySummary({ error: null, args: null, details: null })).toBe('');
  });
});
