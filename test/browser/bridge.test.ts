// The desktop bridge (scripts/bridge.mjs, `npx browser-mcp-sandbox bridge --stdio`): a desktop
// MCP client's newline-delimited JSON-RPC on stdin/stdout, served by the built app in a headless
// Chromium with a persistent profile, through the app's /mcp endpoint, as a registered agent.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ESM script without types
import { keepAgentToken, openApp } from '../../scripts/bridge-app.mjs';

const script = fileURLToPath(new URL('../../scripts/bridge.mjs', import.meta.url));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

interface Bridge {
  send(message: unknown): void;
  /** The next message on stdout with this id. */
  reply(id: number): Promise<{ id: number; result?: Record<string, unknown>; error?: { code: number; message: string } }>;
  /** Closes stdin and resolves with the exit code. */
  end(): Promise<number | null>;
}

function startBridge(profile: string, port: number): Bridge {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [script, 'bridge', '--stdio', '--profile', profile, '--port', String(port)], { env: { ...process.env } });
  const waiting = new Map<number, (m: never) => void>();
  const early = new Map<number, unknown>();
  createInterface({ input: child.stdout }).on('line', (line) => {
    const m = JSON.parse(line) as { id: number };
    const w = waiting.get(m.id);
    if (w) w(m as never);
    else early.set(m.id, m);
  });
  child.stderr.on('data', () => undefined);
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return {
    send: (message) => child.stdin.write(`${typeof message === 'string' ? message : JSON.stringify(message)}\n`),
    reply: (id) => (early.has(id) ? Promise.resolve(early.get(id) as never) : new Promise((r) => waiting.set(id, r))),
    end: () => (child.stdin.end(), exited),
  };
}

const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'desktop-test', version: '1.0.0' } } };
const info = (r: { result?: Record<string, unknown> }) => JSON.parse((r.result!['contents'] as { text: string }[])[0]!.text).host as { sessions: number; auditEntries: number };

describe('the desktop bridge over stdio', () => {
  it('serves initialize, tools/list and tools/call as a registered agent, answers a line that is not JSON, and keeps everything across a restart', { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bridge-'));
    const profile = join(dir, 'profile');
    const port = await freePort();

    const first = startBridge(profile, port);
    first.send(initialize);
    first.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    first.send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    first.send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'text_stats', arguments: { text: 'from a desktop client' } } });
    first.send({ jsonrpc: '2.0', id: 4, method: 'resources/read', params: { uri: 'system://info' } });
    expect((await first.reply(1)).result).toMatchObject({ serverInfo: { name: 'browser-mcp-sandbox' } });
    expect(((await first.reply(2)).result!['tools'] as { name: string }[]).map((t) => t.name)).toContain('text_stats');
    const call = await first.reply(3);
    expect(JSON.parse((call.result!['content'] as { text: string }[])[0]!.text).words).toBe(4);
    const before = info(await first.reply(4));
    first.send('this is not json');
    expect(await first.reply(null as unknown as number)).toMatchObject({ error: { code: -32700 } });
    expect(await first.end()).toBe(0);
    const kept = JSON.parse(await readFile(join(dir, 'desktop-bridge.token.json'), 'utf8')) as { token: string };

    // Same profile, same port: the same agent (its token kept), and the log and sessions it left.
    const second = startBridge(profile, port);
    second.send(initialize);
    second.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    second.send({ jsonrpc: '2.0', id: 5, method: 'resources/read', params: { uri: 'system://info' } });
    await second.reply(1);
    const after = info(await second.reply(5));
    expect(after.sessions).toBe(before.sessions + 1);
    expect(after.auditEntries).toBeGreaterThan(before.auditEntries);
    expect(await second.end()).toBe(0);
    expect(JSON.parse(await readFile(join(dir, 'desktop-bridge.token.json'), 'utf8'))).toEqual(kept);
  });
});

