import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { admin, callTool, connectAgent, launchBrowser, openApp, registerAgent } from './harness';

// One address, every spelling: a loopback address that a policy blocks stays blocked however
// the URL writes it, and nothing reaches the loopback recorder. The positive control at the
// end proves the recorder would have seen a request that was let through.

let browser: Browser;
let context: BrowserContext;
let page: Page;
let recorder: Server;
let port: number;
const hits: string[] = [];

const spellings = (p: number) => [
  `http://127.0.0.1:${p}/plain`,
  `http://2130706433:${p}/decimal`,
  `http://0x7f000001:${p}/hex`,
  `http://0x7f.1:${p}/hex-short`,
  `http://0177.0.0.1:${p}/octal`,
  `http://127.1:${p}/short`,
  `http://127.0.0.1.:${p}/trailing-dot`,
  `http://[::ffff:7f00:1]:${p}/mapped`,
  `http://[::ffff:127.0.0.1]:${p}/mapped-dotted`,
  `http://[0:0:0:0:0:ffff:7f00:1]:${p}/mapped-long`,
  `http://[0000:0000:0000:0000:0000:FFFF:7F00:0001]:${p}/mapped-padded-upper`,
  `http://[::127.0.0.1]:${p}/compatible`,
  `http://[64:ff9b::7f00:1]:${p}/nat64`,
  `http://[::1]:${p}/v6-loopback`,
  `http://[0:0:0:0:0:0:0:1]:${p}/v6-loopback-long`,
  `http://localhost:${p}/name`,
  `http://LOCALHOST.:${p}/name-upper-dot`,
  `http://api.localhost:${p}/sub-localhost`,
  `http://0.0.0.0:${p}/unspecified`,
  `http://0:${p}/zero`,
];

async function fetchAs(agent: string, url: string): Promise<{ ok: boolean; error?: string }> {
  const result = await callTool(page, agent, 'host_probe', { calls: [{ fn: 'http-fetch', request: JSON.stringify({ method: 'GET', url }) }] });
  if (result.isError) throw new Error(result.content[0]?.text ?? 'host_probe failed');
  return (JSON.parse(result.content[0]!.text) as { ok: boolean; error?: string }[])[0]!;
}

async function agent(id: string, network: Record<string, unknown>): Promise<void> {
  const token = await registerAgent(page, {
    id,
    trustLevel: 'Trusted',
    policy: { version: 1, tools: { allowed: ['host_probe'] }, network: { allowedPorts: ['*'], httpsOnly: false, requestsPerMinute: 1000, ...network } },
  });
  await connectAgent(page, id, { agent: id, token });
}

beforeAll(async () => {
  recorder = createServer((req, res) => {
    hits.push(`${req.headers.host} ${req.url}`);
    res.writeHead(200, { 'Access-Control-Allow-Origin': '*', 'Content-Type': 'text/plain' });
    res.end('reached');
  });
  // Both stacks, so an IPv6 spelling that got through would be seen too.
  await new Promise<void>((r) => recorder.listen({ port: 0, host: '::', ipv6Only: false }, r));
  port = (recorder.address() as AddressInfo).port;
  browser = await launchBrowser();
  ({ context, page } = await openApp(browser));
  await admin(page, 'tools.seed', { fixtures: true });
  await agent('blocks-loopback', { allowedDomains: ['*'], blockedDomains: ['127.0.0.0/8', '::1', 'localhost', '*.localhost', '0.0.0.0'] });
  await agent('blocks-private', { allowedDomains: ['*'], blockedDomains: [], blockPrivateNetworks: true });
  await agent('allows-loopback', { allowedDomains: ['127.0.0.1'], blockedDomains: [], blockPrivateNetworks: false });
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await new Promise<void>((r) => recorder.close(() => r()));
});

describe('network decisions compare canonical addresses, not strings', () => {
  it('denies every spelling of a blocked loopback address and nothing arrives', async () => {
    for (const url of spellings(port)) {
      const outcome = await fetchAs('blocks-loopback', url);
      expect({ url, ok: outcome.ok }).toEqual({ url, ok: false });
      expect(outcome.error).toMatch(/denied by policy \(network\.(domain-blocked|url-invalid)\)/);
    }
    expect(hits).toEqual([]);
  });

  it('denies every spelling under blockPrivateNetworks alone (rule network.private-address) and nothing arrives', async () => {
    for (const url of spellings(port)) {
      const outcome = await fetchAs('blocks-private', url);
      expect({ url, ok: outcome.ok }).toEqual({ url, ok: false });
      expect(outcome.error).toMatch(/denied by policy \(network\.(private-address|url-invalid)\)/);
    }
    for (const host of ['10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '[fd00::1]', '[fe80::1]', '[::ffff:a9fe:a9fe]']) {
      expect((await fetchAs('blocks-private', `http://${host}:${port}/`)).error).toContain('(network.private-address)');
    }
    expect(hits).toEqual([]);
    const audit = await admin<{ event: string; outcome: string; details: { rule?: string } }[]>(page, 'audit.list', { agentId: 'blocks-private' });
    expect(audit.filter((e) => e.event === 'call.capability' && e.outcome === 'denied').length).toBeGreaterThanOrEqual(spellings(port).length);
  });

  it('lets an allowed address through (the recorder sees it), so the denials above are real', async () => {
    const outcome = await fetchAs('allows-loopback', `http://127.0.0.1:${port}/control`);
    expect(outcome.error).toBeUndefined();
    expect(outcome.ok).toBe(true);
    expect(hits).toEqual([`127.0.0.1:${port} /control`]);
    // The same address in another spelling matches the same allowed entry.
    expect((await fetchAs('allows-loopback', `http://[::ffff:7f00:1]:${port}/mapped-control`)).ok).toBe(true);
    expect(hits).toHaveLength(2);
  });
});
