import { describe, expect, it } from 'vitest';
import { chartSpan, isBounded, parseRange, rangeParams, resolveRange, type TimeRange } from '../../src/ui/time-range';

// The audit trail's time range: presets relative to now, custom bounds, the hash form, and the
// window the charts ask the aggregates for (their buckets: test/unit/aggregate-buckets.test.ts).

const NOW = Date.UTC(2026, 10, 30, 21, 7, 42, 500);
const MIN = 60_000;

describe('time ranges', () => {
  it('resolves presets relative to now, "all" to no bounds, custom to its own', () => {
    expect(resolveRange({ preset: '15m' }, NOW)).toEqual({ from: NOW - 15 * MIN, to: undefined });
    expect(resolveRange({ preset: '1h' }, NOW)).toEqual({ from: NOW - 60 * MIN, to: undefined });
    expect(resolveRange({ preset: '24h' }, NOW)).toEqual({ from: NOW - 24 * 60 * MIN, to: undefined });
    expect(resolveRange({ preset: '7d' }, NOW)).toEqual({ from: NOW - 7 * 24 * 60 * MIN, to: undefined });
    expect(resolveRange({ preset: 'all' }, NOW)).toEqual({ from: undefined, to: undefined });
    expect(resolveRange({ preset: 'custom', from: 5, to: 9 }, NOW)).toEqual({ from: 5, to: 9 });
    expect(isBounded({ preset: 'all' })).toBe(false);
    expect(isBounded({ preset: 'custom' })).toBe(false);
    expect(isBounded({ preset: 'custom', to: 1 })).toBe(true);
    expect(isBounded({ preset: '15m' })).toBe(true);
  });

  it('round-trips through the hash query, and ignores what it does not understand', () => {
    const ranges: TimeRange[] = [{ preset: '15m' }, { preset: '7d' }, { preset: 'custom', from: NOW - 3 * MIN, to: NOW }, { preset: 'custom', from: NOW }];
    for (const r of ranges) expect(parseRange(new URLSearchParams(rangeParams(r)))).toEqual(r);
    expect(rangeParams({ preset: 'all' })).toEqual([]);
    expect(new URLSearchParams(rangeParams({ preset: 'custom', from: NOW, to: NOW + MIN })).toString()).toBe('range=custom&from=2026-11-30T21%3A07%3A42.500Z&to=2026-11-30T21%3A08%3A42.500Z');
    expect(parseRange(new URLSearchParams('agent=x'))).toBeNull();
    expect(parseRange(new URLSearchParams('range=2h'))).toBeNull();
    expect(parseRange(new URLSearchParams('range=custom&from=yesterday&to=123'))).toEqual({ preset: 'custom', to: 123 });
  });

  it('gives the charts the range\'s bounds, an open end being now and "all" an open start (the aggregates\' first call)', () => {
    expect(chartSpan({ preset: '1h' }, NOW)).toEqual({ from: NOW - 60 * MIN, to: NOW });
    expect(chartSpan({ preset: 'all' }, NOW)).toEqual({ from: null, to: NOW });
    expect(chartSpan({ preset: 'custom', from: NOW - 10 * MIN, to: NOW - 5 * MIN }, NOW)).toEqual({ from: NOW - 10 * MIN, to: NOW - 5 * MIN });
    expect(chartSpan({ preset: 'custom', to: NOW - 5 * MIN }, NOW)).toEqual({ from: null, to: NOW - 5 * MIN });
    // A range whose end is not after its start still spans a moment.
    expect(chartSpan({ preset: 'custom', from: NOW, to: NOW - MIN }, NOW)).toEqual({ from: NOW, to: NOW + 1 });
  });
});
