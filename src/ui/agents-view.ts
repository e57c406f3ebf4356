import { LitElement, css, html } from 'lit';
import type { AgentMetrics, AgentView } from '../client/admin';
import { Poller } from './poller';
import { FALLBACK_MS } from './changes';
import { adminClient } from './admin';
import type { RegisteredEvent } from './agent-register-form';
import type { TokenIssuedEvent } from './agent-details';
import { isDemoAgent } from './demo-agents';
import type { AgentChangedEvent } from './grants-editor';
import { base } from './styles';
import { trustBadge } from './trust';
import './agent-details';
import './agent-register-form';
import './token-reveal';

/** Agents: the list with their activity, registration, and the selected agent's details. */
export class AgentsView extends LitElement {
  static override styles = [
    base,
    css`
      .stack { margin-bottom: 14px; }
      td.origins { max-width: 280px; }
      td.origins code { display: block; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
      .name { font-weight: 600; }
      .demo { margin-left: 6px; }
      tr.revoked td { color: var(--muted); }
      @media (max-width: 760px) {
        .hide-narrow { display: none; }
      }
    `,
  ];
  static override properties = {
    selectedId: {},
    agents: { state: true },
    metrics: { state: true },
    registering: { state: true },
    issued: { state: true },
    failure: { state: true },
    loaded: { state: true },
  };
  selectedId = '';
  agents: AgentView[] = [];
  metrics = new Map<string, AgentMetrics>();
  registering = false;
  issued: { agent: AgentView; token: string; reason: 'registered' | 'rotated' } | null = null;
  failure = '';
  loaded = false;
  /** Keeps the data current while the view is shown. */
  protected readonly poller = new Poller(this, () => this.load(), FALLBACK_MS);

  /** What each load reads (when the log grows, at most once a second, and every 30 s; see Poller). */
  private async load(): Promise<void> {
    const admin = await adminClient();
    const [agents, metrics] = await Promise.all([admin.request('agents.list'), admin.request('agents.metrics').catch(() => null)]);
    this.agents = agents;
    if (metrics) this.metrics = new Map(metrics.map((m) => [m.agentId, m]));
  }

  private upsert(agent: AgentView): void {
    const i = this.agents.findIndex((a) => a.id === agent.id);
    this.agents = i < 0 ? [...this.agents, agent] : this.agents.map((a) => (a.id === agent.id ? agent : a));
  }

  private toggle(id: string): void {
    location.hash = id === this.selectedId ? '#agents' : `#agents/${encodeURIComponent(id)}`;
  }

  private onRegistered(event: RegisteredEvent): void {
    this.registering = false;
    this.upsert(event.detail.agent);
    this.issued = { ...event.detail, reason: 'registered' };
  }

  override render() {
    const selected = this.agents.find((a) => a.id === this.selectedId) ?? null;
    return html`
      <div class="toolbar">
        <h2>Agents</h2>
        <span class="muted">${this.agents.length} registered · ${this.agents.filter((a) => a.revokedAt == null).length} active</span>
        <span class="spacer"></span>
        <button class="primary" @click=${() => (this.registering = !this.registering)} data-testid="register-open" aria-expanded=${this.registering}>
          ${this.registering ? 'Close form' : '+ Register agent'}
        </button>
      </div>
      ${this.failure ? html`<p class="notice error stack">${this.failure}</p>` : ''}
      ${this.issued
        ? html`<token-reveal class="stack" .agentId=${this.issued.agent.id} .token=${this.issued.token} .reason=${this.issued.reason} @dismiss=${() => (this.issued = null)}></token-reveal>`
        : ''}
      ${this.registering
        ? html`<agent-register-form class="stack" @registered=${(e: RegisteredEvent) => this.onRegistered(e)} @cancel=${() => (this.registering = false)}></agent-register-form>`
        : ''}
      <div class="table-wrap stack">
        <table data-testid="agents-table">
          <thead>
            <tr>
              <th>name</th><th class="hide-narrow">id</th><th>trust level</th><th class="hide-narrow">origins</th><th>status</th>
              <th class="num">calls</th><th class="num">denied</th><th class="num hide-narrow">errors</th><th class="num hide-narrow">last min</th>
            </tr>
          </thead>
          <tbody>
            ${this.agents.map((a) => {
              const m = this.metrics.get(a.id);
              return html`<tr
                class="clickable ${a.id === this.selectedId ? 'selected' : ''} ${a.revokedAt != null ? 'revoked' : ''}"
                data-testid="agent-row"
                data-agent=${a.id}
                tabindex="0"
                @click=${() => this.toggle(a.id)}
                @keydown=${(e: KeyboardEvent) => e.key === 'Enter' && this.toggle(a.id)}
              >
                <td><span class="name">${a.name}</span>${isDemoAgent(a.id) ? html`<span class="badge demo" title="registered by the app for the demo agent page; its token is kept in this browser's localStorage">demo</span>` : ''}</td>
                <td class="hide-narrow"><code>${a.id}</code></td>
                <td>${trustBadge(a.trustLevel)}</td>
                <td class="origins hide-narrow">${a.origins.map((o) => html`<code title=${o}>${o}</code>`)}</td>
                <td>${a.revokedAt != null ? html`<span class="badge error">revoked</span>` : html`<span class="badge ok">active</span>`}</td>
                <td class="num">${m?.calls ?? '–'}</td>
                <td class="num ${m?.denied ? 'denied' : ''}">${m?.denied ?? '–'}</td>
                <td class="num hide-narrow ${m?.errors ? 'error' : ''}">${m?.errors ?? '–'}</td>
                <td class="num hide-narrow">${m?.lastMinute ?? '–'}</td>
              </tr>`;
            })}
          </tbody>
        </table>
        ${this.loaded && this.agents.length === 0 ? html`<p class="empty">No agents yet. Register one to give it a token and a policy.</p>` : ''}
      </div>
      ${selected
        ? html`<agent-details
            .agent=${selected}
            .metrics=${this.metrics.get(selected.id) ?? null}
            @agent-changed=${(e: AgentChangedEvent) => this.upsert(e.detail)}
            @token-issued=${(e: TokenIssuedEvent) => ((this.issued = e.detail), scrollTo({ top: 0, behavior: 'smooth' }))}
            @close=${() => (location.hash = '#agents')}
          ></agent-details>`
        : this.agents.length > 0
          ? html`<p class="muted small">Select an agent to edit its trust level and origins, rotate its token, revoke it, or grant and revoke single tools, domains and paths.</p>`
          : ''}
    `;
  }
}

customElements.define('agents-view', AgentsView);
declare global {
  interface HTMLElementTagNameMap {
    'agents-view': AgentsView;
  }
}
