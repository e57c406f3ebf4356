// Run limits for one call. A tool may declare smaller limits than the policy's (it knows
// it needs little); it can never raise them, and a declared value that is not a positive
// finite number is ignored rather than trusted.
import type { CallLimits } from '../shared/wire';
import type { EffectivePolicy, ToolLimits } from './types';

const MIB = 1024 * 1024;

function smaller(policyValue: number, toolValue: number | undefined): number {
  return toolValue !== undefined && Number.isFinite(toolValue) && toolValue > 0 ? Math.min(policyValue, toolValue) : policyValue;
}

export function effectiveLimits(policy: EffectivePolicy, toolLimits: ToolLimits = {}): CallLimits {
  return {
    memoryBytes: Math.floor(smaller(policy.limits.memoryMb, toolLimits.memoryMb) * MIB),
    cpuMs: Math.floor(smaller(policy.limits.cpuSeconds * 1000, toolLimits.cpuMs)),
  };
}
