import type { EffectivePolicy } from '../policy';
import type { SealableField } from '../store/schema';

/**
 * Which fields of an entry are encrypted at rest for this agent (`data.encryptionRequired`):
 * what it sent and what its tools produced. Event, outcome, timings and error codes stay
 * readable so limits, statistics and the trail work without the key.
 */
export function sealIf(policy: EffectivePolicy, fields: SealableField[]): { seal?: SealableField[] } {
  return policy.data.encryptionRequired ? { seal: fields } : {};
}
