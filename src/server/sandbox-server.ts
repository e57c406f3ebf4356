import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';

type Handler = (request: unknown, extra: unknown) => Promise<unknown>;
interface ParsingSchema {
  safeParse(value: unknown): { success: boolean; error?: { issues?: { path?: PropertyKey[]; message?: string }[] } };
}

/**
 * The SDK `Server`, answering a request whose params do not match its method's schema with
 * `-32602 Invalid params` naming the field, as JSON-RPC asks, where the SDK answers `-32603`
 * with a zod dump. The schema is checked again only when the SDK's own parse failed, so a
 * well-formed request costs nothing more.
 */
export class SandboxServer extends Server {
  override setRequestHandler(...args: Parameters<Server['setRequestHandler']>): void {
    const [schema] = args;
    super.setRequestHandler(...args);
    const handlers = (this as unknown as { _requestHandlers: Map<string, Handler> })._requestHandlers;
    const method = (schema as unknown as { shape: { method: { value: string } } }).shape.method.value;
    const inner = handlers.get(method);
    if (!inner) return;
    handlers.set(method, async (request, extra) => {
      try {
        return await inner(request, extra);
      } catch (error) {
        const check = (schema as unknown as ParsingSchema).safeParse(request);
        if (check.success) throw unprefixed(error);
        const issue = check.error?.issues?.[0];
        const where = issue?.path?.length ? issue.path.map(String).join('.') : 'params';
        throw unprefixed(new McpError(ErrorCode.InvalidParams, `invalid params for ${method}: ${where}: ${issue?.message ?? 'does not match the method\'s schema'}`));
      }
    });
  }
}

/**
 * An McpError's message starts "MCP error <code>: ", which the client's McpError adds again:
 * the error goes out with its message alone, whatever the transport (HTTP included).
 */
function unprefixed(error: unknown): unknown {
  if (!(error instanceof McpError)) return error;
  return Object.assign(new Error(error.message.replace(/^MCP error -?\d+: /, '')), { code: error.code, data: error.data });
}
