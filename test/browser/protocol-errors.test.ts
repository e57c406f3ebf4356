import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { callTool, connectAgent, launchBrowser, openApp } from './harness';

let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  browser = await launchBrowser();
  ({ context, page } = await openApp(browser));
  await connectAgent(page, 'good', { agent: 'good-agent' });
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
});

describe('malformed and foreign messages reaching the service worker', () => {
  it('get JSON-RPC errors on their own session, and the other session keeps being served', async () => {
    const replies = await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.ready;
      const seen: { session: string; message: { id: unknown; error?: { code: number } } }[] = [];
      navigator.serviceWorker.addEventListener('message', (e) => {
        if (typeof e.data?.session === 'string' && e.data.session.startsWith('raw-')) seen.push(e.data);
      });
      const post = (session: string, message: unknown) => registration.active!.postMessage({ channel: 'mcp-sandbox', v: 1, kind: 'mcp', session, message });
      post('raw-parse-error', '{"jsonrpc":"2.0","id":1,"method":');
      post('raw-invalid-request', { jsonrpc: '2.0', id: 2, method: 7 });
      post('raw-unknown-session', { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'text_stats', arguments: { text: 'x' } } });
      post('raw-too-large', { jsonrpc: '2.0', id: 4, method: 'ping', params: { pad: 'x'.repeat(4 * 1024 * 1024 + 1) } });
      // Foreign traffic: not ours, so not answered at all.
      registration.active!.postMessage('garbage');
      registration.active!.postMessage({ channel: 'someone-else', kind: 'mcp', session: 'raw-foreign', message: {} });
      registration.active!.postMessage({ channel: 'mcp-sandbox', v: 1, kind: 'mcp', session: 'raw-notification', message: { jsonrpc: '2.0', method: 'notifications/initialized' } });
      await new Promise((r) => setTimeout(r, 500));
      return seen;
    });
    const bySession = Object.fromEntries(replies.map((r) => [r.session, r.message]));
    expect(bySession['raw-parse-error']).toMatchObject({ id: null, error: { code: -32700 } });
    expect(bySession['raw-invalid-request']).toMatchObject({ id: 2, error: { code: -32600 } });
    expect(bySession['raw-unknown-session']).toMatchObject({ id: 3, error: { code: -32001 } });
    expect(bySession['raw-too-large']).toMatchObject({ id: 4, error: { code: -32002 } });
    expect(Object.keys(bySession).sort()).toEqual(['raw-invalid-request', 'raw-parse-error', 'raw-too-large', 'raw-unknown-session']);

    const ok = await callTool(page, 'good', 'text_stats', { text: 'unaffected session' });
    expect(ok.isError).toBeFalsy();
    expect(JSON.parse(ok.content[0]!.text).words).toBe(2);
  });

  it('answers arguments that break the input schema with an invalid-arguments result', async () => {
    const result = await callTool(page, 'good', 'text_stats', { text: 12 });
    expect(result.isError).toBe(true);
    expect((result._meta!['mcp-sandbox/error'] as { code: string }).code).toBe('invalid-arguments');
  });

  it('answers an unknown tool with a JSON-RPC error', async () => {
    const result = await callTool(page, 'good', 'no_such_tool', {});
    expect(result.thrown).toMatchObject({ code: -32602 });
  });
});
