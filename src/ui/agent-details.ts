import { LitElement, css, html } from 'lit';
import type { AgentMetrics, AgentView } from '../client/admin';
import type { TrustLevel } from '../policy';
import { adminClient, describeError } from './admin';
import { isDemoAgent, storeDemoToken } from './demo-agents';
import { dateTime, ms } from './format';
import type { AgentChangedEvent } from './grants-editor';
import { base } from './styles';
import { levelOptions, parseOrigins, trustBadge } from './trust';
import './grants-editor';

export type TokenIssuedEvent = CustomEvent<{ agent: AgentView; token: string; reason: 'registered' | 'rotated' }>;

/**
 * One agent: edit its trust level and origins, rotate its token, revoke it (each asks first),
 * and its grants and revokes. Fires `agent-changed`, `token-issued` and `close`.
 */
export class AgentDetails extends LitElement {
  static override styles = [
    base,
    css`
      .head { display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: center; margin-bottom: 12px; }
      .head h3 { font-size: 17px; }
      .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 12px; }
      .confirm { margin-top: 10px; }
      .confirm p { margin: 0 0 8px; }
      select, textarea { width: 100%; }
      section h4 { margin: 0 0 8px; font-size: 13px; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); }
      form { display: grid; gap: 10px; }
      .gap-top { margin-top: 14px; }
    `,
  ];
  static override properties = {
    agent: { attribute: false },
    metrics: { attribute: false },
    confirming: { state: true },
    failure: { state: true },
    saved: { state: true },
    busy: { state: true },
  };
  agent: AgentView | null = null;
  metrics: AgentMetrics | null = null;
  confirming: 'revoke' | 'rotate' | null = null;
  failure = '';
  saved = false;
  busy = false;

  private changed(agent: AgentView): void {
    this.dispatchEvent(new CustomEvent('agent-changed', { detail: agent, bubbles: true, composed: true }) satisfies AgentChangedEvent);
  }

  private async run(action: () => Promise<void>): Promise<void> {
    this.busy = true;
    this.failure = '';
    this.saved = false;
    try {
      await action();
    } catch (error) {
      this.failure = describeError(error);
    } finally {
      this.busy = false;
      this.confirming = null;
    }
  }

