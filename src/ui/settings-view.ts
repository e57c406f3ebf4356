import { LitElement, css, html } from 'lit';
import type { SettingsRecord } from '../store/schema';
import { adminClient, describeError } from './admin';
import { base } from './styles';
import './fleet-export-panel';

/** Sandbox-wide settings: connections without credentials, and the global concurrency cap. */
export class SettingsView extends LitElement {
  static override styles = [
    base,
    css`
      form { display: grid; gap: 16px; max-width: 640px; }
      fieldset { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; margin: 0; display: grid; gap: 8px; }
      legend { font-weight: 600; font-size: 13px; padding: 0 4px; }
      input[type='number'] { width: 120px; }
    `,
  ];
  static override properties = { settings: { state: true }, failure: { state: true }, notice: { state: true }, busy: { state: true } };
  settings: SettingsRecord | null = null;
  failure = '';
  notice = '';
  busy = false;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      this.settings = await (await adminClient()).request('settings.get');
      this.failure = '';
    } catch (error) {
      this.failure = describeError(error);
    }
  }

  private async save(event: Event): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const unauthenticated = (form.elements.namedItem('unauthenticated') as RadioNodeList).value as SettingsRecord['unauthenticated'];
    const globalConcurrentCalls = Number((form.elements.namedItem('globalConcurrentCalls') as HTMLInputElement).value);
    if (!Number.isInteger(globalConcurrentCalls) || globalConcurrentCalls < 1) {
      this.failure = 'globalConcurrentCalls: must be a positive integer';
      return;
    }
    this.busy = true;
    this.notice = '';
    this.failure = '';
    try {
      this.settings = await (await adminClient()).request('settings.set', { unauthenticated, globalConcurrentCalls });
      this.notice = 'Saved. New connections and calls follow these settings.';
    } catch (error) {
      this.failure = describeError(error);
    } finally {
      this.busy = false;
    }
  }

  override render() {
    const s = this.settings;
    return html`
      <div class="toolbar"><h2>Settings</h2></div>
      ${this.failure ? html`<p class="notice error">${this.failure}</p>` : ''}
      ${!s
        ? this.failure
          ? ''
          : html`<p class="empty">Loading…</p>`
        : html`<div class="card">
            <form @submit=${(e: Event) => void this.save(e)} data-testid="settings-form">
              <fieldset>
                <legend>Connections without valid credentials</legend>
                <label class="inline"
                  ><input type="radio" name="unauthenticated" value="refuse" ?checked=${s.unauthenticated === 'refuse'} /> <span><strong>Refuse</strong> — only registered agents with
                    their token may connect (recommended)</span></label
                >
                <label class="inline"
                  ><input type="radio" name="unauthenticated" value="untrusted" ?checked=${s.unauthenticated === 'untrusted'} /> <span><strong>Treat as Untrusted</strong> — anyone
                    same-origin may connect, with the Untrusted template</span></label
                >
              </fieldset>
              <fieldset>
                <legend>Global concurrency</legend>
                <label class="inline"
                  ><input type="number" name="globalConcurrentCalls" min="1" step="1" .value=${String(s.globalConcurrentCalls)} />
                  <span class="hint">tool calls running at once across all agents; beyond it calls are denied (<code>concurrency.global</code>)</span></label
                >
              </fieldset>
              <div class="row">
                <button type="submit" class="primary" ?disabled=${this.busy} data-testid="settings-save">Save settings</button>
                ${this.notice ? html`<span class="ok small">✓ ${this.notice}</span>` : ''}
              </div>
            </form>
          </div>`}
      <fleet-export-panel></fleet-export-panel>
    `;
  }
}

customElements.define('settings-view', SettingsView);
declare global {
  interface HTMLElementTagNameMap {
    'settings-view': SettingsView;
  }
}
