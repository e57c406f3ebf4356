import { LitElement, css, html } from 'lit';
import type { FleetConfigInput, FleetStatus } from '../api/fleet';
import { adminClient, describeError } from './admin';
import { Poller } from './poller';
import { base } from './styles';

/** While the panel is open, the status is loaded this often (and when the log grows). */
const STATUS_MS = 5_000;

/**
 * Settings → Fleet export: the audit stream sent as OpenTelemetry logs (OTLP/HTTP) to a
 * collector (docs/fleet.md). Header values are write-only: the service worker keeps them sealed
 * and returns their names only.
 */
export class FleetExportPanel extends LitElement {
  static override styles = [
    base,
    css`
      form { display: grid; gap: 12px; max-width: 640px; }
      label.field { display: grid; gap: 4px; font-size: 13px; }
      input[type='url'], input[type='text'], textarea { width: 100%; box-sizing: border-box; font: inherit; }
      textarea { font-family: var(--mono, monospace); min-height: 64px; }
      .state { font-weight: 600; }
      .state.bad { color: #b91c1c; }
    `,
  ];
  static override properties = { status: { state: true }, failure: { state: true }, notice: { state: true }, busy: { state: true }, loaded: { state: true } };
  status: FleetStatus | null = null;
  failure = '';
  notice = '';
  busy = false;
  loaded = false;
  protected readonly poller = new Poller(this, () => this.load(), STATUS_MS);

  private async load(): Promise<void> {
    this.status = await (await adminClient()).request('fleet.status');
  }

  /** `Name: value` per line; blank lines ignored. */
  private static parseHeaders(text: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Error(`headers: "${line.slice(0, 40).split(':')[0]}…" is not "Name: value"`);
      out[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
    }
    return out;
  }

  private async save(event: Event): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const value = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value;
    const change: FleetConfigInput = {
      endpoint: value('endpoint').trim() || null,
      name: value('name'),
      compression: value('compression') as 'gzip' | 'none',
      enabled: (form.elements.namedItem('enabled') as HTMLInputElement).checked,
    };
    const clear = (form.elements.namedItem('clearHeaders') as HTMLInputElement).checked;
    try {
      const typed = FleetExportPanel.parseHeaders(value('headers'));
      if (clear || Object.keys(typed).length) change.headers = typed;
    } catch (error) {
      this.failure = (error as Error).message;
      return;
    }
    await this.act(async () => {
      this.status = await (await adminClient()).request('fleet.configure', change);
      (form.elements.namedItem('headers') as HTMLTextAreaElement).value = '';
      (form.elements.namedItem('clearHeaders') as HTMLInputElement).checked = false;
      this.notice = 'Saved (and audited, without header values).';
    });
  }

  private retry(): Promise<void> {
    return this.act(async () => {
      this.status = await (await adminClient()).request('fleet.retry');
      this.notice = 'Trying now.';
    });
  }

  private async act(run: () => Promise<void>): Promise<void> {
    this.busy = true;
    this.notice = '';
    this.failure = '';
    try {
      await run();
    } catch (error) {
      this.failure = describeError(error);
    } finally {
      this.busy = false;
    }
  }

  override render() {
    const s = this.status;
    const when = (ms: number | null) => (ms ? new Date(ms).toLocaleString() : '—');
    return html`<div class="card" data-testid="fleet-export">
      <h3>Fleet export (OpenTelemetry)</h3>
      <p class="hint">
        Sends every audit entry, in order and once, as an OpenTelemetry log record over OTLP/HTTP to a collector you run (Loki, ClickHouse, any OTLP pipeline); resumes from the last
        acknowledged entry after a stop or an outage. The collector must allow this origin (CORS). See docs/fleet.md.
      </p>
      ${this.failure ? html`<p class="notice error">${this.failure}</p>` : ''}
      ${!s
        ? this.loaded
          ? ''
          : html`<p class="empty">Loading…</p>`
        : html`
            <dl class="facts" data-testid="fleet-status">
              <dt>State</dt>
              <dd><span class="state ${s.lastError ? 'bad' : ''}" data-testid="fleet-state">${s.state}</span></dd>
              <dt>Acknowledged</dt>
              <dd data-testid="fleet-acked">#${s.ackedSeq} of #${s.newestSeq}</dd>
              <dt>Backlog</dt>
              <dd data-testid="fleet-backlog">${s.backlog} entries</dd>
              <dt>Last success</dt>
              <dd>${when(s.lastSuccessAt)}</dd>
              <dt>Last error</dt>
              <dd data-testid="fleet-error">${s.lastError ? `${s.lastError.message} (${when(s.lastError.at)})` : '—'}</dd>
              <dt>Next retry</dt>
              <dd>${s.nextAttemptAt ? `${when(s.nextAttemptAt)} (${s.failures} failed)` : '—'}</dd>
              ${s.rejected ? html`<dt>Rejected by the endpoint</dt><dd>${s.rejected} records</dd>` : ''}
              ${s.skipped.length ? html`<dt>Pruned before sent</dt><dd>${s.skipped.map((r) => `#${r.from}–#${r.to}`).join(', ')}</dd>` : ''}
              <dt>Instance id</dt>
              <dd><code>${s.instanceId || '(made on first save)'}</code></dd>
            </dl>
            <form @submit=${(e: Event) => void this.save(e)} data-testid="fleet-form">
              <label class="field"
                >Endpoint (OTLP/HTTP base; records go to <code>…/v1/logs</code>)
                <input type="url" name="endpoint" placeholder="https://collector.example:4318" .value=${s.endpoint ?? ''} />
              </label>
              <label class="field">Name of this sandbox in the fleet <input type="text" name="name" maxlength="128" .value=${s.name} /></label>
              <label class="field"
                >Headers, one <code>Name: value</code> a line; they replace the kept ones (write-only: leave empty to keep
                ${s.headerNames.length ? html`<span data-testid="fleet-header-names">${s.headerNames.join(', ')}</span>` : 'none'})
                <textarea name="headers" autocomplete="off" spellcheck="false" placeholder="Authorization: Bearer …"></textarea>
              </label>
              <label class="inline"><input type="checkbox" name="clearHeaders" /> <span>Remove the kept headers (headers typed above replace them anyway)</span></label>
              <label class="field"
                >Compression
                <select name="compression">
                  <option value="gzip" ?selected=${s.compression === 'gzip'}>gzip</option>
                  <option value="none" ?selected=${s.compression === 'none'}>none</option>
                </select>
              </label>
              <label class="inline"><input type="checkbox" name="enabled" ?checked=${s.enabled} /> <span>Send the audit stream</span></label>
              <div class="row">
                <button type="submit" class="primary" ?disabled=${this.busy} data-testid="fleet-save">Save export</button>
                <button type="button" ?disabled=${this.busy || !s.enabled} @click=${() => void this.retry()} data-testid="fleet-retry">Retry now</button>
                ${this.notice ? html`<span class="ok small">✓ ${this.notice}</span>` : ''}
              </div>
            </form>
          `}
    </div>`;
  }
}

customElements.define('fleet-export-panel', FleetExportPanel);
declare global {
  interface HTMLElementTagNameMap {
    'fleet-export-panel': FleetExportPanel;
  }
}
