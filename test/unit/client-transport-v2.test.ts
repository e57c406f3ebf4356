import { Client as V2Client, ProtocolError, type Transport as V2Transport } from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import { EnvelopeClientTransport } from '../../src/transport/client-transport';
import { loggedEntries, startHarness } from './support/server-fixture';

// The postMessage transport taken unchanged by the v2 SDK's `@modelcontextprotocol/client`
// Client (the 1.x Client is covered in transport.test.ts), over the transport's in-memory twin:
// the same session router, opener, policy and audit as the service worker wires.

const errorOf = (result: { _meta?: Record<string, unknown> }) => result._meta?.['mcp-sandbox/error'] as { code?: string; details?: Record<string, unknown> } | undefined;

describe('the v2 @modelcontextprotocol/client Client over the postMessage transport', () => {
  it('is the v2 Transport shape (compile-time) and carries initialize, tools/list and tools/call as a registered agent', async () => {
    const h = await startHarness();
    const token = await h.agent('v2-agent');
    const transport = new EnvelopeClientTransport(h.link, { auth: { agent: 'v2-agent', token } });
    const asV2: V2Transport = transport;
    const client = new V2Client({ name: 'v2-unit-client', version: '2.4.0' });
    await client.connect(asV2);
    // The 2025-11-25 revision, with a session: the transport's id, which the server now knows.
    expect(client.getProtocolEra()).toBe('legacy');
    expect(client.getNegotiatedProtocolVersion()).toBe('2025-11-25');
    expect(transport.sessionId).toBe(transport.session);
    expect(client.getServerVersion()?.name).toBe('browser-mcp-sandbox');
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['echo']);
    const result = await client.callTool({ name: 'echo', arguments: { text: 'from v2' } });
    expect(result.content).toEqual([{ type: 'text', text: 'ran echo with {"text":"from v2"}' }]);

    const session = await h.ctx.sessions.get(transport.session);
    expect(session).toMatchObject({ agentId: 'v2-agent', clientInfo: { name: 'v2-unit-client', version: '2.4.0' }, callCount: 1 });
    const entries = (await loggedEntries(h.ctx)).filter((e) => e.sessionId === transport.session);
    expect(entries.map((e) => [e.event, e.agentId, e.tool])).toEqual([
      ['session.open', 'v2-agent', null],
      ['call.request', 'v2-agent', 'echo'],
      ['call.result', 'v2-agent', 'echo'],
    ]);
  });

  it('gets a policy denial as the 1.x Client does (an isError result with the sandbox error), and protocol errors as its typed ProtocolError', async () => {
    const h = await startHarness();
    const token = await h.agent('v2-limited', 'Trusted', { version: 1, tools: { allowed: ['system_info'] } });
    const v2 = new V2Client({ name: 'v2-unit-client', version: '2.4.0' });
    await v2.connect(new EnvelopeClientTransport(h.link, { auth: { agent: 'v2-limited', token } }));
    const v1 = await h.connect({ agent: 'v2-limited', token });

    const denied2 = await v2.callTool({ name: 'echo', arguments: { text: 'no' } });
    const denied1 = await v1.callTool({ name: 'echo', arguments: { text: 'no' } });
    expect(denied2.isError).toBe(true);
    expect(errorOf(denied2)).toMatchObject({ code: 'policy-denied', details: { rule: expect.stringMatching(/^tool\./) } });
    // Word for word what the 1.x client gets, apart from the id of the call refused.
    const sameness = (error: unknown): unknown => JSON.parse(JSON.stringify(error, (key, value: unknown) => (key === 'callId' ? undefined : value)));
    expect(sameness(errorOf(denied2))).toEqual(sameness(errorOf(denied1 as { _meta?: Record<string, unknown> })));
    expect(h.executor.requests).toHaveLength(0);

    // A JSON-RPC error reaches the v2 caller as its own error class, with the server's code.
    const thrown = await v2.callTool({ name: 'no_such_tool', arguments: {} }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(thrown).toBeInstanceOf(ProtocolError);
    expect(thrown).toMatchObject({ code: -32602, message: expect.stringContaining('no_such_tool') });
  });

  it('with versionNegotiation auto, its server/discover probe is refused on the postMessage path and it falls back to 2025-11-25', async () => {
    const h = await startHarness();
    const token = await h.agent('v2-agent');
    const transport = new EnvelopeClientTransport(h.link, { auth: { agent: 'v2-agent', token } });
    const client = new V2Client({ name: 'v2-unit-client', version: '2.4.0' }, { versionNegotiation: { mode: 'auto' } });
    const started = Date.now();
    await client.connect(transport);
    // A definitive answer (no session yet), not a timeout: the fallback is immediate.
    expect(Date.now() - started).toBeLessThan(2000);
    expect(client.getProtocolEra()).toBe('legacy');
    expect(client.getNegotiatedProtocolVersion()).toBe('2025-11-25');
    expect((await client.callTool({ name: 'echo', arguments: { text: 'auto' } })).content).toEqual([{ type: 'text', text: 'ran echo with {"text":"auto"}' }]);
    expect(await h.ctx.sessions.get(transport.session)).toMatchObject({ agentId: 'v2-agent', callCount: 1 });
  });

  it('is refused with a wrong token, and the session is not opened', async () => {
    const h = await startHarness();
    await h.agent('v2-agent');
    const transport = new EnvelopeClientTransport(h.link, { auth: { agent: 'v2-agent', token: 'not-the-token' } });
    const client = new V2Client({ name: 'v2-unit-client', version: '2.4.0' });
    await expect(client.connect(transport)).rejects.toThrow();
    expect(await h.ctx.sessions.get(transport.session)).toBeUndefined();
  });

  it('closing the client closes the transport: it stops listening and lets go of the endpoint once', async () => {
    const h = await startHarness();
    const token = await h.agent('v2-agent');
    let listeners = 0;
    let released = 0;
    const endpoint = {
      post: h.link.post.bind(h.link),
      subscribe(listener: (data: unknown) => void) {
        listeners++;
        const off = h.link.subscribe(listener);
        return () => {
          listeners--;
          off();
        };
      },
    };
    const transport = new EnvelopeClientTransport(endpoint, { auth: { agent: 'v2-agent', token }, release: () => released++ });
    const client = new V2Client({ name: 'v2-unit-client', version: '2.4.0' });
    let closed = 0;
    client.onclose = () => closed++;
    await client.connect(transport);
    expect(listeners).toBe(1);
    await client.close();
    expect([listeners, released, closed]).toEqual([0, 1, 1]);
    await transport.close();
    expect(released).toBe(1);
    await expect(transport.send({ jsonrpc: '2.0', id: 9, method: 'tools/list' })).rejects.toThrow('transport not started');
  });
});
