import { describe, expect, it } from 'vitest';
import {
  DeltaAssembler,
  SseParser,
  completionsUrl,
  functionName,
  parseArguments,
  runConversation,
  streamCompletion,
  toFunctionTools,
  toolMessageContent,
  type ChatEvent,
  type ChatMessage,
} from '../../src/ui/playground-model';

describe('MCP tools → chat-completions function definitions', () => {
  it('keeps names valid for the API and unique, and maps them back', () => {
    expect(functionName('text_stats')).toBe('text_stats');
    expect(functionName('files.read/v2')).toBe('files_read_v2');
    expect(functionName('x'.repeat(80))).toHaveLength(64);
    expect(functionName('')).toBe('tool');
    const { tools, toMcp } = toFunctionTools([
      { name: 'a.b', description: 'first', inputSchema: { type: 'object', properties: { s: { type: 'string' } }, required: ['s'] } },
      { name: 'a/b', inputSchema: { type: 'object' } },
      { name: 'a_b', inputSchema: { type: 'object', $schema: 'http://json-schema.org/draft-07/schema#' } },
    ]);
    expect(tools.map((t) => t.function.name)).toEqual(['a_b', 'a_b_2', 'a_b_3']);
    expect([...toMcp.entries()]).toEqual([
      ['a_b', 'a.b'],
      ['a_b_2', 'a/b'],
      ['a_b_3', 'a_b'],
    ]);
    expect(tools[0]).toEqual({
      type: 'function',
      function: { name: 'a_b', description: 'first', parameters: { type: 'object', properties: { s: { type: 'string' } }, required: ['s'] } },
    });
    // No description key when the tool has none; always an object schema with properties; no $schema.
    expect(tools[1]!.function).toEqual({ name: 'a_b_2', parameters: { type: 'object', properties: {} } });
    expect(tools[2]!.function.parameters).toEqual({ type: 'object', properties: {} });
    for (const t of tools) expect(t.function.name).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
  });

  it('builds the completions URL from a base URL', () => {
    expect(completionsUrl('http://127.0.0.1:11434/v1')).toBe('http://127.0.0.1:11434/v1/chat/completions');
    expect(completionsUrl('http://127.0.0.1:11434/v1/ ')).toBe('http://127.0.0.1:11434/v1/chat/completions');
    expect(completionsUrl('http://h/v1/chat/completions')).toBe('http://h/v1/chat/completions');
  });
});

describe('server-sent events → one assistant message', () => {
  it('splits events however the bytes are cut, ignoring comments and other fields', () => {
    const stream = ': keep-alive\r\nevent: x\r\ndata: {"a":1}\r\n\r\ndata: line1\ndata: line2\n\ndata:[DONE]\n\n';
    for (const size of [1, 2, 3, 7, stream.length]) {
      const parser = new SseParser();
      const events: string[] = [];
      for (let i = 0; i < stream.length; i += size) events.push(...parser.push(stream.slice(i, i + size)));
      events.push(...parser.end());
      expect(events).toEqual(['{"a":1}', 'line1\nline2', '[DONE]']);
    }
    const parser = new SseParser();
    expect(parser.push('data: tail')).toEqual([]);
    expect(parser.end()).toEqual(['tail']);
  });

  it('assembles content and tool-call deltas by index', () => {
    const a = new DeltaAssembler();
    expect(a.apply({ choices: [{ index: 0, delta: { content: 'Let me ' } }] })).toBe('Let me ');
    a.apply({ choices: [{ index: 0, delta: { content: 'check.' } }] });
    a.apply({ choices: [{ delta: { tool_calls: [{ index: 0, id: 'c1', type: 'function', function: { name: 'text_', arguments: '' } }] } }] });
    a.apply({ choices: [{ delta: { tool_calls: [{ index: 0, function: { name: 'stats', arguments: '{"te' } }] } }] });
    a.apply({ choices: [{ delta: { tool_calls: [{ index: 1, id: 'c2', function: { name: 'json_query', arguments: '{}' } }] } }] });
    a.apply({ choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: 'xt":"hi"}' } }] } }] });
    a.apply({ choices: [{ delta: {}, finish_reason: 'tool_calls' }] });
    expect(a.finishReason).toBe('tool_calls');
    expect(a.message()).toEqual({
      role: 'assistant',
      content: 'Let me check.',
      tool_calls: [
        { id: 'c1', type: 'function', function: { name: 'text_stats', arguments: '{"text":"hi"}' } },
        { id: 'c2', type: 'function', function: { name: 'json_query', arguments: '{}' } },
      ],
    });
    const empty = new DeltaAssembler();
    empty.apply({ choices: [{ delta: { tool_calls: [{ index: 0, id: 'x', function: { name: 'f', arguments: '' } }] } }] });
    expect(empty.message().content).toBeNull();
    expect(() => new DeltaAssembler().apply({ error: { message: 'overloaded' } })).toThrow(/overloaded/);
  });

  it('streams a completion from a fetch response, sending the tools and the key', async () => {
    const chunks = [
      'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}\n\n',
      'data: {"choices":[{"index":0,"delta":{"content":"lo"}}]}\n\ndata: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n',
      'data: [DONE]\n\n',
    ];
    let sent: { url: string; headers: Record<string, string>; body: Record<string, unknown> } | null = null;
    const texts: string[] = [];
    const message = await streamCompletion(
      async (url, init) => {
        sent = { url, headers: init.headers, body: JSON.parse(init.body) as Record<string, unknown> };
        const body = new ReadableStream<Uint8Array>({
          start(c) {
            for (const chunk of chunks) c.enqueue(new TextEncoder().encode(chunk));
            c.close();
          },
        });
        return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
      },
      { url: 'http://m/v1/chat/completions', model: 'm1', apiKey: 'k', messages: [{ role: 'user', content: 'hi' }], tools: toFunctionTools([{ name: 't', inputSchema: {} }]).tools, onText: (t) => texts.push(t) },
    );
    expect(message).toEqual({ role: 'assistant', content: 'Hello' });
    expect(texts).toEqual(['Hel', 'lo']);
    expect(sent!.headers['Authorization']).toBe('Bearer k');
    expect(sent!.body).toMatchObject({ model: 'm1', stream: true, tools: [{ type: 'function', function: { name: 't' } }] });
  });

  it('reports an endpoint error with its status', async () => {
    await expect(streamCompletion(async () => new Response('no such model', { status: 404 }), { url: 'u', model: 'x', messages: [], tools: [] })).rejects.toThrow(/404: no such model/);
  });
});

