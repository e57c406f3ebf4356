import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import csp from '../../src/shared/csp.json';
import { cspFor } from '../../src/server/worker-csp';
import { FRAME_SCRIPT, PYTHON_FRAME_CHANNEL, frameDocument } from '../../src/sandbox/host/python/frame-document';
import { PythonCodeRuntime, type PythonRunner } from '../../src/sandbox/host/python/code-runtime';
import type { PythonOutcome } from '../../src/sandbox/host/python/types';
import { OUTPUT_LIMITS } from '../../src/shared/execute-code';
import type { CodeJob } from '../../src/sandbox/host/code-runtime';

const directives = (policy: string) => new Map(policy.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name!, values]));

describe('the Python frame document and its CSP', () => {
  const policy = directives(csp.pythonFrame);

  it('allows exactly its inline script, by hash', () => {
    const hash = `'sha256-${createHash('sha256').update(FRAME_SCRIPT).digest('base64')}'`;
    expect(policy.get('script-src')).toEqual([hash, "'wasm-unsafe-eval'"]);
    expect(frameDocument()).toContain(`<script>${FRAME_SCRIPT}</script>`);
    expect(frameDocument().match(/<script/g)).toHaveLength(1);
    expect(FRAME_SCRIPT).toContain(PYTHON_FRAME_CHANNEL);
  });

  it('sandboxes the document to an opaque origin with scripts only', () => {
    expect(policy.get('sandbox')).toEqual(['allow-scripts']);
  });

  it('blocks every request, navigation target and form; workers only from blob:', () => {
    expect(policy.get('default-src')).toEqual(["'none'"]);
    expect(policy.get('connect-src')).toEqual(["'none'"]);
    expect(policy.get('frame-src')).toEqual(["'none'"]);
    expect(policy.get('form-action')).toEqual(["'none'"]);
    expect(policy.get('base-uri')).toEqual(["'none'"]);
    expect(policy.get('worker-src')).toEqual(['blob:']);
    expect(policy.get('frame-ancestors')).toEqual(["'self'"]);
    expect(csp.pythonFrame).not.toMatch(/ 'unsafe-eval'| 'unsafe-inline'| \*|https?:|data:/);
  });

  it('is the policy the service worker puts on the frame, and only on it', () => {
    const scope = 'http://127.0.0.1:4173/';
    expect(cspFor(new Request(`${scope}${csp.pythonFramePath}`), scope)).toBe(csp.pythonFrame);
    expect(cspFor(new Request(`${scope}index.html`), scope)).toBeNull();
    expect(cspFor(new Request(`http://127.0.0.1:9/${csp.pythonFramePath}`), scope)).toBeNull();
  });

  it('pins the Pyodide version the runtime was measured with', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../node_modules/pyodide/package.json', import.meta.url), 'utf8')) as { version: string };
    const ours = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
    expect(ours.dependencies['pyodide']).toBe(pkg.version);
  });
});

describe('PythonCodeRuntime (the CodeRuntime execute_code calls)', () => {
  const job: CodeJob = {
    callId: 'c1',
    language: 'python',
    code: '1+1',
    inputJson: '{"a":1}',
    timeoutMs: 500,
    memoryBytes: 64 * 1024 * 1024,
    runtimeCode: { hash: 'h', glueUrl: 'builtin:execute-code', coreModules: {} },
    outputLimits: OUTPUT_LIMITS,
  };
  const fake = (outcome: PythonOutcome, seen: unknown[] = []) => ({ run: async (j: unknown) => (seen.push(j), outcome) }) as unknown as PythonRunner;

  it('hands the job over and answers with the tool output JSON', async () => {
    const seen: unknown[] = [];
    const runtime = new PythonCodeRuntime(fake({ ok: true, result: { x: [1] }, resultJson: '{"x":[1]}', stdout: 'hi\n', stderr: '', durationMs: 1.23456, memoryBytes: 100, truncated: ['stdout'] }, seen));
    const result = await runtime.run({ ...job, isolationKey: 'agent-1' } as CodeJob);
    expect(seen[0]).toMatchObject({ code: '1+1', inputJson: '{"a":1}', timeoutMs: 500, memoryBytes: 64 * 1024 * 1024, callId: 'c1', isolationKey: 'agent-1' });
    expect(result.ok).toBe(true);
    expect(JSON.parse((result as { output: string }).output)).toEqual({ result: { x: [1] }, stdout: 'hi\n', stderr: '', durationMs: 1.235, memoryBytes: 100, truncated: ['stdout'] });
  });

  it('passes a typed failure through', async () => {
    const runtime = new PythonCodeRuntime(fake({ ok: false, error: { code: 'timeout', message: 'm', details: { limitMs: 500 } }, stdout: '', stderr: '', durationMs: 500, memoryBytes: 5, truncated: [] }));
    expect(await runtime.run(job)).toEqual({ ok: false, error: { code: 'timeout', message: 'm', details: { limitMs: 500 } }, durationMs: 500, memoryBytes: 5 });
  });
});
