import { LitElement, html } from 'lit';
import type { ToolRecord } from '../store/schema';
import { adminClient, describeError } from './admin';
import { base } from './styles';

/** The tool registry: every tool agents can be allowed, its ceilings and code hash. */
export class ToolsView extends LitElement {
  static override styles = base;
  static override properties = { tools: { state: true }, failure: { state: true } };
  tools: ToolRecord[] = [];
  failure = '';
  private timer: ReturnType<typeof setInterval> | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), 10_000);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearInterval(this.timer);
  }

  private async refresh(): Promise<void> {
    if (document.hidden) return;
    try {
      this.tools = await (await adminClient()).request('tools.list');
      this.failure = '';
    } catch (error) {
      this.failure = describeError(error);
    }
  }

  override render() {
    return html`
      <div class="toolbar"><h2>Tools</h2><span class="muted">${this.tools.length} registered</span></div>
      ${this.failure ? html`<p class="notice error">${this.failure}</p>` : ''}
      <div class="table-wrap">
        <table data-testid="tools-table">
          <thead><tr><th>name</th><th>version</th><th>description</th><th>permissions</th><th title="the tool's own ceilings; a policy can only lower them">limits</th><th class="num">size</th><th>sha-256</th></tr></thead>
          <tbody>
            ${this.tools.map(
              (t) => html`<tr>
                <td><strong>${t.name}</strong>${t.fixture ? html` <span class="badge warn">fixture</span>` : ''}${t.enabled ? '' : html` <span class="badge">disabled</span>`}</td>
                <td>${t.version}</td>
                <td>${t.description}</td>
                <td>${t.permissions.length ? t.permissions.map((p) => html`<code>${p}</code> `) : html`<span class="muted">none</span>`}</td>
                <td class="nowrap">${t.limits.memoryMb != null ? `${t.limits.memoryMb} MB` : '–'} · ${t.limits.cpuMs != null ? `${t.limits.cpuMs / 1000} s` : '–'}</td>
                <td class="num nowrap">${(t.code.size / 1024).toFixed(1)} KiB</td>
                <td><code title=${t.code.hash}>${t.code.hash.slice(0, 16)}…</code></td>
              </tr>`,
            )}
          </tbody>
        </table>
      </div>
    `;
  }
}

customElements.define('tools-view', ToolsView);
declare global {
  interface HTMLElementTagNameMap {
    'tools-view': ToolsView;
  }
}
