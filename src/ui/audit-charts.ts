import { LitElement, css, html, type PropertyValues } from 'lit';
import type uPlot from 'uplot';
import uPlotLib from 'uplot';
import type { AuditEntry } from '../store/schema';
import { base } from './styles';
import { bucketLabel, chartWindow } from './time-range';
import './uplot-chart';

const COLORS = { ok: '#16a34a', error: '#dc2626', denied: '#d97706' } as const;
const HOUR = 3_600_000;

type Outcome = keyof typeof COLORS;

/** The outcome a finished call had, or null for entries that are not a call's end. */
function callOutcome(e: AuditEntry): Outcome | null {
  if (e.event === 'call.result') return e.outcome === 'ok' ? 'ok' : e.outcome === 'denied' ? 'denied' : 'error';
  if (e.event === 'call.rejected') return 'denied';
  if (e.event === 'call.interrupted') return 'error';
  return null;
}

const axisFont = '11px system-ui, sans-serif';
const axes = (yLabel: string): uPlot.Axis[] => [
  { font: axisFont, stroke: '#64748b', grid: { stroke: '#f1f5f9' }, ticks: { stroke: '#e2e8f0' } },
  { font: axisFont, stroke: '#64748b', grid: { stroke: '#f1f5f9' }, ticks: { stroke: '#e2e8f0' }, label: yLabel, labelFont: axisFont, labelSize: 16, size: 44 },
];

/**
 * Two uPlot charts over a window of the given entries (`from`–`to`; the last hour by default):
 * finished calls per bucket (at most about 60 buckets, of a width that fits the window: 15 s
 * for 15 minutes, a minute for an hour, 30 minutes for a day…), stacked by outcome (ok, error,
 * denied), and the duration of each call.result.
 */
export class AuditCharts extends LitElement {
  static override styles = [
    base,
    css`
      :host { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 380px), 1fr)); gap: 14px; }
      .card { padding: 10px 12px 6px; min-width: 0; position: relative; }
      .card h3 { font-size: 13px; margin-bottom: 4px; }
      .overlay { position: absolute; inset: 40px 0 40px 44px; display: grid; place-items: center; color: var(--muted); font-size: 13px; pointer-events: none; }
    `,
  ];
  static override properties = { entries: { attribute: false }, now: { attribute: false }, from: { attribute: false }, to: { attribute: false }, label: { attribute: false } };
  entries: AuditEntry[] = [];
  now = Date.now();
  /** The window (ms since the epoch); without them, the hour up to `now`. */
  from: number | null = null;
  to: number | null = null;
  /** What the window is called in the titles ("last hour", a custom range). */
  label = 'last hour';
  private bucketMs = 60_000;
  private windowMs: [number, number] = [0, 1];

  /** Per-minute counts by outcome, kept for the legend (the plotted series are cumulative). */
  private counts: Record<Outcome, number[]> = { ok: [], error: [], denied: [] };
  private rateData: uPlot.AlignedData = [[]];
  private latencyData: uPlot.AlignedData = [[]];
  private latencyCount = 0;
  private window: [number, number] = [0, 1];

