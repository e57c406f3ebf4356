import { LitElement, css, html } from 'lit';
import type { ToolStats, ToolVersions } from '../api/admin';
import type { ToolRecord } from '../store/schema';
import { adminClient, describeError } from './admin';
import { followChanges } from './changes';
import { ago, bytes, dateTime, ms, pretty } from './format';
import { base } from './styles';

export type ToolChangedEvent = CustomEvent<ToolRecord>;
export type ToolRemovedEvent = CustomEvent<{ name: string }>;

const SOURCE_HINT: Record<ToolRecord['source'], string> = {
  bundled: 'built with the app',
  uploaded: 'uploaded while the sandbox runs',
  discovered: 'found in a watched folder',
};

export function sourceBadge(source: ToolRecord['source']) {
  return html`<span class="badge source ${source}" title=${SOURCE_HINT[source]}>${source}</span>`;
}

/**
 * One tool: its metadata, usage and performance (from the audit log), versions with the pin,
 * and the actions: enable/disable, pin to the current hash/unpin, remove (asks first). Fires
 * `tool-changed`, `tool-removed` and `close`.
 */
export class ToolDetails extends LitElement {
  static override styles = [
    base,
    css`
      .head { display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: center; margin-bottom: 12px; }
      .head h3 { font-size: 17px; }
      .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 12px 20px; }
      section h4 { margin: 0 0 8px; font-size: 13px; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); }
      .gap-top { margin-top: 14px; }
      .confirm { margin-top: 10px; }
      .confirm p { margin: 0 0 8px; }
      pre.schema { max-height: 320px; overflow: auto; }
      .stats { display: grid; grid-template-columns: repeat(auto-fill, minmax(120px, 1fr)); gap: 8px; }
      .stat { background: var(--soft); border: 1px solid var(--line); border-radius: 8px; padding: 6px 10px; }
      .stat .v { font-size: 18px; font-weight: 600; font-variant-numeric: tabular-nums; }
      .stat .k { font-size: 12px; color: var(--muted); }
      .chips code { display: inline-block; margin: 0 4px 2px 0; }
      tr.current td { background: #f0fdf4; }
    `,
  ];
  static override properties = {
    tool: { attribute: false },
    stats: { state: true },
    versions: { state: true },
    confirming: { state: true },
    failure: { state: true },
    busy: { state: true },
  };
  tool: ToolRecord | null = null;
  stats: ToolStats | null = null;
  versions: ToolVersions | null = null;
  confirming = false;
  failure = '';
  busy = false;
  private loadedFor = '';
  private stop: (() => void) | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    // tools.stats reads the aggregates kept beside the audit log: loaded again when the log grows.
    this.stop = followChanges(() => this.load());
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.stop?.();
  }

  protected override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (!changed.has('tool')) return;
    const previous = changed.get('tool') as ToolRecord | null | undefined;
    const name = this.tool?.name ?? '';
    if (name !== this.loadedFor) {
      this.loadedFor = name;
      this.stats = null;
      this.versions = null;
      this.confirming = false;
      this.failure = '';
    }
    // Reload on a new tool, or when the record changed (new version, pin).
    if (this.tool && (!previous || previous.name !== name || previous.code.hash !== this.tool.code.hash || previous.pinnedHash !== this.tool.pinnedHash)) void this.load();
  }

  private async load(): Promise<void> {
    const name = this.tool?.name;
    if (!name || document.hidden) return;
    try {
      const admin = await adminClient();
      const [stats, versions] = await Promise.all([admin.request('tools.stats', { name }), admin.request('tools.versions', { name })]);
      if (name !== this.tool?.name) return;
      this.stats = stats.find((s) => s.name === name) ?? null;
      this.versions = versions;
    } catch (error) {
      if (name === this.tool?.name) this.failure = describeError(error);
    }
  }

  private async run(action: () => Promise<void>): Promise<void> {
    this.busy = true;
    this.failure = '';
    try {
      await action();
    } catch (error) {
      this.failure = describeError(error);
    } finally {
      this.busy = false;
      this.confirming = false;
    }
  }

  private changed(tool: ToolRecord): void {
    this.dispatchEvent(new CustomEvent('tool-changed', { detail: tool, bubbles: true, composed: true }) satisfies ToolChangedEvent);
  }

  private setEnabled(enabled: boolean): Promise<void> {
    const name = this.tool!.name;
    return this.run(async () => this.changed(await (await adminClient()).request(enabled ? 'tools.enable' : 'tools.disable', { name })));
  }

  private pin(hash: string | null): Promise<void> {
    const name = this.tool!.name;
    return this.run(async () => {
      this.changed(await (await adminClient()).request('tools.pin', { name, hash }));
      await this.load();
    });
  }

  private removeTool(): Promise<void> {
    const name = this.tool!.name;
    return this.run(async () => {
      await (await adminClient()).request('tools.remove', { name });
      this.dispatchEvent(new CustomEvent('tool-removed', { detail: { name }, bubbles: true, composed: true }) satisfies ToolRemovedEvent);
    });
  }

  override render() {
    const t = this.tool;
    if (!t) return '';
    const removable = t.source === 'uploaded' || t.source === 'discovered';
    const current = this.versions?.current ?? t.code.hash;
    return html`<div class="card" data-testid="tool-details" data-tool=${t.name}>
      <div class="head">
        <h3>${t.name}</h3>
        <span class="muted">${t.version}</span>
        ${sourceBadge(t.source)}
        ${t.fixture ? html`<span class="badge warn">fixture</span>` : ''}
        <span data-testid="tool-status">${t.enabled ? html`<span class="badge ok">enabled</span>` : html`<span class="badge error">disabled</span>`}</span>
        ${t.pinnedHash ? html`<span class="badge warn" title=${t.pinnedHash}>pinned</span>` : ''}
        <span class="spacer"></span>
        <a class="button" href="#audit?tool=${encodeURIComponent(t.name)}">Audit →</a>
        ${t.enabled
          ? html`<button ?disabled=${this.busy} @click=${() => void this.setEnabled(false)} data-testid="tool-disable" title="agents no longer see or call it">Disable</button>`
          : html`<button class="primary" ?disabled=${this.busy} @click=${() => void this.setEnabled(true)} data-testid="tool-enable">Enable</button>`}
        ${t.pinnedHash
          ? html`<button ?disabled=${this.busy} @click=${() => void this.pin(null)} data-testid="tool-unpin" title="new calls run the newest version again">Unpin</button>`
          : html`<button ?disabled=${this.busy} @click=${() => void this.pin(current)} data-testid="tool-pin" title="new calls keep running this code; newer uploads are refused">Pin to current hash</button>`}
        ${removable ? html`<button class="danger" ?disabled=${this.busy} @click=${() => (this.confirming = true)} data-testid="tool-remove">Remove</button>` : ''}
        <button class="link" @click=${() => this.dispatchEvent(new Event('close'))} aria-label="close">✕</button>
      </div>
      ${this.confirming
        ? html`<div class="notice error confirm">
            <p>
              Remove <strong>${t.name}</strong>? Agents can no longer call it; its files and every kept version are deleted.
              ${t.source === 'discovered' ? 'A watched folder that still holds the component registers it again on its next scan.' : ''}
            </p>
            <div class="row end">
              <button @click=${() => (this.confirming = false)}>Cancel</button>
              <button class="danger armed" @click=${() => void this.removeTool()} data-testid="confirm-tool-remove">Remove tool</button>
            </div>
          </div>`
        : ''}
      ${this.failure ? html`<p class="notice error confirm" data-testid="tool-failure">${this.failure}</p>` : ''}
      <div class="grid gap-top">
        <section>
          <h4>About</h4>
          <dl class="facts" data-testid="tool-meta">
            <dt>description</dt><dd>${t.description}</dd>
            <dt>version</dt><dd>${t.version}</dd>
            <dt>author</dt><dd>${t.author || html`<span class="muted">–</span>`}</dd>
            <dt>tags</dt><dd class="chips">${t.tags.length ? t.tags.map((x) => html`<code>${x}</code> `) : html`<span class="muted">none</span>`}</dd>
            <dt>categories</dt><dd class="chips">${t.categories.length ? t.categories.map((x) => html`<code>${x}</code> `) : html`<span class="muted">none</span>`}</dd>
            <dt>permissions</dt><dd class="chips">${t.permissions.length ? t.permissions.map((x) => html`<code>${x}</code> `) : html`<span class="muted">none</span>`}</dd>
            <dt>limits</dt>
            <dd title="the tool's own ceilings; a policy can only lower them">
              memory ${t.limits.memoryMb != null ? `${t.limits.memoryMb} MB` : '–'} · CPU ${t.limits.cpuMs != null ? `${t.limits.cpuMs / 1000} s` : '–'}
            </dd>
            ${t.resource ? html`<dt>resource</dt><dd><code>${t.resource.uri}</code> (${t.resource.mimeType})</dd>` : ''}
            <dt>source</dt><dd>${sourceBadge(t.source)} <span class="muted small">${SOURCE_HINT[t.source]}</span></dd>
            <dt>sha-256</dt><dd class="mono" data-testid="tool-hash">${t.code.hash}</dd>
            <dt>size</dt><dd>${bytes(t.code.size)}</dd>
            <dt>registered</dt><dd>${dateTime(t.registeredAt)}</dd>
          </dl>
        </section>
        <section>
          <h4>Usage and performance</h4>
          ${this.renderStats()}
          <h4 class="gap-top">Input schema</h4>
          <pre class="schema" data-testid="tool-schema" tabindex="0">${pretty(t.inputSchema)}</pre>
        </section>
      </div>
      <section class="gap-top">
        <h4>Versions</h4>
        ${this.renderVersions(t)}
      </section>
    </div>`;
  }

  private renderStats() {
    const s = this.stats;
    if (!s) return html`<p class="muted small" data-testid="tool-stats">${this.versions ? 'Not called yet.' : 'Loading…'}</p>`;
    const stat = (k: string, v: unknown, title = '') => html`<div class="stat" title=${title}><div class="v">${v}</div><div class="k">${k}</div></div>`;
    return html`<div class="stats" data-testid="tool-stats">
      ${stat('invocations', s.invocations, 'calls that reached the sandbox, resource reads included')}
      ${stat('success rate', s.successRate == null ? '–' : `${(s.successRate * 100).toFixed(s.successRate === 1 ? 0 : 1)} %`, `${s.ok} ok, ${s.errors} errors, ${s.denied ?? 0} denied`)}
      ${stat('mean', s.meanMs == null ? '–' : `${ms(s.meanMs)} ms`)}
      ${stat('p95', s.p95Ms == null ? '–' : `${ms(s.p95Ms)} ms`)}
      ${stat('peak memory', s.peakMemoryBytes == null ? '–' : bytes(s.peakMemoryBytes))}
      ${stat('last used', s.lastUsedAt == null ? '–' : ago(s.lastUsedAt), s.lastUsedAt == null ? '' : dateTime(s.lastUsedAt))}
    </div>`;
  }

  private renderVersions(t: ToolRecord) {
    const v = this.versions;
    if (!v) return html`<p class="muted small">Loading…</p>`;
    const canPinOld = t.source !== 'bundled';
    return html`<p class="small" data-testid="tool-pin-state">
        ${v.pinnedHash
          ? html`Pinned to <code title=${v.pinnedHash}>${v.pinnedHash.slice(0, 16)}…</code>: new calls run it, newer uploads are refused.`
          : html`<span class="muted">Not pinned: new calls run the newest version.</span>`}
      </p>
      <div class="table-wrap">
        <table data-testid="tool-versions">
          <thead><tr><th>version</th><th>sha-256</th><th class="num">size</th><th>registered</th><th></th></tr></thead>
          <tbody>
            ${[...v.versions].reverse().map(
              (ver) => html`<tr class=${ver.hash === v.current ? 'current' : ''}>
                <td>${ver.version}</td>
                <td><code title=${ver.hash}>${ver.hash.slice(0, 16)}…</code></td>
                <td class="num nowrap">${bytes(ver.size)}</td>
                <td class="nowrap">${dateTime(ver.at)}</td>
                <td class="nowrap">
                  ${ver.hash === v.current ? html`<span class="badge ok">current</span>` : ''}
                  ${ver.hash === v.pinnedHash ? html`<span class="badge warn">pinned</span>` : ''}
                  ${canPinOld && ver.hash !== v.pinnedHash && ver.hash !== v.current
                    ? html`<button class="link small" ?disabled=${this.busy} @click=${() => void this.pin(ver.hash)}>pin this version</button>`
                    : ''}
                </td>
              </tr>`,
            )}
          </tbody>
        </table>
      </div>`;
  }
}

customElements.define('tool-details', ToolDetails);
declare global {
  interface HTMLElementTagNameMap {
    'tool-details': ToolDetails;
  }
}
