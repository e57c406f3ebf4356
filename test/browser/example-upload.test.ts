// The ready example a newcomer can try without building anything: the Tools view offers
// /examples/csv_to_json.wasm for download (the same bytes as the committed
// tools/examples/csv_to_json.wasm, precached for offline use); the committed file, dropped back
// through the view's file input, becomes a tool; one click grants it to an agent whose policy did
// not allow it, and that agent calls it over MCP — its results and its refusals.

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callTool, connectAgent, errorCode, launchBrowser, openApp, registerAgent } from './harness';

const COMMITTED = fileURLToPath(new URL('../../tools/examples/csv_to_json.wasm', import.meta.url));
const AGENT = 'csv-agent';

let browser: Browser;
let context: BrowserContext;
let page: Page;
let committed: Buffer;

const upload = () => page.locator('[data-testid=upload][data-file="csv_to_json.wasm"]');
const toolNames = () =>
  page.evaluate(async (agent) => {
    const client = (window as unknown as { agents: Record<string, { listTools(): Promise<{ tools: { name: string }[] }> }> }).agents[agent]!;
    return (await client.listTools()).tools.map((t) => t.name);
  }, 'csv');

beforeAll(async () => {
  committed = await readFile(COMMITTED);
  browser = await launchBrowser();
  ({ context, page } = await openApp(browser));
  // An agent whose policy names its tools: it sees an uploaded tool only once it is granted.
  const token = await registerAgent(page, { id: AGENT, trustLevel: 'Trusted', policy: { version: 1, tools: { allowed: ['text_stats'] } } });
  await connectAgent(page, 'csv', { agent: AGENT, token });
  await page.evaluate(() => (location.hash = '#tools'));
  await page.getByTestId('upload-zone').waitFor();
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
});

describe('the ready example component', () => {
  it('is offered for download beside the drop zone, the same bytes as the committed file, precached', async () => {
    const offer = page.getByTestId('upload-example');
    expect((await offer.innerText()).replace(/\s+/g, ' ')).toContain('Try it with an example: csv_to_json.wasm');
    const link = offer.getByRole('link', { name: 'csv_to_json.wasm' });
    expect(await link.getAttribute('href')).toBe('/examples/csv_to_json.wasm');
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).toBe('csv_to_json.wasm');
    const downloaded = await readFile(await download.path());
    expect(downloaded.equals(committed), 'the app serves /examples/csv_to_json.wasm = tools/examples/csv_to_json.wasm').toBe(true);
    // Served as wasm, and listed for the service worker's offline cache.
    const served = await page.evaluate(async () => {
      const response = await fetch('/examples/csv_to_json.wasm');
      const precache = (await (await fetch('/precache.json')).json()) as { files: string[] };
      return { status: response.status, type: response.headers.get('content-type'), size: (await response.arrayBuffer()).byteLength, precached: precache.files.includes('examples/csv_to_json.wasm') };
    });
    expect(served).toEqual({ status: 200, type: 'application/wasm', size: committed.byteLength, precached: true });
  });

  it('uploads through the file input, is granted to an agent with one click, and answers it over MCP', async () => {
    expect(await toolNames()).not.toContain('csv_to_json');
    await page.getByTestId('upload-input').setInputFiles(COMMITTED);
    await upload().and(page.locator('[data-state=ok]')).waitFor({ timeout: 90_000 });
    expect((await upload().getByTestId('upload-result').innerText()).replace(/\s+/g, ' ')).toContain('Added csv_to_json 1.0.0 — Converts CSV text to JSON.');
    const tool = page.locator('[data-testid=tool-row][data-tool=csv_to_json]');
    await tool.waitFor();
    expect(await tool.innerText()).toContain('uploaded');

    // Not callable until granted: the agent's policy allows only text_stats.
    const before = await callTool(page, 'csv', 'csv_to_json', { csv: 'a\n1' });
    expect(errorCode(before), JSON.stringify(before)).toBe('policy-denied');
    expect((before._meta!['mcp-sandbox/error'] as { details: { rule: string } }).details.rule).toBe('tool.not-allowed');
    const audience = upload().getByTestId('upload-audience');
    await audience.locator(`li[data-agent=${AGENT}]`).waitFor();
    await audience.getByRole('button', { name: `Grant to ${AGENT}` }).click();
    await expect.poll(() => audience.innerText()).toContain(`Agents that can call it now: ${AGENT}`);
    await expect.poll(toolNames).toContain('csv_to_json');

    const result = await callTool(page, 'csv', 'csv_to_json', { csv: 'city,population,capital\r\n"Paris, FR",2102650,true\r\nOslo,709037,true\r\n', types: true });
    expect(result.isError, JSON.stringify(result)).toBeFalsy();
    expect(JSON.parse(result.content[0]!.text)).toEqual({
      columns: ['city', 'population', 'capital'],
      rows: [
        { city: 'Paris, FR', population: 2102650, capital: true },
        { city: 'Oslo', population: 709037, capital: true },
      ],
      rowCount: 2,
    });
    const tsv = await callTool(page, 'csv', 'csv_to_json', { csv: 'x\ty\n1\t2', delimiter: '\t', header: false });
    expect(JSON.parse(tsv.content[0]!.text)).toEqual({ rows: [['x', 'y'], ['1', '2']], rowCount: 2 });
  });

  it('refuses a bad argument and malformed CSV with clear errors', async () => {
    // Against the input schema, before any sandbox runs: the delimiter is one character.
    const badDelimiter = await callTool(page, 'csv', 'csv_to_json', { csv: 'a;b', delimiter: ';;' });
    expect(badDelimiter.isError).toBe(true);
    expect(errorCode(badDelimiter)).toBe('invalid-arguments');
    expect(badDelimiter.content[0]!.text).toContain('#/delimiter: String is too long (2 > 1)');
    // One character, but one the tool itself refuses, saying why.
    const quoteDelimiter = await callTool(page, 'csv', 'csv_to_json', { csv: 'a', delimiter: '"' });
    expect(errorCode(quoteDelimiter)).toBe('tool-error');
    expect(quoteDelimiter.content[0]!.text).toContain(`invalid arguments: "delimiter" cannot be '"' (quotes and line breaks have their own meaning in CSV)`);
    const unknown = await callTool(page, 'csv', 'csv_to_json', { text: 'a,b' });
    expect(errorCode(unknown)).toBe('invalid-arguments');
    // The tool's own refusal, with the line and column.
    const malformed = await callTool(page, 'csv', 'csv_to_json', { csv: 'a,b\n1,"open' });
    expect(malformed.isError).toBe(true);
    expect(errorCode(malformed)).toBe('tool-error');
    expect(malformed.content[0]!.text).toContain('line 2, column 3: unterminated quoted field');
    const ragged = await callTool(page, 'csv', 'csv_to_json', { csv: 'a,b,c\n1,2\n' });
    expect(errorCode(ragged)).toBe('tool-error');
    expect(ragged.content[0]!.text).toContain('line 2: row 1 has 2 fields but the header has 3 columns');
  });
});
