import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { admin, launchBrowser, openApp, openPage } from './harness';

// The demo agent page's playground: a person connects an OpenAI-compatible chat-completions
// endpoint (here a scripted one on loopback, streaming server-sent events) and chats; the
// model's tool calls run in the sandbox as demo-trusted, are audited, denials go back to the
// model, and Stop cancels the call in flight.

interface Msg {
  role: string;
  content?: string | null;
  tool_call_id?: string;
  tool_calls?: { id: string; function: { name: string; arguments: string } }[];
}
interface Body {
  model: string;
  stream: boolean;
  messages: Msg[];
  tools?: { type: string; function: { name: string; parameters: Record<string, unknown> } }[];
}

/** Every request the scripted model got (the body it was sent, and its Authorization header). */
const requests: { body: Body; auth: string | undefined }[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Streams chat.completion.chunk events, a few at a time. */
async function stream(res: ServerResponse, deltas: Record<string, unknown>[], finish: string): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', 'Access-Control-Allow-Origin': '*' });
  const chunk = (delta: Record<string, unknown>, finish_reason: string | null = null) =>
    `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', model: 'scripted', choices: [{ index: 0, delta, finish_reason }] })}\n\n`;
  res.write(': scripted model\n\n');
  for (const delta of deltas) {
    res.write(chunk(delta));
    await sleep(30);
  }
  res.write(chunk({}, finish));
  res.end('data: [DONE]\n\n');
}

/** A tool call, its name and arguments cut across several deltas as real servers do. */
function toolCall(id: string, name: string, args: Record<string, unknown>): Record<string, unknown>[] {
  const json = JSON.stringify(args);
  const cut = Math.floor(json.length / 2);
  return [
    { role: 'assistant', tool_calls: [{ index: 0, id, type: 'function', function: { name: name.slice(0, 3), arguments: '' } }] },
    { tool_calls: [{ index: 0, function: { name: name.slice(3), arguments: json.slice(0, cut) } }] },
    { tool_calls: [{ index: 0, function: { arguments: json.slice(cut) } }] },
  ];
}

function words(text: string): Record<string, unknown>[] {
  return text.split(/(?<= )/).map((w, i) => (i === 0 ? { role: 'assistant', content: w } : { content: w }));
}

/** The script: what the model "decides" from the conversation so far. */
async function answer(body: Body, res: ServerResponse): Promise<void> {
  const lastUser = body.messages.map((m) => m.role).lastIndexOf('user');
  const ask = body.messages[lastUser]?.content ?? '';
  const results = body.messages.slice(lastUser + 1).filter((m) => m.role === 'tool');
  if (ask.includes('count the words')) {
    if (results.length === 0) return stream(res, toolCall('call_1', 'text_stats', { text: 'The quick brown fox jumps over the lazy dog.' }), 'tool_calls');
    return stream(res, words(`The sandbox says: ${results[0]!.content ?? ''}`), 'stop');
  }
  if (ask.includes('fetch the page')) {
    if (results.length === 0) return stream(res, toolCall('call_d', 'fetch_url', { url: 'https://malware.example.com/' }), 'tool_calls');
    if (results.length === 1) return stream(res, [{ role: 'assistant', content: 'That was denied; counting instead. ' }, ...toolCall('call_r', 'text_stats', { text: 'denied then retried' })], 'tool_calls');
    return stream(res, words('Retried with text_stats after the denial.'), 'stop');
  }
  if (ask.includes('loop forever')) {
    if (results.length === 0) return stream(res, toolCall('call_l', 'execute_code', { language: 'javascript', code: 'let n = 0; while (true) n++;' }), 'tool_calls');
    return stream(res, words('The loop ended.'), 'stop');
  }
  return stream(res, words('I do not know that one.'), 'stop');
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method === 'OPTIONS') {
    res.writeHead(204, { 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Headers': 'content-type, authorization', 'Access-Control-Allow-Methods': 'POST' });
    return void res.end();
  }
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Body;
  requests.push({ body, auth: req.headers.authorization });
  await answer(body, res);
}

const model: Server = createServer((req, res) => void handle(req, res).catch(() => res.destroy()));
await new Promise<void>((r) => model.listen(0, '127.0.0.1', r));
const modelUrl = `http://127.0.0.1:${(model.address() as AddressInfo).port}/v1`;

const browser = await launchBrowser();
const { context, page } = await openApp(browser);
await page.waitForFunction(() => (localStorage.getItem('mcp-sandbox-demo-agents') ?? '').includes('demo-trusted'), null, { timeout: 15_000 });
const demo: Page = await openPage(context, '/agent.html#demo-trusted');

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await new Promise<void>((r) => model.close(() => r()));
});

type Entry = { event: string; tool?: string; outcome?: string; agentId?: string };
const audit = async () => (await admin<Entry[]>(page, 'audit.list', { agentId: 'demo-trusted' })).filter((e) => e.agentId === 'demo-trusted');

async function say(text: string): Promise<void> {
  await demo.getByTestId('pg-input').fill(text);
  await demo.getByTestId('pg-send').click();
}

