// A tool written in JavaScript (tools/examples/reverse-words/tool.js) becomes a component with
// `jco componentize` (QuickJS backend, WASI stubbed: the tool imports nothing), is uploaded to
// the running sandbox, and an agent calls it: the path docs/writing-tools.md describes.

import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callTool, connectAgent, launchBrowser, openApp } from './harness';

const root = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));

let browser: Browser;
let context: BrowserContext;
let page: Page;
let component: Buffer;

beforeAll(async () => {
  // The command docs/writing-tools.md gives, run as written there, from the repository's root.
  const doc = await readFile(root('docs/writing-tools.md'), 'utf8');
  const command = /## In JavaScript[\s\S]*?```sh\n([\s\S]*?)```/.exec(doc)?.[1];
  expect(command, 'the componentize command in docs/writing-tools.md').toMatch(/^npx jco componentize /);
  const out = root('reverse_words.wasm');
  await rm(out, { force: true });
  await promisify(execFile)('bash', ['-c', command!], { cwd: root('.'), env: { ...process.env, PWD: root('.').replace(/\/$/, '') } });
  component = await readFile(out);
  await rm(out);
  browser = await launchBrowser();
  ({ context, page } = await openApp(browser));
  await connectAgent(page, 'js', { agent: 'js-agent' });
}, 120_000);
afterAll(async () => {
  await context?.close();
  await browser?.close();
});

describe('a tool written in JavaScript', () => {
  it('uploads as a component and answers an agent, its errors included', async () => {
    const record = await page.evaluate(async (base64) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const host = (window as unknown as { sandboxHost: { importTool(b: Uint8Array, f: string): Promise<{ name: string; source: string; code: { coreModules: Record<string, string> } }> } }).sandboxHost;
      return host.importTool(bytes, 'reverse_words.wasm');
    }, component.toString('base64'));
    expect(record).toMatchObject({ name: 'reverse_words', source: 'uploaded' });
    // The helper module jco's glue would have compiled in the worker is a core module now.
    expect(Object.keys(record.code.coreModules).some((f) => f.includes('.inline'))).toBe(true);

    const ok = await callTool(page, 'js', 'reverse_words', { text: 'one two three' });
    expect(ok.isError, JSON.stringify(ok)).toBeFalsy();
    expect(JSON.parse(ok.content[0]!.text)).toEqual({ text: 'three two one' });
    const bad = await callTool(page, 'js', 'reverse_words', { text: 'x', extra: 1 });
    expect((bad._meta!['mcp-sandbox/error'] as { code: string }).code).toBe('invalid-arguments');
  });
});
