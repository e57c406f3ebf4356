// The desktop bridge over HTTP (`browser-mcp-sandbox bridge --http [host:]port`): MCP Streamable
// HTTP on loopback, relayed into the app page's /mcp as the registered agent. Every request needs
// the bridge token; Host and Origin are checked first (DNS rebinding). The grant uses the SDK's
// own client and MCP Inspector's CLI; each refusal is one raw request.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../../scripts/bridge.mjs', import.meta.url));

/** Distinct free ports (held open together, so the same one cannot come back twice). */
async function freePorts(n: number): Promise<number[]> {
  const servers = Array.from({ length: n }, () => createServer());
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request with exactly these headers (node:http lets a test forge Host, as an attacker's browser would send it). */
function raw(port: number, headers: Record<string, string>, { method = 'POST', path = '/mcp', body = JSON.stringify(initialize) } = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? body : undefined);
  });
}

const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'http-test', version: '1.0.0' } } };

describe('the desktop bridge over HTTP', () => {
  let child: ChildProcess;
  let port: number;
  let token: string;
  let exited: Promise<number | null>;
  let dir: string;
  const stderr: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bridge-http-'));
    const profile = join(dir, 'profile');
    const [listenPort, appPort] = await freePorts(2);
    port = listenPort!;
    child = spawn(process.execPath, [script, 'bridge', '--http', String(port), '--profile', profile, '--port', String(appPort)], { stdio: ['ignore', 'ignore', 'pipe'] });
    exited = new Promise((r) => child.on('exit', (code) => r(code)));
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the bridge exited (${code}): ${stderr.join('\n')}`)));
      createInterface({ input: child.stderr! }).on('line', (line) => {
        stderr.push(line);
        if (line.includes('listening on')) resolve();
      });
    });
    token = (await readFile(join(dir, 'bridge-http.token'), 'utf8')).trim();
  }, 90_000);

  afterAll(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });

  it('serves initialize, tools/list and tools/call to the SDK client, as the registered agent', async () => {
    const client = new Client({ name: 'desktop-http', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
    expect(client.getServerVersion()).toMatchObject({ name: 'browser-mcp-sandbox' });
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('text_stats');
    const call = await client.callTool({ name: 'text_stats', arguments: { text: 'from a desktop client over http' } });
    expect(JSON.parse((call.content as { text: string }[])[0]!.text).words).toBe(6);
    // Policy and audit are the agent's: system://info names the caller.
    const info = await client.readResource({ uri: 'system://info' });
    expect(JSON.parse((info.contents[0] as { text: string }).text).host.agent).toEqual({ id: 'desktop-bridge', trustLevel: 'Trusted' });
    // A protocol error reads as the client shows it: the code once, then the message.
    const unknown = await client.callTool({ name: 'no_such_tool', arguments: {} }).catch((error: Error) => error);
    expect(String(unknown)).toMatch(/^McpError: MCP error -32602: Unknown tool: no_such_tool$/);
    await client.close();
  });

  it('serves a client of the stateless 2026-07-28 revision (the v2 SDK client) the same way', async () => {
    const client = new ModernClient({ name: 'desktop-http-2026', version: '2.4.0' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } });
    await client.connect(new ModernTransport(new URL(`http://127.0.0.1:${port}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
    expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('text_stats');
    const call = await client.callTool({ name: 'text_stats', arguments: { text: 'from a stateless desktop client' } });
    expect(JSON.parse((call.content as { text: string }[])[0]!.text).words).toBe(5);
    const info = await client.readResource({ uri: 'system://info' });
    expect(JSON.parse((info.contents[0] as { text: string }).text).host.agent).toEqual({ id: 'desktop-bridge', trustLevel: 'Trusted' });
    await client.close();
  });

  it('accepts every loopback spelling of its own Host, and its own loopback origins', async () => {
    const auth = { Authorization: `Bearer ${token}` };
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) expect((await raw(port, { ...auth, Host: host })).status, host).toBe(200);
    expect((await raw(port, { ...auth, Origin: `http://localhost:${port}` })).status).toBe(200);
  });

  it('refuses a request without the bridge token (401)', async () => {
    const answer = await raw(port, {});
    expect(answer.status).toBe(401);
    expect(answer.headers['www-authenticate']).toMatch(/^Bearer /);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: -32001 } });
  });

  it('refuses a wrong token (401), the agent token included', async () => {
    expect((await raw(port, { Authorization: `Bearer ${token}x` })).status).toBe(401);
    expect((await raw(port, { Authorization: `Bearer ${token.slice(0, -1)}` })).status).toBe(401);
    expect((await raw(port, { Authorization: token })).status).toBe(401);
    const agent = JSON.parse(await readFile(join(dir, 'desktop-bridge.token.json'), 'utf8')) as { token: string };
    expect((await raw(port, { Authorization: `Bearer ${agent.token}` })).status).toBe(401);
  });

  it('refuses a Host that is not this listener (403), whatever the token', async () => {
    const auth = { Authorization: `Bearer ${token}` };
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1.evil.example:${port}`, `localhost.evil.example:${port}`, `127.0.0.1:${port + 1}`, '127.0.0.1', `127.0.0.2:${port}`, `0.0.0.0:${port}`]) {
      const answer = await raw(port, { ...auth, Host: host });
      expect(answer.status, host).toBe(403);
      expect(answer.body).toContain('Host');
    }
  });

  it('refuses a foreign Origin (403), whatever the token', async () => {
    const auth = { Authorization: `Bearer ${token}` };
    for (const origin of ['http://evil.example', `http://evil.example:${port}`, `https://127.0.0.1:${port}`, `http://127.0.0.1:${port + 1}`, 'null']) {
      const answer = await raw(port, { ...auth, Origin: origin });
      expect(answer.status, origin).toBe(403);
      expect(answer.body).toContain('Origin');
    }
  });

  it('serves MCP only at /mcp', async () => {
    expect((await raw(port, { Authorization: `Bearer ${token}` }, { path: '/' })).status).toBe(404);
    expect((await raw(port, { Authorization: `Bearer ${token}` }, { method: 'PUT' })).status).toBe(405);
  });

  it('answers MCP Inspector CLI (tools/list over --transport http, the token as a --header)', async () => {
    // Inspector v1's CLI finds its package.json from the working directory: run it from its build folder.
    const cli = createRequire(import.meta.url).resolve('@modelcontextprotocol/inspector-cli/build/cli.js');
    const inspector = spawn(process.execPath, [cli, '--cli', `http://127.0.0.1:${port}/mcp`, '--transport', 'http', '--header', `Authorization: Bearer ${token}`, '--method', 'tools/list'], { cwd: dirname(cli) });
    let out = '';
    inspector.stdout.on('data', (c: Buffer) => (out += c.toString()));
    inspector.stderr.on('data', () => undefined);
    expect(await new Promise((r) => inspector.on('exit', r))).toBe(0);
    expect((JSON.parse(out.slice(out.indexOf('{'))) as { tools: { name: string }[] }).tools.map((t) => t.name)).toContain('text_stats');
  }, 30_000);

  it('on SIGTERM answers the call in flight, then exits 0', async () => {
    const client = new Client({ name: 'desktop-http', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
    const slow = client.callTool({ name: 'execute_code', arguments: { language: 'javascript', code: 'const end = Date.now() + 1500; while (Date.now() < end) {} "done"' } });
    await new Promise((r) => setTimeout(r, 400));
    child.kill('SIGTERM');
    const result = await slow;
    expect(result.isError).toBeFalsy();
    expect(JSON.stringify(result.content)).toContain('done');
    expect(await exited).toBe(0);
    expect(stderr.join('\n')).toContain('stopping (SIGTERM)');
  }, 30_000);
});
