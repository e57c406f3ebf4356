import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
// @ts-expect-error -- plain ESM script without types
import { startServer } from '../../scripts/serve.mjs';
import { baseUrl, launchBrowser, openApp } from './harness';

const MB = 1024 * 1024;

/** A loopback server that records every request: the sandbox must never reach it. */
async function startRecorder(): Promise<{ url: string; hits: string[]; close(): Promise<void> }> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Access-Control-Allow-Origin': '*' });
    res.end('reached');
  });
  server.on('upgrade', (req, socket) => {
    hits.push(`UPGRADE ${req.url}`);
    socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, hits, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/**
 * The app served with COOP/COEP (what cross-origin isolation needs), by forwarding to the test
 * server: there the frame's workers get an interrupt buffer.
 */
async function startIsolatingProxy(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    void (async () => {
      try {
        const upstream = await fetch(new URL(req.url ?? '/', target), { method: req.method ?? 'GET', headers: { 'Service-Worker': String(req.headers['service-worker'] ?? '') } });
        const headers: Record<string, string> = {};
        upstream.headers.forEach((value, name) => {
          if (name !== 'content-encoding' && name !== 'content-length' && name !== 'transfer-encoding') headers[name] = value;
        });
        headers['Cross-Origin-Opener-Policy'] = 'same-origin';
        headers['Cross-Origin-Embedder-Policy'] = 'require-corp';
        headers['Cross-Origin-Resource-Policy'] = 'same-origin';
        res.writeHead(upstream.status, headers);
        res.end(Buffer.from(await upstream.arrayBuffer()));
      } catch (error) {
        res.writeHead(502);
        res.end(String(error));
      }
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

interface Outcome {
  ok: boolean;
  result?: unknown;
  resultJson?: string;
  stdout: string;
  stderr: string;
  durationMs: number;
  memoryBytes: number;
  truncated: string[];
  error?: { code: string; message: string; details?: Record<string, unknown> };
  elapsedMs: number;
}

interface RunOptions {
  input?: unknown;
  timeoutMs?: number;
  memoryBytes?: number;
  isolationKey?: string;
  capabilities?: boolean;
  runtime?: string;
}

/** Loads /python-runtime.js in the page and makes `window[name]` a PythonRuntime. */
async function makeRuntime(page: Page, name: string, options: Record<string, unknown> = {}): Promise<void> {
  // A string, so that the test runner's transform leaves the browser's own import() alone.
  await page.evaluate(`import('/python-runtime.js').then((m) => { window.pythonLib = m; })`);
  await page.evaluate(
    ({ name, options }) => {
      const w = window as unknown as Record<string, unknown> & { pythonLib: { PythonRuntime: new (o: unknown) => unknown }; stages: Record<string, string[]> };
      w.stages ??= {};
      const stages: string[] = (w.stages[name] = []);
      w[name] = new w.pythonLib.PythonRuntime({ baseUrl: new URL('/', location.href).href, onProgress: (stage: string) => stages.push(stage), ...options });
      // The stand-in for the service worker's capability decisions: an in-memory workspace.
      const files = ((w.workspace as Map<string, string>) ??= new Map([['./workspace/hello.txt', 'hello from the host']]));
      const seen = ((w.capabilitySeen as unknown[]) ??= []);
      w.capabilityStub ??= async (request: { id: number; fn: string; args: Record<string, string> }) => {
        seen.push({ fn: request.fn, args: request.args });
        const path = request.args['path'] ?? '';
        const deny = (rule: string) => ({ id: request.id, ok: false, error: `denied by policy (${rule}): ${path || request.fn} is not allowed for this agent` });
        if (path.includes('secret')) return deny('file.pattern');
        switch (request.fn) {
          case 'read-file':
            return files.has(path) ? { id: request.id, ok: true, value: files.get(path) } : { id: request.id, ok: false, error: `no file ${path}` };
          case 'write-file':
            files.set(path, request.args['contents']!);
            return { id: request.id, ok: true, value: new TextEncoder().encode(request.args['contents']).length };
          case 'list-directory':
            return { id: request.id, ok: true, value: [...files.keys()].filter((k) => k.startsWith(path.replace(/\/?$/, '/'))).map((k) => k.slice(path.replace(/\/?$/, '/').length)) };
          case 'stat':
            return files.has(path) ? { id: request.id, ok: true, value: JSON.stringify({ size: files.get(path)!.length, isDirectory: false, modifiedMs: 1 }) } : { id: request.id, ok: false, error: `no file or folder ${path}` };
          case 'http-fetch': {
            const asked = JSON.parse(request.args['request']!) as { url: string };
            if (!asked.url.startsWith('https://api.example/')) return deny('network.domain');
            return { id: request.id, ok: true, value: JSON.stringify({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"answer":42}' }) };
          }
          default:
            return { id: request.id, ok: true, value: null };
        }
      };
    },
    { name, options },
  );
}

async function run(page: Page, code: string, options: RunOptions = {}): Promise<Outcome> {
  return page.evaluate(
    async ({ code, options }) => {
      const w = window as unknown as Record<string, { run(job: unknown, caps?: unknown): Promise<Omit<Outcome, 'elapsedMs'>> }> & { capabilityStub: unknown };
      const runtime = w[options.runtime ?? 'py']!;
      const job = { code, input: options.input ?? null, timeoutMs: options.timeoutMs ?? 10_000, memoryBytes: options.memoryBytes ?? 256 * 1024 * 1024, callId: `c${Math.random()}`, ...(options.isolationKey ? { isolationKey: options.isolationKey } : {}) };
      const t0 = performance.now();
      const outcome = await runtime.run(job, options.capabilities ? w.capabilityStub : undefined);
      return { ...outcome, elapsedMs: performance.now() - t0 };
    },
    { code, options },
  );
}

const stats = (page: Page, runtime = 'py') => page.evaluate((r) => (window as unknown as Record<string, { stats: { boots: number; live: number; warmKeys: number; lastRunMs: number; lastResetMs: number } }>)[r]!.stats, runtime);
const timings = (page: Page, runtime = 'py') => page.evaluate((r) => (window as unknown as Record<string, { timings: Record<string, number> }>)[r]!.timings, runtime);
const settle = (ms = 300) => new Promise((r) => setTimeout(r, ms));
const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

let browser: Browser;
let context: BrowserContext;
let page: Page;
let recorder: Awaited<ReturnType<typeof startRecorder>>;
const measured: Record<string, number | string> = {};

beforeAll(async () => {
  browser = await launchBrowser();
  recorder = await startRecorder();
  ({ context, page } = await openApp(browser));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Content Security Policy|Failed to load resource|Refused to/.test(m.text())) console.error(`[page] ${m.text()}`);
  });
}, 120_000);

afterAll(async () => {
  console.log(`Python runtime measurements: ${JSON.stringify(measured)}`);
  await context?.close();
  await browser?.close();
  await recorder?.close();
});

describe('execute_code in Python (PythonRuntime in the app window)', () => {
  it('loads Python with progress, then runs a program: its last expression, stdout and stderr', async () => {
    await makeRuntime(page, 'py');
    const first = await run(page, 'print("hello")\nimport sys\nprint("careful", file=sys.stderr)\n{"sum": sum(input["xs"]), "pi": round(__import__("math").pi, 2)}', { input: { xs: [1, 2, 3] } });
    measured['coldFirstCallNoSnapshotMs'] = Math.round(first.elapsedMs);
    expect(first.error).toBeUndefined();
    expect(first).toMatchObject({ ok: true, result: { sum: 6, pi: 3.14 }, stdout: 'hello\n', stderr: 'careful\n', truncated: [] });
    expect(first.memoryBytes).toBeGreaterThanOrEqual(30 * MB);
    const stages = await page.evaluate(() => (window as unknown as { stages: Record<string, string[]> }).stages['py']);
    expect(stages).toEqual(expect.arrayContaining(['fetching', 'compiling', 'booting', 'snapshot', 'restoring', 'ready']));
    expect(stages!.at(-1)).toBe('ready');
    Object.assign(measured, Object.fromEntries(Object.entries(await timings(page)).map(([k, v]) => [`first.${k}`, Math.round(v)])));

    // Values JSON cannot carry come back as their repr; top-level await works.
    expect((await run(page, '{1, 2}')).result).toBe('{1, 2}');
    expect((await run(page, 'float("nan")')).result).toBe('nan');
    expect((await run(page, 'import asyncio\nawait asyncio.sleep(0.01)\n"awaited"')).result).toBe('awaited');
    expect((await run(page, 'x = 1')).result).toBeNull();
    expect(await run(page, 'print("x" * 50)\n"y" * 50', { input: null })).toMatchObject({ ok: true, result: 'y'.repeat(50), stdout: 'x'.repeat(50) + '\n' });
  }, 240_000);

  it('cuts long output at its limit and says so', async () => {
    const big = await page.evaluate(async () => {
      const w = window as unknown as { py: { run(job: unknown): Promise<Outcome> } };
      return w.py.run({ code: 'print("a" * 100)\n"b" * 100', timeoutMs: 5000, memoryBytes: 256 * 1024 * 1024, callId: 'cut', outputLimits: { stdoutChars: 10, stderrChars: 10, resultChars: 20 } });
    });
    expect(big).toMatchObject({ ok: true, stdout: 'a'.repeat(10), result: `"${'b'.repeat(19)}`, truncated: ['result', 'stdout'] });
  });

  it('reports an uncaught exception as tool-error with the traceback of the program', async () => {
    const failed = await run(page, 'def f():\n    raise ValueError("bad value")\nprint("before")\nf()');
    expect(failed.error?.code).toBe('tool-error');
    expect(failed.error?.message).toContain('Traceback');
    expect(failed.error?.message).toContain('ValueError: bad value');
    expect(failed.error?.message).toContain('line 2, in f');
    expect(failed.error?.message).not.toContain('_pyodide');
    expect(failed.error?.details).toMatchObject({ name: 'ValueError', errorMessage: 'bad value', stdout: 'before\n' });
    const syntax = await run(page, 'def (:');
    expect(syntax.error).toMatchObject({ code: 'tool-error', details: { name: 'SyntaxError' } });
  });

  it('gives every program a fresh namespace: nothing of one call reaches the next', async () => {
    const dirty = [
      'import math, builtins, sys, os, json',
      'leaked = 1',
      'math.leak = 2',
      'builtins.len = lambda x: 42',
      'builtins.leaked_builtin = 3',
      'json.dumps = lambda *a, **k: "patched"',
      'del math.tau',
      'sys.modules["evil"] = math',
      'sys.path.append("/evil")',
      'os.environ["EVIL"] = "1"',
      'open("/tmp/evil.txt", "w").write("x")',
      'os.makedirs("/home/pyodide/d/e")',
      'os.chdir("/tmp")',
      'sys.setrecursionlimit(60)',
      'sys.stdout = None',
      '"dirtied"',
    ].join('\n');
    const check = [
      'import math, sys, os, json',
      '[("leaked" in globals()), hasattr(math, "leak"), len([1, 2]), hasattr(__builtins__, "leaked_builtin") if not isinstance(__builtins__, dict) else "leaked_builtin" in __builtins__,',
      ' json.dumps([1]), hasattr(math, "tau"), "evil" in sys.modules, "/evil" in sys.path, os.environ.get("EVIL"), os.path.exists("/tmp/evil.txt"),',
      ' os.path.exists("/home/pyodide/d"), os.getcwd(), sys.getrecursionlimit() > 60, sys.stdout is sys.__stdout__]',
    ].join('\n');
    const clean = [false, false, 2, false, '[1]', true, false, false, null, false, false, '/home/pyodide', true, true];

    // Without an isolation key every run gets an interpreter no run used before.
    expect((await run(page, dirty)).ok).toBe(true);
    expect((await run(page, check)).result).toEqual(clean);

    // With one, runs of that key share a warm interpreter, put back between runs.
    expect((await run(page, dirty, { isolationKey: 'agent-a' })).ok).toBe(true);
    await settle(1500);
    const before = await stats(page);
    const again = await run(page, check, { isolationKey: 'agent-a' });
    expect(again.result).toEqual(clean);
    await settle();
    expect((await stats(page)).boots).toBe(before.boots); // the same interpreter served it
    // Another key never gets agent-a's interpreter.
    await run(page, 'import sys\nsys.marker_of_a = 1', { isolationKey: 'agent-a' });
    expect((await run(page, 'import sys\nhasattr(sys, "marker_of_a")', { isolationKey: 'agent-b' })).result).toBe(false);
  }, 120_000);

  it('answers a program that never ends as timeout at its deadline, and serves the next call', async () => {
    for (const isolationKey of [undefined, 'agent-t']) {
      // An interpreter ready (a spare, or the key's own), so the time measured is the run's.
      await run(page, '0', isolationKey ? { isolationKey } : {});
      await settle(2000);
      const spin = await run(page, 'while True:\n    pass', { timeoutMs: 300, ...(isolationKey ? { isolationKey } : {}) });
      expect(spin.error).toMatchObject({ code: 'timeout', details: { limitMs: 300 } });
      expect(spin.elapsedMs).toBeGreaterThanOrEqual(299);
      expect(spin.elapsedMs).toBeLessThan(300 + 100);
      measured[`timeoutAnsweredAfterMs${isolationKey ? '.keyed' : ''}`] = Math.round(spin.elapsedMs);
      const next = await run(page, '6 * 7', isolationKey ? { isolationKey } : {});
      expect(next).toMatchObject({ ok: true, result: 42 });
      measured[`nextCallAfterTimeoutMs${isolationKey ? '.keyed' : ''}`] = Math.round(next.elapsedMs);
    }
    // A program that catches KeyboardInterrupt is still stopped.
    const stubborn = await run(page, 'while True:\n    try:\n        while True: pass\n    except BaseException:\n        pass', { timeoutMs: 200 });
    expect(stubborn.error?.code).toBe('timeout');
    expect((await run(page, '"alive"')).result).toBe('alive');
  }, 60_000);

  it('stops a program at its memory limit as memory-limit, and serves the next call', async () => {
    const limit = { memoryBytes: 128 * MB };
    const huge = await run(page, 'bytearray(10**10)', limit);
    expect(huge.error).toMatchObject({ code: 'memory-limit', details: { limitBytes: 128 * MB } });
    const big = await run(page, 'x = bytearray(200 * 2**20)', limit);
    expect(big.error).toMatchObject({ code: 'memory-limit', details: { limitBytes: 128 * MB } });
    expect(big.error?.message).toContain('128 MiB');
    const grow = await run(page, 'xs = []\nwhile True:\n    xs.append(bytearray(2**20))', limit);
    expect(grow.error?.code).toBe('memory-limit');
    expect(grow.memoryBytes).toBeLessThanOrEqual(128 * MB);
    // Caught inside the program, it is the program's business.
    expect((await run(page, 'try:\n    bytearray(200 * 2**20)\nexcept MemoryError:\n    r = "caught"\nr', limit)).result).toBe('caught');
    expect((await run(page, 'sum(range(10))', limit)).result).toBe(45);
    // A cap below what the interpreter needs to start is refused at once.
    expect((await run(page, '1', { memoryBytes: 16 * MB })).error?.code).toBe('memory-limit');
  }, 120_000);

  it('answers runaway recursion with a typed error, and serves the next call', async () => {
    const deep = await run(page, 'import sys\nsys.setrecursionlimit(10**6)\ndef f(n):\n    return f(n + 1) + 1\nf(0)', { timeoutMs: 20_000 });
    measured['deepRecursionAnsweredMs'] = Math.round(deep.elapsedMs);
    expect(['trap', 'tool-error']).toContain(deep.error?.code);
    if (deep.error?.code === 'trap') expect(deep.error.details).toMatchObject({ reason: 'stack-overflow' });
    else expect(deep.error?.details).toMatchObject({ name: 'RecursionError' });
    const plain = await run(page, 'def f(n):\n    return f(n + 1)\nf(0)');
    expect(plain.error).toMatchObject({ code: 'tool-error', details: { name: 'RecursionError' } });
    expect((await run(page, '"still here"')).result).toBe('still here');
  }, 60_000);

  it('reaches files and the network only through sandbox.*, answered by the capabilities callback', async () => {
    const roundTrip = await run(
      page,
      [
        'import sandbox',
        'n = sandbox.write_file("./workspace/a.txt", "héllo")',
        'back = sandbox.read_file("./workspace/a.txt")',
        'listing = sandbox.list_directory("./workspace")',
        'info = sandbox.stat("./workspace/a.txt")',
        'r = sandbox.fetch("https://api.example/q", method="POST", headers={"x-a": "1"}, body="{}")',
        'sandbox.log("done")',
        '[n, back, sorted(listing), info["size"], r["status"], r["ok"], r["body"], sandbox.read_file("./workspace/hello.txt")]',
      ].join('\n'),
      { capabilities: true },
    );
    expect(roundTrip.error).toBeUndefined();
    expect(roundTrip.result).toEqual([6, 'héllo', ['a.txt', 'hello.txt'], 5, 200, true, '{"answer":42}', 'hello from the host']);
    const seen = await page.evaluate(() => (window as unknown as { capabilitySeen: { fn: string; args: Record<string, string> }[] }).capabilitySeen);
    expect(seen.map((s) => s.fn)).toEqual(['write-file', 'read-file', 'list-directory', 'stat', 'http-fetch', 'log', 'read-file']);
    expect(JSON.parse(seen[4]!.args['request']!)).toEqual({ url: 'https://api.example/q', method: 'POST', headers: { 'x-a': '1' }, body: '{}' });

    const denied = await run(page, 'import sandbox\nsandbox.read_file("./workspace/secret.txt")', { capabilities: true });
    expect(denied.error?.code).toBe('tool-error');
    expect(denied.error?.message).toContain('CapabilityError: denied by policy (file.pattern)');
    const caught = await run(page, 'import sandbox\ntry:\n    sandbox.fetch("https://elsewhere.example/")\nexcept sandbox.CapabilityError as e:\n    r = str(e)\nr', { capabilities: true });
    expect(caught.result).toMatch(/^denied by policy \(network\.domain\)/);
    const none = await run(page, 'import sandbox\ntry:\n    sandbox.read_file("./workspace/hello.txt")\nexcept sandbox.CapabilityError as e:\n    r = str(e)\nr');
    expect(none.result).toMatch(/not available/);
    // What one synchronous (JSPI) request costs the program, host answer included.
    const timed = await run(page, 'import sandbox, time\nt = time.perf_counter()\nfor _ in range(50):\n    sandbox.read_file("./workspace/hello.txt")\n(time.perf_counter() - t) / 50 * 1000', { capabilities: true });
    measured['capabilityRoundTripMs'] = Math.round((timed.result as number) * 100) / 100;
    // The same, in a warm interpreter of a key.
    expect((await run(page, 'import sandbox\nsandbox.read_file("./workspace/a.txt")', { capabilities: true, isolationKey: 'agent-a' })).result).toBe('héllo');
  }, 60_000);

  it('keeps every escape inside the frame: the loopback recorder sees no request', async () => {
    const R = recorder.url;
    const escapes: Record<string, string> = {
      importJs: 'import js\n[name for name in ("fetch", "self", "document", "location", "indexedDB", "XMLHttpRequest", "WebSocket", "postMessage") if hasattr(js, name)]',
      fromJsFetch: 'from js import fetch\nawait fetch(R + "from-js-fetch")',
      pyfetch: 'import pyodide.http\nawait pyodide.http.pyfetch(R + "pyfetch")',
      xhr: 'import js\nx = js.XMLHttpRequest.new()\nx.open("GET", R + "xhr", False)\nx.send()\nx.responseText',
      locationHref: 'import js\njs.location.href = R + "location"\nstr(js.location.href)',
      windowOpen: 'import js\njs.open(R + "open")',
      indexedDB: 'import js\njs.indexedDB.open("stolen")',
      cookie: 'import js\njs.document.cookie',
      functionCtor: 'import pyodide_js\npyodide_js.runPython.constructor("return fetch(\'" + R + "ctor\')")()',
      loadPackage: 'import pyodide_js\nawait pyodide_js.loadPackage(R + "pkg-0.1-py3-none-any.whl")',
      etcPasswd: 'open("/etc/passwd").read()',
      osSystem: 'import os\nos.system("curl " + R + "system")',
      ctypes: 'import ctypes\nrepr(ctypes.CDLL(None))',
      subprocess: 'import subprocess\nsubprocess.run(["curl", R + "subprocess"])',
      urllib: 'import urllib.request\nurllib.request.urlopen(R + "urllib").read()',
      socket: 'import socket\nhost, port = R[7:-1].split(":")\nsocket.create_connection((host, int(port)), timeout=1)',
    };
    // The worker's real global object as `js` (guestGlobals: 'worker'): the boundary must hold without hiding it.
    const onGlobal: Record<string, string> = {
      fetch: 'import js\nawait js.fetch(R + "fetch")',
      xhr: escapes['xhr']!,
      webSocket: 'import js, asyncio\nws = js.WebSocket.new(R.replace("http", "ws") + "ws")\nawait asyncio.sleep(0.3)\nws.readyState',
      eventSource: 'import js, asyncio\nes = js.EventSource.new(R + "sse")\nawait asyncio.sleep(0.3)\nes.readyState',
      sendBeacon: 'import js\njs.navigator.sendBeacon(R + "beacon", "x")',
      importScripts: 'import js\njs.importScripts(R + "script.js")',
      worker: 'import js\njs.Worker.new(R + "worker.js")',
      locationHref: escapes['locationHref']!,
      open: escapes['windowOpen']!,
      indexedDB: escapes['indexedDB']!,
      caches: 'import js\nawait js.caches.open("stolen")',
      cookie: escapes['cookie']!,
      functionCtor: escapes['functionCtor']!,
      loadPackage: escapes['loadPackage']!,
      postToParent: 'import js\njs.postMessage("kill")\n"posted"',
    };
    await makeRuntime(page, 'pyGlobal', { guestGlobals: 'worker' });
    const results: Record<string, string> = {};
    for (const [name, code] of Object.entries(escapes)) {
      const outcome = await run(page, `R = ${JSON.stringify(R)}\n${code}`, { timeoutMs: 5000 });
      results[`guest.${name}`] = outcome.ok ? `ok ${JSON.stringify(outcome.result)}` : `${outcome.error!.code} ${String(outcome.error!.details?.['name'] ?? '')}: ${outcome.error!.message.split('\n').filter(Boolean).at(-1)}`;
    }
    for (const [name, code] of Object.entries(onGlobal)) {
      const outcome = await run(page, `R = ${JSON.stringify(R)}\n${code}`, { timeoutMs: 5000, runtime: 'pyGlobal' });
      results[`global.${name}`] = outcome.ok ? `ok ${JSON.stringify(outcome.result)}` : `${outcome.error!.code} ${String(outcome.error!.details?.['name'] ?? '')}: ${outcome.error!.message.split('\n').filter(Boolean).at(-1)}`;
    }
    await settle(1000);
    console.log(`escape attempts:\n${Object.entries(results).map(([k, v]) => `  ${k}: ${v}`).join('\n')}`);
    expect(recorder.hits).toEqual([]);
    // What did run found nothing of the origin's: no globals, no files, no storage.
    expect(results['guest.importJs']).toBe('ok []');
    expect(results['guest.etcPasswd']).toMatch(/FileNotFoundError/);
    expect(results['global.indexedDB']).toMatch(/SecurityError|denied/i);
    expect(results['global.caches']).toMatch(/SecurityError|denied|AttributeError/i);
    expect(results['global.fetch']).toMatch(/tool-error/);
    expect(results['global.functionCtor']).toMatch(/EvalError|Content Security Policy/);
    expect(results['global.postToParent']).toBe('ok "posted"');
    expect((await run(page, '"both runtimes still serve"', { runtime: 'pyGlobal' })).ok).toBe(true);
  }, 120_000);

  it('the frame itself is sandboxed: an opaque origin that can neither navigate away nor reach the network', async () => {
    const R = recorder.url;
    const frame = page.frames().find((f) => f.url().endsWith('/python-frame.html'));
    expect(frame).toBeTruthy();
    // Evaluated by the test harness in the frame's document (no program can run there): each
    // way out, tried with the frame's own privileges.
    const tried = await frame!.evaluate(async (R) => {
      const out: Record<string, string> = {};
      const attempt = async (name: string, f: () => unknown) => {
        try {
          out[name] = `ok ${String(await f())}`;
        } catch (error) {
          out[name] = `blocked ${(error as Error).name}`;
        }
      };
      out['origin'] = self.origin;
      await attempt('top.location', () => (top!.location.href = R + 'top'));
      await attempt('open', () => window.open(R + 'open'));
      await attempt('fetch', () => fetch(R + 'fetch'));
      await attempt('sendBeacon', () => navigator.sendBeacon(R + 'beacon', 'x'));
      await attempt('cookie', () => document.cookie);
      await attempt('localStorage', () => localStorage.length);
      await attempt('indexedDB', () => indexedDB.open('x'));
      await attempt('form', () => {
        const form = document.createElement('form');
        form.action = R + 'form';
        form.method = 'POST';
        document.body.append(form);
        form.submit();
        return 'submitted';
      });
      await attempt('anchor', () => {
        const a = document.createElement('a');
        a.href = R + 'anchor';
        a.target = '_blank';
        document.body.append(a);
        a.click();
        return 'clicked';
      });
      await attempt('webSocket', () => new WebSocket(R.replace('http', 'ws') + 'ws').readyState);
      return out;
    }, R);
    // A string: the test runner's transform would rewrite import() in a function.
    tried['import'] = await frame!.evaluate(`import(${JSON.stringify(R + 'module.js')}).then(() => 'ok', (e) => 'blocked ' + e.name)`);
    await settle(1000);
    console.log(`frame document: ${JSON.stringify(tried)}`);
    expect(tried['origin']).toBe('null');
    expect(tried['cookie']).toMatch(/blocked SecurityError/);
    expect(tried['localStorage']).toMatch(/blocked SecurityError/);
    expect(recorder.hits).toEqual([]);
    // The frame is still there and working.
    expect((await run(page, '"frame intact"')).result).toBe('frame intact');
  }, 60_000);

  it('a foreign URL cannot be loaded into the frame, not even by the frame itself', async () => {
    const before = new Set(page.frames());
    await makeRuntime(page, 'pyNav');
    expect((await run(page, '1', { runtime: 'pyNav' })).result).toBe(1);
    const own = page.frames().find((f) => !before.has(f) && f.url().endsWith('/python-frame.html'));
    expect(own).toBeTruthy();
    // Self-navigation is allowed by the sandbox; the app's CSP (frame-src 'self') refuses the URL.
    await own!.evaluate((url) => void (location.href = url), `${recorder.url}self-navigation`).catch(() => undefined);
    await settle(1500);
    expect(recorder.hits).toEqual([]);
    await page.evaluate(() => (window as unknown as { pyNav: { dispose(): void } }).pyNav.dispose());
  }, 60_000);

  it('keeps the stored snapshot: after a reload the first call restores from it', async () => {
    await page.reload();
    await page.waitForFunction(() => 'sandboxHost' in window);
    await makeRuntime(page, 'py');
    const first = await run(page, '"restored"');
    measured['coldFirstCallWithSnapshotMs'] = Math.round(first.elapsedMs);
    expect(first.result).toBe('restored');
    const stages = await page.evaluate(() => (window as unknown as { stages: Record<string, string[]> }).stages['py']);
    expect(stages).not.toContain('booting');
    Object.assign(measured, Object.fromEntries(Object.entries(await timings(page)).map(([k, v]) => [`reload.${k}`, Math.round(v)])));
    expect(first.elapsedMs).toBeLessThan(5000);
  }, 120_000);

  it('measures warm calls (p50 of 50) with and without an isolation key', async () => {
    await run(page, '1', { isolationKey: 'bench' });
    const keyed: number[] = [];
    for (let i = 0; i < 50; i++) keyed.push((await run(page, 'sum(input)', { input: [i, 1, 2], isolationKey: 'bench' })).elapsedMs);
    measured['warmKeyedBackToBackP50Ms'] = Math.round(p50(keyed) * 100) / 100;
    measured['warmKeyedMaxMs'] = Math.round(Math.max(...keyed));
    // Calls of an agent come seconds apart (a model answers in between): then the reset of the
    // last run is done before the next arrives.
    const spacedKeyed: number[] = [];
    for (let i = 0; i < 50; i++) {
      await settle(40);
      spacedKeyed.push((await run(page, 'sum(input)', { input: [i, 1, 2], isolationKey: 'bench' })).elapsedMs);
    }
    measured['warmKeyedSpacedP50Ms'] = Math.round(p50(spacedKeyed) * 100) / 100;
    const last = await stats(page);
    measured['warmKeyed.lastRunInWorkerMs'] = Math.round(last.lastRunMs * 100) / 100;
    measured['warmKeyed.lastResetMs'] = Math.round(last.lastResetMs * 100) / 100;
    // Without a key each call takes the spare interpreter and a new one boots behind it.
    const spaced: number[] = [];
    for (let i = 0; i < 5; i++) {
      await settle(1500);
      spaced.push((await run(page, 'sum(input)', { input: [i] })).elapsedMs);
    }
    measured['keylessSpacedP50Ms'] = Math.round(p50(spaced) * 100) / 100;
    const backToBack: number[] = [];
    for (let i = 0; i < 5; i++) backToBack.push((await run(page, 'sum(input)', { input: [i] })).elapsedMs);
    measured['keylessBackToBackP50Ms'] = Math.round(p50(backToBack));
    expect(p50(spacedKeyed)).toBeLessThan(25);
  }, 120_000);
});

describe('execute_code in Python where the app is cross-origin isolated', () => {
  let proxy: Awaited<ReturnType<typeof startIsolatingProxy>>;
  let isolatedContext: BrowserContext;
  let isolatedPage: Page;

  beforeAll(async () => {
    proxy = await startIsolatingProxy(baseUrl());
    isolatedContext = await browser.newContext();
    isolatedPage = await isolatedContext.newPage();
    await isolatedPage.goto(proxy.url);
    await isolatedPage.waitForFunction(() => 'sandboxHost' in window, null, { timeout: 60_000 });
    await isolatedPage.evaluate(async () => {
      await navigator.serviceWorker.ready;
      if (!navigator.serviceWorker.controller) await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
    });
  }, 120_000);

  afterAll(async () => {
    await isolatedContext?.close();
    await proxy?.close();
  });

  it('interrupts a program at its deadline and keeps the warm interpreter of its key', async () => {
    expect(await isolatedPage.evaluate(() => crossOriginIsolated)).toBe(true);
    await makeRuntime(isolatedPage, 'py');
    expect(await isolatedPage.evaluate(() => (window as unknown as { py: { isolated(): Promise<boolean> } }).py.isolated())).toBe(true);
    expect((await run(isolatedPage, '1', { isolationKey: 'k' })).result).toBe(1);
    await settle(2000);
    const before = await stats(isolatedPage);
    const spin = await run(isolatedPage, 'n = 0\nwhile True:\n    n += 1', { timeoutMs: 300, isolationKey: 'k' });
    expect(spin.error?.code).toBe('timeout');
    expect(spin.elapsedMs).toBeLessThan(400);
    measured['isolated.timeoutAnsweredAfterMs'] = Math.round(spin.elapsedMs);
    const next = await run(isolatedPage, '"interrupted, not replaced"', { isolationKey: 'k' });
    measured['isolated.nextCallAfterTimeoutMs'] = Math.round(next.elapsedMs);
    expect(next.result).toBe('interrupted, not replaced');
    expect((await stats(isolatedPage)).boots).toBe(before.boots);
    // What the interrupted program left is gone too.
    expect((await run(isolatedPage, '"n" in globals()', { isolationKey: 'k' })).result).toBe(false);
    expect(recorder.hits).toEqual([]);
  }, 240_000);
});

describe('execute_code in Python without a network', () => {
  it('runs Python from the precache (frame, files, snapshot made offline) after the server is gone', async () => {
    const { server, url } = (await startServer({ root: fileURLToPath(new URL('../../dist/', import.meta.url)), port: 0 })) as { server: Server; url: string };
    const offlineContext = await browser.newContext();
    try {
      const offlinePage = await offlineContext.newPage();
      await offlinePage.goto(url);
      await offlinePage.waitForFunction(() => 'sandboxHost' in window, null, { timeout: 60_000 });
      await offlinePage.evaluate(async () => {
        await navigator.serviceWorker.ready;
        if (!navigator.serviceWorker.controller) await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
      });
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      expect(await fetch(url).then(() => 'reachable', () => 'unreachable')).toBe('unreachable');
      await offlinePage.reload();
      await offlinePage.waitForFunction(() => 'sandboxHost' in window, null, { timeout: 60_000 });
      await makeRuntime(offlinePage, 'py');
      const outcome = await run(offlinePage, 'import json\njson.dumps({"offline": True})');
      expect(outcome.error).toBeUndefined();
      expect(outcome.result).toBe('{"offline": true}');
    } finally {
      await offlineContext.close();
      if (server.listening) await new Promise<void>((r) => server.close(() => r()));
    }
  }, 180_000);
});
