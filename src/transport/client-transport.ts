import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { envelope, isEnvelope, type McpEnvelope } from '../shared/wire';

/** The smallest thing an agent-side transport needs: post an envelope, hear envelopes. */
export interface ClientEndpoint {
  post(message: McpEnvelope): void;
  /** Returns an unsubscribe function. */
  subscribe(listener: (data: unknown) => void): () => void;
}

/**
 * The agent end of the MCP transport: frames each JSON-RPC message in an envelope carrying the
 * session id and hands it to an endpoint (the service worker, a connector iframe, or an
 * in-memory twin). Replies for other sessions and foreign traffic are ignored.
 */
export class EnvelopeClientTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  /**
   * Set once the server has answered on this session. The SDK Client skips `initialize` when a
   * transport already has a session id, so it is set up front only when resuming a session.
   */
  sessionId: string | undefined;
  /** The id every envelope carries, chosen here (or resumed) before the server knows it. */
  readonly session: string;
  private readonly auth: { agent: string; token: string } | undefined;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly endpoint: ClientEndpoint,
    options: { sessionId?: string; auth?: { agent: string; token: string } } = {},
  ) {
    this.session = options.sessionId ?? crypto.randomUUID();
    this.sessionId = options.sessionId;
    this.auth = options.auth;
  }

  async start(): Promise<void> {
    if (this.unsubscribe) throw new Error('transport already started');
    this.unsubscribe = this.endpoint.subscribe((data) => {
      if (!isEnvelope(data) || data.kind !== 'mcp' || data.session !== this.session) return;
      this.sessionId ??= this.session;
      this.onmessage?.(data.message as JSONRPCMessage);
    });
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (!this.unsubscribe) throw new Error('transport not started');
    const body: Omit<McpEnvelope, 'channel' | 'v'> = { kind: 'mcp', session: this.session, message };
    // Credentials travel with `initialize` only; afterwards the session id stands for them.
    if (this.auth && 'method' in message && message.method === 'initialize') body.auth = this.auth;
    this.endpoint.post(envelope<McpEnvelope>(body));
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.onclose?.();
  }
}
