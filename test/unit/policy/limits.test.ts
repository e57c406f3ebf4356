import { describe, expect, test } from 'vitest';
import { effectiveLimits, resolvePolicy } from '../../../src/policy';

const limited = resolvePolicy('Limited'); // 128 MiB, 60 s
const MiB = 1024 * 1024;

describe('effectiveLimits', () => {
  test('without tool limits, the policy limits apply', () => {
    expect(effectiveLimits(limited)).toEqual({ memoryBytes: 128 * MiB, cpuMs: 60_000 });
  });

  test('a tool may lower its limits', () => {
    expect(effectiveLimits(limited, { memoryMb: 16, cpuMs: 500 })).toEqual({ memoryBytes: 16 * MiB, cpuMs: 500 });
  });

  test('a tool cannot raise its limits above the policy', () => {
    expect(effectiveLimits(limited, { memoryMb: 4096, cpuMs: 10_000_000 })).toEqual({ memoryBytes: 128 * MiB, cpuMs: 60_000 });
  });

  test('nonsense tool limits are ignored, not trusted', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(effectiveLimits(limited, { memoryMb: bad, cpuMs: bad })).toEqual({ memoryBytes: 128 * MiB, cpuMs: 60_000 });
    }
  });

  test('fractional megabytes become whole bytes', () => {
    expect(effectiveLimits(limited, { memoryMb: 0.5 }).memoryBytes).toBe(MiB / 2);
  });
});
