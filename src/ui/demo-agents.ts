/**
 * The two demo agents the app registers on a fresh sandbox, so the demo agent page
 * (agent.html) has someone to connect as.
 *
 * Their tokens are kept in localStorage. That is acceptable ONLY for these demo agents and
 * only because every same-origin script is already inside the sandbox's trust boundary (it can
 * message the service worker's admin API anyway). A real agent's token must never be stored by
 * the app: it is shown once, at registration, for the person to hand to the agent.
 */
import type { AdminClient } from '../client/admin';
import type { TrustLevel } from '../policy';

export const DEMO_STORAGE_KEY = 'mcp-sandbox-demo-agents';

export const DEMO_AGENTS: readonly { id: string; trustLevel: TrustLevel }[] = [
  { id: 'demo-limited', trustLevel: 'Limited' },
  { id: 'demo-trusted', trustLevel: 'Trusted' },
];

export function isDemoAgent(id: string): boolean {
  return DEMO_AGENTS.some((a) => a.id === id);
}

/** `{ [agentId]: token }` of the demo agents; empty when none were registered here. */
export function demoTokens(): Record<string, string> {
  try {
    const value: unknown = JSON.parse(localStorage.getItem(DEMO_STORAGE_KEY) ?? '{}');
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
    return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'));
  } catch {
    return {};
  }
}

export function storeDemoToken(id: string, token: string): void {
  localStorage.setItem(DEMO_STORAGE_KEY, JSON.stringify({ ...demoTokens(), [id]: token }));
}

/**
 * On a sandbox with no agents at all, registers the demo agents for this origin. Returns the
 * ids registered. Another window doing the same at once makes one of the two fail: ignored.
 */
export async function seedDemoAgents(admin: AdminClient): Promise<string[]> {
  const agents = await admin.request('agents.list');
  if (agents.length > 0) return [];
  const made: string[] = [];
  for (const { id, trustLevel } of DEMO_AGENTS) {
    try {
      const { token } = await admin.request('agents.register', { id, name: id, trustLevel, origins: [location.origin] });
      storeDemoToken(id, token);
      made.push(id);
    } catch {
      // Registered by another window a moment ago, or refused: the Agents view shows the state.
    }
  }
  return made;
}
