import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CapabilityReply, CapabilityRequest } from '../../src/shared/wire';
import { manifestTool, startHarness, type Harness, loggedEntries } from './support/server-fixture';

/** A tool that declares every capability (the bundled manifest's `echo` declares none). */
const FILES = { version: 1 as const, tools: [manifestTool('files', { inputSchema: { type: 'object' }, permissions: ['files:read', 'files:write', 'network'] })] };
const harness = async () => {
  const h = await startHarness();
  await h.ctx.registry.seed(FILES, { fixtures: false, now: Date.now() });
  return h;
};

let hits = 0;
const server = createServer((_req, res) => {
  hits++;
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end('pong');
});
let url: string;
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ping`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** Runs one call of `tool` whose body uses the given capabilities in order; returns the replies. */
async function use(h: Harness, agent: string, tool: string, requests: Omit<CapabilityRequest, 'id'>[]): Promise<CapabilityReply[]> {
  const replies: CapabilityReply[] = [];
  h.executor.next = async (_request, capabilities) => {
    for (const [i, r] of requests.entries()) replies.push(await capabilities!({ ...r, id: i + 1 }));
    return { ok: true, output: 'done', durationMs: 1, memoryBytes: 0 };
  };
  const client = await h.connect({ agent });
  const result = await client.callTool({ name: tool, arguments: tool === 'echo' ? { text: 'x' } : {} });
  expect(result.isError).toBeFalsy();
  return replies;
}

const capabilityEntries = async (h: Harness) => (await loggedEntries(h.ctx)).filter((e) => e.event === 'call.capability');

describe('host capabilities in the service worker', () => {
  it('refuses a capability the tool did not declare, even under a policy that allows everything', async () => {
    const h = await harness();
    const [reply] = await use(h, 'full', 'echo', [{ fn: 'read-file', args: { path: './workspace/a' } }]);
    expect(reply).toMatchObject({ ok: false, error: expect.stringContaining('(tool.undeclared-permission)') });
    expect((await capabilityEntries(h))[0]).toMatchObject({ outcome: 'denied', tool: 'echo', details: { fn: 'read-file', rule: 'tool.undeclared-permission' } });
  });

  it('keeps files inside the policy\'s folders, on the normalised path', async () => {
    const h = await harness();
    await h.agent('u', 'Untrusted', { version: 1, tools: { allowed: ['files'] } });
    const replies = await use(h, 'u', 'files', [
      { fn: 'write-file', args: { path: './sandbox/notes/../a.txt', contents: 'abc' } },
      { fn: 'read-file', args: { path: './sandbox/a.txt' } },
      { fn: 'stat', args: { path: './sandbox/a.txt' } },
      { fn: 'list-directory', args: { path: './sandbox' } },
      { fn: 'read-file', args: { path: './workspace/a.txt' } },
      { fn: 'write-file', args: { path: './sandbox/big.txt', contents: 'x'.repeat(1024 * 1024 + 1) } },
    ]);
    expect(replies.map((r) => (r.ok ? r.value : r.error.match(/\(([a-z.-]+)\)/)?.[1]))).toEqual([3, 'abc', expect.stringContaining('"size":3'), ['a.txt'], 'file.pattern', 'file.size']);
    expect(await (await h.ctx.db.get()).getAllKeys('workspace')).toEqual(['./sandbox/a.txt']);
    expect((await capabilityEntries(h)).map((e) => [e.details!['fn'], e.outcome])).toEqual([
      ['write-file', 'ok'],
      ['read-file', 'ok'],
      ['stat', 'ok'],
      ['list-directory', 'ok'],
      ['read-file', 'denied'],
      ['write-file', 'denied'],
    ]);
  });

  it('carries out HTTP only for allowed domains, ports and rates, and audits each request before it is made', async () => {
    const h = await harness();
    await h.agent('n', 'Trusted', { version: 1, tools: { allowed: ['files'] }, network: { allowedDomains: ['127.0.0.1'], allowedPorts: ['*'], httpsOnly: false, requestsPerMinute: 1 } });
    hits = 0;
    const request = (u: string) => ({ fn: 'http-fetch' as const, args: { request: JSON.stringify({ method: 'GET', url: u }) } });
    const replies = await use(h, 'n', 'files', [request('http://localhost:1/'), request(url), request(url)]);
    expect(replies[0]).toMatchObject({ ok: false, error: expect.stringContaining('(network.domain-not-allowed)') });
    expect(replies[1]!.ok && JSON.parse(replies[1]!.value as string)).toMatchObject({ status: 200, body: 'pong' });
    expect(replies[2]).toMatchObject({ ok: false, error: expect.stringContaining('(network.rate)') });
    expect(hits).toBe(1);
    expect((await capabilityEntries(h)).map((e) => [e.outcome, e.details!['rule'] ?? null])).toEqual([
      ['denied', 'network.domain-not-allowed'],
      ['ok', null],
      ['denied', 'network.rate'],
    ]);
  });
});

describe('a capability denied inside a tool', () => {
  it('reaches the agent as policy-denied with the rule, limit and observed value, and is counted as denied', async () => {
    const h = await harness();
    await h.agent('u', 'Untrusted', { version: 1, tools: { allowed: ['files'] } });
    // The tool passes the host's refusal on as its own error, as real tools do.
    h.executor.next = async (_request, capabilities) => {
      const reply = await capabilities!({ id: 1, fn: 'read-file', args: { path: '../etc/passwd' } });
      return reply.ok ? { ok: true, output: String(reply.value), durationMs: 1, memoryBytes: 0 } : { ok: false, error: { code: 'tool-error', message: reply.error }, durationMs: 1, memoryBytes: 0 };
    };
    const client = await h.connect({ agent: 'u' });
    const result = await client.callTool({ name: 'files', arguments: {} });
    expect(result.isError).toBe(true);
    const error = result._meta!['mcp-sandbox/error'] as { code: string; details: Record<string, unknown> };
    expect(error).toMatchObject({ code: 'policy-denied', details: { rule: 'file.path-escape', capability: 'read-file', toolMessage: expect.stringContaining('denied by policy') } });
    expect(error.details).toHaveProperty('observed');
    const entries = await loggedEntries(h.ctx);
    expect(entries.find((e) => e.event === 'call.result')).toMatchObject({ outcome: 'denied', error: { code: 'policy-denied', details: { rule: 'file.path-escape' } } });
    const { agentMetrics } = await import('../../src/server/metrics');
    expect((await agentMetrics(h.ctx, 'u'))[0]).toMatchObject({ denied: 1, errors: 0 });
    const { toolStats } = await import('../../src/server/tool-stats');
    expect((await toolStats(h.ctx, 'files'))[0]).toMatchObject({ denied: 1, errors: 0 });
  });

  it('a tool that recovers from a denial and succeeds ends ok', async () => {
    const h = await harness();
    await h.agent('u', 'Untrusted', { version: 1, tools: { allowed: ['files'] } });
    const replies = await use(h, 'u', 'files', [{ fn: 'read-file', args: { path: '/etc/passwd' } }]);
    expect(replies[0]!.ok).toBe(false);
    expect((await loggedEntries(h.ctx)).find((e) => e.event === 'call.result')).toMatchObject({ outcome: 'ok' });
  });
});

describe('data.auditAllAccess', () => {
  const reads = [
    { fn: 'write-file' as const, args: { path: './workspace/r.txt', contents: 'abc' } },
    { fn: 'read-file' as const, args: { path: './workspace/r.txt' } },
    { fn: 'stat' as const, args: { path: './workspace/r.txt' } },
    { fn: 'list-directory' as const, args: { path: './workspace' } },
  ];

  it('records every read of the agent\'s data as its own entry when on', async () => {
    const h = await harness();
    await h.agent('all', 'Trusted', { version: 1, tools: { allowed: ['files'] }, data: { auditAllAccess: true } });
    await use(h, 'all', 'files', reads);
    expect((await capabilityEntries(h)).map((e) => e.details!['fn'])).toEqual(['write-file', 'read-file', 'stat', 'list-directory']);
  });

  it('when off, records writes (and every denial) one by one and only counts allowed reads in the result', async () => {
    const h = await harness();
    await h.agent('some', 'Trusted', { version: 1, tools: { allowed: ['files'] }, data: { auditAllAccess: false } });
    await use(h, 'some', 'files', [...reads, { fn: 'read-file', args: { path: '../outside' } }]);
    expect((await capabilityEntries(h)).map((e) => [e.details!['fn'], e.outcome])).toEqual([
      ['write-file', 'ok'],
      ['read-file', 'denied'],
    ]);
    expect((await loggedEntries(h.ctx)).find((e) => e.event === 'call.result')!.details).toMatchObject({ reads: { 'read-file': 1, stat: 1, 'list-directory': 1 } });
  });
});

describe('data.encryptionRequired', () => {
  const SECRET = 'plain-words-only-this-agent-may-keep';

  async function run(encryptionRequired: boolean) {
    const h = await harness();
    await h.agent('e', 'Trusted', { version: 1, tools: { allowed: ['files'] }, data: { encryptionRequired, sensitivePatterns: [] } });
    h.executor.next = async (request, capabilities) => {
      await capabilities!({ id: 1, fn: 'write-file', args: { path: './workspace/s.txt', contents: SECRET } });
      const back = await capabilities!({ id: 2, fn: 'read-file', args: { path: './workspace/s.txt' } });
      return { ok: true, output: `${request.args} ${back.ok ? String(back.value) : back.error}`, durationMs: 1, memoryBytes: 0 };
    };
    const client = await h.connect({ agent: 'e' });
    const result = await client.callTool({ name: 'files', arguments: { note: SECRET } });
    const db = await h.ctx.db.get();
    const raw = JSON.stringify({ audit: await db.getAll('audit'), workspace: await db.getAll('workspace') });
    return { h, result, raw };
  }

  it('encrypts the agent\'s arguments, outputs and files at rest; the chain verifies without the key; the admin view decrypts', async () => {
    const { h, result, raw } = await run(true);
    // The agent itself gets its data back.
    expect((result.content as { text: string }[])[0]!.text).toContain(SECRET);
    expect(raw).not.toContain(SECRET);
    const entries = await loggedEntries(h.ctx);
    expect(entries.find((e) => e.event === 'call.request')!.sealed).toEqual(['args']);
    expect(entries.find((e) => e.event === 'call.result')!.sealed).toEqual(['details']);
    const { verifyChain } = await import('../../src/store/audit');
    expect((await verifyChain(entries)).ok).toBe(true);
    const { handleAdminForTest } = await adminHandler();
    const listed = (await handleAdminForTest(h, 'audit.list', { agentId: 'e' })) as { event: string; args: unknown; details: Record<string, unknown> | null }[];
    expect(JSON.stringify(listed.find((e) => e.event === 'call.request')!.args)).toContain(SECRET);
    expect(String(listed.find((e) => e.event === 'call.result')!.details!['output'])).toContain(SECRET);
  });

  it('keeps them readable when off (the same run shows the plaintext stored)', async () => {
    const { raw } = await run(false);
    expect(raw).toContain(SECRET);
  });
});

/** Calls an admin method the way the app does, through the service worker's admin handler. */
async function adminHandler() {
  const { handleAdmin } = await import('../../src/server/admin');
  return {
    handleAdminForTest: async (h: Harness, method: string, params: unknown) => {
      let answer: { result?: unknown; error?: unknown } = {};
      const source = { postMessage: (m: { result?: unknown; error?: unknown }) => (answer = m) } as never;
      await handleAdmin(h.ctx, { channel: 'mcp-sandbox', v: 1, kind: 'admin', id: 1, method, params } as never, source, {} as never);
      if (answer.error) throw new Error(JSON.stringify(answer.error));
      return answer.result;
    },
  };
}