describe('the agent playground', () => {
  it('connects a chat-completions endpoint: a tool call runs in the sandbox, its result goes back, the answer streams in', async () => {
    await demo.getByTestId('demo-status').filter({ hasText: 'connected as demo-trusted' }).waitFor();
    await demo.getByTestId('pg-url').fill(modelUrl);
    await demo.getByTestId('pg-model').fill('scripted');
    await demo.getByTestId('pg-key').fill('sk-test-only-in-memory');
    await say('Please count the words of my sentence.');

    const call = demo.locator('[data-testid=pg-call][data-tool=text_stats][data-state=ok]');
    await call.waitFor({ timeout: 20_000 });
    const answer = demo.getByTestId('pg-assistant').filter({ hasText: 'The sandbox says:' });
    await answer.waitFor();
    await demo.locator('[data-testid=pg-send]:not([disabled])').waitFor();
    expect(await answer.getAttribute('data-streaming')).toBe('false');
    // The tool's result is in the chat and is what the model was told, and what it answered with.
    const result = (await call.getByTestId('pg-call-result').textContent()) ?? '';
    expect(result.length).toBeGreaterThan(0);
    expect(await answer.textContent()).toContain(result.slice(0, 20));

    // What the model was sent: the agent's tools as valid function definitions, the key, then the tool result.
    const first = requests[0]!;
    expect(first.body.stream).toBe(true);
    expect(first.auth).toBe('Bearer sk-test-only-in-memory');
    const names = first.body.tools!.map((t) => t.function.name);
    expect(names).toContain('text_stats');
    expect(names).toContain('execute_code');
    for (const n of names) expect(n).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(first.body.tools!.find((t) => t.function.name === 'text_stats')!.function.parameters).toMatchObject({ type: 'object' });
    const second = requests[1]!.body.messages;
    expect(second.at(-2)).toMatchObject({ role: 'assistant', tool_calls: [{ id: 'call_1', function: { name: 'text_stats' } }] });
    expect(second.at(-1)).toMatchObject({ role: 'tool', tool_call_id: 'call_1', content: result });

    // The page may reach loopback model servers, nothing else beyond its own origin (its CSP).
    const csp = await demo.evaluate(async () => (await fetch('/agent.html')).headers.get('content-security-policy'));
    expect(csp).toMatch(/connect-src 'self' http:\/\/127\.0\.0\.1:\* http:\/\/localhost:\*;/);

    // The key is in no storage of the page.
    expect(await demo.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }))).not.toContain('sk-test-only-in-memory');

    // The call is in the audit trail, as demo-trusted's.
    await expect.poll(async () => (await audit()).filter((e) => e.event === 'call.result' && e.tool === 'text_stats' && e.outcome === 'ok').length, { timeout: 5_000 }).toBeGreaterThan(0);
  });

  it('returns a denial to the model, which retries with an allowed tool', async () => {
    const before = requests.length;
    await say('Now fetch the page for me.');
    const denied = demo.locator('[data-testid=pg-call][data-tool=fetch_url][data-state=failed]');
    await denied.waitFor({ timeout: 20_000 });
    expect(await denied.getAttribute('data-code')).toBe('policy-denied');
    await demo.getByTestId('pg-assistant').filter({ hasText: 'Retried with text_stats after the denial.' }).waitFor({ timeout: 20_000 });
    expect(await demo.locator('[data-testid=pg-call][data-tool=text_stats][data-state=ok]').count()).toBe(2);

    // The model read the denial as the tool's result: the sandbox's code, in a tool message.
    const afterDenial = requests[before + 1]!.body.messages.at(-1)!;
    expect(afterDenial).toMatchObject({ role: 'tool', tool_call_id: 'call_d' });
    expect(JSON.parse(afterDenial.content!)).toMatchObject({ error: { code: 'policy-denied' } });
    // The whole conversation went along (the first exchange included).
    expect(requests[before]!.body.messages.filter((m) => m.role === 'user')).toHaveLength(2);
    await expect.poll(async () => (await audit()).some((e) => e.tool === 'fetch_url' && e.outcome === 'denied'), { timeout: 5_000 }).toBe(true);
  });

  it('Stop during a long tool call cancels it where it runs', async () => {
    await say('Run code that will loop forever.');
    const running = demo.locator('[data-testid=pg-call][data-tool=execute_code][data-state=running]');
    await running.waitFor({ timeout: 20_000 });
    await demo.waitForTimeout(500);
    // Still running (an endless loop): a call that ended by itself would make this test meaningless.
    const call = demo.getByTestId('pg-call').last();
    expect(await call.getAttribute('data-state'), (await demo.getByTestId('pg-chat').textContent()) ?? '').toBe('running');
    await demo.getByTestId('pg-stop').click({ timeout: 5_000 });
    await demo.locator('[data-testid=pg-call][data-tool=execute_code][data-state=cancelled]').waitFor();
    await demo.getByTestId('pg-note').filter({ hasText: 'Stopped.' }).waitFor();
    expect(await demo.getByTestId('pg-send').isEnabled()).toBe(true);
    await expect
      .poll(async () => (await audit()).filter((e) => e.event === 'call.result' && e.tool === 'execute_code').at(-1)?.outcome, { timeout: 10_000 })
      .toBe('cancelled');
    // The model was not asked again after the stop.
    expect(requests.at(-1)!.body.messages.at(-1)).toMatchObject({ role: 'user' });
  });
});
