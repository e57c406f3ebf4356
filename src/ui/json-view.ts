import { LitElement, css, html, type TemplateResult } from 'lit';
import { base } from './styles';

/** Levels shown open at first; deeper ones start folded. */
const OPEN_DEPTH = 2;
/** A string holding JSON (a tool's output is text) is shown as the value it holds. */
function parsedText(v: string): unknown {
  const t = v.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return undefined;
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * A JSON value as a tree: objects and arrays fold (`<details>`), strings that hold JSON are
 * shown as what they hold (marked "JSON text"), and Copy puts the whole value on the clipboard as
 * indented JSON. Iterative limits keep a hostile value from freezing the page: at most 2,000
 * nodes are drawn.
 */
export class JsonView extends LitElement {
  static override styles = [
    base,
    css`
      :host { display: block; font: 12px/1.45 ui-monospace, SFMono-Regular, Menlo, monospace; }
      .bar { display: flex; justify-content: flex-end; gap: 6px; margin-bottom: 2px; }
      .tree { max-height: 320px; overflow: auto; background: #f8fafc; border: 1px solid var(--line); border-radius: 6px; padding: 6px 8px; }
      details { margin-left: 14px; }
      details > summary { margin-left: -14px; cursor: pointer; }
      .row { margin-left: 14px; white-space: pre-wrap; word-break: break-word; }
      .k { color: #7c3aed; }
      .s { color: #065f46; }
      .n { color: #1d4ed8; }
      .z { color: var(--muted); }
      .tag { color: var(--muted); font-style: italic; margin-left: 6px; }
    `,
  ];
  static override properties = { value: { attribute: false }, copied: { state: true } };
  value: unknown = null;
  copied = false;
  private drawn = 0;

  private async copy(): Promise<void> {
    await navigator.clipboard.writeText(JSON.stringify(this.value, null, 2));
    this.copied = true;
    setTimeout(() => (this.copied = false), 1500);
  }

  private node(key: string | null, v: unknown, depth: number): TemplateResult {
    const label = key === null ? '' : html`<span class="k">${key}</span>: `;
    if (++this.drawn > 2_000) return html`<div class="row z">…</div>`;
    if (typeof v === 'string') {
      const inner = parsedText(v);
      if (inner !== undefined) {
        return html`<details ?open=${depth < OPEN_DEPTH}><summary>${label}<span class="tag">JSON text</span></summary>${this.branch(inner, depth + 1)}</details>`;
      }
      return html`<div class="row">${label}<span class="s">${JSON.stringify(v)}</span></div>`;
    }
    if (typeof v !== 'object' || v === null) return html`<div class="row">${label}<span class=${v === null ? 'z' : 'n'}>${JSON.stringify(v) ?? String(v)}</span></div>`;
    const size = Array.isArray(v) ? `[${v.length}]` : `{${Object.keys(v).length}}`;
    return html`<details ?open=${depth < OPEN_DEPTH}><summary>${label}<span class="z">${size}</span></summary>${this.branch(v, depth + 1)}</details>`;
  }

  private branch(v: unknown, depth: number): TemplateResult | TemplateResult[] {
    if (typeof v !== 'object' || v === null) return this.node(null, v, depth);
    return Object.entries(v).map(([k, x]) => this.node(Array.isArray(v) ? `${k}` : k, x, depth));
  }

  override render() {
    this.drawn = 0;
    return html`<div class="bar"><button class="link" data-testid="json-copy" @click=${() => void this.copy()}>${this.copied ? 'Copied' : 'Copy'}</button></div>
      <div class="tree" data-testid="json-tree" tabindex="0">${this.branch(this.value, 0)}</div>`;
  }
}

customElements.define('json-view', JsonView);
declare global {
  interface HTMLElementTagNameMap {
    'json-view': JsonView;
  }
}
