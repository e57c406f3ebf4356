import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { admin, callTool, connectAgent, launchBrowser, openApp, registerAgent } from './harness';

let browser: Browser;
let context: BrowserContext;
let page: Page;
let sink: Server;
let sinkUrl: string;
const hits: string[] = [];

interface Outcome {
  fn: string;
  ok: boolean;
  value?: unknown;
  error?: string;
}
const probe = async (calls: Record<string, unknown>[]): Promise<Outcome[]> => {
  const result = await callTool(page, 'prober', 'host_probe', { calls });
  if (result.isError) throw new Error(result.content[0]?.text ?? 'host_probe failed');
  return JSON.parse(result.content[0]!.text) as Outcome[];
};
const capabilityEntries = async () =>
  (await admin<{ event: string; outcome: string; agentId: string; args: Record<string, unknown>; details: { fn: string; rule?: string } }[]>(page, 'audit.list', { agentId: 'prober' })).filter((e) => e.event === 'call.capability');

beforeAll(async () => {
  sink = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'Access-Control-Allow-Origin': '*', 'Content-Type': 'text/plain' });
    res.end('hello from loopback');
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  browser = await launchBrowser();
  ({ context, page } = await openApp(browser));
  await admin(page, 'tools.seed', { fixtures: true });
  const token = await registerAgent(page, {
    id: 'prober',
    trustLevel: 'Trusted',
    policy: {
      version: 1,
      tools: { allowed: ['host_probe'] },
      files: { allowedPatterns: ['./workspace/*'], maxSizeMb: 1 },
      network: { allowedDomains: ['example.invalid'], allowedPorts: ['*'], httpsOnly: false, requestsPerMinute: 10 },
    },
  });
  await connectAgent(page, 'prober', { agent: 'prober', token });
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await new Promise<void>((r) => sink.close(() => r()));
});

describe('host capabilities, decided by the calling agent\'s policy at the moment of use', () => {
  it('lets a tool write, read, list and stat workspace files inside its allowed folder', async () => {
    const out = await probe([
      { fn: 'write-file', path: './workspace/notes/a.txt', contents: 'héllo' },
      { fn: 'read-file', path: './workspace/notes/a.txt' },
      { fn: 'list-directory', path: './workspace' },
      { fn: 'list-directory', path: './workspace/notes' },
      { fn: 'stat', path: './workspace/notes/a.txt' },
      { fn: 'log', level: 'info', message: 'wrote a note' },
      { fn: 'now-ms' },
      { fn: 'random-bytes', len: 8 },
    ]);
    expect(out.map((o) => [o.fn, o.ok])).toEqual([
      ['write-file', true],
      ['read-file', true],
      ['list-directory', true],
      ['list-directory', true],
      ['stat', true],
      ['log', true],
      ['now-ms', true],
      ['random-bytes', true],
    ]);
    expect(out[0]!.value).toBe(6);
    expect(out[1]!.value).toBe('héllo');
    expect(out[2]!.value).toEqual(['notes/']);
    expect(out[3]!.value).toEqual(['a.txt']);
    expect(JSON.parse(out[4]!.value as string)).toMatchObject({ size: 6, isDirectory: false });
    expect((out[7]!.value as number[]).length).toBe(8);
  });

  it('denies files outside the allowed folder, path escapes and oversize writes, with the rule, and audits each', async () => {
    const out = await probe([
      { fn: 'read-file', path: './secrets/key.txt' },
      { fn: 'read-file', path: './workspace/../secrets/key.txt' },
      { fn: 'write-file', path: './workspace/big.txt', contents: 'x'.repeat(1024 * 1024 + 1) },
      { fn: 'list-directory', path: '/etc' },
    ]);
    expect(out.every((o) => !o.ok)).toBe(true);
    expect(out.map((o) => /\((file\.[a-z-]+)\)/.exec(o.error!)?.[1])).toEqual(['file.pattern', 'file.pattern', 'file.size', 'file.pattern']);
    const denied = (await capabilityEntries()).filter((e) => e.outcome === 'denied').map((e) => [e.details.fn, e.details.rule, e.args['path']]);
    expect(denied).toEqual([
      ['read-file', 'file.pattern', './secrets/key.txt'],
      ['read-file', 'file.pattern', './workspace/../secrets/key.txt'],
      ['write-file', 'file.size', './workspace/big.txt'],
      ['list-directory', 'file.pattern', '/etc'],
    ]);
  });

  it('reaches a loopback server only once its domain is granted', async () => {
    const request = JSON.stringify({ method: 'GET', url: `${sinkUrl}/hello` });
    const [before] = await probe([{ fn: 'http-fetch', request }]);
    expect(before!.ok).toBe(false);
    expect(before!.error).toContain('(network.domain-not-allowed)');
    await new Promise((r) => setTimeout(r, 200));
    expect(hits).toEqual([]);

    await admin(page, 'agents.grant', { id: 'prober', grant: { kind: 'domain', pattern: '127.0.0.1' } });
    const [after] = await probe([{ fn: 'http-fetch', request }]);
    expect(after!.ok).toBe(true);
    expect(JSON.parse(after!.value as string)).toMatchObject({ status: 200, body: 'hello from loopback' });
    expect(hits).toEqual(['GET /hello']);

    const network = (await capabilityEntries()).filter((e) => e.details.fn === 'http-fetch').map((e) => [e.outcome, e.details.rule ?? null]);
    expect(network).toEqual([
      ['denied', 'network.domain-not-allowed'],
      ['ok', null],
    ]);
  });

  it('keeps what the tool logged in the call\'s result entry', async () => {
    const results = (await admin<{ event: string; details: { logs?: { level: string; message: string }[] } }[]>(page, 'audit.list', { agentId: 'prober' })).filter((e) => e.event === 'call.result');
    expect(results[0]!.details.logs).toEqual([{ level: 'info', message: 'wrote a note' }]);
    expect(await admin(page, 'audit.verify')).toMatchObject({ ok: true });
  });
});

