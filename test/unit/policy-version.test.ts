import { describe, expect, it } from 'vitest';
import { handleAdmin } from '../../src/server/admin';
import { ERROR_META_KEY } from '../../src/shared/errors';
import { loggedEntries, startHarness, type Harness } from './support/server-fixture';

// A refusal names the version of the policy that decided it, and the admin change that set that
// policy records the same version: a reviewer can go from one to the other.

async function admin<T>(h: Harness, method: string, params: unknown): Promise<T> {
  let answer: { result?: unknown; error?: unknown } = {};
  await handleAdmin(h.ctx, { channel: 'mcp-sandbox', v: 1, kind: 'admin', id: 1, method, params } as never, { postMessage: (m: typeof answer) => (answer = m) } as never, {} as never);
  if (answer.error) throw Object.assign(new Error('admin error'), answer.error);
  return answer.result as T;
}
const errorOf = (r: { _meta?: Record<string, unknown> }) => r._meta?.[ERROR_META_KEY] as { code: string; details: Record<string, unknown> } | undefined;

describe('the policy version', () => {
  it('is named by a refusal and by the change that set the policy; it moves with what decides, not with a rename', async () => {
    const h = await startHarness();
    await h.agent('v', 'Limited', { version: 1, tools: { allowed: [] }, session: { quietHours: null } });
    const a = await h.connect({ agent: 'v' });
    const first = errorOf(await a.callTool({ name: 'echo', arguments: { text: 'x' } }));
    expect(first).toMatchObject({ code: 'policy-denied', details: { rule: 'tool.not-allowed', policyVersion: expect.stringMatching(/^[0-9a-f]{12}$/) } });

    const granted = await admin<{ policyVersion: string }>(h, 'agents.grant', { id: 'v', grant: { kind: 'tool', name: 'echo' } });
    expect(granted.policyVersion).not.toBe(first!.details['policyVersion']);
    const grantEntry = (await loggedEntries(h.ctx)).filter((e) => e.event === 'admin' && e.details?.['method'] === 'agents.grant').at(-1)!;
    expect(grantEntry.details).toMatchObject({ policyVersion: granted.policyVersion });
    // The call it allows records the version too (its request entry).
    expect(errorOf(await a.callTool({ name: 'echo', arguments: { text: 'y' } }))).toBeUndefined();
    const request = (await loggedEntries(h.ctx)).filter((e) => e.event === 'call.request').at(-1)!;
    expect(request.details).toMatchObject({ policyVersion: granted.policyVersion });

    // A rename leaves what decides unchanged; revoking the grant moves it again.
    const renamed = await admin<{ policyVersion: string }>(h, 'agents.update', { id: 'v', name: 'renamed' });
    expect(renamed.policyVersion).toBe(granted.policyVersion);
    const revoked = await admin<{ policyVersion: string }>(h, 'agents.revokeGrant', { id: 'v', revoke: { kind: 'tool', name: 'echo' } });
    const again = errorOf(await a.callTool({ name: 'echo', arguments: { text: 'z' } }));
    expect(again?.details['policyVersion']).toBe(revoked.policyVersion);
    expect(revoked.policyVersion).not.toBe(granted.policyVersion);
  });
});
