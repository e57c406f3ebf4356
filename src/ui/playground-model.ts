/**
 * The agent playground's pure part: MCP tools → chat-completions function definitions, the
 * server-sent events of a streamed chat completion → one assistant message, an MCP tool result
 * → the text the model reads, and the conversation loop (a model turn, its tool calls through
 * the sandbox, again, for a bounded number of rounds). No DOM, no globals: `fetch` and the
 * tool call are passed in, so it runs (and is tested) anywhere.
 */

/** What this module needs of an MCP tool (the SDK's `Tool`). */
export interface McpToolLike {
  name: string;
  description?: string;
  inputSchema: { type?: string; properties?: unknown; required?: unknown; [k: string]: unknown };
}

/** A chat-completions `tools` entry. */
export interface FunctionTool {
  type: 'function';
  function: { name: string; description?: string; parameters: Record<string, unknown> };
}

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export type ChatMessage =
  | { role: 'system' | 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: ToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };

/** The function names the API accepts. */
const NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * A valid function name for an MCP tool name: characters outside `[A-Za-z0-9_-]` become `_`,
 * at most 64 characters, and unique among `taken` (a suffix `_2`, `_3`… when it is not).
 */
export function functionName(toolName: string, taken: ReadonlySet<string> = new Set()): string {
  let base = toolName.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64) || 'tool';
  if (!NAME_PATTERN.test(base)) base = 'tool';
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) {
    const suffix = `_${n}`;
    const candidate = base.slice(0, 64 - suffix.length) + suffix;
    if (!taken.has(candidate)) return candidate;
  }
}

/** An input schema as function parameters: always an object schema, without `$schema`. */
export function parametersOf(schema: McpToolLike['inputSchema'] | undefined): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...(schema ?? {}) };
  delete copy['$schema'];
  copy['type'] = 'object';
  if (typeof copy['properties'] !== 'object' || copy['properties'] === null) copy['properties'] = {};
  return copy;
}

export interface ToolMapping {
  tools: FunctionTool[];
  /** Function name → MCP tool name. */
  toMcp: Map<string, string>;
}

/** The tools an agent sees (`tools/list`) as chat-completions function definitions. */
export function toFunctionTools(tools: readonly McpToolLike[]): ToolMapping {
  const toMcp = new Map<string, string>();
  const out: FunctionTool[] = [];
  for (const tool of tools) {
    const name = functionName(tool.name, new Set(toMcp.keys()));
    toMcp.set(name, tool.name);
    out.push({
      type: 'function',
      function: { name, ...(tool.description ? { description: tool.description } : {}), parameters: parametersOf(tool.inputSchema) },
    });
  }
  return { tools: out, toMcp };
}

/**
 * Splits a server-sent event stream into its events' `data` (multi-line data joined with
 * `\n`). Feed it text as it arrives; it keeps a partial event until its blank line comes.
 */
export class SseParser {
  private buffer = '';
  private data: string[] = [];

  push(text: string): string[] {
    this.buffer += text;
    const events: string[] = [];
    let newline: number;
    while ((newline = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buffer.slice(0, newline);
      const width = this.buffer.startsWith('\r\n', newline) ? 2 : 1;
      // A lone \r at the very end may be the first half of \r\n: wait for more.
      if (width === 1 && this.buffer[newline] === '\r' && newline === this.buffer.length - 1) break;
      this.buffer = this.buffer.slice(newline + width);
      if (line === '') {
        if (this.data.length) events.push(this.data.join('\n'));
        this.data = [];
      } else if (line.startsWith('data:')) {
        this.data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
      }
      // Comments (`:`), `event:`, `id:`, `retry:`: nothing the chat needs.
    }
    return events;
  }

  /** What is left when the stream ends (an event without its final blank line). */
  end(): string[] {
    const rest = this.push('\n\n');
    this.buffer = '';
    return rest;
  }
}

/** One `chat.completion.chunk` as far as this module reads it. */
export interface ChatChunk {
  choices?: {
    index?: number;
    delta?: {
      content?: string | null;
      tool_calls?: { index?: number; id?: string; type?: string; function?: { name?: string; arguments?: string } }[];
    };
    finish_reason?: string | null;
  }[];
  error?: { message?: string };
}

/** Assembles the deltas of one streamed completion (first choice) into the assistant message. */
export class DeltaAssembler {
  content = '';
  finishReason: string | null = null;
  private readonly calls: { id: string; name: string; arguments: string }[] = [];

