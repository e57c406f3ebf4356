// execute_code with JavaScript, end to end in headless Chromium: an SDK Client in the page →
// service worker (policy, write-ahead audit) → sandbox host → QuickJS in a strict-CSP tool
// worker → back. Limits, isolation between calls, escapes, and sandbox.* under the policy.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { admin, callTool, connectAgent, errorCode, launchBrowser, openApp, registerAgent, type CallResult } from './harness';

const MIB = 1024 * 1024;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let sink: Server;
let sinkUrl: string;
const hits: string[] = [];

interface Output {
  result: unknown;
  stdout: string;
  stderr: string;
  durationMs: number;
  memoryBytes: number;
  truncated?: string[];
}
type Timed = CallResult & { elapsed: number };

/** A Limited agent (the template that names execute_code), with room for a test's worth of calls and no quiet hours. */
const LIMITED = { version: 1, session: { quietHours: null, callsPerMinute: 1000, maxCalls: 10000 } };

const js = (agent: string, code: string, extra: Record<string, unknown> = {}) => callTool(page, agent, 'execute_code', { language: 'javascript', code, ...extra });
const output = (result: CallResult): Output => {
  if (result.isError) throw new Error(`expected success: ${result.content[0]?.text}`);
  return JSON.parse(result.content[0]!.text) as Output;
};
const error = (result: CallResult) => result._meta?.['mcp-sandbox/error'] as { code: string; message: string; details?: Record<string, unknown> };

/** Times one call from the agent page (what an agent waits). */
async function timed(agent: string, args: Record<string, unknown>): Promise<Timed> {
  return page.evaluate(
    async ({ agent, args }) => {
      const c = (window as unknown as { agents: Record<string, { callTool(p: unknown): Promise<CallResult> }> }).agents[agent]!;
      const t0 = performance.now();
      const result = await c.callTool({ name: 'execute_code', arguments: args });
      return { ...result, elapsed: performance.now() - t0 };
    },
    { agent, args },
  );
}

beforeAll(async () => {
  sink = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'Access-Control-Allow-Origin': '*', 'Content-Type': 'text/javascript' });
    res.end('{"from":"loopback"}');
  });
  await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
  sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  browser = await launchBrowser();
  ({ context, page } = await openApp(browser));
  await connectAgent(page, 'limited', { agent: 'code-limited', token: await registerAgent(page, { id: 'code-limited', trustLevel: 'Limited', policy: LIMITED }) });
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await new Promise<void>((r) => sink.close(() => r()));
});

describe('execute_code in the registry', () => {
  it('is listed to a Limited agent with its schema, permissions and a code tag', async () => {
    const tool = await page.evaluate(async () => {
      const c = (window as unknown as { agents: Record<string, { listTools(): Promise<{ tools: { name: string; inputSchema: unknown; _meta: Record<string, { tags: string[]; categories: string[]; permissions: string[] }> }[] }> }> }).agents['limited']!;
      return (await c.listTools()).tools.find((t) => t.name === 'execute_code');
    });
    expect(tool).toBeDefined();
    expect(tool!.inputSchema).toMatchObject({ type: 'object', required: ['language', 'code'], properties: { language: { enum: ['javascript', 'python'] } } });
    expect(tool!._meta['mcp-sandbox/tool']).toMatchObject({ categories: ['code'], permissions: ['files:read', 'files:write', 'network'] });
    expect(tool!._meta['mcp-sandbox/tool']!.tags).toContain('code');
  });
});

