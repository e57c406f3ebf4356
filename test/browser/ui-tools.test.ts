// The Tools view, driven like a person would: upload components through the file input (built
// here from WAT, as upload.test.ts does), watch the stages, read the refusals, open a tool's
// details with its usage after an agent called it, pin, disable and remove it. Screenshots land
// in the OS temp dir for a human to look at.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { callTool, connectAgent, launchBrowser, openApp } from './harness';

const WIT_DIR = fileURLToPath(new URL('../../tools/wit', import.meta.url));

let browser: Browser;
let context: BrowserContext;
let page: Page;
const components: Record<string, Buffer> = {};

const shot = (name: string) => page.screenshot({ path: join(tmpdir(), `mcp-sandbox-ui-tools-${name}.png`), fullPage: true });
const go = (hash: string) => page.evaluate((h) => (location.hash = h), hash);
const text = async (testId: string) => (await page.getByTestId(testId).first().innerText()).replace(/\s+/g, ' ').trim();
const upload = (file: string) => page.locator(`[data-testid=upload][data-file="${file}"]`);
const row = (tool: string) => page.locator(`[data-testid=tool-row][data-tool=${tool}]`);

const watString = (s: string) => [...new TextEncoder().encode(s)].map((b) => `\\${b.toString(16).padStart(2, '0')}`).join('');

/** A component of the tool world whose `describe` returns `meta` and whose `call` returns `{"echo":true}`. */
async function buildComponent(meta: Record<string, unknown>): Promise<Buffer> {
  const describe = JSON.stringify({ description: 'A tool uploaded through the UI.', version: '1.0.0', author: 'ui test', inputSchema: { type: 'object', properties: { text: { type: 'string' } } }, permissions: [], limits: { memoryMb: 16, cpuMs: 1000 }, tags: ['demo', 'echo'], ...meta });
  const output = '{"echo":true}';
  const wat = `(module
    (memory (export "memory") 1)
    (global $heap (mut i32) (i32.const 8192))
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (local $p i32)
      global.get $heap local.set $p
      global.get $heap local.get 3 i32.add global.set $heap
      local.get $p)
    (data (i32.const 1024) "${watString(describe)}")
    (data (i32.const 4096) "${watString(output)}")
    (func (export "describe") (result i32)
      i32.const 0 i32.const 1024 i32.store i32.const 4 i32.const ${new TextEncoder().encode(describe).length} i32.store i32.const 0)
    (func (export "call") (param i32 i32) (result i32)
      i32.const 8 i32.const 0 i32.store8
      i32.const 12 i32.const 4096 i32.store
      i32.const 16 i32.const ${new TextEncoder().encode(output).length} i32.store
      i32.const 8))`;
  const { parse, componentEmbed, componentNew } = await import('@bytecodealliance/jco');
  const embedded = await componentEmbed({ binary: await parse(wat), witPath: WIT_DIR, world: 'tool', stringEncoding: 'utf8' } as never);
  return Buffer.from(await componentNew(embedded));
}

const wasm = (name: string, buffer: Buffer) => ({ name, mimeType: 'application/wasm', buffer });

beforeAll(async () => {
  components.echo = await buildComponent({ name: 'ui_echo' });
  components.clash = await buildComponent({ name: 'text_stats' });
  components.invalid = await buildComponent({ name: 'ui_bad_meta', inputSchema: { type: 'string' }, permissions: ['camera'] });
  browser = await launchBrowser();
  ({ context, page } = await openApp(browser));
  await page.setViewportSize({ width: 1280, height: 900 });
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
});

