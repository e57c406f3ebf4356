import { LitElement, css, html } from 'lit';
import type { FolderWatchApi, ToolImporter } from '../api/host';
import type { ToolRecord } from '../store/schema';
import { Poller } from './poller';
import { FALLBACK_MS } from './changes';
import { adminClient } from './admin';
import { bytes } from './format';
import { base } from './styles';
import { sourceBadge, type ToolChangedEvent, type ToolRemovedEvent } from './tool-details';
import type { ToolImportedEvent } from './tool-upload';
import './tool-details';
import './tool-upload';
import './watched-folders';

/**
 * The tool registry, and where tools are added and managed: upload components, the list with
 * each tool's ceilings and code hash, the selected tool's details and actions, and (where the
 * host offers it) watched folders.
 */
export class ToolsView extends LitElement {
  static override styles = [
    base,
    css`
      .gap { display: block; margin-bottom: 14px; min-width: 0; }
      tr.disabled td { color: var(--muted); }
      tr.disabled td strong { text-decoration: line-through; text-decoration-color: #94a3b8; }
      td.desc { min-width: 200px; }
      @media (max-width: 760px) {
        .hide-narrow { display: none; }
      }
    `,
  ];
  static override properties = {
    selectedName: {},
    importer: { attribute: false },
    folders: { attribute: false },
    tools: { state: true },
    failure: { state: true },
    loaded: { state: true },
  };
  selectedName = '';
  importer: ToolImporter | null = null;
  folders: FolderWatchApi | null = null;
  tools: ToolRecord[] = [];
  failure = '';
  loaded = false;
  /** Keeps the data current while the view is shown. */
  protected readonly poller = new Poller(this, () => this.load(), FALLBACK_MS);

  protected override updated(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('selectedName') && this.selectedName && changed.get('selectedName') !== undefined) {
      this.renderRoot.querySelector('tool-details')?.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
    }
  }

  /** What each load reads (when the log grows, at most once a second, and every 30 s; see Poller). */
  private async load(): Promise<void> {
    this.tools = await (await adminClient()).request('tools.list');
  }

  private upsert(tool: ToolRecord): void {
    const i = this.tools.findIndex((t) => t.name === tool.name);
    this.tools = i < 0 ? [...this.tools, tool] : this.tools.map((t) => (t.name === tool.name ? tool : t));
  }

  private toggle(name: string): void {
    location.hash = name === this.selectedName ? '#tools' : `#tools/${encodeURIComponent(name)}`;
  }

  private onRemoved(event: ToolRemovedEvent): void {
    this.tools = this.tools.filter((t) => t.name !== event.detail.name);
    if (this.selectedName === event.detail.name) location.hash = '#tools';
    void this.poller.refresh();
  }

  override render() {
    const selected = this.tools.find((t) => t.name === this.selectedName) ?? null;
    const disabled = this.tools.filter((t) => !t.enabled).length;
    // Split as system://info counts them (its `tools` is the callable ones).
    const producers = this.tools.filter((t) => t.enabled && t.resource).length;
    const callable = this.tools.length - disabled - producers;
    return html`
      <div class="toolbar">
        <h2>Tools</h2>
        <span class="muted" data-testid="tool-counts">${this.tools.length} registered · ${callable} callable${producers ? ` · ${producers} resource producer${producers === 1 ? '' : 's'}` : ''}${disabled ? ` · ${disabled} disabled` : ''}</span>
      </div>
      ${this.failure ? html`<p class="notice error gap">${this.failure}</p>` : ''}
      <tool-upload class="gap" .importer=${this.importer} @tool-imported=${(e: ToolImportedEvent) => (this.upsert(e.detail), void this.poller.refresh())}></tool-upload>
      <div class="table-wrap gap">
        <table data-testid="tools-table">
          <thead>
            <tr>
              <th>name</th><th>version</th><th>source</th><th class="hide-narrow">description</th><th class="hide-narrow">permissions</th>
              <th class="hide-narrow" title="the tool's own ceilings; a policy can only lower them">limits</th><th class="num hide-narrow">size</th><th class="hide-narrow">sha-256</th>
            </tr>
          </thead>
          <tbody>
            ${this.tools.map(
              (t) => html`<tr
                class="clickable ${t.name === this.selectedName ? 'selected' : ''} ${t.enabled ? '' : 'disabled'}"
                data-testid="tool-row"
                data-tool=${t.name}
                data-enabled=${String(t.enabled)}
                tabindex="0"
                @click=${() => this.toggle(t.name)}
                @keydown=${(e: KeyboardEvent) => e.key === 'Enter' && this.toggle(t.name)}
              >
                <td class="nowrap">
                  <strong>${t.name}</strong>${t.fixture ? html` <span class="badge warn">fixture</span>` : ''}${t.enabled ? '' : html` <span class="badge error">disabled</span>`}${t.pinnedHash
                    ? html` <span class="badge warn" title="pinned to ${t.pinnedHash}">pinned</span>`
                    : ''}
                </td>
                <td>${t.version}</td>
                <td>${sourceBadge(t.source)}</td>
                <td class="desc hide-narrow">${t.description}</td>
                <td class="hide-narrow">${t.permissions.length ? t.permissions.map((p) => html`<code>${p}</code> `) : html`<span class="muted">none</span>`}</td>
                <td class="nowrap hide-narrow">${t.limits.memoryMb != null ? `${t.limits.memoryMb} MB` : '–'} · ${t.limits.cpuMs != null ? `${t.limits.cpuMs / 1000} s` : '–'}</td>
                <td class="num nowrap hide-narrow">${bytes(t.code.size)}</td>
                <td class="hide-narrow"><code title=${t.code.hash}>${t.code.hash.slice(0, 16)}…</code></td>
              </tr>`,
            )}
          </tbody>
        </table>
        ${this.loaded && this.tools.length === 0 ? html`<p class="empty">No tools registered.</p>` : ''}
      </div>
      ${selected
        ? html`<tool-details
            class="gap"
            .tool=${selected}
            @tool-changed=${(e: ToolChangedEvent) => this.upsert(e.detail)}
            @tool-removed=${(e: ToolRemovedEvent) => this.onRemoved(e)}
            @close=${() => (location.hash = '#tools')}
          ></tool-details>`
        : this.selectedName && this.loaded
          ? html`<p class="notice warn gap">No tool named <code>${this.selectedName}</code>.</p>`
          : this.tools.length
            ? html`<p class="muted small gap">Select a tool for its details, usage and versions, to disable or pin it, or to remove an uploaded one.</p>`
            : ''}
      ${this.folders ? html`<watched-folders .folders=${this.folders} @tools-changed=${() => void this.poller.refresh()}></watched-folders>` : ''}
    `;
  }
}

customElements.define('tools-view', ToolsView);
declare global {
  interface HTMLElementTagNameMap {
    'tools-view': ToolsView;
  }
}
