// The JavaScript runner of execute_code (QuickJS) in Node, driven as the tool worker drives it:
// a module compiled here with the memory cap written in (as the host's ModuleCache does), and a
// capability port answered by a fake host. The browser path end to end: test/browser/execute-code-js.test.ts.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OUTPUT_LIMITS, codeOutputJson, OutputBuffer, parseCodeArgs, type ExecuteCodeOutput } from '../../src/shared/execute-code';
import type { CapabilityReply, CapabilityRequest } from '../../src/shared/wire';
import { capMemory } from '../../src/sandbox/memory-limit';
import type { ScriptJob, WorkerOutcome } from '../../src/sandbox/protocol';
import { runJavaScript } from '../../src/sandbox/worker/javascript-runner';
import { createToolRunner } from '../../src/sandbox/worker/tool-runner';

const MIB = 1024 * 1024;
const CAP = 64 * MIB;
let wasm: Uint8Array;
const compiled = new Map<number, WebAssembly.Module>();

beforeAll(async () => {
  wasm = await readFile(createRequire(import.meta.url).resolve('@jitl/quickjs-wasmfile-release-sync/wasm'));
});

function moduleFor(cap: number): WebAssembly.Module {
  let module = compiled.get(cap);
  if (!module) {
    module = new WebAssembly.Module(capMemory(wasm, cap) as Uint8Array<ArrayBuffer>);
    compiled.set(cap, module);
  }
  return module;
}

type Answer = (request: CapabilityRequest) => CapabilityReply | Promise<CapabilityReply>;
const ports: MessagePort[] = [];
afterEach(() => {
  for (const p of ports.splice(0)) p.close();
});

/** Runs a program; `answer` plays the host (and the service worker) for its sandbox requests. */
async function run(source: string, options: { input?: unknown; timeoutMs?: number; cap?: number; answer?: Answer; limits?: ScriptJob['outputLimits'] } = {}): Promise<WorkerOutcome> {
  const cap = options.cap ?? CAP;
  let capabilities: MessagePort | undefined;
  if (options.answer) {
    const channel = new MessageChannel();
    ports.push(channel.port1, channel.port2);
    const answer = options.answer;
    channel.port1.onmessage = async (event: MessageEvent<CapabilityRequest>) => {
      const reply = await answer(event.data);
      channel.port1.postMessage({ ...reply, id: event.data.id });
    };
    capabilities = channel.port2;
  }
  return runJavaScript(scriptJob(source, { ...options, cap, ...(capabilities ? { capabilities } : {}) }));
}

function scriptJob(source: string, options: { input?: unknown; timeoutMs?: number; cap?: number; limits?: ScriptJob['outputLimits']; capabilities?: MessagePort } = {}): ScriptJob {
  const cap = options.cap ?? CAP;
  return {
    kind: 'javascript',
    modules: { 'quickjs.wasm': moduleFor(cap) },
    moduleKey: `test|${cap}`,
    memoryBytes: cap,
    source,
    inputJson: JSON.stringify(options.input ?? null),
    timeoutMs: options.timeoutMs ?? 2000,
    outputLimits: options.limits ?? OUTPUT_LIMITS,
    ...(options.capabilities ? { capabilities: options.capabilities } : {}),
  };
}

function ok(outcome: WorkerOutcome): ExecuteCodeOutput {
  if (!outcome.ok) throw new Error(`expected success, got ${outcome.error.code}: ${outcome.error.message}`);
  return JSON.parse(outcome.output) as ExecuteCodeOutput;
}
function failed(outcome: WorkerOutcome) {
  if (outcome.ok) throw new Error(`expected a failure, got ${outcome.output}`);
  return outcome.error;
}

