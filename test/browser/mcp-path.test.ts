import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { admin, callTool, connectAgent, launchBrowser, openApp } from './harness';

interface AuditEntry {
  seq: number;
  event: string;
  outcome: string;
  callId: string | null;
  tool: string | null;
  sessionId: string | null;
  agentId: string | null;
  args: unknown;
  durationMs: number | null;
  memoryBytes: number | null;
  prevHash: string;
  hash: string;
}

let browser: Browser;
let context: BrowserContext;
let page: Page;
let session: string;

beforeAll(async () => {
  browser = await launchBrowser();
  ({ context, page } = await openApp(browser));
  session = await connectAgent(page, 'a', { agent: 'agent-a' });
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
});

describe('an SDK Client in a page, over postMessage to the service worker', () => {
  it('initialises against the sandbox server with truthful capabilities', async () => {
    const info = await page.evaluate(() => {
      const c = (window as unknown as { agents: Record<string, { getServerVersion(): unknown; getServerCapabilities(): unknown }> }).agents['a']!;
      return { version: c.getServerVersion(), capabilities: c.getServerCapabilities() };
    });
    expect(info.version).toMatchObject({ name: 'browser-mcp-sandbox' });
    expect(info.capabilities).toEqual({ tools: { listChanged: true }, resources: { subscribe: true }, prompts: {}, logging: {}, completions: {} });
  });

  it('lists the bundled tools with their input schemas', async () => {
    const tools = await page.evaluate(async () => {
      const c = (window as unknown as { agents: Record<string, { listTools(): Promise<{ tools: { name: string; inputSchema: unknown }[] }> }> }).agents['a']!;
      return (await c.listTools()).tools;
    });
    const names = tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['text_stats', 'json_query']));
    expect(names).not.toContain('system_info');
    expect(names).not.toContain('loop_forever');
    expect(tools.find((t) => t.name === 'json_query')!.inputSchema).toMatchObject({ type: 'object', required: expect.arrayContaining(['json', 'path']) });
  });

  it('calls text_stats and gets the right numbers', async () => {
    const result = await callTool(page, 'a', 'text_stats', { text: 'The cat sat. The cat ran!\n\nA dog.' });
    expect(result.isError).toBeFalsy();
    const stats = JSON.parse(result.content[0]!.text);
    expect(stats).toMatchObject({ words: 8, sentences: 3, paragraphs: 2, uniqueWords: 6 });
    expect(stats.topWords[0]).toEqual({ word: 'cat', count: 2 });
  });

  it('calls json_query and gets the value at the path', async () => {
    const result = await callTool(page, 'a', 'json_query', { json: '{"a":{"b":[10,{"c":"deep"}]}}', path: '$.a.b[1].c' });
    expect(JSON.parse(result.content[0]!.text)).toEqual({ found: true, type: 'string', value: 'deep' });
  });

  it('reads system://info, written by its wasm producer', async () => {
    const read = await page.evaluate(async () => {
      const c = (window as unknown as { agents: Record<string, { readResource(p: unknown): Promise<{ contents: { uri: string; mimeType: string; text: string }[] }>; listResources(): Promise<{ resources: { uri: string }[] }> }> }).agents['a']!;
      return { list: (await c.listResources()).resources, read: await c.readResource({ uri: 'system://info' }) };
    });
    expect(read.list.map((r) => r.uri)).toEqual(['system://env', 'system://info', 'context://global']);
    const doc = JSON.parse(read.read.contents[0]!.text);
    expect(read.read.contents[0]!.mimeType).toBe('application/json');
    expect(doc.host).toMatchObject({ server: { name: 'browser-mcp-sandbox' }, tools: expect.any(Number), sessions: expect.any(Number) });
    expect(doc.sandbox.memoryPages).toBeGreaterThan(0);
    // The counts add up to what the app's Tools view lists, and say so there in the same words.
    const counts = doc.host.toolCounts as { registered: number; callable: number; resourceProducers: number; disabled: number };
    expect(counts.callable).toBe(doc.host.tools);
    expect(counts.callable + counts.resourceProducers + counts.disabled).toBe(counts.registered);
    const registered = await admin<unknown[]>(page, 'tools.list');
    expect(counts.registered).toBe(registered.length);
  });

  it('records each call as a request entry and a result entry, and the chain verifies', async () => {
    const entries = await admin<AuditEntry[]>(page, 'audit.list', { sessionId: session });
    const calls = entries.filter((e) => e.event === 'call.request');
    expect(calls.map((e) => e.tool)).toEqual(['text_stats', 'json_query', 'system_info']);
    for (const request of calls) {
      const result = entries.find((e) => e.event === 'call.result' && e.callId === request.callId);
      expect(result, `result entry of ${request.tool}`).toMatchObject({ outcome: 'ok', agentId: 'agent-a', sessionId: session });
      expect(result!.seq).toBeGreaterThan(request.seq);
      expect(result!.durationMs).toBeGreaterThan(0);
      expect(result!.memoryBytes).toBeGreaterThan(0);
    }
    expect(calls[0]!.args).toEqual({ text: 'The cat sat. The cat ran!\n\nA dog.' });
    expect(await admin(page, 'audit.verify')).toMatchObject({ ok: true });
  });
});