  /** Applies a chunk; returns the text it added (for the chat to show as it comes). */
  apply(chunk: ChatChunk): string {
    if (chunk.error) throw new Error(`the model endpoint sent an error: ${chunk.error.message ?? JSON.stringify(chunk.error)}`);
    const choice = chunk.choices?.find((c) => (c.index ?? 0) === 0);
    if (!choice) return '';
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
    const delta = choice.delta ?? {};
    for (const part of delta.tool_calls ?? []) {
      const index = part.index ?? this.calls.length;
      const call = (this.calls[index] ??= { id: '', name: '', arguments: '' });
      if (part.id) call.id = part.id;
      if (part.function?.name) call.name += part.function.name;
      if (part.function?.arguments) call.arguments += part.function.arguments;
    }
    const text = typeof delta.content === 'string' ? delta.content : '';
    this.content += text;
    return text;
  }

  get toolCalls(): ToolCall[] {
    return this.calls
      .filter((c) => c !== undefined && c.name !== '')
      .map((c, i) => ({ id: c.id || `call_${i}`, type: 'function' as const, function: { name: c.name, arguments: c.arguments } }));
  }

  message(): Extract<ChatMessage, { role: 'assistant' }> {
    const calls = this.toolCalls;
    return { role: 'assistant', content: this.content === '' && calls.length ? null : this.content, ...(calls.length ? { tool_calls: calls } : {}) };
  }
}

/** The chat-completions URL for a base URL (`…/v1` or the full `…/chat/completions`). */
export function completionsUrl(base: string): string {
  const trimmed = base.trim().replace(/\/+$/, '');
  return /\/chat\/completions$/.test(trimmed) ? trimmed : `${trimmed}/chat/completions`;
}

/** Tool-call arguments as an object: empty means `{}`; anything else must be a JSON object. */
export function parseArguments(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('the arguments are not a JSON object');
  return parsed as Record<string, unknown>;
}

/** What this module reads of an MCP `CallToolResult`. */
export interface McpResultLike {
  content?: unknown;
  isError?: boolean;
  _meta?: Record<string, unknown>;
}

/** The sandbox's error info, when a failed result carries it. */
export interface SandboxError {
  code?: string;
  message?: string;
  details?: Record<string, unknown>;
}

export const ERROR_META = 'mcp-sandbox/error';

/** The text content of a result, joined; other content named by its type. */
export function resultText(result: McpResultLike): string {
  const content = Array.isArray(result.content) ? (result.content as { type?: string; text?: string; mimeType?: string }[]) : [];
  return content.map((c) => (c.type === 'text' && typeof c.text === 'string' ? c.text : `[${c.type ?? 'content'}${c.mimeType ? ` ${c.mimeType}` : ''}]`)).join('\n');
}

/**
 * The tool message content the model reads for an MCP result. A failure (a policy denial, a
 * timeout…) goes back as such, with the sandbox's code, rule and retry hint, so the model can
 * adapt rather than stop.
 */
export function toolMessageContent(result: McpResultLike): string {
  const text = resultText(result);
  if (!result.isError) return text;
  const info = result._meta?.[ERROR_META] as SandboxError | undefined;
  return JSON.stringify({ error: { ...(info?.code ? { code: info.code } : {}), message: info?.message ?? text ?? 'the call failed', ...(info?.details ? { details: info.details } : {}) } });
}

export interface ChatRequest {
  url: string;
  model: string;
  apiKey?: string;
  messages: ChatMessage[];
  tools: FunctionTool[];
  signal?: AbortSignal;
  /** Each piece of text as it streams in. */
  onText?: (text: string) => void;
}

type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body: string; signal?: AbortSignal }) => Promise<Response>;

/**
 * One streamed chat completion (`stream: true`): reads the server-sent events, assembles the
 * deltas, and returns the assistant message. A server that answers with plain JSON (no
 * stream) is read too.
 */
