import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { envelope, isEnvelope, type McpEnvelope } from '../shared/wire';
import { RpcCode } from '../shared/errors';
import { decodeMessage, errorResponse, isRequest, isValidSessionId } from './envelope';
import type { ReplyTarget, ServerSessionTransport } from './server-transport';

/** Who sent a message, as far as the browser attests it. */
export interface Peer {
  origin: string;
  /** `http`: Streamable HTTP at `/mcp`, answered by the service worker (same-origin pages only). */
  via: 'direct' | 'connector' | 'http';
}

export interface OpenSessionRequest {
  sessionId: string;
  peer: Peer;
  auth: { agent: string; token: string } | undefined;
  /** The first message, when it is `initialize`: only that may create a session. */
  initialize: JSONRPCMessage | null;
}

/** Finds (or, for `initialize`, creates) the connected server transport of a session. */
export type SessionOpener = (request: OpenSessionRequest) => Promise<ServerSessionTransport | null>;

/**
 * Routes raw envelopes to sessions. Anything foreign is dropped; anything malformed is answered
 * with a JSON-RPC error on its own session only. Failures never reach another session.
 */
export class SessionRouter {
  constructor(private readonly open: SessionOpener) {}

  /** Settles when the reply to this message (if any) has been sent. */
  async handle(data: unknown, reply: ReplyTarget, peer: Peer): Promise<void> {
    if (!isEnvelope(data) || data.kind !== 'mcp' || !isValidSessionId(data.session)) return;
    const session = data.session;
    const answer = (message: JSONRPCMessage) => reply.post(envelope<McpEnvelope>({ kind: 'mcp', session, message }));

    const decoded = decodeMessage(data.message);
    if (!decoded.ok) {
      answer(errorResponse(decoded.id, decoded.code, decoded.message));
      return;
    }
    const message = decoded.message;
    const initialize = isRequest(message) && message.method === 'initialize' ? message : null;
    let transport: ServerSessionTransport | null;
    try {
      const auth = data.auth && typeof data.auth.agent === 'string' && typeof data.auth.token === 'string' ? { agent: data.auth.agent, token: data.auth.token } : undefined;
      transport = await this.open({ sessionId: session, peer, auth, initialize });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (isRequest(message)) answer(errorResponse(message.id, typeof code === 'number' ? code : RpcCode.InternalError, `session could not be opened: ${(error as Error).message}`));
      return;
    }
    if (!transport) {
      if (isRequest(message)) answer(errorResponse(message.id, RpcCode.UnknownSession, `unknown session ${session}: send initialize first`));
      return;
    }
    await transport.deliver(message, reply);
  }
}