describe('results and the conversation loop', () => {
  it('returns a denial to the model with its code, rule and retry hint', () => {
    expect(toolMessageContent({ content: [{ type: 'text', text: '{"words":2}' }] })).toBe('{"words":2}');
    const denied = toolMessageContent({
      isError: true,
      content: [{ type: 'text', text: 'denied' }],
      _meta: { 'mcp-sandbox/error': { code: 'policy-denied', message: 'not allowed', details: { rule: 'network.domain-blocked' } } },
    });
    expect(JSON.parse(denied)).toEqual({ error: { code: 'policy-denied', message: 'not allowed', details: { rule: 'network.domain-blocked' } } });
    expect(parseArguments('')).toEqual({});
    expect(() => parseArguments('[1]')).toThrow(/JSON object/);
  });

  it('calls tools until the model answers, feeding results (and failures) back, within the round limit', async () => {
    const turns: ChatMessage[] = [
      { role: 'assistant', content: null, tool_calls: [{ id: 'a', type: 'function', function: { name: 'fetch_url', arguments: '{"url":"x"}' } }] },
      { role: 'assistant', content: null, tool_calls: [{ id: 'b', type: 'function', function: { name: 'nope', arguments: '{}' } }, { id: 'c', type: 'function', function: { name: 'text_stats', arguments: 'not json' } }] },
      { role: 'assistant', content: 'done' },
    ];
    const seen: ChatMessage[][] = [];
    const events: ChatEvent[] = [];
    const calls: string[] = [];
    const messages: ChatMessage[] = [{ role: 'user', content: 'go' }];
    await runConversation(messages, {
      toMcp: new Map([
        ['fetch_url', 'fetch_url'],
        ['text_stats', 'text_stats'],
      ]),
      maxRounds: 5,
      complete: async (m) => {
        seen.push([...m]);
        return turns.shift() as Extract<ChatMessage, { role: 'assistant' }>;
      },
      callTool: async (name) => {
        calls.push(name);
        return { isError: true, content: [{ type: 'text', text: 'no' }], _meta: { 'mcp-sandbox/error': { code: 'policy-denied' } } };
      },
      onEvent: (e) => events.push(e),
    });
    expect(calls).toEqual(['fetch_url']);
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant', 'tool', 'tool', 'assistant']);
    expect(JSON.parse((messages[2] as { content: string }).content).error.code).toBe('policy-denied');
    expect((messages[4] as { content: string }).content).toMatch(/no tool named nope/);
    expect((messages[5] as { content: string }).content).toMatch(/invalid arguments/);
    expect(seen[1]!.at(-1)).toMatchObject({ role: 'tool', tool_call_id: 'a' });
    expect(events.filter((e) => e.kind === 'tool-result')).toHaveLength(3);

    // The limit: one round, then every pending call is answered with why it did not run.
    const looping: ChatMessage = { role: 'assistant', content: null, tool_calls: [{ id: 'x', type: 'function', function: { name: 'text_stats', arguments: '{}' } }] };
    const m2: ChatMessage[] = [{ role: 'user', content: 'go' }];
    const e2: ChatEvent[] = [];
    let n = 0;
    await runConversation(m2, {
      toMcp: new Map([['text_stats', 'text_stats']]),
      maxRounds: 1,
      complete: async () => looping as Extract<ChatMessage, { role: 'assistant' }>,
      callTool: async () => (n++, { content: [{ type: 'text', text: 'ok' }] }),
      onEvent: (e) => e2.push(e),
    });
    expect(n).toBe(1);
    expect(e2.at(-1)).toEqual({ kind: 'rounds-exhausted', rounds: 1 });
    expect(JSON.parse((m2.at(-1) as { content: string }).content).error.code).toBe('rounds-exhausted');
  });
});
