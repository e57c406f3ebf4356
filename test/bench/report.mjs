// Statistics and the printed table. One row per measure: name, p50, p99, the floor it is held
// against, the ratio (or the figure a target is about), the target, and pass/fail. A missed
// target is reported, never thrown: the machine is shared and noisy.

/** p50/p99 as the nearest-rank sample (no interpolation), max, mean, n. */
export function stats(samples) {
  if (!samples.length) throw new Error('no samples');
  const s = Float64Array.from(samples).sort();
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  let sum = 0;
  for (const x of s) sum += x;
  return { n: s.length, p50: at(0.5), p99: at(0.99), max: s[s.length - 1], mean: sum / s.length };
}

/** Rounds for the JSON file: 3 significant decimals are more than this machine can tell. */
export const round = (x) => (x === null || x === undefined || !Number.isFinite(x) ? x : Math.round(x * 1000) / 1000);

export function ms(x) {
  if (x === null || x === undefined) return '';
  if (!Number.isFinite(x)) return String(x);
  if (x >= 100) return `${Math.round(x)} ms`;
  if (x >= 10) return `${x.toFixed(1)} ms`;
  if (x >= 1) return `${x.toFixed(2)} ms`;
  return `${x.toFixed(3)} ms`;
}

export const times = (x) => (x === null || x === undefined ? '' : `${x >= 10 ? x.toFixed(1) : x.toFixed(2)}×`);

/**
 * A row of the report. `p50`/`p99` in ms (either may be null); `floor` {p50, p99} in ms or
 * null; `ratio` {p50, p99} (against `floor`) or null; `figure` overrides the ratio column with
 * text (throughput); `target` text; `pass` true/false/null, or {p50, p99} for two targets.
 */
export function row(section, name, fields) {
  return { section, name, p50: null, p99: null, floor: null, ratio: null, figure: null, target: null, pass: null, ...fields };
}

const passText = (pass) => (pass === null || pass === undefined ? '' : pass ? 'pass' : 'FAIL');

function cells(r) {
  const pair = (v, f) => (v ? [v.p50, v.p99].filter((x) => x !== null && x !== undefined).map(f).join(' / ') : '');
  const pass = r.pass && typeof r.pass === 'object' ? `${passText(r.pass.p50)} / ${passText(r.pass.p99)}` : passText(r.pass);
  return [r.name, ms(r.p50), ms(r.p99), pair(r.floor, ms), r.figure ?? pair(r.ratio, times), r.target ?? '', pass];
}

const HEADER = ['measure', 'p50', 'p99', 'floor (p50 / p99)', 'ratio', 'target', 'result'];

/** The rows as a fixed-width text table, grouped by section. */
export function table(rows) {
  const body = rows.map(cells);
  const width = HEADER.map((h, i) => Math.max(h.length, ...body.map((c) => c[i].length)));
  const numeric = new Set([1, 2, 3, 4]);
  const line = (c) => c.map((text, i) => (numeric.has(i) ? text.padStart(width[i]) : text.padEnd(width[i]))).join(' │ ').trimEnd();
  const rule = width.map((w) => '─'.repeat(w)).join('─┼─');
  const out = [line(HEADER), rule];
  let section = null;
  rows.forEach((r, i) => {
    if (r.section !== section) {
      if (section !== null) out.push(rule);
      out.push(`${r.section}`);
      section = r.section;
    }
    out.push(line(body[i]));
  });
  return out.join('\n');
}

/** The rows as a Markdown table (for the README). */
export function markdown(rows) {
  const esc = (t) => t.replaceAll('|', '\\|');
  const out = [`| ${HEADER.join(' | ')} |`, `|${HEADER.map((_, i) => (i >= 1 && i <= 4 ? '---:' : '---')).join('|')}|`];
  let section = null;
  for (const r of rows) {
    if (r.section !== section) {
      out.push(`| **${esc(r.section)}** | | | | | | |`);
      section = r.section;
    }
    out.push(`| ${cells(r).map(esc).join(' | ')} |`);
  }
  return out.join('\n');
}

/** Thread and process names of a Chromium trace (its metadata events), by `pid:tid` and by `pid`. */
export function traceNames(traceEvents) {
  const threads = new Map();
  const processes = new Map();
  for (const e of traceEvents) {
    if (e.ph === 'M' && e.name === 'thread_name') threads.set(`${e.pid}:${e.tid}`, e.args.name);
    if (e.ph === 'M' && e.name === 'process_name') processes.set(e.pid, e.args.name);
  }
  return { threads, processes };
}

/** IndexedDB's complete trace events by process and name, heaviest first: `[key, {n, us}]` (nested events overlap). */
export function indexedDbEvents(traceEvents) {
  const { processes } = traceNames(traceEvents);
  const byName = new Map();
  for (const e of traceEvents) {
    if (e.ph !== 'X' || !e.dur || !String(e.cat).includes('IndexedDB')) continue;
    const key = `${processes.get(e.pid) ?? e.pid}: ${e.name}`;
    const d = byName.get(key) ?? { n: 0, us: 0 };
    d.n++;
    d.us += e.dur;
    byName.set(key, d);
  }
  return [...byName].sort((a, b) => b[1].us - a[1].us);
}
