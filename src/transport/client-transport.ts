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
 *
 * It is the SDK's `Transport` shape, which both client generations take unchanged: the 1.x
 * `@modelcontextprotocol/sdk` `Client` and the v2 `@modelcontextprotocol/client` `Client`
 * (whose `send` adds an options argument, ignored here, and whose optional `hasPerRequestStream`
 * is left unset: one channel, so a cancelled request is cancelled by `notifications/cancelled`).
 * Either speaks the 2025-11-25 revision over it, with a session (the v2 `Client`'s default
 * `versionNegotiation`, `legacy`).
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
  private readonly release: (() => void) | undefined;
  private unsubscribe: (() => void) | null = null;

  /** `release`: called once on `close()`, to let go of an endpoint this transport owns (a connector iframe). */
  constructor(
    private readonly endpoint: ClientEndpoint,
    options: { sessionId?: string; auth?: { agent: string; token: string }; release?: () => void } = {},
  ) {
    this.session = options.sessionId ?? crypto.randomUUID();
    this.sessionId = options.sessionId;
    this.auth = options.auth;
    this.release = options.release;
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
    const wasOpen = this.unsubscribe !== null;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (wasOpen) this.release?.();
    this.onclose?.();
  }
}
