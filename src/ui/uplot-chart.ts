import { LitElement, css, html, unsafeCSS, type PropertyValues } from 'lit';
import uPlot from 'uplot';
import uPlotCss from 'uplot/dist/uPlot.min.css?inline';

/**
 * A uPlot chart that fills its element's width. `options` is uPlot's options without width
 * and height (a new object rebuilds the chart); `data` is aligned data (a new array redraws).
 */
export class UplotChart extends LitElement {
  static override styles = [
    unsafeCSS(uPlotCss),
    css`
      :host { display: block; min-width: 0; }
      .frame { width: 100%; }
      .u-legend { font-size: 12px; }
      .u-legend .u-marker { width: 10px; height: 10px; }
    `,
  ];
  static override properties = { options: { attribute: false }, data: { attribute: false }, height: { type: Number } };
  options: Omit<uPlot.Options, 'width' | 'height'> | null = null;
  data: uPlot.AlignedData = [[]];
  height = 180;
  private chart: uPlot | null = null;
  private observer: ResizeObserver | null = null;

  override connectedCallback(): void {
    super.connectedCallback();
    this.observer = new ResizeObserver(() => this.resize());
    this.observer.observe(this);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.observer?.disconnect();
    this.chart?.destroy();
    this.chart = null;
  }

  private resize(): void {
    const width = Math.floor(this.getBoundingClientRect().width);
    if (this.chart && width > 0 && width !== this.chart.width) this.chart.setSize({ width, height: this.height });
    else if (!this.chart) this.build();
  }

  private build(): void {
    const frame = this.renderRoot.querySelector<HTMLElement>('.frame');
    const width = Math.floor(this.getBoundingClientRect().width);
    if (!frame || !this.options || width <= 0) return;
    this.chart?.destroy();
    this.chart = new uPlot({ ...this.options, width, height: this.height }, this.data, frame);
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('options') || changed.has('height') || !this.chart) this.build();
    else if (changed.has('data')) this.chart.setData(this.data);
  }

  override render() {
    return html`<div class="frame"></div>`;
  }
}

customElements.define('uplot-chart', UplotChart);
declare global {
  interface HTMLElementTagNameMap {
    'uplot-chart': UplotChart;
  }
}
