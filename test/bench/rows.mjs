// What the run measured (`m`, filled in by run.mjs as it goes) as table rows and as the JSON
// summary. Both take whatever part of `m` exists, so a run that fails still reports what it got.
import { round, row, stats as statsOf } from './report.mjs';

export const TARGETS = { toolsCallP50OverFloor: 2, toolsCallP99OverFloorP99: 4, callsPerSecond: 1500, soakDrift: 0.1, auditViewOpenMs: 300, auditViewAnswerMs: 100, scrollFrameP50Ms: 17.5, scrollFrameP99Ms: 33.4, contextAddedMs: 0.3 };

const pick = (s) => ({ p50: s.p50, p99: s.p99 });
const div = (a, b) => ({ p50: a.p50 / b.p50, p99: a.p99 / b.p99 });
const count = (x) => x.toLocaleString('en');

/** The floor: a + b + c, p50s added and p99s added. */
export function floorOf(m) {
  if (!m.floorSdk || !m.floorRelay || !m.idbStrict) return null;
  return { p50: m.floorSdk.p50 + m.floorRelay.p50 + m.idbStrict.p50, p99: m.floorSdk.p99 + m.floorRelay.p99 + m.idbStrict.p99 };
}

export function rowsOf(m) {
  const F = 'floors (same browser, same run)';
  const T = 'issue 8 targets';
  const P = 'peers (same browser, same run)';
  const D = 'durability (IndexedDB in the service worker)';
  const O = 'other measures';
  const A = 'admin work beside agents (issue 14), on the soak\'s log';
  const I = 'interoperability (issue 10), each vs the postMessage tools/call of this run';
  const floor = floorOf(m);
  const rows = [];
  const add = (ok, make) => ok && rows.push(make());
  add(m.floorSdk, () => row(F, '(a) SDK Client ⇄ Server tools/call, in-page MessageChannel', pick(m.floorSdk)));
  add(m.floorRelay, () => row(F, '(b) page → SW → worker → SW → page, MessagePorts', pick(m.floorRelay)));
  add(m.idbStrict, () => row(F, '(c) one strict IndexedDB commit, 400 B, in the SW', pick(m.idbStrict)));
  add(floor, () => row(F, 'floor = a + b + c', floor));
  add(m.call && floor, () => {
    const ratio = div(m.call, floor);
    return row(T, 'tools/call text_stats, warm, one agent', {
      ...pick(m.call),
      floor,
      ratio,
      target: `p50 ≤ ${TARGETS.toolsCallP50OverFloor}×, p99 ≤ ${TARGETS.toolsCallP99OverFloorP99}×`,
      pass: { p50: ratio.p50 <= TARGETS.toolsCallP50OverFloor, p99: ratio.p99 <= TARGETS.toolsCallP99OverFloorP99 },
    });
  });
  add(m.throughput, () =>
    row(T, `throughput, ${m.throughput.agents} agents at once, ${count(m.throughput.calls)} calls`, {
      ...pick(m.throughput.latency),
      figure: `${count(Math.round(m.throughput.callsPerSecond))} calls/s`,
      target: `≥ ${count(TARGETS.callsPerSecond)} calls/s`,
      pass: m.throughput.callsPerSecond >= TARGETS.callsPerSecond,
    }),
  );
  add(m.soak?.first, () => row(T, `soak: first ${count(m.soak.first.n)} calls`, pick(m.soak.first)));
  add(m.soak?.first && !m.soak.last, () =>
    row(T, `soak: stopped after ${count(m.soak.calls)} calls (error)`, { target: `p50 within ${TARGETS.soakDrift * 100}% of first`, pass: false }),
  );
  add(m.soak?.last, () => {
    const drift = m.soak.last.p50 / m.soak.first.p50;
    return row(T, `soak: last ${count(m.soak.last.n)} of ${count(m.soak.calls)} calls`, {
      ...pick(m.soak.last),
      floor: { p50: m.soak.first.p50, p99: null },
      ratio: { p50: drift, p99: null },
      target: `p50 within ${TARGETS.soakDrift * 100}% of first`,
      pass: Math.abs(drift - 1) <= TARGETS.soakDrift,
    });
  });
  add(m.http && m.call, () => row(I, 'tools/call over /mcp, Streamable HTTP, SDK client in the page', { ...pick(m.http), floor: pick(m.call), ratio: div(m.http, m.call) }));
  add(m.bridgeStdio && m.call, () => row(I, 'tools/call through the desktop bridge, stdio, SDK client in Node', { ...pick(m.bridgeStdio), floor: pick(m.call), ratio: div(m.bridgeStdio, m.call) }));
  add(m.bridgeHttp && m.call, () => row(I, 'tools/call through the desktop bridge, HTTP, SDK client in Node', { ...pick(m.bridgeHttp), floor: pick(m.call), ratio: div(m.bridgeHttp, m.call) }));
  add(m.adminLoad, () => {
    const ratio = div(m.adminLoad.withAdmin, m.adminLoad.alone);
    return row(A, `4 agents calling while an admin verifies, exports, reads stats (vs no admin)`, {
      ...pick(m.adminLoad.withAdmin),
      floor: pick(m.adminLoad.alone),
      ratio,
      figure: `${ratio.p50.toFixed(2)}× / ${ratio.p99.toFixed(2)}×; ${count(Math.round(m.adminLoad.withAdminCallsPerSecond))} vs ${count(Math.round(m.adminLoad.aloneCallsPerSecond))} calls/s; ${m.adminLoad.adminRounds} admin rounds`,
    });
  });
  add(m.adminScale, () => row(A, `agents.metrics, ${count(m.adminScale.entries)} entries`, { p50: m.adminScale.agentsMetricsMs }));
  add(m.adminScale, () => row(A, 'tools.stats, every tool', { p50: m.adminScale.toolsStatsMs }));
  add(m.adminScale, () => row(A, 'whole chain verified in slices of 2,000, in the app\'s worker', { p50: m.adminScale.verifyWholeMs }));
  add(m.adminScale?.pingsDuringVerify?.length && m.swPing, () => {
    const s = statsOf(m.adminScale.pingsDuringVerify);
    return row(A, 'admin ping meanwhile (vs ping alone; p99 column: max)', { p50: s.p50, p99: s.max, floor: pick(m.swPing), ratio: { p50: s.p50 / m.swPing.p50, p99: s.max / m.swPing.p99 } });
  });
  add(m.adminScale?.verifyWholeInSwMs, () => row(A, 'the same verified by the service worker (audit.verify)', { p50: m.adminScale.verifyWholeInSwMs }));
  add(m.adminScale?.pingsDuringSwVerify?.length && m.swPing, () => {
    const s = statsOf(m.adminScale.pingsDuringSwVerify);
    return row(A, 'admin ping meanwhile (vs ping alone; p99 column: max)', { p50: s.p50, p99: s.max, floor: pick(m.swPing), ratio: { p50: s.p50 / m.swPing.p50, p99: s.max / m.swPing.p99 } });
  });
  add(m.adminScale, () => row(A, 'export streamed, whole log', { p50: m.adminScale.exportMs, figure: `${(m.adminScale.exportBytes / 1e6).toFixed(1)} MB` }));
  add(m.adminScale?.auditViewOpenMs, () => row(A, 'open the app at #audit until rows show', { p50: m.adminScale.auditViewOpenMs }));
  add(m.adminScale?.indexedDbBytes, () => row(A, 'IndexedDB bytes per audit entry (all stores / entries)', { figure: `${Math.round(m.adminScale.indexedDbBytes / m.adminScale.entries)} B` }));
  const V = `the audit trail at ${count(m.auditView?.seed?.entries ?? 0)} entries (issue 12)`;
  const v = m.auditView;
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  add(v?.openMs?.length, () => row(V, `open the app at #audit until rows show (${v.openMs.length} opens; p99 column: max)`, { p50: median(v.openMs), p99: Math.max(...v.openMs), target: `≤ ${TARGETS.auditViewOpenMs} ms`, pass: Math.max(...v.openMs) <= TARGETS.auditViewOpenMs }));
  add(v?.shellMs?.length, () => row(V, `floor: open the app at another view until its shell shows (${v.shellMs.length}; p99: max)`, { p50: median(v.shellMs), p99: Math.max(...v.shellMs) }));
  add(v?.openInAppMs?.length, () => row(V, `the app open, the person opens the Audit view until rows show (${v.openInAppMs.length}; p99: max)`, { p50: median(v.openInAppMs), p99: Math.max(...v.openInAppMs), target: `≤ ${TARGETS.auditViewOpenMs} ms`, pass: Math.max(...v.openInAppMs) <= TARGETS.auditViewOpenMs }));
  add(v?.filterMs?.length, () => row(V, `agent filter changed until the whole log's first page shows (${v.filterMs.length}; p99: max)`, { p50: median(v.filterMs), p99: Math.max(...v.filterMs), target: `≤ ${TARGETS.auditViewAnswerMs} ms`, pass: Math.max(...v.filterMs) <= TARGETS.auditViewAnswerMs }));
  add(v?.searchMs?.length, () => row(V, `text search until its first page shows (${v.searchMs.length}; p99: max)`, { p50: median(v.searchMs), p99: Math.max(...v.searchMs), target: `≤ ${TARGETS.auditViewAnswerMs} ms`, pass: Math.max(...v.searchMs) <= TARGETS.auditViewAnswerMs }));
  add(v?.scroll, () =>
    row(V, `scrolling 60 px a frame for 3 s: frame time (${count(v.scroll.rowsLoaded)} rows loaded, ≤ ${v.scroll.maxRendered} rendered)`, {
      p50: v.scroll.frames.p50,
      p99: v.scroll.frames.p99,
      target: `p50 ≤ ${TARGETS.scrollFrameP50Ms}, p99 ≤ ${TARGETS.scrollFrameP99Ms} ms (60 fps)`,
      pass: { p50: v.scroll.frames.p50 <= TARGETS.scrollFrameP50Ms, p99: v.scroll.frames.p99 <= TARGETS.scrollFrameP99Ms },
    }),
  );
  add(v?.cost, () => row(V, 'search index: added cost of writing an entry (2 a transaction, strict; blocks a window behind; vs without)', { p50: v.cost.indexedMsPerEntry - v.cost.plainMsPerEntry, figure: `${(v.cost.plainMsPerEntry * 1000).toFixed(0)} → ${(v.cost.indexedMsPerEntry * 1000).toFixed(0)} µs an entry (format 1's rows in the commit: ${(v.cost.rowsMsPerEntry * 1000).toFixed(0)}); tokenizing ${(v.cost.tokenizeMsPerEntry * 1000).toFixed(1)} µs` }));
  add(v?.seed?.msPerEntry, () => row(V, 'seeding through AuditLog (hash, aggregates, search terms), per entry', { p50: v.seed.msPerEntry }));
  add(m.mcpB && m.floorSdk, () => row(P, 'MCP-B Tab transports (@mcp-b/transports 5.1.0) + SDK tools/call (vs a)', { ...pick(m.mcpB), floor: pick(m.floorSdk), ratio: div(m.mcpB, m.floorSdk) }));
  add(m.extism && m.comlink, () => row(P, 'Extism 1.0.3 runInWorker plugin call, echo (vs page ⇄ worker)', { ...pick(m.extism), floor: pick(m.comlink), ratio: div(m.extism, m.comlink) }));
  add(m.idbRelaxed, () => row(D, 'commit, relaxed', pick(m.idbRelaxed)));
  add(m.idbStrict && m.idbRelaxed, () => row(D, 'commit, strict', { ...pick(m.idbStrict), floor: pick(m.idbRelaxed), ratio: div(m.idbStrict, m.idbRelaxed) }));
  add(m.comlink, () => row(O, 'page ⇄ tool worker, one Comlink message', pick(m.comlink)));
  add(m.swPing, () => row(O, 'page → SW → page, postMessage (admin ping)', pick(m.swPing)));
  add(m.sandboxWasm && m.comlink, () => row(O, 'sandbox alone, text_stats (host → cache → worker → wasm)', { ...pick(m.sandboxWasm), floor: pick(m.comlink), ratio: div(m.sandboxWasm, m.comlink) }));
  add(m.sandboxJs && m.sandboxWasm, () => row(O, 'sandbox alone, execute_code JS (vs text_stats)', { ...pick(m.sandboxJs), floor: pick(m.sandboxWasm), ratio: div(m.sandboxJs, m.sandboxWasm) }));
  add(m.contextNamed && m.contextPlain, () => {
    const added = m.contextNamed.p50 - m.contextPlain.p50;
    return row(O, 'tools/call in a named conversation (vs the same call without; interleaved)', {
      ...pick(m.contextNamed),
      floor: pick(m.contextPlain),
      figure: `${added >= 0 ? '+' : '−'}${Math.abs(added).toFixed(3)} ms p50`,
      target: `adds ≤ ${TARGETS.contextAddedMs} ms p50`,
      pass: added <= TARGETS.contextAddedMs,
    });
  });
  add(m.code && m.call, () => row(O, 'tools/call execute_code JS (vs text_stats)', { ...pick(m.code), floor: pick(m.call), ratio: div(m.code, m.call) }));
  add(m.probeRead && m.probeNone && m.floorRelay && m.idbStrict, () => {
    const delta = m.probeRead.p50 - m.probeNone.p50;
    const bc = m.floorRelay.p50 + m.idbStrict.p50;
    return row(O, 'one host capability (read-file), added to a call (vs b + c)', { p50: delta, floor: { p50: bc, p99: null }, ratio: { p50: delta / bc, p99: null } });
  });
  add(m.upload, () => row(O, 'upload of a component (check, transpile, describe, store)', pick(m.upload.warm)));
  add(m.upload, () => row(O, 'first upload (also loads jco)', { p50: m.upload.firstMs }));
  add(m.upload, () => row(O, 'first call of a just-registered tool (vs its warm calls)', { ...pick(m.upload.firstCall), floor: pick(m.upload.warmCall), ratio: div(m.upload.firstCall, m.upload.warmCall) }));
  return rows;
}

