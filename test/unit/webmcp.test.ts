import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { exposeToWebMCP, findModelContext, WebMcpUnavailableError, type ModelContextLike, type WebMcpToolDefinition } from '../../src/client/webmcp';

/** A model context that behaves as Chromium 156's does: async registerTool, unregister by signal, duplicates refused. */
class FakeModelContext implements ModelContextLike {
  readonly tools = new Map<string, WebMcpToolDefinition>();
  refuse = new Set<string>();
  registerTool(tool: WebMcpToolDefinition, options?: { signal?: AbortSignal }): Promise<void> {
    if (this.tools.has(tool.name)) return Promise.reject(new DOMException('Duplicate tool name', 'InvalidStateError'));
    if (this.refuse.has(tool.name)) return Promise.reject(new TypeError('bad schema'));
    this.tools.set(tool.name, tool);
    options?.signal?.addEventListener('abort', () => {
      if (this.tools.get(tool.name) === tool) this.tools.delete(tool.name);
    });
    return Promise.resolve();
  }
  names(): string[] {
    return [...this.tools.keys()].sort();
  }
}

/** An older shape: synchronous, no signal, a handle with unregister(). */
class HandleModelContext implements ModelContextLike {
  readonly tools = new Map<string, WebMcpToolDefinition>();
  registerTool(tool: WebMcpToolDefinition): { unregister(): void } {
    this.tools.set(tool.name, tool);
    return { unregister: () => void this.tools.delete(tool.name) };
  }
}

/** The polyfill's older shape: registerTool without signal support, unregisterTool(name). */
class ByNameModelContext implements ModelContextLike {
  readonly tools = new Map<string, WebMcpToolDefinition>();
  registerTool(tool: WebMcpToolDefinition): void {
    this.tools.set(tool.name, tool);
  }
  unregisterTool(name: string): void {
    this.tools.delete(name);
  }
}

async function setup() {
  const server = new McpServer({ name: 't', version: '1' });
  const calls: string[] = [];
  const tool = (name: string) =>
    server.registerTool(name, { description: `the ${name} tool`, inputSchema: { text: z.string() } }, ({ text }) => {
      calls.push(`${name}:${text}`);
      return { content: [{ type: 'text', text: `${name} says ${text}` }] };
    });
  const handles = { a: tool('alpha'), b: tool('beta') };
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'c', version: '1' });
  await client.connect(clientSide);
  return { server, client, calls, handles, tool };
}

const until = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
};

