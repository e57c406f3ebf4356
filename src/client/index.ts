/**
 * The agent library. `connect()` resolves to a connected, standard MCP SDK `Client` whose
 * transport is postMessage to the sandbox's service worker:
 *
 *   import { connect } from '/client.js';
 *   const client = await connect({ agent: 'my-agent' });
 *   const { tools } = await client.listTools();
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CfWorkerJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/cfworker';
import { EnvelopeClientTransport } from '../transport/client-transport';
import { serviceWorkerEndpoint } from '../transport/page/sw-endpoint';
import { registerSandbox } from './register';

export { ERROR_META_KEY, type SandboxErrorCode, type SandboxErrorInfo } from '../shared/errors';
export { EnvelopeClientTransport } from '../transport/client-transport';
export { registerSandbox } from './register';

export interface ConnectOptions {
  /** The agent this session speaks for. */
  agent?: string;
  /** Reuse a session id (e.g. after a reload); a new one is made otherwise. */
  sessionId?: string;
  clientInfo?: { name: string; version: string };
}

export async function connect(options: ConnectOptions = {}): Promise<Client> {
  const registration = await registerSandbox();
  const transportOptions: { sessionId?: string; agent?: string } = {};
  if (options.sessionId) transportOptions.sessionId = options.sessionId;
  if (options.agent) transportOptions.agent = options.agent;
  const transport = new EnvelopeClientTransport(serviceWorkerEndpoint(registration), transportOptions);
  const client = new Client(options.clientInfo ?? { name: 'mcp-sandbox-agent', version: '0.1.0' }, { capabilities: {}, jsonSchemaValidator: new CfWorkerJsonSchemaValidator() });
  await client.connect(transport);
  return client;
}