describe('results and output', () => {
  it('returns the last expression, what was printed, the time and the memory', async () => {
    const out = ok(await run('console.log("hello", 1, {a: [2]}); console.error("oops"); const x = 6; x * 7'));
    expect(out).toMatchObject({ result: 42, stdout: 'hello 1 {"a":[2]}\n', stderr: 'oops\n' });
    expect(out.durationMs).toBeGreaterThan(0);
    expect(out.memoryBytes).toBeGreaterThanOrEqual(16 * MIB);
    expect(out.truncated).toBeUndefined();
  });

  it('gives the program its input, and JSON results as JSON', async () => {
    expect(ok(await run('({ doubled: input.n * 2, names: input.names.map((s) => s.toUpperCase()) })', { input: { n: 21, names: ['a'] } })).result).toEqual({ doubled: 42, names: ['A'] });
    expect(ok(await run('input')).result).toBeNull();
  });

  it('allows top-level await, awaits a promise the program ends with, and runs import/export code as a module', async () => {
    expect(ok(await run('const a = await Promise.resolve(2);\nconsole.log("a is", a);\na * 50')).result).toBe(100);
    expect(ok(await run('try { await Promise.reject(new Error("e")) } catch (e) { e.message }')).result).toBe('e');
    expect(ok(await run('(async () => { await null; return "later" })()')).result).toBe('later');
    expect(ok(await run('const a = await Promise.resolve(2);\nconst b = a;')).result).toBeNull();
    // A module's result is its default export.
    expect(ok(await run('const a = await Promise.resolve(20);\nexport default a + 1;')).result).toBe(21);
    expect(ok(await run('export const named = 1;')).result).toBeNull();
  });

  it('gives values JSON cannot carry as their string form, and undefined as null', async () => {
    expect(ok(await run('10n ** 20n')).result).toBe('100000000000000000000');
    expect(ok(await run('(function named() {})')).result).toBe('function named() {}');
    expect(ok(await run('new Error("as a value")')).result).toBe('Error: as a value');
    expect(ok(await run('const o = {}; o.self = o; o')).result).toBe('[object Object]');
    expect(ok(await run('undefined')).result).toBeNull();
    expect(ok(await run('let nothing;')).result).toBeNull();
  });

  it('answers the program\'s own uncaught error as tool-error with its stack and what it printed', async () => {
    const error = failed(await run('console.log("before");\nfunction f() { throw new TypeError("bad thing") }\nf()'));
    expect(error.code).toBe('tool-error');
    expect(error.message).toMatch(/^Uncaught TypeError: bad thing\n.*at f \(main\.js:2/s);
    expect(error.details).toMatchObject({ name: 'TypeError', errorMessage: 'bad thing', stdout: 'before\n' });
    expect(failed(await run('throw 42')).message).toBe('Uncaught 42');
    expect(failed(await run('await Promise.reject(new RangeError("no"))')).message).toMatch(/^Uncaught RangeError: no/);
    const syntax = failed(await run('let = = 1'));
    expect(syntax.code).toBe('tool-error');
    expect(syntax.message).toMatch(/^Uncaught SyntaxError/);
  });

  it('says so when the program awaits what can never happen', async () => {
    const error = failed(await run('await new Promise(() => {}); 1'));
    expect(error).toMatchObject({ code: 'tool-error', details: { reason: 'never-settles' } });
  });

  it('cuts stdout, stderr and the result at their limits and says which', async () => {
    const limits = { stdoutChars: 10, stderrChars: 5, resultChars: 8 };
    const out = ok(await run('console.log("0123456789abc"); console.log("more"); console.error("eeeeeeee"); "x".repeat(100)', { limits }));
    expect(out.stdout).toBe('0123456789');
    expect(out.stderr).toBe('eeeee');
    expect(out.result).toBe('"xxxxxxx');
    expect(out.truncated).toEqual(['result', 'stdout', 'stderr']);
  });
});

describe('isolation between runs', () => {
  it('starts every run from a fresh context', async () => {
    ok(await run('globalThis.leak = "from run 1"; Object.prototype.poisoned = true; Array.prototype.map = () => "hijacked"; JSON.stringify = () => "x"; 1'));
    const out = ok(await run('[typeof leak, typeof ({}).poisoned, [1, 2].map((x) => x * 2), JSON.stringify({ a: 1 })]'));
    expect(out.result).toEqual(['undefined', 'undefined', [2, 4], '{"a":1}']);
  });

  it('offers nothing of the host: no fetch, no XHR, no WebAssembly, no module loading, no worker globals', async () => {
    const probe = `
      const g = Function('return this')();
      const h = ({}).constructor.constructor('return this')();
      const names = ['fetch', 'XMLHttpRequest', 'WebAssembly', 'importScripts', 'postMessage', 'self', 'location', 'navigator', 'Worker', 'setTimeout', 'process', 'require', 'Deno', 'caches', 'indexedDB', 'Atomics'];
      const imported = await import('http://127.0.0.1:9/x.js').then(() => 'loaded', (e) => String(e));
      export default { same: g === globalThis && h === globalThis, found: names.filter((n) => n in g || typeof globalThis[n] !== 'undefined'), evalSees: eval('typeof fetch'), imported };
    `;
    const out = ok(await run(probe));
    expect(out.result).toEqual({ same: true, found: [], evalSees: 'undefined', imported: expect.stringMatching(/could not load module/) });
  });
});

describe('limits', () => {
  it('stops an endless loop at its deadline as a timeout, and serves the next run at once', async () => {
    const t0 = performance.now();
    const error = failed(await run('while (true) {}', { timeoutMs: 300 }));
    const elapsed = performance.now() - t0;
    expect(error).toMatchObject({ code: 'timeout', details: { limitMs: 300 } });
    expect(elapsed).toBeGreaterThanOrEqual(300);
    expect(elapsed).toBeLessThan(600);
    const t1 = performance.now();
    expect(ok(await run('1 + 1')).result).toBe(2);
    expect(performance.now() - t1).toBeLessThan(200);
  });

  it('cannot catch the interrupt', async () => {
    expect(failed(await run('for (;;) { try { while (true) {} } catch (e) { } }', { timeoutMs: 200 })).code).toBe('timeout');
  });

  it('stops catastrophic regular-expression backtracking as a timeout', async () => {
    expect(failed(await run("/(a+)+$/.test('a'.repeat(40) + 'b')", { timeoutMs: 300 })).code).toBe('timeout');
  });

  it('answers a timeout while the program waits for the host', async () => {
    const error = failed(await run('await sandbox.readFile("./workspace/slow.txt")', { timeoutMs: 200, answer: () => new Promise(() => {}) }));
    expect(error.code).toBe('timeout');
  });

  it('has no Atomics to block on', async () => {
    const error = failed(await run('Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)'));
    expect(error.message).toMatch(/Atomics.*not defined/);
  });

  it('stops deep recursion as a stack overflow, and the next run is fine', async () => {
    const error = failed(await run('function f(n) { return f(n + 1) + 1 } f(0)'));
    expect(error).toMatchObject({ code: 'trap', details: { reason: 'stack-overflow' } });
    expect(ok(await run('[1, 2, 3].length')).result).toBe(3);
  });

  it('stops memory growth at the cap as memory-limit (typed arrays, strings, objects), and the next run is fine', async () => {
    for (const program of [
      'new Uint8Array(1 << 30).length',
      "'x'.repeat(2 ** 30 - 2).length",
      "const s = 'x'.repeat(1 << 20), parts = []; for (;;) parts.push(s + parts.length)",
      'const a = []; for (;;) a.push(new ArrayBuffer(1 << 20))',
    ]) {
      const error = failed(await run(program, { timeoutMs: 5000 }));
      expect(error.code, program).toBe('memory-limit');
      expect(error.details).toMatchObject({ limitBytes: CAP });
      expect(ok(await run('"fine"')).result).toBe('fine');
    }
  });

  it('refuses a memory cap the interpreter cannot start in', async () => {
    expect(() => capMemory(wasm, 8 * MIB)).toThrow(/memory at start/);
  });
});

describe('the interpreter kept warm between jobs, and the memory it holds', () => {
  // What the pool counts in its budget (worker-pool.ts): `heldBytes`, the memory the worker still
  // holds once the job is done; and the worker drops it for any other job and on `discard`.
  // A run that grows memory (kept: under 64 MiB) shows which interpreter the next run got.
  const grow = "let s = 'x'.repeat(24 * 1024 * 1024); s.length";
  const grown = 28 * MIB;

  it('says what the worker holds after a run: the interpreter kept, at its size', async () => {
    const runner = createToolRunner(() => undefined);
    const first = await runner.run(scriptJob(grow));
    expect(ok(first).result).toBe(24 * MIB);
    expect(first.heldBytes).toBeGreaterThanOrEqual(grown);
    expect(first.heldBytes).toBeLessThanOrEqual(64 * MIB);
    // The same interpreter serves the next run: its memory did not shrink.
    const next = await runner.run(scriptJob('1'));
    expect(ok(next).memoryBytes).toBe(first.heldBytes);
    expect(next.heldBytes).toBe(first.heldBytes);
  });

  it('drops it on discard, and for a job of a tool', async () => {
    const runner = createToolRunner(() => undefined);
    await runner.run(scriptJob(grow));
    runner.discard();
    expect(ok(await runner.run(scriptJob('1'))).memoryBytes).toBeLessThan(grown);
    await runner.run(scriptJob(grow));
    // A tool's job (its glue cannot load here: no worker scope) still drops the interpreter.
    const tool = await runner.run({ glueUrl: '/tools/none.js', modules: {}, moduleKey: 'none', entry: 'call', args: '{}', memoryBytes: 16 * MIB });
    expect(tool).toMatchObject({ ok: false, error: { code: 'load-failed' } });
    expect(ok(await runner.run(scriptJob('1'))).memoryBytes).toBeLessThan(grown);
  });

  it('holds a new interpreter at its starting size where the last one was dropped after a run', async () => {
    const runner = createToolRunner(() => undefined);
    // Past the cap: memory-limit, and the interpreter is not kept (a new one is started).
    const capped = await runner.run(scriptJob("let a = []; for (;;) a.push('y'.repeat(1 << 20) + a.length)", { cap: 32 * MIB }));
    expect(capped).toMatchObject({ ok: false, error: { code: 'memory-limit' }, heldBytes: 16 * MIB });
  });
});

describe('sandbox.* through the capability port', () => {
  const files: Record<string, string> = { './workspace/a.txt': 'alpha' };
  const answer: Answer = (request) => {
    const { id, fn, args } = request;
    const path = String(args['path'] ?? '');
    if (fn !== 'http-fetch' && !path.startsWith('./workspace/') && path !== './workspace') return { id, ok: false, error: 'denied by policy (file.pattern): outside ./workspace' };
    switch (fn) {
      case 'read-file':
        return path in files ? { id, ok: true, value: files[path] } : { id, ok: false, error: `no file ${path}` };
      case 'write-file':
        files[path] = String(args['contents']);
        return { id, ok: true, value: String(args['contents']).length };
      case 'list-directory':
        return { id, ok: true, value: Object.keys(files).map((f) => f.slice('./workspace/'.length)) };
      case 'stat':
        return { id, ok: true, value: JSON.stringify({ size: files[path]?.length ?? 0, isDirectory: false, modifiedMs: 1 }) };
      case 'http-fetch': {
        const req = JSON.parse(String(args['request'])) as { url: string; method: string; headers: Record<string, string>; body?: string };
        return { id, ok: true, value: JSON.stringify({ status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ echoed: req }) }) };
      }
      default:
        return { id, ok: false, error: 'no' };
    }
  };

  it('reads, writes, lists and stats files, and fetches', async () => {
    const out = ok(
      await run(
        `const before = await sandbox.readFile('./workspace/a.txt');
        const written = await sandbox.writeFile('./workspace/b.txt', before + '!');
        const [list, stat, res] = await Promise.all([sandbox.listDirectory('./workspace'), sandbox.stat('./workspace/b.txt'), sandbox.fetch('https://api.example/x', { method: 'post', headers: { 'x-a': 1 }, body: 'hi' })]);
        export default { before, written, list, stat, status: res.status, ok: res.ok, echoed: (await res.json()).echoed };`,
        { answer },
      ),
    );
    expect(out.result).toEqual({
      before: 'alpha',
      written: 6,
      list: ['a.txt', 'b.txt'],
      stat: { size: 6, isDirectory: false, modifiedMs: 1 },
      status: 200,
      ok: true,
      echoed: { method: 'POST', url: 'https://api.example/x', headers: { 'x-a': '1' }, body: 'hi' },
    });
  });

  it('rejects a denied request with the policy\'s message, which the program may catch or not', async () => {
    const caught = ok(await run(`try { await sandbox.readFile('./secrets/key') } catch (e) { e.message }`, { answer }));
    expect(caught.result).toBe('denied by policy (file.pattern): outside ./workspace');
    const uncaught = failed(await run(`await sandbox.readFile('./secrets/key')`, { answer }));
    expect(uncaught.code).toBe('tool-error');
    expect(uncaught.message).toContain('denied by policy (file.pattern)');
  });

  it('finishes a request the program did not await before the run ends', async () => {
    ok(await run(`sandbox.writeFile('./workspace/later.txt', 'done'); 'returned first'`, { answer }));
    expect(files['./workspace/later.txt']).toBe('done');
  });

  it('fails every request when the call has no capabilities', async () => {
    const out = ok(await run(`try { await sandbox.readFile('./workspace/a.txt') } catch (e) { e.message }`));
    expect(out.result).toBe('read-file is not available in this sandbox');
  });

  it('limits requests in flight', async () => {
    const out = ok(await run(`const r = await Promise.allSettled(Array.from({ length: 40 }, () => sandbox.readFile('./workspace/a.txt'))); r.filter((x) => x.status === 'rejected').length`, { answer }));
    expect(out.result).toBe(8);
  });

  it('refuses a value the interpreter has no room for as memory-limit', async () => {
    const big = 'y'.repeat(40 * MIB);
    const error = failed(await run(`await sandbox.readFile('./workspace/big.txt')`, { cap: 32 * MIB, answer: ({ id }) => ({ id, ok: true, value: big }) }));
    expect(error.code).toBe('memory-limit');
    expect(ok(await run('"after"', { cap: 32 * MIB })).result).toBe('after');
  });
});

describe('pieces', () => {
  it('checks the arguments again in the host', () => {
    expect(parseCodeArgs('{"language":"javascript","code":"1","input":{"a":1},"timeoutMs":5}')).toEqual({ ok: true, args: { language: 'javascript', code: '1', input: { a: 1 }, timeoutMs: 5 } });
    expect(parseCodeArgs('{"language":"javascript","code":""}')).toMatchObject({ ok: false });
    expect(parseCodeArgs('{"language":"javascript","code":"1","timeoutMs":0.5}')).toMatchObject({ ok: false });
    expect(parseCodeArgs('[]')).toMatchObject({ ok: false });
  });

  it('writes the output JSON with the result as given', () => {
    const stdout = new OutputBuffer(4);
    stdout.push('abcdef');
    const text = codeOutputJson({ resultJson: '{"a":1}', stdout, stderr: new OutputBuffer(4), durationMs: 1.23456, memoryBytes: 7 });
    expect(JSON.parse(text)).toEqual({ result: { a: 1 }, stdout: 'abcd', stderr: '', durationMs: 1.235, memoryBytes: 7, truncated: ['stdout'] });
  });
});
