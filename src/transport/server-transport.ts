import type { Transport, TransportSendOptions } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';
import { envelope, type McpEnvelope } from '../shared/wire';
import { errorResponse, isRequest, isResponse } from './envelope';
import { RpcCode } from '../shared/errors';

/** Where replies to one incoming message go (a window client, a port, an in-memory peer). */
export interface ReplyTarget {
  post(message: McpEnvelope): void;
}

interface Waiting {
  reply: ReplyTarget;
  done: () => void;
}

/**
 * The server end of one session. Each incoming message is `deliver`ed with the place its reply
 * must go; the returned promise settles once that reply has been sent, so a service worker can
 * hold its `message` event open (`waitUntil`) for exactly the life of the request.
 */
export class ServerSessionTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  private readonly waiting = new Map<RequestId, Waiting>();
  private lastReply: ReplyTarget | null = null;

  constructor(readonly sessionId: string) {}

  async start(): Promise<void> {}

  deliver(message: JSONRPCMessage, reply: ReplyTarget): Promise<void> {
    this.lastReply = reply;
    if (!isRequest(message)) {
      this.onmessage?.(message);
      // A cancelled request gets no response (MCP): stop holding its event open.
      const cancelled = 'method' in message && message.method === 'notifications/cancelled' ? (message.params as { requestId?: RequestId } | undefined)?.requestId : undefined;
      const waiting = cancelled === undefined ? undefined : this.waiting.get(cancelled);
      if (waiting) {
        this.waiting.delete(cancelled!);
        waiting.done();
      }
      return Promise.resolve();
    }
    if (this.waiting.has(message.id)) {
      reply.post(this.frame(errorResponse(message.id, RpcCode.InvalidRequest, `request id ${JSON.stringify(message.id)} is already in flight`)));
      return Promise.resolve();
    }
    const settled = new Promise<void>((done) => this.waiting.set(message.id, { reply, done }));
    this.onmessage?.(message);
    return settled;
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const key = isResponse(message) ? message.id : options?.relatedRequestId;
    const waiting = key === undefined ? undefined : this.waiting.get(key);
    const target = waiting?.reply ?? this.lastReply;
    target?.post(this.frame(message));
    if (isResponse(message) && waiting) {
      this.waiting.delete(message.id);
      waiting.done();
    }
  }

  async close(): Promise<void> {
    for (const w of this.waiting.values()) w.done();
    this.waiting.clear();
    this.onclose?.();
  }

  private frame(message: JSONRPCMessage): McpEnvelope {
    // The SDK's McpError puts "MCP error <code>: " in front of its message, and a client's
    // McpError adds it again: the wire carries the message alone (the code is beside it).
    const error = (message as { error?: { code?: unknown; message?: unknown } }).error;
    if (error && typeof error.message === 'string') {
      const prefix = `MCP error ${String(error.code)}: `;
      if (error.message.startsWith(prefix)) message = { ...message, error: { ...error, message: error.message.slice(prefix.length) } } as JSONRPCMessage;
    }
    return envelope<McpEnvelope>({ kind: 'mcp', session: this.sessionId, message });
  }
}
