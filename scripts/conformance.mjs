#!/usr/bin/env node
// `npm run conformance`: the official MCP conformance suite (@modelcontextprotocol/conformance,
// its server scenarios) against the desktop bridge's HTTP endpoint, as a dedicated agent.
//
// 1. Builds the app if dist/ or the conformance tools are missing.
// 2. Prepares a temporary profile: registers the fixtures (the conformance bundle among them) and
//    the agent `conformance`, whose policy names each conformance tool (no other agent can reach
//    them: they are restricted, see docs/policy.md).
// 3. Starts `bridge --http` on a free loopback port as that agent.
// 4. The suite's client sends no credentials, so a loopback front adds the bridge token and
//    passes everything else through untouched (Host and Origin included: the DNS-rebinding
//    scenario meets the bridge's own checks; the bridge is told the front's host with
//    --allow-host, as a user would tell it a name it is reached by).
// 5. Runs the suite with conformance/expected-failures.yaml; exits non-zero on a failure not in
//    it, or on an entry that now passes. Prints passed/failed scenarios per class.
//
// Options: --scenario NAME (one scenario), --keep (keep the temporary folder), --verbose.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { keepAgentToken, openApp } from './bridge-app.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const AGENT = 'conformance';
const BASELINE = join(ROOT, 'conformance', 'expected-failures.yaml');
const argv = process.argv.slice(2);
const scenario = argv.includes('--scenario') ? argv[argv.indexOf('--scenario') + 1] : undefined;
const log = (text) => console.log(`[conformance] ${text}`);
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// 1. Build if needed.
const manifest = join(ROOT, 'public', 'tools', 'manifest.json');
const built = existsSync(join(ROOT, 'dist', 'sw.js')) && existsSync(join(ROOT, 'dist', 'tools', 'manifest.json')) && (await readFile(join(ROOT, 'dist', 'tools', 'manifest.json'), 'utf8')).includes('"test_simple_text"');
if (!built || !existsSync(manifest)) {
  log('building the app (npm run build)');
  const run = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
const conformanceTools = JSON.parse(await readFile(join(ROOT, 'dist', 'tools', 'manifest.json'), 'utf8')).tools.filter((t) => t.bundle === 'conformance').map((t) => t.name);

/** Distinct free ports (held open together, so the same one cannot come back twice). */
async function freePorts(n) {
  const servers = Array.from({ length: n }, () => createServer());
  await Promise.all(servers.map((s) => new Promise((r) => s.listen(0, '127.0.0.1', r))));
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

const dir = await mkdtemp(join(tmpdir(), 'mcp-conformance-'));
const profile = join(dir, 'profile');
const [appPort, bridgePort, frontPort] = await freePorts(3);
let bridge = null;
let front = null;
let exitCode = 1;
try {
  // 2. The profile: fixtures registered, the conformance agent with its policy, its token kept.
  const app = await openApp({ profile, port: appPort, executablePath });
  try {
    await app.admin('tools.seed', { fixtures: true });
    const policy = { version: 1, trustLevel: 'Trusted', tools: { allowed: conformanceTools }, session: { callsPerMinute: 1000, maxCalls: 100000, quietHours: null } };
    const made = await app.admin('agents.register', { id: AGENT, name: 'MCP conformance suite', trustLevel: 'Trusted', origins: [app.origin], policy });
    await keepAgentToken(profile, AGENT, app.origin, made.token);
  } finally {
    await app.close();
  }

  // 3. The bridge, as that agent.
  bridge = spawn(process.execPath, [join(ROOT, 'scripts', 'bridge.mjs'), 'bridge', '--http', `127.0.0.1:${bridgePort}`, '--profile', profile, '--port', String(appPort), '--agent', AGENT, '--allow-host', `127.0.0.1:${frontPort}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  const bridgeLog = [];
  await new Promise((resolve, reject) => {
    bridge.once('exit', (code) => reject(new Error(`the bridge exited (${code}):\n${bridgeLog.join('\n')}`)));
    createInterface({ input: bridge.stderr }).on('line', (line) => {
      bridgeLog.push(line);
      if (line.includes('listening on')) resolve();
    });
  });
  const token = (await readFile(join(dir, 'bridge-http.token'), 'utf8')).trim();

  // 4. The front: adds the bearer token, relays the rest as it came (streamed both ways).
  front = createServer((req, res) => {
    const headers = { ...req.headers };
    headers.authorization ??= `Bearer ${token}`;
    const out = request({ host: '127.0.0.1', port: bridgePort, method: req.method, path: req.url, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    res.on('close', () => out.destroy());
    req.pipe(out);
  });
  await new Promise((r) => front.listen(frontPort, '127.0.0.1', r));
  const url = `http://127.0.0.1:${frontPort}/mcp`;
  log(`suite → ${url} → bridge 127.0.0.1:${bridgePort} → app 127.0.0.1:${appPort} as agent ${AGENT} (${conformanceTools.length} conformance tools)`);

  // 5. The suite.
  const cli = createRequire(import.meta.url).resolve('@modelcontextprotocol/conformance/dist/index.js');
  const results = join(dir, 'results');
  const args = [cli, 'server', '--url', url, '--expected-failures', BASELINE, '-o', results, ...(scenario ? ['--scenario', scenario] : [])];
  const lines = [];
  const suite = spawn(process.execPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  createInterface({ input: suite.stdout }).on('line', (l) => lines.push(l));
  createInterface({ input: suite.stderr }).on('line', (l) => lines.push(l));
  const code = await new Promise((r) => suite.on('exit', r));
  await writeFile(join(dir, 'suite.log'), `${lines.join('\n')}\n`);
  // eslint-disable-next-line no-control-regex
  const plain = lines.map((l) => l.replace(/\x1b\[[0-9;]*m/g, ''));
  if (argv.includes('--verbose') || code !== 0) console.log(plain.join('\n'));
  // The suite's summary does not say why a check failed: its saved checks do.
  for (const entry of await readdir(results).catch(() => [])) {
    const checks = JSON.parse(await readFile(join(results, entry, 'checks.json'), 'utf8').catch(() => '[]'));
    for (const c of checks) if (c.status !== 'SUCCESS' && c.status !== 'INFO') console.log(`[conformance] ${c.status} ${c.id}: ${c.errorMessage ?? c.description}`);
  }
  exitCode = report(plain, code);
} catch (error) {
  console.error(`[conformance] ${error?.stack ?? error}`);
} finally {
  front?.close();
  front?.closeAllConnections();
  if (bridge && bridge.exitCode === null) {
    bridge.kill('SIGTERM');
    await new Promise((r) => bridge.once('exit', r));
  }
  if (argv.includes('--keep')) log(`kept ${dir}`);
  else await rm(dir, { recursive: true, force: true });
}
process.exit(exitCode);

/** Per-class scenario counts from the suite's summary; the suite's own exit code decides. */
function report(lines, code) {
  const scenarios = [];
  for (const l of lines) {
    const m = /^([✓✗]) ([\w-]+): (\d+) passed, (\d+) failed/.exec(l);
    if (m) scenarios.push({ name: m[2], ok: m[1] === '✓', checks: Number(m[3]), failedChecks: Number(m[4]) });
  }
  if (scenario && scenarios.length === 0) {
    const m = lines.map((l) => /^Passed: (\d+)\/(\d+), (\d+) failed/.exec(l)).find(Boolean);
    if (m) scenarios.push({ name: scenario, ok: m[3] === '0', checks: Number(m[1]), failedChecks: Number(m[3]) });
  }
  const expected = new Set(lines.filter((l) => /^ {2}~ /.test(l)).map((l) => l.slice(4).trim()));
  const classOf = (name) =>
    name.startsWith('tools-') ? 'tools' : name.startsWith('resources-') ? 'resources' : name.startsWith('prompts-') ? 'prompts' : name.startsWith('elicitation-') ? 'elicitation' : name.startsWith('server-sse') ? 'transport (SSE)' : name === 'dns-rebinding-protection' ? 'security' : 'lifecycle and utilities';
  const classes = new Map();
  for (const s of scenarios) {
    const c = classes.get(classOf(s.name)) ?? { passed: [], failed: [] };
    (s.ok ? c.passed : c.failed).push(s.name + (expected.has(s.name) ? ' (baseline)' : ''));
    classes.set(classOf(s.name), c);
  }
  console.log('\nMCP conformance (server scenarios, protocol 2025-11-25), scenarios by class:');
  for (const [name, c] of classes) console.log(`  ${name.padEnd(24)} pass ${String(c.passed.length).padStart(2)} / fail ${String(c.failed.length).padStart(2)}${c.failed.length ? `  — ${c.failed.join(', ')}` : ''}`);
  const passed = scenarios.filter((s) => s.ok).length;
  const checks = scenarios.reduce((n, s) => n + s.checks, 0);
  console.log(`  all: scenarios pass ${passed} / fail ${scenarios.length - passed} (in the baseline: ${expected.size}); checks pass ${checks} / fail ${scenarios.reduce((n, s) => n + s.failedChecks, 0)}`);
  if (code !== 0) console.log('[conformance] FAILED: a scenario failed that is not in conformance/expected-failures.yaml, or an entry there now passes (see above)');
  else console.log(`[conformance] OK: no failure outside the baseline (${expected.size} in it)`);
  return code === 0 ? 0 : 1;
}
