import { LitElement, css, html } from 'lit';
import type { AgentView } from '../client/admin';
import { Poller } from './poller';
import { FALLBACK_MS } from './changes';
import { adminClient } from './admin';
import type { AgentChangedEvent } from './grants-editor';
import { base } from './styles';
import { trustBadge } from './trust';
import './policy-editor';
import './policy-summary';

/** One agent's policy: the document editor and the effective policy it results in. */
export class PolicyView extends LitElement {
  static override styles = [
    base,
    css`
      .card + .card { margin-top: 14px; }
      select { min-width: 220px; }
    `,
  ];
  static override properties = { agentId: {}, agents: { state: true }, failure: { state: true }, loaded: { state: true } };
  /** From the URL (`#policy/<id>`); the first agent when empty. */
  agentId = '';
  agents: AgentView[] = [];
  failure = '';
  loaded = false;
  /** Keeps the data current while the view is shown. */
  protected readonly poller = new Poller(this, () => this.load(), FALLBACK_MS);

  /** What each load reads (when the log grows, at most once a second, and every 30 s; see Poller). */
  private async load(): Promise<void> {
    this.agents = await (await adminClient()).request('agents.list');
  }

  private onChanged(event: AgentChangedEvent): void {
    this.agents = this.agents.map((a) => (a.id === event.detail.id ? event.detail : a));
  }

  override render() {
    const agent = this.agents.find((a) => a.id === this.agentId) ?? (this.agentId ? null : (this.agents[0] ?? null));
    return html`
      <div class="toolbar">
        <h2>Policy</h2>
        <label class="inline"
          >Agent
          <select data-testid="policy-agent" @change=${(e: Event) => (location.hash = `#policy/${encodeURIComponent((e.target as HTMLSelectElement).value)}`)}>
            ${this.agents.map((a) => html`<option value=${a.id} ?selected=${a.id === agent?.id}>${a.name} (${a.id})${a.revokedAt != null ? ' — revoked' : ''}</option>`)}
          </select>
        </label>
        ${agent ? trustBadge(agent.trustLevel) : ''}
        <span class="spacer"></span>
        ${agent ? html`<a class="button" href="#agents/${encodeURIComponent(agent.id)}">Agent details →</a>` : ''}
      </div>
      ${this.failure ? html`<p class="notice error">${this.failure}</p>` : ''}
      ${!this.loaded
        ? ''
        : !agent
          ? html`<p class="empty">${this.agentId ? `No agent "${this.agentId}".` : 'No agents yet.'} <a href="#agents">Register one</a> first.</p>`
          : html`
              <div class="card" @agent-changed=${(e: AgentChangedEvent) => this.onChanged(e)}>
                <h3>Policy document</h3>
                <p class="muted small">
                  Versioned JSON refining the ${agent.trustLevel} template: fields left out come from the template; a list replaces the template's whole; "*" means any, [] none.
                </p>
                <policy-editor .agent=${agent}></policy-editor>
              </div>
              <div class="card"><policy-summary .agent=${agent}></policy-summary></div>
            `}
    `;
  }
}

customElements.define('policy-view', PolicyView);
declare global {
  interface HTMLElementTagNameMap {
    'policy-view': PolicyView;
  }
}
