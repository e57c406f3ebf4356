// The MCP conformance fixtures (tools/conformance/: tools, resources, a resource template and
// prompts, all WebAssembly) are restricted: only an agent whose policy names them reaches them.
// A FullyTrusted agent (tools.allowed ["*"]) sees none of them and is refused each one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { admin, callTool, connectAgent, launchBrowser, openApp, recordNotifications, registerAgent } from './harness';

let browser: Browser;
let context: BrowserContext;
let app: Page;
let bundle: string[];

type Client = {
  listTools(): Promise<{ tools: { name: string }[] }>;
  listResources(): Promise<{ resources: { uri: string }[] }>;
  listResourceTemplates(): Promise<{ resourceTemplates: { uriTemplate: string }[] }>;
  listPrompts(): Promise<{ prompts: { name: string; arguments?: { name: string; required?: boolean }[] }[] }>;
  readResource(p: { uri: string }): Promise<{ contents: { uri: string; text?: string; blob?: string; mimeType?: string }[] }>;
  getPrompt(p: { name: string; arguments?: Record<string, string> }): Promise<{ messages: { role: string; content: { type: string; text?: string } }[] }>;
  subscribeResource(p: { uri: string }): Promise<object>;
  unsubscribeResource(p: { uri: string }): Promise<object>;
};

/** Runs one client method in the page; a protocol error comes back as `{ thrown }`. */
function ask<K extends keyof Client>(agent: string, method: K, params?: unknown): Promise<Awaited<ReturnType<Client[K]>> & { thrown?: { code: number; message: string } }> {
  return app.evaluate(
    async ({ agent, method, params }) => {
      const client = (window as unknown as { agents: Record<string, Record<string, (p?: unknown) => Promise<unknown>>> }).agents[agent]!;
      try {
        return await client[method]!(params);
      } catch (error) {
        return { thrown: { code: (error as { code: number }).code, message: (error as Error).message } };
      }
    },
    { agent, method, params },
  ) as never;
}

beforeAll(async () => {
  browser = await launchBrowser();
  ({ context, page: app } = await openApp(browser));
  await admin(app, 'tools.seed', { fixtures: true });
  const manifest = (await (await fetch(new URL('/tools/manifest.json', app.url()))).json()) as { tools: { name: string; bundle?: string }[] };
  bundle = manifest.tools.filter((t) => t.bundle === 'conformance').map((t) => t.name);
  await connectAgent(app, 'ordinary', { agent: 'ordinary' });
  const token = await registerAgent(app, { id: 'conformance', trustLevel: 'Trusted', policy: { version: 1, tools: { allowed: bundle } } });
  await connectAgent(app, 'conformance', { agent: 'conformance', token });
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
});