const rounded = (s) => s && { n: s.n, p50: round(s.p50), p99: round(s.p99), max: round(s.max), mean: round(s.mean) };

/** The JSON report's figures (beside its rows). */
export function summaryOf(m) {
  const floor = floorOf(m);
  const out = { clockResolution: m.clocks ?? null };
  if (floor) {
    out.floor = {
      sdkClientServerMs: rounded(m.floorSdk),
      swRelayToWorkerMs: rounded(m.floorRelay),
      idbStrictCommitMs: rounded(m.idbStrict),
      sumMs: { p50: round(floor.p50), p99: round(floor.p99) },
      where: { a: 'page: SDK Client and Server over a MessageChannel', b: 'page ⇄ service worker ⇄ module worker over MessagePorts', c: 'service worker, timed inside it' },
    };
  }
  if (m.call && floor) {
    const ratio = div(m.call, floor);
    out.toolsCall = { ms: rounded(m.call), overFloor: { p50: round(ratio.p50), p99: round(ratio.p99) }, pass: { p50: ratio.p50 <= TARGETS.toolsCallP50OverFloor, p99: ratio.p99 <= TARGETS.toolsCallP99OverFloorP99 } };
  }
  if (m.throughput) {
    const t = m.throughput;
    out.throughput = { calls: t.calls, agents: t.agents, seconds: round(t.seconds), callsPerSecond: Math.round(t.callsPerSecond), latencyMs: rounded(t.latency), pass: t.callsPerSecond >= TARGETS.callsPerSecond };
  }
  if (m.soak) {
    const drift = m.soak.first && m.soak.last ? m.soak.last.p50 / m.soak.first.p50 : null;
    out.soak = { calls: m.soak.calls, seconds: round(m.soak.seconds), firstMs: rounded(m.soak.first), lastMs: rounded(m.soak.last), lastOverFirstP50: round(drift), pass: drift !== null && Math.abs(drift - 1) <= TARGETS.soakDrift, profile: m.soak.profile };
  }
  out.peers = { mcpBTabTransportMs: rounded(m.mcpB) ?? null, extismRunInWorkerMs: rounded(m.extism) ?? m.extismSkipped ?? null };
  if (m.idbStrict && m.idbRelaxed) out.durability = { relaxedMs: rounded(m.idbRelaxed), strictMs: rounded(m.idbStrict), strictOverRelaxed: { p50: round(m.idbStrict.p50 / m.idbRelaxed.p50), p99: round(m.idbStrict.p99 / m.idbRelaxed.p99) } };
  out.other = {
    comlinkHopMs: rounded(m.comlink) ?? null,
    swPingMs: rounded(m.swPing) ?? null,
    sandboxOnlyMs: rounded(m.sandboxWasm) ?? null,
    executeCodeJs: m.code ? { toolsCallMs: rounded(m.code), sandboxOnlyMs: rounded(m.sandboxJs), toolsCallOverTextStats: m.call ? round(m.code.p50 / m.call.p50) : null } : null,
    hostCapability: m.probeRead ? { probeNoCallsMs: rounded(m.probeNone), probeOneReadFileMs: rounded(m.probeRead), oneCapabilityP50Ms: round(m.probeRead.p50 - m.probeNone.p50) } : null,
    contexts: m.contextNamed && m.contextPlain ? { withoutMs: rounded(m.contextPlain), inConversationMs: rounded(m.contextNamed), addedP50Ms: round(m.contextNamed.p50 - m.contextPlain.p50), pass: m.contextNamed.p50 - m.contextPlain.p50 <= TARGETS.contextAddedMs } : null,
    upload: m.upload ? { firstMs: round(m.upload.firstMs), ms: rounded(m.upload.warm), firstCallMs: rounded(m.upload.firstCall), warmCallMs: rounded(m.upload.warmCall) } : null,
  };
  out.audit = m.audit ?? null;
  out.interop = { httpInPageMs: rounded(m.http) ?? null, bridgeStdioMs: rounded(m.bridgeStdio) ?? null, bridgeHttpMs: rounded(m.bridgeHttp) ?? null };
  if (m.adminScale) {
    const { pingsDuringVerify, pingsDuringSwVerify, ...scale } = m.adminScale;
    out.admin = {
      scale: Object.fromEntries(Object.entries(scale).map(([k, v]) => [k, typeof v === 'number' ? round(v) : v])),
      pingDuringVerifyMs: pingsDuringVerify?.length ? rounded(statsOf(pingsDuringVerify)) : null,
      pingDuringSwVerifyMs: pingsDuringSwVerify?.length ? rounded(statsOf(pingsDuringSwVerify)) : null,
      indexedDbBytesPerEntry: scale.indexedDbBytes ? Math.round(scale.indexedDbBytes / scale.entries) : null,
    };
  }
  if (m.auditView) {
    const v = m.auditView;
    out.auditView = {
      entries: v.seed?.entries ?? null,
      seeded: v.seed?.seeded ?? null,
      openMs: v.openMs ?? null,
      shellMs: v.shellMs ?? null,
      openInAppMs: v.openInAppMs?.map(round) ?? null,
      filterMs: v.filterMs?.map(round) ?? null,
      searchMs: v.searchMs?.map(round) ?? null,
      scroll: v.scroll ? { frameMs: rounded(v.scroll.frames), rowsLoaded: v.scroll.rowsLoaded, maxRendered: v.scroll.maxRendered } : null,
      searchIndexCost: v.cost ? { plainMsPerEntry: round(v.cost.plainMsPerEntry), indexedMsPerEntry: round(v.cost.indexedMsPerEntry), rowsMsPerEntry: round(v.cost.rowsMsPerEntry), tokenizeMsPerEntry: round(v.cost.tokenizeMsPerEntry) } : null,
      seedMsPerEntry: round(v.seed?.msPerEntry ?? null),
      pass: v.openMs && v.filterMs && v.searchMs && v.scroll ? Math.max(...v.openMs) <= TARGETS.auditViewOpenMs && Math.max(...v.filterMs, ...v.searchMs) <= TARGETS.auditViewAnswerMs && v.scroll.frames.p50 <= TARGETS.scrollFrameP50Ms && v.scroll.frames.p99 <= TARGETS.scrollFrameP99Ms : null,
    };
  }
  if (m.adminLoad) out.admin = { ...out.admin, load: { calls: m.adminLoad.calls, agents: 4, aloneMs: rounded(m.adminLoad.alone), withAdminMs: rounded(m.adminLoad.withAdmin), aloneCallsPerSecond: Math.round(m.adminLoad.aloneCallsPerSecond), withAdminCallsPerSecond: Math.round(m.adminLoad.withAdminCallsPerSecond), adminRounds: m.adminLoad.adminRounds } };
  return out;
}
