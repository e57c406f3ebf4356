// The desktop bridge measured from Node, as a desktop client meets it: the SDK's Client over stdio
// (`bridge --stdio`, spawned by the client) and over Streamable HTTP (`bridge --http`), a warm
// tools/call of text_stats, sequential. The bridge runs its own headless Chromium with a fresh
// profile, prepared first with an agent whose policy lets every call run (as the bench's agents).
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { keepAgentToken, openApp } from '../../scripts/bridge-app.mjs';
import { sequential } from './page/timing.js';

const BRIDGE = fileURLToPath(new URL('../../scripts/bridge.mjs', import.meta.url));
const AGENT = 'bench-bridge';

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

function check(result) {
  if (result?.isError) throw new Error(`bridge tools/call failed: ${JSON.stringify(result).slice(0, 500)}`);
}

/** `n` warm sequential calls through each bridge; returns the samples (ms) of both. */
export async function measureBridge({ n, text, policy, executablePath }) {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-bench-bridge-'));
  const profile = join(dir, 'profile');
  const port = await freePort();
  const common = ['--profile', profile, '--port', String(port), '--agent', AGENT, '--chromium', executablePath];
  const call = (client) => client.callTool({ name: 'text_stats', arguments: { text } }).then(check);
  try {
    const app = await openApp({ profile, port, executablePath });
    try {
      const made = await app.admin('agents.register', { id: AGENT, name: AGENT, trustLevel: 'FullyTrusted', origins: [app.origin], policy });
      await keepAgentToken(profile, AGENT, app.origin, made.token);
    } finally {
      await app.close();
    }

    const stdioClient = new Client({ name: 'bench-stdio', version: '1.0.0' });
    await stdioClient.connect(new StdioClientTransport({ command: process.execPath, args: [BRIDGE, 'bridge', '--stdio', ...common], stderr: 'ignore' }));
    const stdio = await sequential(n, () => call(stdioClient));
    await stdioClient.close();

    const httpPort = await freePort();
    const bridge = spawn(process.execPath, [BRIDGE, 'bridge', '--http', `127.0.0.1:${httpPort}`, ...common], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      await new Promise((resolve, reject) => {
        bridge.once('exit', (code) => reject(new Error(`the HTTP bridge exited (${code})`)));
        createInterface({ input: bridge.stderr }).on('line', (line) => line.includes('listening on') && resolve());
      });
      const token = (await readFile(join(dir, 'bridge-http.token'), 'utf8')).trim();
      const httpClient = new Client({ name: 'bench-http', version: '1.0.0' });
      await httpClient.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${httpPort}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));
      const http = await sequential(n, () => call(httpClient));
      await httpClient.close();
      return { stdio, http };
    } finally {
      bridge.kill('SIGTERM');
      await new Promise((r) => (bridge.exitCode === null ? bridge.once('exit', r) : r()));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
