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
  readonly sessionId: string;
  private readonly agent: string | undefined;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly endpoint: ClientEndpoint,
    options: { sessionId?: string; agent?: string } = {},
  ) {
    this.sessionId = options.sessionId ?? crypto.randomUUID();
    this.agent = options.agent;
  }

  async start(): Promise<void> {
    if (this.unsubscribe) throw new Error('transport already started');
    this.unsubscribe = this.endpoint.subscribe((data) => {
      if (!isEnvelope(data) || data.kind !== 'mcp' || data.session !== this.sessionId) return;
      this.onmessage?.(data.message as JSONRPCMessage);
    });
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (!this.unsubscribe) throw new Error('transport not started');
    const body: Omit<McpEnvelope, 'channel' | 'v'> = { kind: 'mcp', session: this.sessionId, message };
    if (this.agent !== undefined) body.agent = this.agent;
    this.endpoint.post(envelope<McpEnvelope>(body));
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.onclose?.();
  }
}