describe('the desktop bridge over stdio, 2026-07-28 revision', () => {
  it('relays the stateless revision as it comes: server/discover and requests with their _meta envelope, no initialize', { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bridge-2026-'));
    const bridge = startBridge(join(dir, 'profile'), await freePort());
    const _meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientInfo': { name: 'desktop-2026', version: '1' }, 'io.modelcontextprotocol/clientCapabilities': {} };
    bridge.send({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta } });
    bridge.send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'text_stats', arguments: { text: 'stateless over stdio' }, _meta } });
    expect((await bridge.reply(1)).result).toMatchObject({ resultType: 'complete', supportedVersions: expect.arrayContaining(['2026-07-28']) });
    const call = await bridge.reply(2);
    expect(call.result).toMatchObject({ resultType: 'complete', _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'browser-mcp-sandbox' } } });
    expect(JSON.parse((call.result!['content'] as { text: string }[])[0]!.text).words).toBe(3);
    bridge.send({ jsonrpc: '2.0', id: 3, method: 'resources/read', params: { uri: 'system://info', _meta } });
    expect(JSON.parse(((await bridge.reply(3)).result!['contents'] as { text: string }[])[0]!.text).host.agent).toMatchObject({ id: 'desktop-bridge' });
    expect(await bridge.end()).toBe(0);
  });
});

describe('the desktop bridge over stdio, as another agent', () => {
  it('streams what a call sends before its result: log lines, and a sampling request the client answers on stdin', { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bridge-'));
    const profile = join(dir, 'profile');
    const port = await freePort();
    // The profile the conformance run prepares: fixtures, and an agent whose policy names them.
    const app = await openApp({ profile, port, executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium' });
    await app.admin('tools.seed', { fixtures: true });
    const made = await app.admin('agents.register', { id: 'conformance', name: 'conformance', trustLevel: 'Trusted', origins: [app.origin], policy: { version: 1, tools: { allowed: ['test_sampling', 'test_tool_with_logging'] } } });
    await keepAgentToken(profile, 'conformance', app.origin, made.token);
    await app.close();

    const child = spawn(process.execPath, [script, 'bridge', '--stdio', '--profile', profile, '--port', String(port), '--agent', 'conformance'], { env: { ...process.env } });
    child.stderr.on('data', () => undefined);
    const lines: { id?: number; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown> }[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => lines.push(JSON.parse(line)));
    const send = (m: unknown) => child.stdin.write(`${JSON.stringify(m)}\n`);
    const until = async <T>(find: () => T | undefined): Promise<T> => {
      for (;;) {
        const found = find();
        if (found !== undefined) return found;
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    send({ ...initialize, params: { ...initialize.params, capabilities: { sampling: {} } } });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    await until(() => lines.find((l) => l.id === 1));

    send({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'test_tool_with_logging', arguments: {} } });
    await until(() => lines.find((l) => l.id === 2));
    const before = lines.slice(0, lines.findIndex((l) => l.id === 2));
    expect(before.filter((l) => l.method === 'notifications/message').map((l) => l.params!['data'])).toEqual(['Tool execution started', 'Tool processing data', 'Tool execution completed']);

    send({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'test_sampling', arguments: { prompt: 'Say hi' } } });
    const asked = await until(() => lines.find((l) => l.method === 'sampling/createMessage'));
    expect(asked.params).toMatchObject({ messages: [{ role: 'user', content: { type: 'text', text: 'Say hi' } }], maxTokens: 100 });
    send({ jsonrpc: '2.0', id: asked.id, result: { role: 'assistant', content: { type: 'text', text: 'hi' }, model: 'test-model', stopReason: 'endTurn' } });
    const call = await until(() => lines.find((l) => l.id === 3));
    expect(call.result).toMatchObject({ content: [{ type: 'text', text: 'LLM response: hi' }] });
    child.stdin.end();
    expect(await new Promise((r) => child.on('exit', r))).toBe(0);
  });
});