describe('the Tools view', () => {
  it('lists the registered tools under a drop zone that warns of the transpiler download', async () => {
    await go('#tools');
    await row('text_stats').waitFor();
    expect(await text('upload-zone')).toContain('The first upload loads the transpiler (about 3.5 MB)');
    // Watched folders only where this window's host offers them.
    const offered = await page.evaluate(() => (window as unknown as { sandboxHost: { folders?: unknown } }).sandboxHost.folders != null);
    expect(await page.getByTestId('watched-folders').count()).toBe(offered ? 1 : 0);
  });

  it('uploads a component through the file input, stage by stage, and lists the new tool', async () => {
    await page.getByTestId('upload-input').setInputFiles(wasm('ui_echo.wasm', components.echo!));
    // The first upload loads the transpiler: long enough, usually, to catch a stage in progress.
    await upload('ui_echo.wasm').locator('li[aria-current=step]').or(upload('ui_echo.wasm').and(page.locator('[data-state=ok]'))).first().waitFor({ timeout: 60_000 });
    await shot('upload-running');
    await upload('ui_echo.wasm').and(page.locator('[data-state=ok]')).waitFor({ timeout: 60_000 });
    const stages = await upload('ui_echo.wasm').locator('[data-testid=upload-stages] li').evaluateAll((lis) => lis.map((li) => `${li.getAttribute('data-stage')}:${li.className}`));
    expect(stages).toEqual(['checking:done', 'transpiling:done', 'introspecting:done', 'storing:done']);
    expect(await upload('ui_echo.wasm').getByTestId('upload-result').innerText()).toContain('Added ui_echo 1.0.0');
    // Who can call it: the demo agents' policies name their tools, so neither sees an upload
    // until it is granted; one click grants it to one agent.
    const audience = upload('ui_echo.wasm').getByTestId('upload-audience');
    await audience.waitFor();
    expect(await audience.innerText()).toContain('No agent can call it yet');
    expect(await audience.locator('li[data-agent]').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-agent')).sort())).toEqual(['demo-limited', 'demo-trusted']);
    await audience.getByRole('button', { name: 'Grant to demo-trusted' }).click();
    await expect.poll(() => audience.innerText()).toContain('Agents that can call it now: demo-trusted');
    expect(await audience.locator('li[data-agent]').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-agent')))).toEqual(['demo-limited']);
    await row('ui_echo').waitFor();
    expect(await row('ui_echo').innerText()).toContain('uploaded');
    expect(await text('upload-zone')).not.toContain('3.5 MB');
    await shot('upload-done');
  });

  it('imports several files one after another and shows each refusal: code, message, field errors', async () => {
    await page.getByTestId('upload-input').setInputFiles([
      { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello, I am not wasm') },
      wasm('clash.wasm', components.clash!),
      wasm('bad-meta.wasm', components.invalid!),
    ]);
    for (const file of ['notes.txt', 'clash.wasm', 'bad-meta.wasm']) await upload(file).and(page.locator('[data-state=failed]')).waitFor({ timeout: 60_000 });
    const code = async (file: string) => (await upload(file).getByTestId('upload-error-code').innerText()).trim();
    expect(await code('notes.txt')).toBe('not-wasm');
    expect(await code('clash.wasm')).toBe('name-clash');
    expect(await upload('clash.wasm').getByTestId('upload-error').innerText()).toContain('text_stats');
    expect(await code('bad-meta.wasm')).toBe('invalid-metadata');
    const fields = (await upload('bad-meta.wasm').getByTestId('upload-field-errors').innerText()).replace(/\s+/g, ' ');
    expect(fields).toContain('inputSchema.type');
    expect(fields).toContain('permissions');
    // The stage that refused is marked; later ones never ran.
    expect(await upload('notes.txt').locator('li.failed').getAttribute('data-stage')).toBe('checking');
    expect(await upload('bad-meta.wasm').locator('li.failed').getAttribute('data-stage')).toBe('introspecting');
    expect(await row('ui_bad_meta').count()).toBe(0);
    await shot('upload-refused');
  });

  it("opens a tool's details: metadata, usage after an agent's call, versions", async () => {
    await connectAgent(page, 'tools-ui', { agent: 'tools-ui-agent' });
    const call = await callTool(page, 'tools-ui', 'ui_echo', { text: 'hi' });
    expect(call.isError, JSON.stringify(call)).toBeFalsy();
    expect(call.content[0]!.text).toBe('{"echo":true}');

    await page.getByTestId('uploads-clear').click();
    await row('ui_echo').click();
    const details = page.getByTestId('tool-details');
    await details.waitFor();
    expect(page.url()).toContain('#tools/ui_echo');
    const meta = await text('tool-meta');
    expect(meta).toContain('A tool uploaded through the UI.');
    expect(meta).toContain('author ui test');
    expect(meta).toContain('tags demo echo');
    expect(meta).toContain('memory 16 MB · CPU 1 s');
    expect(meta).toContain('source uploaded');
    expect(await text('tool-hash')).toMatch(/^[0-9a-f]{64}$/);
    expect(await page.getByTestId('tool-schema').innerText()).toContain('"type": "string"');

    await expect.poll(() => text('tool-stats'), { timeout: 15_000 }).toContain('1 invocations');
    expect(await text('tool-stats')).toContain('100 % success rate');
    expect(await text('tool-versions')).toContain('1.0.0');
    expect(await text('tool-versions')).toContain('current');
    await shot('details');
  });

  it('pins to the current hash and unpins', async () => {
    await page.getByTestId('tool-pin').click();
    await expect.poll(() => text('tool-pin-state')).toContain('Pinned to');
    expect(await row('ui_echo').innerText()).toContain('pinned');
    await page.getByTestId('tool-unpin').click();
    await expect.poll(() => text('tool-pin-state')).toContain('Not pinned');
  });

  it('disables the tool (agents can no longer call it), enables it, then removes it after asking', async () => {
    await page.getByTestId('tool-disable').click();
    await expect.poll(() => text('tool-status')).toBe('disabled');
    expect(await row('ui_echo').getAttribute('data-enabled')).toBe('false');
    expect((await callTool(page, 'tools-ui', 'ui_echo', {})).thrown).toBeDefined();
    await shot('disabled');

    await page.getByTestId('tool-enable').click();
    await expect.poll(() => text('tool-status')).toBe('enabled');
    expect((await callTool(page, 'tools-ui', 'ui_echo', {})).isError).toBeFalsy();

    await page.getByTestId('tool-remove').click();
    await page.getByTestId('confirm-tool-remove').click();
    await row('ui_echo').waitFor({ state: 'detached' });
    expect(page.url()).toMatch(/#tools$/);
    // Bundled tools cannot be removed.
    await row('text_stats').click();
    await page.getByTestId('tool-details').waitFor();
    expect(await page.getByTestId('tool-remove').count()).toBe(0);
  });

  it('lists a watched folder with its files, rescans it, and stops watching it (where the host offers folders)', async (ctx) => {
    const offered = await page.evaluate(() => (window as unknown as { sandboxHost: { folders?: unknown } }).sandboxHost.folders != null);
    if (!offered) ctx.skip();
    // A folder in the origin-private file system stands in for one the person picked.
    const echo = [...(await buildComponent({ name: 'folder_echo' }))];
    await page.evaluate(async (echo) => {
      const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('ui-tools-folder', { create: true });
      const write = async (name: string, bytes: Uint8Array) => {
        const file = await (await dir.getFileHandle(name, { create: true })).createWritable();
        await file.write(bytes as Uint8Array<ArrayBuffer>);
        await file.close();
      };
      await write('folder_echo.wasm', new Uint8Array(echo));
      await write('broken.wasm', new TextEncoder().encode('not a component'));
      const host = (window as unknown as { sandboxHost: { folders: { add(h: FileSystemDirectoryHandle): Promise<unknown> } } }).sandboxHost;
      await host.folders.add(dir);
    }, echo);
    await go('#agents');
    await go('#tools');
    const folder = page.locator('[data-testid=folder]', { hasText: 'ui-tools-folder' });
    await folder.waitFor();
    const files = (await folder.innerText()).replace(/\s+/g, ' ');
    expect(files).toContain('folder_echo.wasm folder_echo');
    expect(files).toContain('broken.wasm not-wasm');
    expect(files).toMatch(/last scan (just now|\d+ s ago)/);
    await row('folder_echo').waitFor();
    expect(await row('folder_echo').innerText()).toContain('discovered');
    await shot('folders');

    await folder.getByTestId('folder-rescan').click();
    await expect.poll(() => text('folders-notice')).toContain('Rescanned');
    await folder.getByTestId('folder-remove').click();
    await page.getByTestId('confirm-folder-remove').click();
    await folder.waitFor({ state: 'detached' });
    await row('folder_echo').waitFor({ state: 'detached' });
  });

  it('takes a component dropped on the drop zone, in a narrow window', async () => {
    await page.setViewportSize({ width: 420, height: 800 });
    const dropped = await page.evaluateHandle((bytes) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(bytes)], 'ui_echo.wasm', { type: 'application/wasm' }));
      return transfer;
    }, [...components.echo!]);
    await page.getByTestId('upload-zone').dispatchEvent('drop', { dataTransfer: dropped });
    await upload('ui_echo.wasm').and(page.locator('[data-state=ok]')).waitFor({ timeout: 60_000 });
    await shot('narrow');
    await page.setViewportSize({ width: 1280, height: 900 });
  });
});
