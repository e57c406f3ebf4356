/**
 * The agent library. `connect()` resolves to a connected, standard MCP SDK `Client` whose
 * transport is postMessage to the sandbox's service worker:
 *
 *   import { connect } from '/client.js';
 *   const client = await connect({ agent: 'my-agent' });
 *   const { tools } = await client.listTools();
 *   await exposeToWebMCP(client);   // offers them to the browser's agent too (WebMCP)
 *
 * Or bring your own client: `createTransport()` / `createRemoteTransport()` resolve to the
 * transport alone, which the 1.x SDK `Client` and the v2 `@modelcontextprotocol/client`
 * `Client` both take unchanged:
 *
 *   import { Client } from '@modelcontextprotocol/client';
 *   const client = new Client({ name: 'my-page', version: '1.0.0' });
 *   await client.connect(await createTransport({ agent: 'my-agent', token }));
 */
import '../shared/zod-jitless';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CfWorkerJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/cfworker';
import { EnvelopeClientTransport, type ClientEndpoint } from '../transport/client-transport';
import { connectorEndpoint } from '../transport/page/connector-endpoint';
import { serviceWorkerEndpoint } from '../transport/page/sw-endpoint';
import { registerSandbox } from './register';

export { ERROR_META_KEY, type SandboxErrorCode, type SandboxErrorInfo } from '../shared/errors';
export { EnvelopeClientTransport } from '../transport/client-transport';
export { registerSandbox } from './register';
export { clearContextVariable, readConversation, setContextLevel, setContextVariable, type ContextTarget, type ConversationDocument } from './context';
export { exposeToWebMCP, findModelContext, WebMcpUnavailableError, WEBMCP_UNAVAILABLE, type ExposeOptions, type ModelContextLike, type WebMcpExposure, type WebMcpResult, type WebMcpToolDefinition } from './webmcp';

export interface ConnectOptions {
  /** The agent this session speaks for, and its secret token (from the app's Agents view). */
  agent?: string;
  token?: string;
  /** Reuse a session id (e.g. after a reload); a new one is made otherwise. */
  sessionId?: string;
  clientInfo?: { name: string; version: string };
}

/** Connects from a page of the sandbox's own origin, straight to its service worker. */
export async function connect(options: ConnectOptions = {}): Promise<Client> {
  return open(await createTransport(options), options);
}

/**
 * The transport `connect()` uses, for a client of your choice (any MCP client that takes an
 * SDK-shaped `Transport`: the 1.x SDK's or the v2 `@modelcontextprotocol/client` `Client`).
 * Not started: the client starts it when it connects.
 */
export async function createTransport(options: ConnectOptions = {}): Promise<EnvelopeClientTransport> {
  const registration = await registerSandbox();
  return transportOver(serviceWorkerEndpoint(registration), options);
}

export interface RemoteConnectOptions extends ConnectOptions {
  /** URL of the sandbox app (its root), e.g. `https://sandbox.example/`. */
  sandbox: string;
  agent: string;
  token: string;
  /** How long to wait for the connector iframe. */
  timeoutMs?: number;
}

/**
 * Connects from a page on another origin, through the sandbox's connector iframe. The agent
 * must be registered with this page's origin; the browser attests the origin, the token
 * proves the identity.
 */
export async function connectRemote(options: RemoteConnectOptions): Promise<Client> {
  return open(await createRemoteTransport(options), options);
}

/**
 * The transport `connectRemote()` uses (through the connector iframe), for a client of your
 * choice, like `createTransport()`. Closing it removes the iframe.
 */
export async function createRemoteTransport(options: RemoteConnectOptions): Promise<EnvelopeClientTransport> {
  const endpoint = await connectorEndpoint(options.sandbox, options.timeoutMs);
  return transportOver(endpoint, options, () => endpoint.close());
}

function transportOver(endpoint: ClientEndpoint, options: ConnectOptions, release?: () => void): EnvelopeClientTransport {
  const transportOptions: { sessionId?: string; auth?: { agent: string; token: string }; release?: () => void } = {};
  if (options.sessionId) transportOptions.sessionId = options.sessionId;
  if (options.agent && options.token) transportOptions.auth = { agent: options.agent, token: options.token };
  if (release) transportOptions.release = release;
  return new EnvelopeClientTransport(endpoint, transportOptions);
}

async function open(transport: EnvelopeClientTransport, options: ConnectOptions): Promise<Client> {
  const client = new Client(options.clientInfo ?? { name: 'mcp-sandbox-agent', version: '0.1.0' }, { capabilities: {}, jsonSchemaValidator: new CfWorkerJsonSchemaValidator() });
  await client.connect(transport);
  return client;
}
