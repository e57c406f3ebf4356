import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { admin, connectAgent, launchBrowser, openApp, registerAgent } from './harness';

// system://env, written by the system_env wasm module from the facts the service worker
// gathers: the same resource reads differently for an Untrusted and a FullyTrusted agent.

interface Capability {
  name: string;
  permission: string | null;
  allowed: boolean;
  reason: string;
}
interface EnvDoc {
  uri: string;
  summary: string[];
  agent: { id: string; trustLevel: string };
  session: { protocolVersion: string };
  tools: { visible: number; names: string[] };
  executeCode: { visible: boolean; languages: { allowed: string[]; runnable: Record<string, string> }; limits?: { memoryMb: number; timeoutMs: number } };
  capabilities: Capability[];
  limits: Record<string, number>;
  rate: Record<string, unknown>;
  workerCsp: string;
  offline: { precached: boolean; files: number };
  sandbox: { module: string; memoryPages: number };
}

let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  browser = await launchBrowser();
  ({ context, page } = await openApp(browser));
  await page.evaluate(async () => {
    if (!navigator.serviceWorker.controller) await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
  });
  const untrustedToken = await registerAgent(page, { id: 'env-untrusted', trustLevel: 'Untrusted' });
  await connectAgent(page, 'untrusted', { agent: 'env-untrusted', token: untrustedToken });
  await connectAgent(page, 'full', { agent: 'env-full' });
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
});

async function read(agent: string): Promise<{ uris: string[]; mimeType: string; doc: EnvDoc; toolCount: number }> {
  return page.evaluate(async (agent) => {
    type C = {
      listResources(): Promise<{ resources: { uri: string }[] }>;
      readResource(p: unknown): Promise<{ contents: { mimeType: string; text: string }[] }>;
      listTools(): Promise<{ tools: unknown[] }>;
    };
    const c = (window as unknown as { agents: Record<string, C> }).agents[agent]!;
    const uris = (await c.listResources()).resources.map((r) => r.uri);
    const read = await c.readResource({ uri: 'system://env' });
    return { uris, mimeType: read.contents[0]!.mimeType, doc: JSON.parse(read.contents[0]!.text), toolCount: (await c.listTools()).tools.length };
  }, agent) as Promise<{ uris: string[]; mimeType: string; doc: EnvDoc; toolCount: number }>;
}

const capability = (doc: EnvDoc, name: string) => doc.capabilities.find((c) => c.name === name)!;

describe('system://env', () => {
  it('is listed and readable for an Untrusted agent, and says what it may not do', async () => {
    const { uris, mimeType, doc, toolCount } = await read('untrusted');
    expect(uris).toEqual(expect.arrayContaining(['system://env', 'system://info']));
    expect(mimeType).toBe('application/json');
    expect(doc.uri).toBe('system://env');
    expect(doc.agent).toEqual({ id: 'env-untrusted', trustLevel: 'Untrusted' });
    expect(doc.session.protocolVersion).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(doc.tools.visible).toBe(toolCount);
    expect(doc.tools.names).not.toContain('execute_code');
    expect(doc.executeCode).toMatchObject({ visible: false, languages: { allowed: [] } });
    expect(doc.summary[1]).toContain('execute_code is not available');
    expect(capability(doc, 'read-file')).toMatchObject({ permission: 'files:read', allowed: true, reason: 'paths matching ./sandbox/*' });
    expect(capability(doc, 'http-fetch')).toMatchObject({ permission: 'network', allowed: false, reason: 'network.requestsPerMinute is 0' });
    expect(capability(doc, 'now-ms')).toMatchObject({ permission: null, allowed: true });
    expect(doc.limits).toMatchObject({ memoryMb: 32, cpuSeconds: 10, concurrentCalls: 1, queueWaitMs: 1000 });
    expect(doc.rate).toMatchObject({ callsPerMinute: 5, maxCallsPerSession: 10 });
    expect(doc.workerCsp).toBe("default-src 'none'; script-src 'self'");
    expect(doc.sandbox.module).toBe('system_env 0.1.0');
  });

  it('reads differently for a FullyTrusted agent: both languages, every capability, larger limits', async () => {
    const untrusted = (await read('untrusted')).doc;
    const { doc, toolCount } = await read('full');
    expect(doc.agent.trustLevel).toBe('FullyTrusted');
    expect(doc.tools.visible).toBe(toolCount);
    expect(doc.tools.visible).toBeGreaterThan(untrusted.tools.visible);
    expect(doc.executeCode).toMatchObject({ visible: true, languages: { allowed: ['javascript', 'python'] } });
    expect(doc.executeCode.languages.runnable['javascript']).toMatch(/^always/);
    expect(doc.executeCode.languages.runnable['python']).toMatch(/^depends on the app window/);
    expect(doc.executeCode.limits).toEqual({ memoryMb: 256, timeoutMs: 30_000 });
    expect(doc.summary[1]).toMatch(/^execute_code may run javascript: .*; python: /);
    expect(doc.capabilities.filter((c) => !c.allowed)).toEqual([]);
    expect(capability(doc, 'http-fetch').reason).toContain('1000 requests a minute');
    expect(untrusted.capabilities.filter((c) => !c.allowed).map((c) => c.name)).toEqual(['http-fetch']);
    expect(doc.limits['memoryMb']).toBeGreaterThan(untrusted.limits['memoryMb']!);
  });

  it('knows the app is precached, and the read is audited as a resource call', async () => {
    const { doc } = await read('full');
    const cached = await page.evaluate(async () => (await Promise.all((await caches.keys()).filter((k) => k.startsWith('mcp-sandbox-')).map(async (k) => (await (await caches.open(k)).keys()).length))).reduce((a, b) => a + b, 0));
    expect(doc.offline).toEqual({ precached: true, files: cached });
    expect(doc.summary.at(-1)).toBe(`Works offline: yes (${cached} files precached).`);
    const entries = await admin<{ event: string; tool: string; agentId: string; outcome: string; details: { kind?: string } }[]>(page, 'audit.list', { agentId: 'env-untrusted' });
    const requests = entries.filter((e) => e.event === 'call.request' && e.tool === 'system_env');
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((e) => e.details.kind === 'resource')).toBe(true);
  });
});
