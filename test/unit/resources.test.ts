import { describe, expect, it } from 'vitest';
import { EXECUTE_CODE_METADATA } from '../../src/shared/execute-code';
import csp from '../../src/shared/csp.json';
import { manifestTool, startHarness } from './support/server-fixture';

// What the service worker hands each resource producer (src/server/resources.ts): system_info
// keeps its facts; system_env gets the reading agent's environment.

async function harnessWithEnv() {
  const h = await startHarness();
  await h.ctx.registry.seed(
    {
      version: 1,
      tools: [manifestTool('system_env', { inputSchema: { type: 'object' }, resource: { uri: 'system://env', mimeType: 'application/json' }, categories: ['resource'] })],
      builtins: [{ name: 'execute_code', dir: 'tools/execute_code/', coreModules: ['quickjs.wasm'], sha256: 'e'.repeat(64), size: 1, metadata: EXECUTE_CODE_METADATA as never }],
    },
    { fixtures: false, now: Date.now() },
  );
  // The producer's document is its arguments, as the scripted executor echoes them.
  h.executor.next = (r) => ({ ok: true, output: r.args, durationMs: 1, memoryBytes: 0 });
  return h;
}

interface Env {
  agent: unknown;
  session: { protocolVersion: string };
  tools: unknown;
  executeCode: { languages: { allowed: string[]; runnable: Record<string, string> } } & Record<string, unknown>;
  permissions: Record<string, { allowed: boolean; reason: string }>;
  limits: unknown;
  rate: { quietHours: unknown } & Record<string, unknown>;
  workerCsp: string;
  offline: unknown;
}

async function readEnv(h: Awaited<ReturnType<typeof harnessWithEnv>>, agent: string) {
  const client = await h.connect({ agent });
  const read = await client.readResource({ uri: 'system://env' });
  return JSON.parse((read.contents[0] as { text: string }).text) as Env;
}

describe('resource facts', () => {
  it('lists system://env beside system://info (and the global context) for every agent, Untrusted included', async () => {
    const h = await harnessWithEnv();
    await h.agent('nobody', 'Untrusted');
    const client = await h.connect({ agent: 'nobody' });
    expect((await client.listResources()).resources.map((r) => r.uri).sort()).toEqual(['context://global', 'system://env', 'system://info']);
  });

  it('gives system_info exactly its facts', async () => {
    const h = await harnessWithEnv();
    const client = await h.connect({ agent: 'full' });
    const read = await client.readResource({ uri: 'system://info' });
    const facts = JSON.parse((read.contents[0] as { text: string }).text);
    expect(Object.keys(facts)).toEqual(['server', 'tools', 'toolCounts', 'sessions', 'auditEntries', 'agent', 'now']);
    expect(facts).toMatchObject({ tools: 2, sessions: 1, agent: { id: 'full', trustLevel: 'FullyTrusted' } });
    expect(facts.toolCounts).toEqual({ registered: 4, callable: 2, resourceProducers: 2, promptProducers: 0, disabled: 0 });
  });

  it("gives system_env the agent's languages, verdicts, limits and the session's protocol", async () => {
    const h = await harnessWithEnv();
    await h.agent('nobody', 'Untrusted');
    await h.agent('limited', 'Limited');
    const untrusted = await readEnv(h, 'nobody');
    const limited = await readEnv(h, 'limited');
    const full = await readEnv(h, 'full');

    expect(untrusted.agent).toEqual({ id: 'nobody', trustLevel: 'Untrusted' });
    expect(untrusted.session.protocolVersion).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    // The fixture registers echo and execute_code; Untrusted sees neither.
    expect(untrusted.tools).toEqual({ visible: 0, names: [] });
    expect(untrusted.executeCode).toEqual({ visible: false, languages: { allowed: [], runnable: expect.any(Object) } });
    expect(untrusted.permissions).toEqual({
      'files:read': { allowed: true, reason: 'paths matching ./sandbox/*' },
      'files:write': { allowed: true, reason: 'paths matching ./sandbox/*, files up to 1 MiB' },
      network: { allowed: false, reason: 'network.requestsPerMinute is 0' },
      client: { allowed: true, reason: 'requests go to your own client (sampling/createMessage, elicitation/create), which decides each' },
    });
    expect(untrusted.limits).toEqual({ memoryMb: 32, cpuSeconds: 10, concurrentCalls: 1, queueWaitMs: 1000, globalConcurrentCalls: 16 });
    expect(untrusted.rate).toEqual({ callsPerMinute: 5, maxCallsPerSession: 10, sessionTimeoutMinutes: 10, quietHours: null });

    expect(limited.executeCode).toMatchObject({ visible: true, languages: { allowed: ['javascript'] }, limits: { memoryMb: 128, timeoutMs: 30_000 } });
    expect(limited.permissions['network']).toEqual({ allowed: true, reason: 'https to api.openai.com, httpbin.org, no private networks, ports 80, 443, 10 requests a minute' });
    expect(limited.rate.quietHours).toEqual({ start: '22:00', end: '06:00', timeZone: 'UTC' });

    expect(full.tools).toEqual({ visible: 2, names: ['echo', 'execute_code'] });
    expect(full.executeCode).toMatchObject({ visible: true, languages: { allowed: ['javascript', 'python'] }, limits: { memoryMb: 256, timeoutMs: 30_000 } });
    expect(full.executeCode.languages.runnable.javascript).toMatch(/^always/);
    expect(full.executeCode.languages.runnable.python).toMatch(/^depends on the app window/);
    expect(full.permissions['files:read']).toEqual({ allowed: true, reason: 'paths matching *' });
    expect(full.permissions['network']!.allowed).toBe(true);
    expect(full.workerCsp).toBe(csp.toolWorker);
    // Node has no Cache Storage: nothing is precached here.
    expect(full.offline).toEqual({ precached: false, files: 0 });
  });

  it("follows the agent's own policy document", async () => {
    const h = await harnessWithEnv();
    await h.agent('narrowed', 'Trusted', { version: 1, tools: { codeLanguages: ['python'] }, files: { blockedPatterns: ['*'] }, network: { allowedDomains: [] } });
    const env = await readEnv(h, 'narrowed');
    expect(env.executeCode.languages.allowed).toEqual(['python']);
    expect(env.permissions['files:read']).toEqual({ allowed: false, reason: 'files.blockedPatterns blocks every path' });
    expect(env.permissions['network']).toEqual({ allowed: false, reason: 'network.allowedDomains is empty' });
  });
});