describe('exposeToWebMCP', () => {
  it('registers exactly the listed tools, and execute is a tools/call returning the MCP result', async () => {
    const { client, calls } = await setup();
    const mc = new FakeModelContext();
    const exposure = await exposeToWebMCP(client, { modelContext: mc });
    expect(exposure.available).toBe(true);
    expect(mc.names()).toEqual(['alpha', 'beta']);
    expect(exposure.tools).toEqual(['alpha', 'beta']);
    const alpha = mc.tools.get('alpha')!;
    expect(alpha.description).toBe('the alpha tool');
    expect(alpha.inputSchema).toMatchObject({ type: 'object', properties: { text: { type: 'string' } } });
    expect(await alpha.execute({ text: 'hi' })).toEqual({ content: [{ type: 'text', text: 'alpha says hi' }] });
    expect(await alpha.execute(JSON.stringify({ text: 'json' }))).toMatchObject({ content: [{ text: 'alpha says json' }] });
    await expect(alpha.execute([1, 2])).rejects.toThrow(TypeError);
    // Bad arguments: the server's answer, passed on as an isError result.
    expect(await alpha.execute({ text: 5 })).toMatchObject({ isError: true });
    expect(calls).toEqual(['alpha:hi', 'alpha:json']);
    await exposure.unregister();
    expect(mc.names()).toEqual([]);
  });

  it('follows tools/list_changed: removes what is gone, adds what is new, re-registers what changed', async () => {
    const { client, handles, tool } = await setup();
    const mc = new FakeModelContext();
    const seen: string[][] = [];
    const exposure = await exposeToWebMCP(client, { modelContext: mc, prefix: 'sb_', onChange: (n) => seen.push([...n]) });
    expect(mc.names()).toEqual(['sb_alpha', 'sb_beta']);
    handles.b.disable();
    await until(() => mc.names().join() === 'sb_alpha');
    tool('gamma');
    await until(() => mc.names().join() === 'sb_alpha,sb_gamma');
    const before = mc.tools.get('sb_alpha');
    handles.a.update({ description: 'a new description' });
    await until(() => mc.tools.get('sb_alpha')?.description === 'a new description');
    expect(mc.tools.get('sb_alpha')).not.toBe(before);
    expect(seen.at(-1)).toEqual(['sb_alpha', 'sb_gamma']);
    await exposure.unregister();
    expect(mc.names()).toEqual([]);
    // After unregister, changes are no longer followed.
    handles.b.enable();
    await new Promise((r) => setTimeout(r, 30));
    expect(mc.names()).toEqual([]);
  });

  it('keeps a list_changed handler the page set before, and gives it back on unregister', async () => {
    const { client, handles } = await setup();
    let heard = 0;
    client.setNotificationHandler((await import('@modelcontextprotocol/sdk/types.js')).ToolListChangedNotificationSchema, () => void heard++);
    const mc = new FakeModelContext();
    const exposure = await exposeToWebMCP(client, { modelContext: mc });
    handles.a.disable();
    await until(() => heard === 1 && mc.names().join() === 'beta');
    await exposure.unregister();
    handles.a.enable();
    await until(() => heard === 2);
    expect(mc.names()).toEqual([]);
  });

  it('reports a tool the model context refuses and registers the others', async () => {
    const { client } = await setup();
    const mc = new FakeModelContext();
    mc.refuse.add('beta');
    const errors: (string | undefined)[] = [];
    const exposure = await exposeToWebMCP(client, { modelContext: mc, onError: (_e, name) => errors.push(name) });
    expect(mc.names()).toEqual(['alpha']);
    expect(exposure.failed.get('beta')).toMatch(/TypeError: bad schema/);
    expect(errors).toEqual(['beta']);
  });

  it('works with a model context that unregisters through a handle', async () => {
    const { client, handles } = await setup();
    const mc = new HandleModelContext();
    const exposure = await exposeToWebMCP(client, { modelContext: mc, filter: (t) => t.name !== 'beta' });
    expect([...mc.tools.keys()]).toEqual(['alpha']);
    handles.a.disable();
    await until(() => mc.tools.size === 0);
    await exposure.unregister();
  });

  it('works with a model context that unregisters by name', async () => {
    const { client, handles } = await setup();
    const mc = new ByNameModelContext();
    const exposure = await exposeToWebMCP(client, { modelContext: mc });
    expect([...mc.tools.keys()].sort()).toEqual(['alpha', 'beta']);
    handles.b.remove();
    await until(() => [...mc.tools.keys()].join() === 'alpha');
    await exposure.unregister();
    expect(mc.tools.size).toBe(0);
  });

  it('unregisters everything when the client closes', async () => {
    const { client } = await setup();
    const mc = new FakeModelContext();
    await exposeToWebMCP(client, { modelContext: mc });
    await client.close();
    await until(() => mc.tools.size === 0);
  });

  it('feature-detects: a typed error, or with skip a no-op exposure that says why', async () => {
    const { client } = await setup();
    expect(findModelContext({})).toBeNull();
    expect(findModelContext({ navigator: { modelContext: new HandleModelContext() } })).toBeInstanceOf(HandleModelContext);
    const doc = new FakeModelContext();
    expect(findModelContext({ document: { modelContext: doc }, navigator: { modelContext: new HandleModelContext() } })).toBe(doc);
    await expect(exposeToWebMCP(client, { modelContext: null })).rejects.toBeInstanceOf(WebMcpUnavailableError);
    await expect(exposeToWebMCP(client, { modelContext: null })).rejects.toMatchObject({ code: 'webmcp-unavailable' });
    const skipped = await exposeToWebMCP(client, { modelContext: null, ifUnavailable: 'skip' });
    expect(skipped).toMatchObject({ available: false, tools: [] });
    expect(skipped.reason).toMatch(/modelContext/);
  });
});
