import { LitElement, css, html } from 'lit';
import type { AgentView } from '../client/admin';
import { parseGrant, type Grant } from '../policy';
import { adminClient, describeError } from './admin';
import { dateTime } from './format';
import { base } from './styles';

type Kind = Grant['kind'];
const PLACEHOLDER: Record<Kind, string> = { tool: 'tool name, e.g. fetch_url', domain: 'host pattern, e.g. api.example.com or *.example.com', path: 'path pattern, e.g. ./workspace/reports/*' };

export type AgentChangedEvent = CustomEvent<AgentView>;

/**
 * Run-time grants and revokes of one agent: each opens or closes exactly one tool, domain or
 * path, from the next call on. Lists the changes made so far. Fires `agent-changed`.
 */
export class GrantsEditor extends LitElement {
  static override styles = [
    base,
    css`
      form { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; }
      form input { flex: 1 1 220px; }
      .op-grant { color: var(--ok); font-weight: 600; }
      .op-revoke { color: var(--bad); font-weight: 600; }
      table { margin-top: 10px; }
    `,
  ];
  static override properties = { agent: { attribute: false }, kind: { state: true }, failure: { state: true }, busy: { state: true }, toolNames: { state: true }, typed: { state: true } };
  agent: AgentView | null = null;
  kind: Kind = 'tool';
  failure = '';
  busy = false;
  /** Registered tool names, offered as the tool kind's choices; null until read. */
  toolNames: string[] | null = null;
  /** What is typed in the value field. */
  typed = '';

  override connectedCallback(): void {
    super.connectedCallback();
    void this.loadToolNames();
  }

  private async loadToolNames(): Promise<void> {
    try {
      const tools = await (await adminClient()).request('tools.list');
      this.toolNames = tools.map((t) => t.name).sort();
    } catch {
      this.toolNames = null; // offered no choices; the server still refuses unknown names
    }
  }

  /** A warning for a tool name no registered tool has (a pattern may name tools yet to come). */
  private unknownTool(): string | null {
    const name = this.typed.trim();
    if (this.kind !== 'tool' || !name || !this.toolNames || /[*?[\]{}]/.test(name) || this.toolNames.includes(name)) return null;
    return `no tool named “${name}” is registered; granting it would be refused`;
  }

  /** Takes back one change exactly: the policy is rebuilt as if it had never been made. */
  private async undo(change: AgentView['changes'][number]): Promise<void> {
    this.busy = true;
    this.failure = '';
    try {
      const agent = await (await adminClient()).request('agents.undoChange', { id: this.agent!.id, op: change.op, change: change.change, at: change.at });
      this.dispatchEvent(new CustomEvent('agent-changed', { detail: agent, bubbles: true, composed: true }) satisfies AgentChangedEvent);
    } catch (error) {
      this.failure = describeError(error);
    } finally {
      this.busy = false;
    }
  }

  private async apply(op: 'grant' | 'revoke'): Promise<void> {
    const input = this.renderRoot.querySelector('input') as HTMLInputElement;
    const value = input.value.trim();
    const parsed = parseGrant(this.kind === 'tool' ? { kind: 'tool', name: value } : { kind: this.kind, pattern: value });
    if (!parsed.ok) {
      this.failure = parsed.errors.map((e) => `${e.path === '(root)' ? this.kind : e.path.replace(/^(name|pattern)$/, this.kind)} — ${e.reason}`).join('; ');
      return;
    }
    this.busy = true;
    this.failure = '';
    try {
      const admin = await adminClient();
      const id = this.agent!.id;
      const agent = op === 'grant' ? await admin.request('agents.grant', { id, grant: parsed.grant }) : await admin.request('agents.revokeGrant', { id, revoke: parsed.grant });
      input.value = '';
      this.typed = '';
      this.dispatchEvent(new CustomEvent('agent-changed', { detail: agent, bubbles: true, composed: true }) satisfies AgentChangedEvent);
    } catch (error) {
      this.failure = describeError(error);
    } finally {
      this.busy = false;
    }
  }

  override render() {
    const changes = [...(this.agent?.changes ?? [])].reverse();
    const disabled = this.busy || this.agent?.revokedAt != null;
    return html`
      <form @submit=${(e: Event) => (e.preventDefault(), void this.apply('grant'))} data-testid="grants-form">
        <label
          >Kind
          <select @change=${(e: Event) => (this.kind = (e.target as HTMLSelectElement).value as Kind)}>
            <option value="tool">tool</option>
            <option value="domain">domain</option>
            <option value="path">path</option>
          </select>
        </label>
        <input
          placeholder=${PLACEHOLDER[this.kind]}
          aria-label="value"
          autocomplete="off"
          list=${this.kind === 'tool' ? 'grant-tool-names' : ''}
          @input=${(e: Event) => (this.typed = (e.target as HTMLInputElement).value)}
        />
        <datalist id="grant-tool-names">${(this.toolNames ?? []).map((n) => html`<option value=${n}></option>`)}</datalist>
        <button type="submit" ?disabled=${disabled} title="allow it, and remove it from the deny list">Grant</button>
        <button type="button" class="danger" ?disabled=${disabled} @click=${() => void this.apply('revoke')} title="remove it from the allow list, and deny it">Deny</button>
      </form>
      ${this.unknownTool() ? html`<p class="notice warn" data-testid="grant-unknown-tool">${this.unknownTool()}</p>` : ''}
      ${this.failure ? html`<p class="notice error">${this.failure}</p>` : ''}
      ${changes.length === 0
        ? html`<p class="muted small">No grants or revokes yet: the policy applies as written.</p>`
        : html`<table data-testid="changes">
            <thead><tr><th>when</th><th>change</th><th>kind</th><th>value</th><th></th></tr></thead>
            <tbody>
              ${changes.map(
                (c) => html`<tr>
                  <td>${dateTime(c.at)}</td><td class="op-${c.op}">${c.op}</td><td>${c.change.kind}</td>
                  <td><code>${c.change.kind === 'tool' ? c.change.name : c.change.pattern}</code></td>
                  <td><button class="small" ?disabled=${disabled} @click=${() => void this.undo(c)} title="take back this ${c.op} alone, as if it had never been made">Undo</button></td>
                </tr>`,
              )}
            </tbody>
          </table>`}
    `;
  }
}

customElements.define('grants-editor', GrantsEditor);
declare global {
  interface HTMLElementTagNameMap {
    'grants-editor': GrantsEditor;
  }
}