export async function streamCompletion(fetchFn: FetchLike, request: ChatRequest): Promise<Extract<ChatMessage, { role: 'assistant' }>> {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'text/event-stream' };
  if (request.apiKey) headers['Authorization'] = `Bearer ${request.apiKey}`;
  const body = { model: request.model, messages: request.messages, stream: true, ...(request.tools.length ? { tools: request.tools } : {}) };
  const response = await fetchFn(request.url, { method: 'POST', headers, body: JSON.stringify(body), ...(request.signal ? { signal: request.signal } : {}) });
  if (!response.ok) {
    const text = await response.text().catch(() => '');
    throw new Error(`the model endpoint answered ${response.status}${text ? `: ${text.slice(0, 300)}` : ''}`);
  }
  const assembler = new DeltaAssembler();
  if (!(response.headers.get('content-type') ?? '').includes('text/event-stream') || !response.body) {
    const json = (await response.json()) as { choices?: { message?: { content?: string | null; tool_calls?: ToolCall[] } }[] };
    const message = json.choices?.[0]?.message ?? {};
    if (message.content) request.onText?.(message.content);
    return { role: 'assistant', content: message.content ?? null, ...(message.tool_calls?.length ? { tool_calls: message.tool_calls } : {}) };
  }
  const parser = new SseParser();
  const decoder = new TextDecoder();
  const reader = response.body.getReader();
  let done = false;
  const take = (events: string[]) => {
    for (const data of events) {
      if (data.trim() === '[DONE]') {
        done = true;
        return;
      }
      const text = assembler.apply(JSON.parse(data) as ChatChunk);
      if (text) request.onText?.(text);
    }
  };
  while (!done) {
    const { value, done: ended } = await reader.read();
    if (ended) {
      take(parser.push(decoder.decode()).concat(parser.end()));
      break;
    }
    take(parser.push(decoder.decode(value, { stream: true })));
  }
  if (done) await reader.cancel().catch(() => undefined);
  return assembler.message();
}

/** What the conversation reports as it goes (the chat renders these). */
export type ChatEvent =
  | { kind: 'text'; text: string }
  | { kind: 'assistant'; message: Extract<ChatMessage, { role: 'assistant' }> }
  | { kind: 'tool-call'; id: string; tool: string; args: Record<string, unknown> | null }
  | { kind: 'tool-result'; id: string; tool: string; result: McpResultLike; content: string }
  | { kind: 'rounds-exhausted'; rounds: number };

export interface ConversationDeps {
  /** One model turn (a streamed completion) for these messages. */
  complete(messages: ChatMessage[], onText: (text: string) => void): Promise<Extract<ChatMessage, { role: 'assistant' }>>;
  /** Calls an MCP tool as the agent (through the sandbox). */
  callTool(name: string, args: Record<string, unknown>): Promise<McpResultLike>;
  toMcp: ReadonlyMap<string, string>;
  maxRounds: number;
  onEvent(event: ChatEvent): void;
  /** Stops the loop between steps (the Stop button also aborts what is in flight). */
  signal?: AbortSignal;
}

/**
 * Runs the model on `messages` (which it extends in place) until it answers without tool
 * calls, or `maxRounds` rounds of tool calls have run. Every call goes through `callTool`; a
 * failed call is returned to the model as its result.
 */
export async function runConversation(messages: ChatMessage[], deps: ConversationDeps): Promise<void> {
  for (let round = 0; ; round++) {
    deps.signal?.throwIfAborted();
    const message = await deps.complete(messages, (text) => deps.onEvent({ kind: 'text', text }));
    messages.push(message);
    deps.onEvent({ kind: 'assistant', message });
    const calls = message.tool_calls ?? [];
    if (calls.length === 0) return;
    if (round >= deps.maxRounds) {
      // The API wants an answer to every call: say why none ran.
      for (const call of calls) messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify({ error: { code: 'rounds-exhausted', message: `at most ${deps.maxRounds} rounds of tool calls per message` } }) });
      deps.onEvent({ kind: 'rounds-exhausted', rounds: deps.maxRounds });
      return;
    }
    for (const call of calls) {
      deps.signal?.throwIfAborted();
      const tool = deps.toMcp.get(call.function.name);
      let args: Record<string, unknown> | null = null;
      let result: McpResultLike;
      try {
        args = parseArguments(call.function.arguments);
      } catch (error) {
        result = { isError: true, content: [{ type: 'text', text: `invalid arguments: ${(error as Error).message}` }] };
      }
      deps.onEvent({ kind: 'tool-call', id: call.id, tool: tool ?? call.function.name, args });
      if (args && tool) {
        try {
          result = await deps.callTool(tool, args);
        } catch (error) {
          deps.signal?.throwIfAborted();
          // A JSON-RPC error (unknown tool, invalid params…): the model reads it too.
          result = { isError: true, content: [{ type: 'text', text: (error as Error).message ?? String(error) }] };
        }
      } else if (args) {
        result = { isError: true, content: [{ type: 'text', text: `no tool named ${call.function.name} is available to this agent` }] };
      }
      const content = toolMessageContent(result!);
      messages.push({ role: 'tool', tool_call_id: call.id, content });
      deps.onEvent({ kind: 'tool-result', id: call.id, tool: tool ?? call.function.name, result: result!, content });
    }
  }
}