describe('the conformance bundle', () => {
  it('is hidden from an ordinary agent, even a FullyTrusted one whose tools.allowed is "*"', async () => {
    expect(bundle).toEqual(expect.arrayContaining(['test_simple_text', 'test_static_text', 'test_template_data', 'test_simple_prompt']));
    const tools = (await ask('ordinary', 'listTools')).tools.map((t) => t.name);
    expect(tools).toContain('text_stats');
    expect(tools.filter((t) => bundle.includes(t))).toEqual([]);
    expect((await ask('ordinary', 'listResources')).resources.map((r) => r.uri).filter((u) => u.startsWith('test://'))).toEqual([]);
    // Only the sandbox's own template (conversation contexts, docs/context.md), none of the bundle's.
    expect((await ask('ordinary', 'listResourceTemplates')).resourceTemplates.map((t) => t.uriTemplate)).toEqual(['context://conversation/{id}']);
    expect((await ask('ordinary', 'listPrompts')).prompts).toEqual([]);
  });

  it('refuses an ordinary agent each tool, resource and prompt of it', async () => {
    const call = await callTool(app, 'ordinary', 'test_simple_text', {});
    expect(call.isError).toBe(true);
    expect(call._meta?.['mcp-sandbox/error']).toMatchObject({ code: 'policy-denied', details: { rule: 'tool.restricted' } });
    expect(JSON.stringify(call.content)).not.toContain('simple text response');
    expect((await ask('ordinary', 'readResource', { uri: 'test://static-text' })).thrown).toMatchObject({ code: -32602 });
    expect((await ask('ordinary', 'readResource', { uri: 'test://template/1/data' })).thrown).toMatchObject({ code: -32602 });
    expect((await ask('ordinary', 'getPrompt', { name: 'test_simple_prompt' })).thrown).toMatchObject({ code: -32602 });
    // The admin's "who can call it" says the same (the rule, not a yes for "*").
    const audience = await admin<{ agentId: string; sees: boolean; rule: string | null }[]>(app, 'tools.audience', { name: 'test_simple_text' });
    expect(audience.find((a) => a.agentId === 'ordinary')).toMatchObject({ sees: false, rule: 'tool.restricted' });
    expect(audience.find((a) => a.agentId === 'conformance')).toMatchObject({ sees: true, rule: null });
    // The refusal is audited like any denial.
    const audit = await admin<{ event: string; agentId?: string; tool?: string }[]>(app, 'audit.list');
    expect(audit.some((e) => e.event === 'call.rejected' && e.agentId === 'ordinary' && e.tool === 'test_simple_text')).toBe(true);
  });

  it('serves the agent whose policy names its tools: MCP content, a resource template, prompts with arguments', async () => {
    expect((await ask('conformance', 'listTools')).tools.map((t) => t.name)).toEqual(expect.arrayContaining(['test_image_content', 'test_error_handling']));
    const image = await callTool(app, 'conformance', 'test_image_content', {});
    expect(image.content).toEqual([expect.objectContaining({ type: 'image', mimeType: 'image/png' })]);
    expect((await callTool(app, 'conformance', 'test_error_handling', {})).isError).toBe(true);
    expect((await ask('conformance', 'listResourceTemplates')).resourceTemplates.map((t) => t.uriTemplate)).toEqual(['test://template/{id}/data', 'context://conversation/{id}']);
    const data = await ask('conformance', 'readResource', { uri: 'test://template/a%20b/data' });
    expect(data.contents[0]).toMatchObject({ uri: 'test://template/a%20b/data', mimeType: 'application/json' });
    expect(JSON.parse(data.contents[0]!.text!)).toEqual({ id: 'a b', templateTest: true, data: 'Data for ID: a b' });
    expect((await ask('conformance', 'readResource', { uri: 'test://static-binary' })).contents[0]).toMatchObject({ mimeType: 'image/png', blob: expect.any(String) });
    const prompts = (await ask('conformance', 'listPrompts')).prompts;
    expect(prompts.find((p) => p.name === 'test_prompt_with_arguments')?.arguments).toEqual([expect.objectContaining({ name: 'arg1', required: true }), expect.objectContaining({ name: 'arg2', required: true })]);
    const prompt = await ask('conformance', 'getPrompt', { name: 'test_prompt_with_arguments', arguments: { arg1: 'it\'s "x"', arg2: 'y' } });
    expect(prompt.messages[0]!.content.text).toBe(`Prompt with arguments: arg1='it's "x"', arg2='y'`);
    expect((await ask('conformance', 'getPrompt', { name: 'test_prompt_with_arguments', arguments: { arg1: 'x' } })).thrown).toMatchObject({ code: -32602 });
  });

  it('lets a tool with the permission "client" ask the calling agent\'s own client, which did not declare sampling: the tool gets the refusal', async () => {
    const sampled = await callTool(app, 'conformance', 'test_sampling', { prompt: 'hello' });
    expect(sampled.isError).toBe(true);
    expect(sampled.content[0]!.text).toBe('tool-error: client-request failed: the client did not declare the capability sampling');
    const audit = await admin<{ event: string; agentId?: string; tool?: string; args?: { method?: string } }[]>(app, 'audit.list');
    expect(audit.some((e) => e.event === 'call.capability' && e.tool === 'test_sampling' && e.args?.method === 'sampling/createMessage')).toBe(true);
  });

  it('announces a watched resource as updated when what writes it may have changed (here: the policy), until unsubscribed', async () => {
    await recordNotifications(app, 'conformance');
    const updates = () => app.evaluate(() => (window as unknown as { notified: string[] }).notified.filter((m) => m === 'notifications/resources/updated').length);
    expect(await ask('conformance', 'subscribeResource', { uri: 'test://static-text' })).toEqual({});
    await admin(app, 'agents.update', { id: 'conformance', policy: { version: 1, tools: { allowed: bundle } } });
    await expect.poll(updates).toBe(1);
    expect(await ask('conformance', 'unsubscribeResource', { uri: 'test://static-text' })).toEqual({});
    await admin(app, 'agents.update', { id: 'conformance', policy: { version: 1, tools: { allowed: bundle } } });
    await expect.poll(() => app.evaluate(() => (window as unknown as { notified: string[] }).notified.filter((m) => m === 'notifications/tools/list_changed').length)).toBe(2);
    expect(await updates()).toBe(1);
  });
});
