import { LitElement, css, html, type PropertyValues } from 'lit';
import type uPlot from 'uplot';
import uPlotLib from 'uplot';
import type { ChartWindowData } from '../store/aggregate-window';
import { base } from './styles';
import { bucketLabel } from './time-range';
import './uplot-chart';

const COLORS = { ok: '#16a34a', error: '#dc2626', denied: '#d97706' } as const;
const LATENCY = { p50: '#2563eb', p95: '#7c3aed' } as const;

type Outcome = keyof typeof COLORS;

const axisFont = '11px system-ui, sans-serif';
const axes = (yLabel: string): uPlot.Axis[] => [
  { font: axisFont, stroke: '#64748b', grid: { stroke: '#f1f5f9' }, ticks: { stroke: '#e2e8f0' } },
  { font: axisFont, stroke: '#64748b', grid: { stroke: '#f1f5f9' }, ticks: { stroke: '#e2e8f0' }, label: yLabel, labelFont: axisFont, labelSize: 16, size: 44 },
];

/**
 * Two uPlot charts of a window read from the aggregates' time buckets (`audit.chart`,
 * src/store/aggregate-window.ts), never from entries: finished calls per bucket stacked by
 * outcome (ok, error, denied, as `finishedOutcome` in aggregates.ts classes them), and the
 * results' duration per bucket as p50 and p95 (from the buckets' histograms).
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
  static override properties = { data: { attribute: false }, label: { attribute: false } };
  /** The window's points (null: not read yet). */
  data: ChartWindowData | null = null;
  /** What the window is called in the titles ("last hour", a custom range). */
  label = 'last hour';

  /** Per-bucket counts by outcome, kept for the legend (the plotted series are cumulative). */
  private counts: Record<Outcome, number[]> = { ok: [], error: [], denied: [] };
  private rateData: uPlot.AlignedData = [[]];
  private latencyData: uPlot.AlignedData = [[]];
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
      scales: { x: { time: true, range: () => this.window }, y: { range: (_u, _min, max) => [0, Math.max(4, Math.ceil(max * 1.15))] } },
      axes: axes('calls'),
      legend: { live: true },
      cursor: { points: { show: false }, drag: { x: false, y: false } },
      // Drawn in this order, each over the last: the cumulative totals read as a stack.
      series: [{ value: (_u, v) => (v == null ? '–' : this.bucketName(v)) }, series('denied'), series('error'), series('ok')],
    };
  })();

  private readonly latencyOptions: Omit<uPlot.Options, 'width' | 'height'> = (() => {
    const line = (label: keyof typeof LATENCY): uPlot.Series => ({
      label,
      stroke: LATENCY[label],
      width: 1.5,
      spanGaps: false,
      points: { show: true, size: 4, stroke: LATENCY[label], fill: LATENCY[label] },
      value: (_u, v) => (v == null ? '–' : `${v.toFixed(v < 10 ? 1 : 0)} ms`),
    });
    return {
      scales: { x: { time: true, range: () => this.window }, y: { range: (_u, _min, max) => [0, Math.max(10, Math.ceil((max || 0) * 1.15))] } },
      axes: axes('ms'),
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      series: [{ value: (_u, v) => (v == null ? '–' : this.bucketName(v)) }, line('p50'), line('p95')],
    };
  })();

  /** The legend's name of the bucket whose middle is `x` (seconds): where it starts. */
  private bucketName(x: number): string {
    const start = new Date(x * 1000 - (this.data?.bucketMs ?? 0) / 2);
    return (this.data?.bucketMs ?? 0) >= 86_400_000 ? start.toLocaleDateString() : start.toLocaleString([], { dateStyle: 'short', timeStyle: 'short' });
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!changed.has('data')) return;
    const points = this.data?.points ?? [];
    // Each point at its bucket's middle, over the window's whole buckets: a bar fills its bucket.
    const half = (this.data?.bucketMs ?? 0) / 2;
    const xs = points.map((p) => (p.start + half) / 1000);
    this.window = this.data ? [this.data.start / 1000, this.data.end / 1000] : [0, 1];
    this.counts = { ok: points.map((p) => p.ok), error: points.map((p) => p.error), denied: points.map((p) => p.denied) };
    const okErr = points.map((p) => p.ok + p.error);
    this.rateData = [xs, okErr.map((v, i) => v + points[i]!.denied), okErr, this.counts.ok];
    this.latencyData = [xs, points.map((p) => p.p50Ms), points.map((p) => p.p95Ms)];
  }

  override render() {
    const d = this.data;
    const total = d?.total ?? 0;
    const timed = d?.points.reduce((n, p) => n + p.timed, 0) ?? 0;
    const bucket = d ? bucketLabel(d.bucketMs) : '…';
    return html`
      <div class="card" data-testid="chart-rate" data-from=${d?.start ?? ''} data-to=${d?.end ?? ''} data-bucket-ms=${d?.bucketMs ?? ''} data-total=${total} data-partial=${d?.partial ? 'true' : 'false'}>
        <h3>Calls per ${bucket} · ${this.label} <span class="muted small">(${total} finished${d?.partial ? ', at least: some calls of this window are not broken down by agent and tool' : ''})</span></h3>
        <uplot-chart .options=${this.rateOptions} .data=${this.rateData} .height=${170}></uplot-chart>
      </div>
      <div class="card" data-testid="chart-latency" data-count=${timed}>
        <h3>Call duration per ${bucket}, p50 and p95 · ${this.label} <span class="muted small">(${timed} ${timed === 1 ? 'result' : 'results'})</span></h3>
        <uplot-chart .options=${this.latencyOptions} .data=${this.latencyData} .height=${170}></uplot-chart>
        ${timed === 0 ? html`<div class="overlay">no tool results in this window</div>` : ''}
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
