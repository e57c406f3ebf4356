import { describe, expect, it } from 'vitest';
import { CHANNEL, MAX_MESSAGE_BYTES, WIRE_VERSION } from '../../src/shared/wire';
import { RpcCode } from '../../src/shared/errors';
import { startHarness } from './support/server-fixture';

/** Sends a raw envelope over the link and collects every reply on that session. */
async function raw(h: Awaited<ReturnType<typeof startHarness>>, session: string, message: unknown, extra: Record<string, unknown> = {}) {
  const replies: { message: { id?: unknown; error?: { code: number; message: string } } }[] = [];
  const off = h.link.subscribe((data) => {
    const d = data as { session?: string };
    if (d.session === session) replies.push(data as (typeof replies)[number]);
  });
  await h.link.raw({ channel: CHANNEL, v: WIRE_VERSION, kind: 'mcp', session, message, ...extra });
  await new Promise((r) => setTimeout(r, 5));
  off();
  return replies;
}

describe('the postMessage transport over its in-memory twin', () => {
  it('carries a standard SDK Client through initialize, tools/list and tools/call', async () => {
    const h = await startHarness();
    const client = await h.connect({ agent: 'agent-a' });
    expect(client.getServerVersion()?.name).toBe('browser-mcp-sandbox');
    expect(client.getServerCapabilities()).toMatchObject({ tools: {}, resources: {} });
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['echo']);
    const result = await client.callTool({ name: 'echo', arguments: { text: 'hi' } });
    expect(result.content).toEqual([{ type: 'text', text: 'ran echo with {"text":"hi"}' }]);
  });

  it('keeps sessions apart: each client only hears its own replies', async () => {
    const h = await startHarness();
    const a = await h.connect({ agent: 'a' });
    const b = await h.connect({ agent: 'b' });
    const [ra, rb] = await Promise.all([a.callTool({ name: 'echo', arguments: { text: 'from a' } }), b.callTool({ name: 'echo', arguments: { text: 'from b' } })]);
    expect(ra.content).toEqual([{ type: 'text', text: 'ran echo with {"text":"from a"}' }]);
    expect(rb.content).toEqual([{ type: 'text', text: 'ran echo with {"text":"from b"}' }]);
  });

  it('answers unparsable JSON with a parse error on that session only, and keeps serving others', async () => {
    const h = await startHarness();
    const good = await h.connect();
    const replies = await raw(h, 'bad-session-0001', '{"jsonrpc": "2.0", "id": 1, "method": ');
    expect(replies).toHaveLength(1);
    expect(replies[0]!.message.error!.code).toBe(RpcCode.ParseError);
    expect(replies[0]!.message.id).toBeNull();
    expect((await good.listTools()).tools).toHaveLength(1);
  });

  it('answers a structurally invalid request with Invalid Request and its id', async () => {
    const h = await startHarness();
    const replies = await raw(h, 'bad-session-0002', { jsonrpc: '2.0', id: 7, method: 42 });
    expect(replies[0]!.message).toMatchObject({ id: 7, error: { code: RpcCode.InvalidRequest } });
  });

  it('refuses requests for a session that never initialised', async () => {
    const h = await startHarness();
    const replies = await raw(h, 'never-initialised', { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    expect(replies[0]!.message).toMatchObject({ id: 1, error: { code: RpcCode.UnknownSession } });
  });

  it('refuses oversized messages without parsing them', async () => {
    const h = await startHarness();
    const big = { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x'.repeat(MAX_MESSAGE_BYTES) } } };
    const replies = await raw(h, 'oversized-session', big);
    expect(replies[0]!.message).toMatchObject({ id: 3, error: { code: RpcCode.MessageTooLarge } });
    const textReplies = await raw(h, 'oversized-session', JSON.stringify(big));
    expect(textReplies[0]!.message.error!.code).toBe(RpcCode.MessageTooLarge);
  });

  it('drops foreign traffic and envelopes with unusable session ids silently', async () => {
    const h = await startHarness();
    const heard: unknown[] = [];
    const off = h.link.subscribe((d) => heard.push(d));
    await h.link.raw({ hello: 'not ours' });
    await h.link.raw({ channel: CHANNEL, v: 99, kind: 'mcp', session: 'future-version', message: {} });
    await h.link.raw({ channel: CHANNEL, v: WIRE_VERSION, kind: 'mcp', session: 'x', message: { jsonrpc: '2.0', id: 1, method: 'ping' } });
    await h.link.raw({ channel: CHANNEL, v: WIRE_VERSION, kind: 'mcp', session: '../../etc/passwd', message: { jsonrpc: '2.0', id: 1, method: 'ping' } });
    await new Promise((r) => setTimeout(r, 5));
    off();
    expect(heard).toEqual([]);
  });

  it('refuses an invalid initialize without creating the session', async () => {
    const h = await startHarness();
    const replies = await raw(h, 'bad-initialize-1', { jsonrpc: '2.0', id: 1, method: 'initialize', params: { nope: true } });
    expect(replies[0]!.message).toMatchObject({ id: 1, error: { code: RpcCode.InvalidParams } });
    expect(await h.ctx.sessions.get('bad-initialize-1')).toBeUndefined();
  });

  it('holds each request open until its reply is sent, as waitUntil needs', async () => {
    const h = await startHarness();
    const client = await h.connect();
    let release!: () => void;
    h.executor.next = (r) => new Promise((resolve) => (release = () => resolve({ ok: true, output: r.tool, durationMs: 1, memoryBytes: 0 })));
    const call = client.callTool({ name: 'echo', arguments: { text: 'slow' } });
    let settled = false;
    void h.link.settled().then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    release();
    await call;
    await h.link.settled();
    expect(settled).toBe(true);
  });
});

describe('protocol edges (conformance found these by hand)', () => {
  async function session(h: Awaited<ReturnType<typeof startHarness>>) {
    const client = await h.connect({ agent: 'edges' });
    return { client, id: (client as unknown as { transport: { sessionId: string } }).transport.sessionId };
  }

  it('answers malformed params with -32602 naming the field, not -32603', async () => {
    const h = await startHarness();
    const { id } = await session(h);
    const [callReply] = await raw(h, id, { jsonrpc: '2.0', id: 11, method: 'tools/call', params: {} });
    expect(callReply!.message.error).toMatchObject({ code: RpcCode.InvalidParams, message: expect.stringContaining('name') });
    const [listReply] = await raw(h, id, { jsonrpc: '2.0', id: 12, method: 'tools/list', params: { cursor: 5 } });
    expect(listReply!.message.error!.code).toBe(RpcCode.InvalidParams);
  });

  it('refuses an unknown pagination cursor with -32602', async () => {
    const h = await startHarness();
    const { id } = await session(h);
    for (const method of ['tools/list', 'resources/list', 'resources/templates/list']) {
      const [reply] = await raw(h, id, { jsonrpc: '2.0', id: 13, method, params: { cursor: 'never-issued' } });
      expect(reply!.message.error!.code).toBe(RpcCode.InvalidParams);
    }
  });

  it('lists resource templates (only the conversation context\'s, docs/context.md) since resources are declared', async () => {
    const h = await startHarness();
    const { client } = await session(h);
    expect((await client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate)).toEqual(['context://conversation/{id}']);
  });

  it('sends error messages without the SDK\'s "MCP error <code>:" prefix, so a client shows it once', async () => {
    const h = await startHarness();
    const { client, id } = await session(h);
    const [reply] = await raw(h, id, { jsonrpc: '2.0', id: 14, method: 'register_agent', params: {} });
    expect(reply!.message.error!.message).not.toMatch(/^MCP error/);
    const thrown = await client.request({ method: 'register_agent', params: {} } as never, {} as never).catch((e: Error) => e.message);
    expect(String(thrown).match(/MCP error -32004/g)).toHaveLength(1);
  });
});
