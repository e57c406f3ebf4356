import { LitElement, css, html } from 'lit';
import { base } from './styles';

/**
 * An agent's secret token, shown once (after registration or rotation) with a copy button and
 * a warning. Fires `dismiss` when the person says they have stored it; the token is then gone
 * from the UI for good.
 */
export class TokenReveal extends LitElement {
  static override styles = [
    base,
    css`
      .card { border-color: #facc15; background: #fffbeb; }
      .token { display: flex; gap: 8px; align-items: stretch; margin: 10px 0; flex-wrap: wrap; }
      .token code {
        flex: 1 1 320px; padding: 8px 10px; background: #fff; border: 1px dashed #ca8a04; border-radius: 6px; font-size: 13px;
        word-break: break-all; user-select: all;
      }
    `,
  ];
  static override properties = { agentId: {}, token: {}, reason: {}, copied: { state: true } };
  agentId = '';
  token = '';
  /** "registered" or "rotated". */
  reason = 'registered';
  copied = false;

  private async copy(): Promise<void> {
    try {
      await navigator.clipboard.writeText(this.token);
      this.copied = true;
    } catch {
      // No clipboard permission: select the text so the person can copy it by hand.
      const range = document.createRange();
      range.selectNodeContents(this.renderRoot.querySelector('code')!);
      const selection = getSelection();
      selection?.removeAllRanges();
      selection?.addRange(range);
    }
  }

  override render() {
    return html`<div class="card" role="alert" data-testid="token-reveal">
      <h3>Token for <code>${this.agentId}</code> (${this.reason})</h3>
      <p class="notice warn">
        <strong>Copy it now — it is shown only this once.</strong> The sandbox stores only its hash and cannot show it again. Anyone holding it can
        act as this agent from its allowed origins; give it to the agent, nobody else.${this.reason === 'rotated' ? ' The previous token no longer works.' : ''}
      </p>
      <div class="token">
        <code data-testid="new-token">${this.token}</code>
        <button class="primary" data-testid="copy-token" @click=${() => void this.copy()}>${this.copied ? '✓ Copied' : 'Copy'}</button>
      </div>
      <div class="row end">
        <button data-testid="dismiss-token" @click=${() => this.dispatchEvent(new Event('dismiss'))}>I have stored it — hide the token</button>
      </div>
    </div>`;
  }
}

customElements.define('token-reveal', TokenReveal);
declare global {
  interface HTMLElementTagNameMap {
    'token-reveal': TokenReveal;
  }
}