describe('running JavaScript', () => {
  it('returns the result, stdout and stderr as the tool\'s JSON output', async () => {
    const out = output(await js('limited', 'console.log("sum of", input.xs); console.error("to stderr"); input.xs.reduce((a, b) => a + b, 0)', { input: { xs: [1, 2, 3, 4] } }));
    expect(out).toMatchObject({ result: 10, stdout: 'sum of [1,2,3,4]\n', stderr: 'to stderr\n' });
    expect(out.durationMs).toBeGreaterThan(0);
    expect(out.memoryBytes).toBeGreaterThanOrEqual(16 * MIB);
  });

  it('answers the program\'s uncaught error as tool-error with its message and stack', async () => {
    const result = await js('limited', 'function explode() { throw new Error("kaboom") }\nexplode()');
    expect(errorCode(result)).toBe('tool-error');
    expect(error(result).message).toMatch(/^Uncaught Error: kaboom\n.*at explode \(main\.js:1/s);
  });

  it('starts every call from a fresh context: nothing set or poisoned by one call reaches the next', async () => {
    output(await js('limited', 'globalThis.carried = "over"; Object.prototype.polluted = "yes"; Array.prototype.push = () => 0; Math.max = () => -1; 1'));
    const out = output(await js('limited', '[typeof carried, ({}).polluted, [].push(1), Math.max(1, 2)]'));
    expect(out.result).toEqual(['undefined', undefined, 1, 2].map((v) => v ?? null));
  });

  it('refuses a language outside the agent\'s tools.codeLanguages before anything runs (Limited: JavaScript only)', async () => {
    const result = await callTool(page, 'limited', 'execute_code', { language: 'python', code: 'print(1)' });
    expect(result.isError).toBe(true);
    expect(error(result)).toMatchObject({ code: 'policy-denied', details: { rule: 'code.language-not-allowed', limit: ['javascript'], observed: 'python' } });
  });
});

describe('nothing of the host is reachable', () => {
  it('finds only QuickJS\'s own globals behind every escape, and no request reaches a loopback server', async () => {
    const probe = `
      const hostNames = ['fetch', 'XMLHttpRequest', 'WebSocket', 'EventSource', 'WebAssembly', 'importScripts', 'postMessage', 'self', 'location', 'navigator', 'Worker', 'indexedDB', 'caches', 'crypto', 'setTimeout', 'queueMicrotask', 'Atomics', 'document', 'window', 'Comlink'];
      const viaFunction = Function('return this')();
      const viaConstructor = ({}).constructor.constructor('return this')();
      const viaEval = (0, eval)('this');
      const seen = (g) => hostNames.filter((n) => { try { return n in g; } catch (e) { return true; } });
      const attempt = async (name, fn) => { try { await fn(); return name + ': ran'; } catch (e) { return name + ': ' + e.name; } };
      const attempts = [
        await attempt('import', () => import(${JSON.stringify(`${sinkUrl}/import.js`)})),
        await attempt('fetch', () => fetch(${JSON.stringify(`${sinkUrl}/fetch`)})),
        await attempt('xhr', () => new XMLHttpRequest()),
        await attempt('wasm-compile', () => WebAssembly.compile(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]))),
        await attempt('importScripts', () => importScripts(${JSON.stringify(`${sinkUrl}/importScripts.js`)})),
      ];
      ({
        same: viaFunction === globalThis && viaConstructor === globalThis && viaEval === globalThis,
        found: [...seen(viaFunction), ...seen(viaConstructor), ...seen(viaEval)],
        evalFetch: eval('typeof fetch'),
        attempts,
        globals: Object.getOwnPropertyNames(globalThis).filter((n) => !/^[A-Z]/.test(n)).sort(),
      });
    `;
    const out = output(await js('limited', probe));
    expect(out.result).toEqual({
      same: true,
      found: [],
      evalFetch: 'undefined',
      attempts: ['import: ReferenceError', 'fetch: ReferenceError', 'xhr: ReferenceError', 'wasm-compile: ReferenceError', 'importScripts: ReferenceError'],
      globals: expect.any(Array),
    });
    // What a program sees besides the language's built-ins: console, input and sandbox.
    expect((out.result as { globals: string[] }).globals).toEqual(['console', 'decodeURI', 'decodeURIComponent', 'encodeURI', 'encodeURIComponent', 'escape', 'eval', 'globalThis', 'input', 'isFinite', 'isNaN', 'parseFloat', 'parseInt', 'sandbox', 'undefined', 'unescape']);
    await new Promise((r) => setTimeout(r, 300));
    expect(hits).toEqual([]);
  });
});

describe('limits', () => {
  it('stops an endless loop at its timeout, and serves the next call at once from the same warm worker', async () => {
    const workersBefore = new Set(page.workers());
    const result = await timed('limited', { language: 'javascript', code: 'while (true) {}', timeoutMs: 500 });
    expect(error(result)).toMatchObject({ code: 'timeout', details: { limitMs: 500 } });
    expect(result.elapsed).toBeGreaterThanOrEqual(500);
    // Measured ~+20 ms on a loaded machine; the pool's backstop would only act at +100 ms.
    expect(result.elapsed).toBeLessThan(500 + 150);
    const next = await timed('limited', { language: 'javascript', code: '"next"' });
    expect(output(next).result).toBe('next');
    expect(next.elapsed).toBeLessThan(150);
    // Stopped by QuickJS's interrupt, not by terminating the worker: no worker was replaced.
    expect(page.workers().every((w) => workersBefore.has(w))).toBe(true);
  });

  it('stops a SharedArrayBuffer spin and catastrophic regex backtracking as timeouts; there is no Atomics.wait', async () => {
    const spin = await timed('limited', { language: 'javascript', code: 'const v = new Int32Array(new SharedArrayBuffer(4)); while (v[0] === 0) {}', timeoutMs: 300 });
    expect(errorCode(spin)).toBe('timeout');
    const redos = await timed('limited', { language: 'javascript', code: "/(a+)+$/.test('a'.repeat(40) + 'b')", timeoutMs: 300 });
    expect(errorCode(redos)).toBe('timeout');
    expect(redos.elapsed).toBeLessThan(300 + 150);
    const atomics = await js('limited', 'Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)');
    expect(errorCode(atomics)).toBe('tool-error');
    expect(error(atomics).message).toMatch(/ReferenceError: 'Atomics' is not defined/);
  });

  it('stops deep recursion with a typed stack-overflow error, and the next call is fine', async () => {
    const result = await js('limited', 'function down(n) { return down(n + 1) + 1 }\ndown(0)');
    expect(error(result)).toMatchObject({ code: 'trap', details: { reason: 'stack-overflow' } });
    const nested = await js('limited', 'let a = []; for (let i = 0; i < 100000; i++) a = [a]; JSON.stringify(a).length');
    expect(['tool-error', 'trap', undefined]).toContain(errorCode(nested));
    expect(output(await js('limited', '6 * 7')).result).toBe(42);
  });

  it('holds the memory cap against a 1 GiB string, a big typed array and endless allocation, and the next call is fine', async () => {
    // The Limited template caps a call at 128 MiB (the smaller of it and the tool's own 256).
    for (const code of ["'x'.repeat(2 ** 30 - 2).length", 'new Float64Array(2 ** 27).length', "const parts = []; for (;;) parts.push('y'.repeat(1 << 20) + parts.length)"]) {
      const result = await js('limited', code, { timeoutMs: 20_000 });
      expect(error(result), code).toMatchObject({ code: 'memory-limit', details: { limitBytes: 128 * MIB } });
      expect((error(result).details!['usedBytes'] as number) <= 128 * MIB).toBe(true);
      expect(output(await js('limited', '"still here"')).result).toBe('still here');
    }
  });
});

describe('sandbox.* under the calling agent\'s policy', () => {
  it('lets a Limited agent read and write inside ./workspace', async () => {
    const out = output(
      await js(
        'limited',
        `const written = await sandbox.writeFile('./workspace/from-code.txt', 'written by code');
        const text = await sandbox.readFile('./workspace/from-code.txt');
        const listed = await sandbox.listDirectory('./workspace');
        ({ written, text, listed, stat: await sandbox.stat('./workspace/from-code.txt') })`,
      ),
    );
    expect(out.result).toMatchObject({ written: 15, text: 'written by code', stat: { size: 15, isDirectory: false } });
    expect((out.result as { listed: string[] }).listed).toContain('from-code.txt');
  });

  it('denies a read outside ./workspace: policy-denied with the rule when uncaught, the message when caught', async () => {
    const denied = await js('limited', `await sandbox.readFile('./private/notes.txt')`);
    expect(error(denied)).toMatchObject({ code: 'policy-denied', details: { rule: 'file.pattern', capability: 'read-file' } });
    const caught = output(await js('limited', `try { await sandbox.readFile('./private/notes.txt') } catch (e) { 'caught: ' + e.message }`));
    expect(caught.result).toMatch(/^caught: denied by policy/);
  });

  it('denies sandbox.fetch to an agent whose policy allows no such network use, and nothing is sent', async () => {
    const denied = await js('limited', `(await sandbox.fetch(${JSON.stringify(`${sinkUrl}/denied`)})).status`);
    expect(errorCode(denied)).toBe('policy-denied');
    expect((error(denied).details as { capability: string }).capability).toBe('http-fetch');
    await new Promise((r) => setTimeout(r, 200));
    expect(hits).toEqual([]);
  });

  it('fetches through the service worker once the agent\'s policy allows the host', async () => {
    const token = await registerAgent(page, {
      id: 'code-net',
      trustLevel: 'Limited',
      policy: { ...LIMITED, network: { allowedDomains: ['127.0.0.1'], blockPrivateNetworks: false, allowedPorts: ['*'], httpsOnly: false, requestsPerMinute: 10 } },
    });
    await connectAgent(page, 'net', { agent: 'code-net', token });
    const out = output(await js('net', `const r = await sandbox.fetch(${JSON.stringify(`${sinkUrl}/allowed`)}); ({ status: r.status, body: await r.json() })`));
    expect(out.result).toEqual({ status: 200, body: { from: 'loopback' } });
    expect(hits).toEqual(['GET /allowed']);
  });

  it('records every call and every capability use in the audit chain', async () => {
    const entries = await admin<{ event: string; tool?: string; outcome: string; agentId: string; details: { fn?: string; rule?: string } }[]>(page, 'audit.list', { agentId: 'code-limited' });
    const capabilities = entries.filter((e) => e.event === 'call.capability').map((e) => [e.details.fn, e.outcome]);
    expect(capabilities).toEqual(
      expect.arrayContaining([
        ['write-file', 'ok'],
        ['read-file', 'ok'],
        ['read-file', 'denied'],
        ['http-fetch', 'denied'],
      ]),
    );
    const results = entries.filter((e) => e.event === 'call.result' && e.tool === 'execute_code');
    expect(results.length).toBeGreaterThan(10);
    expect(await admin(page, 'audit.verify')).toMatchObject({ ok: true });
  });
});