  private save(event: Event): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const trustLevel = (form.elements.namedItem('trustLevel') as HTMLSelectElement).value as TrustLevel;
    const origins = parseOrigins((form.elements.namedItem('origins') as HTMLTextAreaElement).value);
    if (!origins.ok) {
      this.failure = `origins: ${origins.reason}`;
      return Promise.resolve();
    }
    return this.run(async () => {
      const agent = await (await adminClient()).request('agents.update', { id: this.agent!.id, trustLevel, origins: origins.origins });
      this.saved = true;
      this.changed(agent);
    });
  }

  private rotate(): Promise<void> {
    return this.run(async () => {
      const { agent, token } = await (await adminClient()).request('agents.rotateToken', { id: this.agent!.id });
      // The demo page reads demo agents' tokens from localStorage; keep it working.
      if (isDemoAgent(agent.id)) storeDemoToken(agent.id, token);
      this.changed(agent);
      this.dispatchEvent(new CustomEvent('token-issued', { detail: { agent, token, reason: 'rotated' }, bubbles: true, composed: true }) satisfies TokenIssuedEvent);
    });
  }

  private revoke(): Promise<void> {
    return this.run(async () => this.changed(await (await adminClient()).request('agents.revoke', { id: this.agent!.id })));
  }

  override render() {
    const a = this.agent;
    if (!a) return '';
    const m = this.metrics;
    const revoked = a.revokedAt != null;
    return html`<div class="card" data-testid="agent-details">
      <div class="head">
        <h3>${a.name}</h3>
        <code class="muted">${a.id}</code>
        ${trustBadge(a.trustLevel)}
        ${revoked ? html`<span class="badge error">revoked ${dateTime(a.revokedAt!)}</span>` : html`<span class="badge ok">active</span>`}
        <span class="spacer"></span>
        <a class="button" href="#policy/${encodeURIComponent(a.id)}" data-testid="edit-policy">Edit policy →</a>
        <a class="button" href="#audit?agent=${encodeURIComponent(a.id)}">Audit →</a>
        <button ?disabled=${this.busy || revoked} @click=${() => (this.confirming = 'rotate')} data-testid="rotate">Rotate token</button>
        <button class="danger" ?disabled=${this.busy || revoked} @click=${() => (this.confirming = 'revoke')} data-testid="revoke">Revoke</button>
        <button class="link" @click=${() => this.dispatchEvent(new Event('close'))} aria-label="close">✕</button>
      </div>
      ${this.confirming === 'rotate'
        ? html`<div class="notice warn confirm">
            <p>Issue a new token for <strong>${a.name}</strong>? The current token stops working at once; new connections need the new one.</p>
            <div class="row end">
            <button @click=${() => (this.confirming = null)}>Cancel</button>
            <button class="primary" @click=${() => void this.rotate()} data-testid="confirm-rotate">Rotate token</button>
            </div>
          </div>`
        : ''}
      ${this.confirming === 'revoke'
        ? html`<div class="notice error confirm">
            <p>Revoke <strong>${a.name}</strong>? It can no longer open sessions, and its open sessions are refused on their next call. This cannot be undone.</p>
            <div class="row end">
            <button @click=${() => (this.confirming = null)}>Cancel</button>
            <button class="danger armed" @click=${() => void this.revoke()} data-testid="confirm-revoke">Revoke agent</button>
            </div>
          </div>`
        : ''}
      ${this.failure ? html`<p class="notice error confirm">${this.failure}</p>` : ''}
      <div class="grid gap-top">
        <section>
          <h4>Identity</h4>
          <form @submit=${(e: Event) => void this.save(e)} data-testid="agent-edit">
            <label
              >Trust level
              <select name="trustLevel" ?disabled=${revoked}>${levelOptions(a.trustLevel)}</select>
            </label>
            <label
              >Origins <span class="hint">one per line</span>
              <textarea name="origins" rows="2" class="code" ?disabled=${revoked} .value=${a.origins.join('\n')}></textarea>
            </label>
            <div class="row">
              <button type="submit" class="primary" ?disabled=${this.busy || revoked}>Save</button>
              ${this.saved ? html`<span class="ok small">✓ saved</span>` : ''}
              <span class="spacer"></span>
              <span class="muted small">created ${dateTime(a.createdAt)} · updated ${dateTime(a.updatedAt)}</span>
            </div>
          </form>
        </section>
        <section>
          <h4>Activity</h4>
          ${m
            ? html`<dl class="facts">
                <dt>calls</dt><dd>${m.calls} (${m.ok} ok, ${m.errors} errors, ${m.denied} denied)</dd>
                <dt>last minute</dt><dd>${m.lastMinute} calls</dd>
                <dt>running now</dt><dd>${m.active}</dd>
                <dt>mean duration</dt><dd>${m.meanDurationMs == null ? '–' : `${ms(m.meanDurationMs)} ms`}</dd>
                <dt>prefers</dt><dd data-preferred>${m.preferredTools?.length ? m.preferredTools.map((t) => `${t.tool} (${t.calls})`).join(', ') : '–'}</dd>
                <dt>argument shapes</dt><dd>${m.argumentShapes?.length ? `${m.argumentShapes.length} most used: ${m.argumentShapes.map((a) => `${a.shape.slice(0, 6)}… (${a.calls})`).join(', ')}` : '–'}</dd>
                <dt>sessions</dt><dd data-sessions>${m.sessions ? `${m.sessions.count}; typically ${m.sessions.medianDurationMs == null ? '–' : `${(m.sessions.medianDurationMs / 60_000).toFixed(1)} min`}, ${m.sessions.medianCalls ?? '–'} calls` : '–'}</dd>
              </dl>`
            : html`<p class="muted small">No metrics yet.</p>`}
        </section>
      </div>
      <section class="gap-top">
        <h4>Grants and revokes</h4>
        <grants-editor .agent=${a}></grants-editor>
      </section>
    </div>`;
  }
}

customElements.define('agent-details', AgentDetails);
declare global {
  interface HTMLElementTagNameMap {
    'agent-details': AgentDetails;
  }
}