describe('the seed\'s file tools under the trust-level templates', () => {
  it('let a Limited agent write and read in ./workspace, and keep an Untrusted one to its list and ./sandbox', async () => {
    // The Limited template keeps quiet hours (22:00–06:00 UTC); this agent's policy lifts them so
    // the test does not depend on the time of day.
    const limited = await registerAgent(page, { id: 'limited-files', trustLevel: 'Limited', policy: { version: 1, session: { quietHours: null } } });
    const untrusted = await registerAgent(page, { id: 'untrusted-files', trustLevel: 'Untrusted' });
    await connectAgent(page, 'limited', { agent: 'limited-files', token: limited });
    await connectAgent(page, 'untrusted', { agent: 'untrusted-files', token: untrusted });
    const tools = async (agent: string) =>
      page.evaluate(async (agent) => {
        const c = (window as unknown as { agents: Record<string, { listTools(): Promise<{ tools: { name: string }[] }> }> }).agents[agent]!;
        return (await c.listTools()).tools.map((t) => t.name).sort();
      }, agent);
    expect(await tools('limited')).toEqual(['execute_code', 'json_query', 'list_directory', 'read_file', 'text_stats', 'write_file']);
    expect(await tools('untrusted')).toEqual(['json_query', 'list_directory', 'read_file', 'text_stats']);

    const wrote = await callTool(page, 'limited', 'write_file', { path: './workspace/limited.txt', contents: 'from a Limited agent' });
    expect(JSON.parse(wrote.content[0]!.text)).toEqual({ path: './workspace/limited.txt', bytesWritten: 20 });
    const read = await callTool(page, 'limited', 'read_file', { path: './workspace/limited.txt' });
    expect(JSON.parse(read.content[0]!.text).contents).toBe('from a Limited agent');
    const listed = await callTool(page, 'limited', 'list_directory', { path: './workspace' });
    expect(JSON.parse(listed.content[0]!.text).entries).toContain('limited.txt');
    // Untrusted: ./sandbox/* only, and write_file is not among its tools.
    const denied = await callTool(page, 'untrusted', 'read_file', { path: './workspace/limited.txt' });
    expect(denied.isError).toBe(true);
    expect(denied._meta!['mcp-sandbox/error']).toMatchObject({ code: 'policy-denied', details: { rule: 'file.pattern', capability: 'read-file' } });
    // A capability denied inside the tool reaches the agent as a denial, with its facts.
    const escape = await callTool(page, 'untrusted', 'read_file', { path: '../etc/passwd' });
    expect(escape.isError).toBe(true);
    expect(escape._meta!['mcp-sandbox/error']).toMatchObject({ code: 'policy-denied', details: { rule: 'file.path-escape', capability: 'read-file' } });
    const results = (await admin<{ event: string; outcome: string; tool: string; error: { code: string } | null }[]>(page, 'audit.list', { agentId: 'untrusted-files' })).filter((e) => e.event === 'call.result');
    expect(results.at(-1)).toMatchObject({ outcome: 'denied', error: { code: 'policy-denied' } });
    const notAllowed = await callTool(page, 'untrusted', 'write_file', { path: './sandbox/x.txt', contents: 'x' });
    expect((notAllowed._meta!['mcp-sandbox/error'] as { details: { rule: string } }).details.rule).toBe('tool.not-allowed');
  });
});
