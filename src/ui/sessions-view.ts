import { LitElement, html } from 'lit';
import type { SessionRecord } from '../store/schema';
import { Poller } from './poller';
import { FALLBACK_MS } from './changes';
import { adminClient } from './admin';
import { ago, dateTime } from './format';
import { base } from './styles';

/** Sessions agents opened: who, from which origin, directly or through the connector. */
export class SessionsView extends LitElement {
  static override styles = base;
  static override properties = { sessions: { state: true }, failure: { state: true } };
  sessions: SessionRecord[] = [];
  failure = '';
  loaded = false;
  /** Keeps the data current while the view is shown. */
  protected readonly poller = new Poller(this, () => this.load(), FALLBACK_MS);

  /** What each load reads (when the log grows, at most once a second, and every 30 s; see Poller). */
  private async load(): Promise<void> {
    const sessions = await (await adminClient()).request('sessions.list');
    this.sessions = sessions.sort((a, b) => b.lastActivityAt - a.lastActivityAt);
  }

  override render() {
    return html`
      <div class="toolbar"><h2>Sessions</h2><span class="muted">${this.sessions.length} · most recently active first</span></div>
      ${this.failure ? html`<p class="notice error">${this.failure}</p>` : ''}
      <div class="table-wrap">
        <table data-testid="sessions-table">
          <thead><tr><th>session</th><th>agent</th><th>origin</th><th>via</th><th>client</th><th class="num">calls</th><th>opened</th><th>last activity</th></tr></thead>
          <tbody>
            ${this.sessions.map(
              (s) => html`<tr>
                <td><code title=${s.id}>${s.id.slice(0, 8)}…</code></td>
                <td><a href="#agents/${encodeURIComponent(s.agentId)}">${s.agentId}</a></td>
                <td><code>${s.origin ?? '–'}</code></td>
                <td><span class="badge ${s.via === 'connector' ? 'warn' : ''}">${s.via ?? '–'}</span></td>
                <td>${s.clientInfo ? `${s.clientInfo.name} ${s.clientInfo.version}` : ''}</td>
                <td class="num">${s.callCount}</td>
                <td>${dateTime(s.createdAt)}</td>
                <td title=${dateTime(s.lastActivityAt)}>${ago(s.lastActivityAt)}</td>
              </tr>`,
            )}
          </tbody>
        </table>
        ${this.sessions.length === 0 ? html`<p class="empty">No sessions yet. Agents open one when they connect.</p>` : ''}
      </div>
    `;
  }
}

customElements.define('sessions-view', SessionsView);
declare global {
  interface HTMLElementTagNameMap {
    'sessions-view': SessionsView;
  }
}
