import { LitElement, css, html } from 'lit';
import type { ChainVerifier } from './chain-verifier';
import { base } from './styles';

/** The audit chain's verdict as a badge: verified (with the entry count) or broken at #seq. */
export class ChainBadge extends LitElement {
  static override styles = [base, css`:host { display: inline-block; }`];
  static override properties = { verifier: { attribute: false } };
  verifier: ChainVerifier | null = null;
  private readonly onChange = () => this.requestUpdate();
  private watched: ChainVerifier | null = null;

  protected override willUpdate(): void {
    if (this.watched === this.verifier) return;
    this.watched?.removeEventListener('change', this.onChange);
    this.verifier?.addEventListener('change', this.onChange);
    this.watched = this.verifier;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.watched?.removeEventListener('change', this.onChange);
    this.watched = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    if (this.verifier && this.watched !== this.verifier) this.requestUpdate();
  }

  override render() {
    const v = this.verifier?.verdict;
    const p = this.verifier?.progress;
    if (p) {
      const share = p.newestSeq > 0 ? Math.floor((100 * p.seq) / p.newestSeq) : 0;
      return html`<span class="badge" data-testid="chain" role="status">${p.whole ? 'verifying whole chain' : 'verifying new entries'} · #${p.seq} of #${p.newestSeq} (${share} %)</span>
        <button class="link" data-testid="chain-cancel" @click=${() => this.verifier?.cancel()}>cancel</button>`;
    }
    if (!v) return html`<span class="badge" data-testid="chain">chain: checking…</span>`;
    const when = this.verifier?.checkedAt ? new Date(this.verifier.checkedAt).toLocaleTimeString() : '';
    return v.ok
      ? html`<span class="badge ok" data-testid="chain" title="every entry's hash and link checked up to #${v.headSeq}; last check ${when}">✓ chain verified · intact through #${v.headSeq} · ${v.count} entries</span>`
      : html`<span class="badge error" data-testid="chain" title="last check ${when}">✗ chain BROKEN at #${v.seq}: ${v.reason}${'detail' in v && v.detail ? ` (${v.detail})` : ''}</span>
          <a href="#audit/${v.seq}" data-testid="chain-show-broken">show #${v.seq}</a>`;
  }
}

customElements.define('chain-badge', ChainBadge);
declare global {
  interface HTMLElementTagNameMap {
    'chain-badge': ChainBadge;
  }
}