  private readonly rateOptions: Omit<uPlot.Options, 'width' | 'height'> = (() => {
    const bars = uPlotLib.paths.bars!({ size: [0.8, 24], gap: 1 });
    const series = (label: Outcome): uPlot.Series => ({
      label,
      fill: COLORS[label],
      stroke: COLORS[label],
      width: 0,
      paths: bars,
      points: { show: false },
      value: (_u, _v, _si, i) => (i == null ? '–' : String(this.counts[label][i] ?? 0)),
    });
    return {
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.15))] } },
      axes: axes('calls'),
      legend: { live: true },
      cursor: { points: { show: false }, drag: { x: false, y: false } },
      // Drawn in this order, each over the last: the cumulative totals read as a stack.
      series: [{ value: (_u, v) => (v == null ? '–' : new Date(v * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })) }, series('denied'), series('error'), series('ok')],
    };
  })();

  private readonly latencyOptions: Omit<uPlot.Options, 'width' | 'height'> = (() => {
    const dots = (label: 'ok' | 'error'): uPlot.Series => ({
      label,
      stroke: COLORS[label],
      fill: COLORS[label] + '55',
      paths: () => null,
      points: { show: true, size: 6, width: 1, stroke: COLORS[label], fill: COLORS[label] + '88' },
      value: (_u, v) => (v == null ? '–' : `${v.toFixed(v < 10 ? 1 : 0)} ms`),
    });
    return {
      mode: 1,
      scales: { x: { time: true, range: () => this.window }, y: { range: (_u, _min, max) => [0, Math.max(10, Math.ceil((max || 0) * 1.15))] } },
      axes: axes('ms'),
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      series: [{ value: (_u, v) => (v == null ? '–' : new Date(v * 1000).toLocaleTimeString()) }, dots('ok'), dots('error')],
    };
  })();

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!changed.has('entries') && !changed.has('now') && !changed.has('from') && !changed.has('to')) return;
    const to = this.to ?? this.now;
    const { start, end, bucketMs, count } = chartWindow(this.from ?? to - HOUR, to);
    this.bucketMs = bucketMs;
    this.windowMs = [start, end];
    this.window = [start / 1000, end / 1000];
    const xs = Array.from({ length: count }, (_, i) => (start + i * bucketMs) / 1000);
    const counts: Record<Outcome, number[]> = { ok: xs.map(() => 0), error: xs.map(() => 0), denied: xs.map(() => 0) };
    const latency: { x: number; ok: number | null; error: number | null }[] = [];
    // Entries of the window only: those of a range's edges outside the buckets are not drawn.
    const from = this.from ?? start;
    for (const e of this.entries) {
      if (e.ts < Math.max(start, from) || e.ts >= Math.min(end, to)) continue;
      const outcome = callOutcome(e);
      if (!outcome) continue;
      counts[outcome][Math.floor((e.ts - start) / bucketMs)]!++;
      if (e.event === 'call.result' && e.durationMs != null) latency.push({ x: e.ts / 1000, ok: e.outcome === 'ok' ? e.durationMs : null, error: e.outcome === 'ok' ? null : e.durationMs });
    }
    latency.sort((a, b) => a.x - b.x);
    this.counts = counts;
    const okErr = counts.ok.map((v, i) => v + counts.error[i]!);
    this.rateData = [xs, okErr.map((v, i) => v + counts.denied[i]!), okErr, counts.ok];
    this.latencyData = [latency.map((p) => p.x), latency.map((p) => p.ok), latency.map((p) => p.error)];
    this.latencyCount = latency.length;
  }

  override render() {
    const total = this.counts.ok.reduce((a, b) => a + b, 0) + this.counts.error.reduce((a, b) => a + b, 0) + this.counts.denied.reduce((a, b) => a + b, 0);
    return html`
      <div class="card" data-testid="chart-rate" data-from=${this.windowMs[0]} data-to=${this.windowMs[1]} data-bucket-ms=${this.bucketMs} data-total=${total}>
        <h3>Calls per ${bucketLabel(this.bucketMs)} · ${this.label} <span class="muted small">(${total} finished)</span></h3>
        <uplot-chart .options=${this.rateOptions} .data=${this.rateData} .height=${170}></uplot-chart>
      </div>
      <div class="card" data-testid="chart-latency" data-count=${this.latencyCount}>
        <h3>Call duration · ${this.label} <span class="muted small">(${this.latencyCount} ${this.latencyCount === 1 ? 'result' : 'results'})</span></h3>
        <uplot-chart .options=${this.latencyOptions} .data=${this.latencyData} .height=${170}></uplot-chart>
        ${this.latencyCount === 0 ? html`<div class="overlay">no tool results in this window</div>` : ''}
      </div>
    `;
  }
}

customElements.define('audit-charts', AuditCharts);
declare global {
  interface HTMLElementTagNameMap {
    'audit-charts': AuditCharts;
  }
}
