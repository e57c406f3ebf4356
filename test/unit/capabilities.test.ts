import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CapabilityReply, CapabilityRequest } from '../../src/shared/wire';
import { readAudit } from '../../src/store/audit';
import { manifestTool, startHarness, type Harness } from './support/server-fixture';

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

const capabilityEntries = async (h: Harness) => (await readAudit(h.ctx.db)).filter((e) => e.event === 'call.capability');

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
