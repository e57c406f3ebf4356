// Trust levels are templates. The values start from the seed guide's defaults; an agent's
// policy document refines its level's template (see `resolve.ts`). Templates are frozen:
// everything that derives a policy from them copies.
import type { EffectivePolicy, TrustLevel } from './types';

/**
 * Bundled tools that compute on their arguments alone (no files, network or clock), added to
 * every level beside the seed's own tool names: they can do nothing a policy guards.
 */
export const PURE_TOOLS = ['text_stats', 'json_query'] as const;

const untrusted: EffectivePolicy = {
  trustLevel: 'Untrusted',
  tools: { allowed: [...PURE_TOOLS, 'read_file', 'list_directory'], blocked: [], codeLanguages: [] },
  limits: { memoryMb: 32, cpuSeconds: 10, concurrentCalls: 1, queueWaitMs: 1_000 },
  network: {
    allowedDomains: [],
    blockedDomains: [],
    blockPrivateNetworks: true,
    allowedPorts: [],
    httpsOnly: true,
    maxRequestKb: 0,
    requestsPerMinute: 0,
  },
  files: { allowedPatterns: ['./sandbox/*'], blockedPatterns: [], maxSizeMb: 1 },
  data: { sensitivePatterns: ['password', 'key'], redactForAgent: true, encryptionRequired: true, auditAllAccess: true },
  session: { timeoutMinutes: 10, maxCalls: 10, callsPerMinute: 5, quietHours: null },
};

const limited: EffectivePolicy = {
  trustLevel: 'Limited',
  tools: { allowed: [...PURE_TOOLS, 'read_file', 'write_file', 'execute_code', 'list_directory'], blocked: [], codeLanguages: ['javascript'] },
  limits: { memoryMb: 128, cpuSeconds: 60, concurrentCalls: 3, queueWaitMs: 2_000 },
  network: {
    allowedDomains: ['api.openai.com', 'httpbin.org'],
    blockedDomains: [],
    blockPrivateNetworks: true,
    allowedPorts: [80, 443],
    httpsOnly: true,
    maxRequestKb: 100,
    requestsPerMinute: 10,
  },
  files: { allowedPatterns: ['./workspace/*', './temp/*'], blockedPatterns: [], maxSizeMb: 10 },
  data: { sensitivePatterns: ['password', 'secret'], redactForAgent: true, encryptionRequired: true, auditAllAccess: true },
  session: {
    timeoutMinutes: 60,
    maxCalls: 50,
    callsPerMinute: 20,
    quietHours: { start: '22:00', end: '06:00', timeZone: 'UTC' },
  },
};

const trusted: EffectivePolicy = {
  trustLevel: 'Trusted',
  tools: { allowed: [...PURE_TOOLS, 'read_file', 'write_file', 'execute_code', 'fetch_url', 'system_command'], blocked: [], codeLanguages: ['javascript', 'python'] },
  limits: { memoryMb: 512, cpuSeconds: 300, concurrentCalls: 10, queueWaitMs: 5_000 },
  network: {
    allowedDomains: ['*'],
    blockedDomains: ['malware.example.com'],
    // Trusted agents may be meant to reach services on this machine or LAN (a dev server);
    // their admin narrows that with blockedDomains or turns this on.
    blockPrivateNetworks: false,
    allowedPorts: [80, 443, 22, 3000],
    httpsOnly: false,
    maxRequestKb: 1024,
    requestsPerMinute: 100,
  },
  files: { allowedPatterns: ['./workspace/*', '/tmp/*'], blockedPatterns: [], maxSizeMb: 100 },
  // Sensitive values are still recognised (for the audit view) but not hidden from the agent.
  data: { sensitivePatterns: ['password'], redactForAgent: false, encryptionRequired: false, auditAllAccess: true },
  session: { timeoutMinutes: 240, maxCalls: 500, callsPerMinute: 100, quietHours: null },
};

const fullyTrusted: EffectivePolicy = {
  trustLevel: 'FullyTrusted',
  tools: { allowed: ['*'], blocked: [], codeLanguages: ['*'] },
  limits: { memoryMb: 2048, cpuSeconds: 3600, concurrentCalls: 50, queueWaitMs: 10_000 },
  network: {
    allowedDomains: ['*'],
    blockedDomains: [],
    blockPrivateNetworks: false,
    allowedPorts: ['*'],
    httpsOnly: false,
    maxRequestKb: 10240,
    requestsPerMinute: 1000,
  },
  files: { allowedPatterns: ['*'], blockedPatterns: [], maxSizeMb: 1024 },
  data: { sensitivePatterns: [], redactForAgent: false, encryptionRequired: false, auditAllAccess: false },
  session: { timeoutMinutes: 1440, maxCalls: 10000, callsPerMinute: 1000, quietHours: null },
};

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

export const TEMPLATES: Readonly<Record<TrustLevel, EffectivePolicy>> = deepFreeze({
  Untrusted: untrusted,
  Limited: limited,
  Trusted: trusted,
  FullyTrusted: fullyTrusted,
});
