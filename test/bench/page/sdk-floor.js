// Floor (a): the MCP SDK alone. An SDK `Client` and an SDK `Server` in the same page, joined by
// a MessageChannel (structured clone, one task per hop, as postMessage costs), with the
// project's validator (CfWorker) and a tool that answers at once: no service worker,
// no session store, no policy, no audit, no sandbox. Same SDK version as the product.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { CfWorkerJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/cfworker';

/** The SDK `Transport` over one end of a MessageChannel. */
export class PortTransport {
  constructor(port) {
    this.port = port;
    this.onmessage = undefined;
    this.onclose = undefined;
    this.onerror = undefined;
  }
  async start() {
    this.port.onmessage = (event) => this.onmessage?.(event.data);
  }
  async send(message) {
    this.port.postMessage(message);
  }
  async close() {
    this.port.close();
    this.onclose?.();
  }
}

/**
 * Connects a Client to a Server serving `tool` (the real tool's listing, so the Client knows
 * what it knows on the real path) that answers every call with `result` (a real answer of the
 * real tool, so the same bytes travel), and returns the Client.
 */
export async function connectSdkPair(tool, result) {
  const server = new Server({ name: 'bench-floor', version: '1.0.0' }, { capabilities: { tools: {} }, jsonSchemaValidator: new CfWorkerJsonSchemaValidator() });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [tool] }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    if (request.params.name !== tool.name) throw new Error(`unknown tool ${request.params.name}`);
    return structuredClone(result);
  });
  const channel = new MessageChannel();
  await server.connect(new PortTransport(channel.port2));
  const client = new Client({ name: 'bench-floor-client', version: '1.0.0' }, { capabilities: {}, jsonSchemaValidator: new CfWorkerJsonSchemaValidator() });
  await client.connect(new PortTransport(channel.port1));
  await client.listTools();
  return { client, close: () => Promise.all([client.close(), server.close()]) };
}
