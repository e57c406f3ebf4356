// Peers users compare against, measured in the same browser and run (on their own page: the
// app's CSP rightly refuses Extism's blob: worker). Reported beside the floors, not part of them.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { CfWorkerJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/cfworker';
import { TabClientTransport, TabServerTransport } from '@mcp-b/transports';
import { createPlugin } from '@extism/extism';
import { sequential } from './timing.js';

/**
 * MCP-B's Tab transports (window.postMessage in one page) between the same SDK Client and
 * Server as floor (a), serving the same listing and answer.
 */
async function mcpB(n, tool, result) {
  const server = new Server({ name: 'bench-mcp-b', version: '1.0.0' }, { capabilities: { tools: {} }, jsonSchemaValidator: new CfWorkerJsonSchemaValidator() });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [tool] }));
  server.setRequestHandler(CallToolRequestSchema, async () => structuredClone(result));
  await server.connect(new TabServerTransport({ allowedOrigins: [location.origin], channelId: 'bench' }));
  const client = new Client({ name: 'bench-mcp-b-client', version: '1.0.0' }, { capabilities: {}, jsonSchemaValidator: new CfWorkerJsonSchemaValidator() });
  await client.connect(new TabClientTransport({ targetOrigin: location.origin, channelId: 'bench' }));
  await client.listTools();
  try {
    return await sequential(n, async () => {
      const r = await client.callTool({ name: tool.name, arguments: { text: 'The quick brown fox.' } });
      if (r.isError) throw new Error(`MCP-B tools/call failed: ${JSON.stringify(r)}`);
    });
  } finally {
    await client.close();
    await server.close();
  }
}

/** An Extism plugin call with `runInWorker` (the plugin echoes its input). */
async function extism(n, wasm, text) {
  if (!crossOriginIsolated) return { skipped: 'Extism runInWorker needs a cross-origin isolated page (BENCH_ISOLATED=0)' };
  const plugin = await createPlugin({ wasm: [{ data: new Uint8Array(wasm) }] }, { useWasi: false, runInWorker: true });
  try {
    const samples = await sequential(n, async () => {
      const out = await plugin.call('echo', text);
      if (out?.text() !== text) throw new Error('Extism echo answered something else');
    });
    return { samples };
  } finally {
    await plugin.close();
  }
}

window.peers = { mcpB, extism };
