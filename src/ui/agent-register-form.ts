import { LitElement, css, html } from 'lit';
import type { AgentView } from '../client/admin';
import { parsePolicyDocumentText, type TrustLevel } from '../policy';
import { adminClient, describeError } from './admin';
import { base } from './styles';
import { levelOptions, parseOrigins } from './trust';

export type RegisteredEvent = CustomEvent<{ agent: AgentView; token: string }>;

/** Registers an agent: name, optional id, trust level, origins, optional policy document. Fires `registered` and `cancel`. */
export class AgentRegisterForm extends LitElement {
  static override styles = [
    base,
    css`
      form { display: grid; grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); gap: 12px 16px; }
      .wide { grid-column: 1 / -1; }
      ul.errors { margin: 4px 0 0; padding-left: 18px; color: var(--bad); font-size: 12px; }
    `,
  ];
  static override properties = { trustLevel: { state: true }, problems: { state: true }, failure: { state: true }, busy: { state: true } };
  trustLevel: TrustLevel = 'Limited';
  problems: string[] = [];
  failure = '';
  busy = false;

  private field<T extends HTMLElement = HTMLInputElement>(name: string): T {
    return this.renderRoot.querySelector(`[name="${name}"]`) as T;
  }

  private async submit(event: Event): Promise<void> {
    event.preventDefault();
    const name = this.field('name').value.trim();
    const id = this.field('id').value.trim();
    const origins = parseOrigins(this.field<HTMLTextAreaElement>('origins').value);
    const policyText = this.field<HTMLTextAreaElement>('policy').value.trim();
    const problems: string[] = [];
    if (!name) problems.push('name: give the agent a name');
    if (id && !/^[A-Za-z0-9_-]{1,64}$/.test(id)) problems.push('id: letters, digits, "-" and "_" only (or leave empty for a random id)');
    if (!origins.ok) problems.push(`origins: ${origins.reason}`);
    let policy: unknown;
    if (policyText) {
      const parsed = parsePolicyDocumentText(policyText);
      if (parsed.ok) policy = parsed.policy;
      else problems.push(...parsed.errors.map((e) => `policy ${e.path} — ${e.reason}`));
    }
    this.problems = problems;
    if (problems.length > 0 || !origins.ok) return;
    this.busy = true;
    this.failure = '';
    try {
      const admin = await adminClient();
      const result = await admin.request('agents.register', {
        name,
        trustLevel: this.trustLevel,
        origins: origins.origins,
        ...(id ? { id } : {}),
        ...(policy !== undefined ? { policy } : {}),
      });
      (this.renderRoot.querySelector('form') as HTMLFormElement).reset();
      this.field<HTMLTextAreaElement>('origins').value = location.origin;
      this.dispatchEvent(new CustomEvent('registered', { detail: result }) satisfies RegisteredEvent);
    } catch (error) {
      this.failure = describeError(error);
    } finally {
      this.busy = false;
    }
  }

  override render() {
    return html`<div class="card">
      <h3>Register an agent</h3>
      <form @submit=${(e: Event) => void this.submit(e)} data-testid="register-form">
        <label>Name <span class="hint">shown in this UI and the audit trail</span><input name="name" required placeholder="e.g. research-assistant" autocomplete="off" /></label>
        <label>Id <span class="hint">optional: letters, digits, - and _</span><input name="id" placeholder="random if empty" autocomplete="off" /></label>
        <label class="wide"
          >Trust level
          <select name="trustLevel" @change=${(e: Event) => (this.trustLevel = (e.target as HTMLSelectElement).value as TrustLevel)}>
            ${levelOptions(this.trustLevel)}
          </select>
        </label>
        <label class="wide"
          >Origins <span class="hint">pages it may connect from, one per line (scheme://host:port)</span>
          <textarea name="origins" rows="2" class="code" .value=${location.origin}></textarea>
        </label>
        <label class="wide"
          >Policy document <span class="hint">optional JSON refining the level's template, e.g. {"version": 1, "limits": {"memoryMb": 64}}</span>
          <textarea name="policy" rows="3" class="code" placeholder='{"version": 1}'></textarea>
        </label>
        ${this.problems.length > 0 ? html`<ul class="errors wide" data-testid="register-errors">${this.problems.map((p) => html`<li>${p}</li>`)}</ul>` : ''}
        ${this.failure ? html`<p class="notice error wide">${this.failure}</p>` : ''}
        <div class="row end wide">
          <button type="button" @click=${() => this.dispatchEvent(new Event('cancel'))}>Cancel</button>
          <button type="submit" class="primary" ?disabled=${this.busy} data-testid="register-submit">${this.busy ? 'Registering…' : 'Register agent'}</button>
        </div>
      </form>
    </div>`;
  }
}

customElements.define('agent-register-form', AgentRegisterForm);
declare global {
  interface HTMLElementTagNameMap {
    'agent-register-form': AgentRegisterForm;
  }
}
