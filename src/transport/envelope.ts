import { JSONRPCMessageSchema, type JSONRPCMessage, type RequestId } from '@modelcontextprotocol/sdk/types.js';
import { RpcCode } from '../shared/errors';
import { MAX_MESSAGE_BYTES } from '../shared/wire';
import { describeBound, measureJson, type JsonBounds } from '../shared/json-bounds';

/**
 * What any message may be. Only size is bounded here (nesting is judged per field, e.g. a
 * call's arguments, so that the agent gets the typed error of that field); the node bound also
 * ends the walk of a cyclic structured-clone value.
 */
const MESSAGE_BOUNDS: JsonBounds = { maxDepth: 1_000_000, maxNodes: 1_000_000, maxChars: MAX_MESSAGE_BYTES };

/** Session ids are chosen by clients: keep them short and printable so they are safe keys. */
const SESSION_ID = /^[A-Za-z0-9_-]{8,128}$/;

export function isValidSessionId(value: unknown): value is string {
  return typeof value === 'string' && SESSION_ID.test(value);
}

export type Decoded =
  | { ok: true; message: JSONRPCMessage }
  | { ok: false; id: RequestId | null; code: RpcCode; message: string };

/**
 * Turns whatever arrived in an envelope's `message` into a JSON-RPC message, or into the error
 * the sender should get. Accepts an object (structured clone) or its JSON text.
 */
export function decodeMessage(raw: unknown): Decoded {
  let value = raw;
  if (typeof raw === 'string') {
    if (raw.length > MAX_MESSAGE_BYTES) return { ok: false, id: null, code: RpcCode.MessageTooLarge, message: `message exceeds ${MAX_MESSAGE_BYTES} bytes` };
    try {
      value = JSON.parse(raw);
    } catch (error) {
      return { ok: false, id: null, code: RpcCode.ParseError, message: `parse error: ${(error as Error).message}` };
    }
  } else {
    // Measured without recursion: JSON.stringify of a deeply nested value would overflow the stack.
    const measured = measureJson(raw, MESSAGE_BOUNDS);
    if (!measured.ok) {
      const code = measured.exceeded.bound === 'maxChars' ? RpcCode.MessageTooLarge : RpcCode.InvalidRequest;
      return { ok: false, id: idOf(raw), code, message: code === RpcCode.MessageTooLarge ? `message exceeds ${MAX_MESSAGE_BYTES} bytes` : `message ${describeBound(measured.exceeded)}` };
    }
  }
  const parsed = JSONRPCMessageSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, id: idOf(value), code: RpcCode.InvalidRequest, message: `invalid JSON-RPC message${issue ? `: ${issue.message}` : ''}` };
  }
  return { ok: true, message: parsed.data };
}

function idOf(value: unknown): RequestId | null {
  const id = (value as { id?: unknown } | null)?.id;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}

export function errorResponse(id: RequestId | null, code: number, message: string, data?: unknown): JSONRPCMessage {
  // JSON-RPC allows a null id for errors about unreadable requests; the SDK's type does not.
  return { jsonrpc: '2.0', id: id as RequestId, error: data === undefined ? { code, message } : { code, message, data } } as JSONRPCMessage;
}

export function isRequest(message: JSONRPCMessage): message is JSONRPCMessage & { id: RequestId; method: string } {
  return 'method' in message && 'id' in message;
}

export function isResponse(message: JSONRPCMessage): message is JSONRPCMessage & { id: RequestId } {
  return !('method' in message) && 'id' in message;
}
